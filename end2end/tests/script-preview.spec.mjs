// The job editor's rendered-script preview: the unsaved script rendered by the server with the
// editor's own config rows over the chosen folder's configs, in the job's zone, at a business time
// picked in that zone (default now); editing the script and rendering again; the server's 422
// reason for a script that cannot be rendered; and the preview of an existing job's editor.
// Screenshots: script-preview, script-preview-error, script-preview-dark.
import { expect, test } from "@playwright/test";
import { signIn, watchProblems } from "./support.mjs";

test("job editor: preview the rendered script", async ({ page }) => {
  const problems = watchProblems(page, ["status of 422"]);
  const api = await signIn(page);
  const suffix = Date.now().toString(36);
  const folder = await api("POST", "/api/folders", { name: `e2e-preview-${suffix}` });
  await api("PUT", `/api/folders/${folder.id}`, {
    name: folder.name,
    configs: { table: "ods.orders", env: "from-folder" },
  });

  await page.goto(`/jobs/new?folder=${folder.id}`);
  await page.getByTestId("job-name").fill(`preview-${suffix}`);
  await page.getByTestId("job-timezone").fill("Asia/Shanghai");
  const script = "echo ${table} ${env} $[yyyyMMdd]";
  const editor = page.getByTestId("job-script").locator(".cm-content");
  await editor.click();
  await page.keyboard.type(script);
  await expect(editor).toHaveText(script);
  // An own config overrides the folder's.
  await page.getByTestId("config-add").click();
  const row = page.getByTestId("config-row").first();
  await row.getByTestId("config-key").fill("env");
  await row.getByTestId("config-value").fill("prod");

  // Open: rendered for now.
  await expect(page.getByTestId("script-preview-panel")).toHaveCount(0);
  await page.getByTestId("script-preview").click();
  await expect(page.getByTestId("script-preview")).toHaveAttribute("aria-pressed", "true");
  await expect(page.getByTestId("script-preview-text")).toHaveText(/^echo ods\.orders prod \d{8}$/);

  // A business time picked in the job's zone: 01:30 in Shanghai is still the day before in UTC.
  await page.getByTestId("script-preview-time").fill("2026-03-02T01:30:00");
  await expect(page.getByTestId("script-preview-text")).toHaveText("echo ods.orders prod 20260302");
  await page.getByTestId("script-preview-panel").scrollIntoViewIfNeeded();
  await page.screenshot({ path: "screenshots/script-preview.png" });

  // The unsaved script changes: render again.
  await editor.click();
  await page.keyboard.press("End");
  await page.keyboard.type(" $[yyyyMMdd-1]");
  await page.getByTestId("script-preview-again").click();
  await expect(page.getByTestId("script-preview-text")).toHaveText(
    "echo ods.orders prod 20260302 20260301",
  );

  // A script the server cannot render: its reason.
  await editor.click();
  await page.keyboard.press("End");
  await page.keyboard.type(" $[123]");
  await page.getByTestId("script-preview-again").click();
  await expect(page.getByTestId("script-preview-error")).toContainText("no date pattern");
  await page.getByTestId("script-preview-panel").scrollIntoViewIfNeeded();
  await page.screenshot({ path: "screenshots/script-preview-error.png" });
  await page.getByTestId("theme-toggle").click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  await page.getByTestId("script-preview").click();
  await page.getByTestId("script-preview").click();
  await page.getByTestId("script-preview-time").fill("2026-03-02T01:30:00");
  await page.getByTestId("script-preview-panel").scrollIntoViewIfNeeded();
  await page.screenshot({ path: "screenshots/script-preview-dark.png" });
  await page.getByTestId("theme-toggle").click();

  // Closing hides the panel.
  await page.getByTestId("script-preview").click();
  await expect(page.getByTestId("script-preview-panel")).toHaveCount(0);

  // An existing job's editor previews with its saved configs and zone.
  const job = await api("POST", "/api/jobs", {
    name: `saved-${suffix}`,
    folder_id: folder.id,
    job_type: "shell",
    script: "echo ${env} $[yyyy-MM-dd HH:mm]",
    configs: { env: "staging" },
    timezone: "UTC",
  });
  await page.goto(`/jobs/${job.id}`);
  await page.getByTestId("edit-job").click();
  await page.getByTestId("script-preview").click();
  await page.getByTestId("script-preview-time").fill("2026-03-02T01:30:00");
  await expect(page.getByTestId("script-preview-text")).toHaveText("echo staging 2026-03-02 01:30");

  expect(problems).toEqual([]);
});
