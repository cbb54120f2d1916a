// The DAG explorer and the Dev center at 1280×800 and 1920×1080, light and dark: nothing wider
// than the window, the toolbars whole. Screenshots: screens-<page>-<width>-<theme>.png (for a
// person to look at; the checks here are what a screenshot would show wrong at a glance).
import { expect, test } from "@playwright/test";
import { signIn, watchProblems } from "./support.mjs";

const SIZES = [
  { width: 1280, height: 800 },
  { width: 1920, height: 1080 },
];

/** Sets the theme through the toggle. */
async function useTheme(page, theme) {
  // The toggle carries the app's theme once the app runs; `<html>` may be read before that.
  const toggle = page.getByTestId("theme-toggle");
  await expect(toggle).toHaveAttribute("data-theme", /^(light|dark)$/);
  if ((await toggle.getAttribute("data-theme")) !== theme) {
    await toggle.click();
  }
  await expect(toggle).toHaveAttribute("data-theme", theme);
  await expect(page.locator("html")).toHaveAttribute("data-theme", theme);
  await page.waitForTimeout(300);
}

/** Nothing on the page is wider than the window. */
async function expectNoSideScroll(page) {
  const [scroll, inner] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  expect(scroll).toBeLessThanOrEqual(inner);
}

test("the DAG explorer and the Dev center at two sizes, light and dark", async ({ page }) => {
  test.setTimeout(180_000);
  const problems = watchProblems(page);
  const api = await signIn(page);
  const suffix = Date.now().toString(36);
  const folder = await api("POST", "/api/folders", { name: `screens-${suffix}` });
  const job = (name, dependencies = []) =>
    api("POST", "/api/jobs", {
      name: `${name}-${suffix}`,
      folder_id: folder.id,
      job_type: "shell",
      script: "true",
      dependencies,
    });
  const extract = await job("extract_orders");
  const customers = await job("extract_customers");
  const clean = await job("clean_orders", [extract.id]);
  const join = await job("join_orders_customers", [clean.id, customers.id]);
  const report = await job("daily_report", [join.id]);
  await job("publish_dashboard", [report.id]);
  await job("audit_totals", [join.id]);
  const dir = await api("POST", "/api/ide/files", { scope: "personal", parent_id: null, name: `etl-${suffix}`, is_dir: true });
  const file = await api("POST", "/api/ide/files", { scope: "personal", parent_id: dir.id, name: `load_orders-${suffix}.sh`, is_dir: false });
  await api("PUT", `/api/ide/files/${file.id}`, { content: "#!/bin/bash\necho \"loading orders for ${bizdate}\"\nsleep 1\n" });

  for (const size of SIZES) {
    await page.setViewportSize(size);
    for (const theme of ["light", "dark"]) {
      await page.goto(`/jobs/${join.id}/dag`);
      const dag = page.getByTestId("dag");
      await expect(dag).toHaveAttribute("data-layout-ms", /\d+/);
      await useTheme(page, theme);
      for (const id of ["dag-expand-one", "dag-expand-all", "dag-relayout", "dag-fit", "dag-search", "dag-date"]) {
        await expect(page.getByTestId(id)).toBeInViewport({ ratio: 1 });
      }
      await expectNoSideScroll(page);
      await page.screenshot({ path: `screenshots/screens-dag-${size.width}-${theme}.png` });

      await page.goto("/ide");
      await useTheme(page, theme);
      const mine = page.getByTestId("ide-tree-personal");
      const folderRow = mine.locator(`[data-testid="ide-folder"][data-file-id="${dir.id}"]`);
      await expect(folderRow).toBeVisible();
      if (!(await mine.locator(`[data-file-id="${file.id}"]`).isVisible())) {
        await folderRow.locator(".twisty").click();
      }
      await mine.locator(`[data-file-id="${file.id}"]`).click();
      await expect(page.getByTestId("ide-file-name")).toHaveText(`load_orders-${suffix}.sh`);
      await expect(page.getByTestId("ide-publish")).toBeInViewport({ ratio: 1 });
      await expectNoSideScroll(page);
      await page.waitForTimeout(300);
      await page.screenshot({ path: `screenshots/screens-ide-${size.width}-${theme}.png` });
    }
  }
  await useTheme(page, "light");
  expect(problems).toEqual([]);
});
