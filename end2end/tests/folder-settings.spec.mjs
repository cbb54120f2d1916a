// A folder's page, reached from the sidebar's gear: its subfolders and jobs as links, the configs
// it inherits from the folder above (with the folder they come from, marked overridden as soon as
// an own row sets the same key), its own configs saved with a rename, the server's refusals shown
// where they happened (a sibling's name: 409 above the button; a name too long: 422 under the name
// field; an invalid key: checked as typed), and the folder's secrets (its own, and one inherited).
// Screenshots: folder-page, folder-page-dark, folder-page-zh.
import { expect, test } from "@playwright/test";
import { signIn, watchProblems } from "./support.mjs";

test("folder settings: rename, configs, inherited configs, secrets, jobs", async ({ page }) => {
  const problems = watchProblems(page, ["status of 409", "status of 422"]);
  const api = await signIn(page);
  const suffix = Date.now().toString(36);

  // A folder with configs, two subfolders, a job in one of them; a secret on the top folder.
  const top = await api("POST", "/api/folders", { name: `e2e-top-${suffix}` });
  await api("PUT", `/api/folders/${top.id}`, {
    name: top.name,
    configs: { region: "eu-west", table: "ods.top" },
  });
  const child = await api("POST", "/api/folders", { name: `child-${suffix}`, parent_id: top.id });
  const sibling = await api("POST", "/api/folders", { name: `sibling-${suffix}`, parent_id: top.id });
  const job = await api("POST", "/api/jobs", {
    name: `load-${suffix}`,
    folder_id: child.id,
    job_type: "shell",
    script: "echo ${table}",
    cron: "0 0 3 * * ?",
    timezone: "Asia/Shanghai",
  });
  await api("PUT", `/api/folders/${top.id}/secrets/TOP_TOKEN`, { value: "from-top" });

  // ----- from the sidebar's gear to the top folder, then to its subfolder -----
  await page.goto("/");
  const topRow = page.locator(`[data-testid="tree-folder"][data-folder-id="${top.id}"]`);
  await topRow.hover();
  await topRow.getByTestId("folder-settings").click();
  await expect(page).toHaveURL(new RegExp(`/folders/${top.id}$`));
  await expect(page.getByTestId("folder-title")).toContainText(top.name);
  await expect(topRow).toHaveClass(/active/);
  await expect(page.getByTestId("inherited-configs")).toContainText("No folder above sets a config.");
  await expect(page.getByTestId("folder-subfolder")).toHaveCount(2);
  await page.getByTestId("folder-subfolder").filter({ hasText: child.name }).click();
  await expect(page).toHaveURL(new RegExp(`/folders/${child.id}$`));
  await expect(page.getByTestId("folder-title")).toContainText(child.name);
  await expect(page.getByTestId("folder-page").locator(".crumbs")).toHaveText(top.name);

  // ----- inherited configs: from the top folder, none overridden yet -----
  const inherited = (key) =>
    page.locator(`[data-testid="inherited-config"][data-key="${key}"]`);
  await expect(page.getByTestId("inherited-config")).toHaveCount(2);
  await expect(inherited("region")).toContainText("eu-west");
  await expect(inherited("region").getByTestId("inherited-from")).toHaveText(top.name);
  await expect(inherited("region").getByTestId("inherited-from")).toHaveAttribute(
    "href",
    `/folders/${top.id}`,
  );
  await expect(inherited("table")).toHaveAttribute("data-overridden", "false");

  // ----- own configs: a row setting `table` overrides the inherited one at once -----
  const editor = page.getByTestId("folder-editor");
  await editor.getByTestId("config-add").click();
  const row = editor.getByTestId("config-row").first();
  await row.getByTestId("config-key").fill("bad key");
  await expect(row.getByTestId("config-error")).toBeVisible();
  await editor.getByTestId("save-folder").click();
  await expect(editor.getByTestId("action-error")).toHaveText("Please fix the marked fields.");
  await row.getByTestId("config-key").fill("table");
  await row.getByTestId("config-value").fill("ods.child");
  await expect(row.getByTestId("config-error")).toHaveCount(0);
  await expect(inherited("table")).toHaveAttribute("data-overridden", "true");
  await expect(inherited("table").getByTestId("inherited-overridden")).toHaveText("overridden");
  await expect(inherited("region")).toHaveAttribute("data-overridden", "false");

  // ----- refusals where they happened -----
  // A sibling's name: the server's 409 message above the button.
  await editor.getByTestId("folder-name").fill(sibling.name);
  await editor.getByTestId("save-folder").click();
  await expect(editor.getByTestId("action-error")).toContainText("already exists");
  // A name too long: the server's reason under the name field.
  await editor.getByTestId("folder-name").fill("x".repeat(201));
  await editor.getByTestId("save-folder").click();
  await expect(editor.getByTestId("error-name")).toContainText("at most 200 characters");
  await expect(editor.getByTestId("action-error")).toHaveText("Please fix the marked fields.");
  // An empty name is refused before sending.
  await editor.getByTestId("folder-name").fill("  ");
  await editor.getByTestId("save-folder").click();
  await expect(editor.getByTestId("error-name")).toHaveText("Required");

  // ----- rename and save the configs -----
  const renamed = `renamed-${suffix}`;
  await editor.getByTestId("folder-name").fill(renamed);
  await editor.getByTestId("save-folder").click();
  await expect(editor.getByTestId("folder-saved")).toHaveText("Saved.");
  await expect(editor.getByTestId("error-name")).toHaveCount(0);
  await expect(editor.getByTestId("action-error")).toHaveCount(0);
  await expect(page.getByTestId("folder-title")).toContainText(renamed);
  await expect(
    page.locator(`[data-testid="tree-folder"][data-folder-id="${child.id}"]`),
  ).toContainText(renamed);
  const saved = (await api("GET", "/api/folders")).find((f) => f.id === child.id);
  expect(saved.name).toBe(renamed);
  expect(saved.configs).toEqual({ table: "ods.child" });
  const view = await api("GET", `/api/folders/${child.id}/configs`);
  expect(view.effective).toEqual({ region: "eu-west", table: "ods.child" });
  // After a reload the saved row is there and still overrides.
  await page.reload();
  await expect(page.getByTestId("config-key")).toHaveValue("table");
  await expect(inherited("table")).toHaveAttribute("data-overridden", "true");

  // ----- secrets: the top folder's inherited, one set here -----
  const secrets = page.getByTestId("folder-secrets");
  const secretRow = (name, own) =>
    secrets.locator(`[data-testid="secret-row"][data-name="${name}"][data-own="${own}"]`);
  await expect(secretRow("TOP_TOKEN", false).getByTestId("secret-place")).toHaveText(
    `inherited from folder ${top.name}`,
  );
  await expect(secretRow("TOP_TOKEN", false).getByTestId("secret-remove")).toHaveCount(0);
  await secrets.getByTestId("secret-name").fill("TOP_TOKEN");
  await secrets.getByTestId("secret-value").fill("child-value");
  await secrets.getByTestId("secret-save").click();
  await expect(secrets.getByTestId("secret-saved")).toHaveText("TOP_TOKEN is set.");
  await expect(secretRow("TOP_TOKEN", true).getByTestId("secret-place")).toHaveText("this folder");
  await expect(secretRow("TOP_TOKEN", false).getByTestId("secret-overridden")).toBeVisible();
  await expect(secrets).not.toContainText("child-value");
  const listed = await api("GET", `/api/folders/${child.id}/secrets`);
  expect(listed.some((s) => s.name === "TOP_TOKEN" && s.folder_id === child.id)).toBe(true);

  // ----- the folder's jobs, as links -----
  const jobRow = page.locator(`[data-testid="folder-job"][data-job-id="${job.id}"]`);
  await expect(jobRow).toContainText(job.name);
  await expect(jobRow).toContainText("0 0 3 * * ?");
  // The whole page in one picture: a window tall enough for it (the content area scrolls).
  await page.setViewportSize({ width: 1280, height: 1500 });
  await page.getByTestId("folder-title").scrollIntoViewIfNeeded();
  await page.screenshot({ path: "screenshots/folder-page.png" });
  await page.getByTestId("theme-toggle").click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  await page.screenshot({ path: "screenshots/folder-page-dark.png" });
  await page.getByTestId("theme-toggle").click();
  await page.getByTestId("lang-zh-CN").click();
  await expect(page.getByTestId("folder-inherited")).toContainText("继承的配置");
  await page.screenshot({ path: "screenshots/folder-page-zh.png" });
  await page.getByTestId("lang-en").click();
  await page.setViewportSize({ width: 1280, height: 800 });
  await jobRow.getByTestId("folder-job-link").click();
  await expect(page).toHaveURL(new RegExp(`/jobs/${job.id}$`));

  // An address naming no folder says so.
  await page.goto("/folders/999999");
  await expect(page.getByTestId("load-error")).toContainText("does not exist");

  expect(problems.filter((p) => !p.includes("status of 404"))).toEqual([]);
});
