// The development center (/ide), by clicking: create a folder and a file in "My files", type a
// two-line script, wait for the autosave, select only the second line and "Run selection": the
// live log shows `second` and never `first`, and the run is in the history. Then publish the file
// as a new job and follow the link to the job page.
// Screenshots: ide, ide-preview, ide-dark, ide-publish.
import { expect, test } from "@playwright/test";
import { signIn, watchProblems } from "./support.mjs";

test("write, run a selection and publish a file in the development center", async ({ page }) => {
  const problems = watchProblems(page);
  const api = await signIn(page);
  const suffix = Date.now().toString(36);
  // A job folder to publish into.
  const jobFolder = await api("POST", "/api/folders", { name: `ide-jobs-${suffix}` });
  // The shell loads the folder list once: load it again with the new folder.
  await page.reload();

  await page.getByTestId("nav-ide").click();
  await expect(page).toHaveURL(/\/ide$/);
  await expect(page.getByTestId("ide-empty")).toBeVisible();
  const mine = page.getByTestId("ide-tree-personal");

  // A folder, then a file in it (from the folder's own "+").
  const folderName = `scratch-${suffix}`;
  await mine.getByTestId("ide-new-folder").click();
  await page.getByTestId("ide-dialog-name").fill(folderName);
  await page.getByTestId("ide-dialog-submit").click();
  const folder = mine.getByTestId("ide-folder").filter({ hasText: folderName });
  await expect(folder).toBeVisible();
  await folder.hover();
  await folder.getByTestId("ide-new-file-here").click();
  const fileName = `hello-${suffix}.sh`;
  await page.getByTestId("ide-dialog-name").fill(fileName);
  await expect(page.getByTestId("ide-dialog-type")).toHaveValue("shell");
  await page.getByTestId("ide-dialog-submit").click();
  await expect(page.getByTestId("ide-create-dialog")).toHaveCount(0);
  const file = mine.getByTestId("ide-file").filter({ hasText: fileName });
  await expect(file).toBeVisible();
  await expect(file).toHaveClass(/active/);
  await expect(page.getByTestId("ide-file-name")).toHaveText(fileName);

  // Type two lines; the autosave follows.
  const editor = page.getByTestId("ide-editor").locator(".cm-content");
  await editor.click();
  await page.keyboard.type("echo first");
  await page.keyboard.press("Enter");
  await page.keyboard.type("echo second");
  await expect(page.getByTestId("ide-save-status")).toHaveAttribute("data-state", "unsaved");
  await expect(page.getByTestId("ide-save-status")).toHaveAttribute("data-state", "saved");
  const fileId = Number(await file.getAttribute("data-file-id"));
  const stored = await api("GET", `/api/ide/files/${fileId}`);
  expect(stored.content).toBe("echo first\necho second");

  // Run selection needs a selection: select only the second line.
  await expect(page.getByTestId("ide-run-selection")).toBeDisabled();
  await page.keyboard.press("Shift+Home");
  await expect(page.getByTestId("ide-run-selection")).toBeEnabled();
  await page.getByTestId("ide-run-selection").click();
  const log = page.getByTestId("log");
  await expect(log).toContainText("second");
  await expect(page.getByTestId("log-status")).toHaveAttribute("data-status", "complete");
  await expect(log).not.toContainText("first");
  const run = page.getByTestId("ide-run-row").first();
  await expect(run).toHaveAttribute("data-state", "success");
  await expect(page.getByTestId("ide-run-row")).toHaveCount(1);

  // Preview: the text as a run would see it, rendered by the server.
  await page.getByTestId("ide-preview").click();
  await expect(page.getByTestId("ide-preview-text")).toHaveText("echo first\necho second");
  await page.screenshot({ path: "screenshots/ide-preview.png" });
  await page.getByTestId("ide-preview").click();
  await expect(page.getByTestId("ide-preview-panel")).toHaveCount(0);
  await page.screenshot({ path: "screenshots/ide.png" });

  // The dark theme.
  await page.getByTestId("theme-toggle").click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  await page.screenshot({ path: "screenshots/ide-dark.png" });
  await page.getByTestId("theme-toggle").click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "light");

  // Publish as a new job in the job folder, then open it.
  await page.getByTestId("ide-publish").click();
  const dialog = page.getByTestId("ide-publish-dialog");
  await expect(dialog).toBeVisible();
  await dialog.getByTestId("ide-publish-folder").selectOption(String(jobFolder.id));
  await expect(dialog.getByTestId("ide-publish-name")).toHaveValue(`hello-${suffix}`);
  await dialog.screenshot({ path: "screenshots/ide-publish.png" });
  await dialog.getByTestId("ide-dialog-submit").click();
  const link = page.getByTestId("ide-published-link");
  await expect(link).toBeVisible();
  await link.click();
  await expect(page).toHaveURL(/\/jobs\/\d+$/);
  await expect(page.getByTestId("job-title")).toContainText(`hello-${suffix}`);
  await expect(page.getByTestId("job-script-view")).toHaveText("echo first\necho second");

  expect(problems).toEqual([]);
});
