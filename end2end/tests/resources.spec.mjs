// The resource center (upload through the file input, a second upload of the same name as version
// 2, a slow upload's progress in percent, the server's 422 for a bad name, the versions with a
// download, the copy button, delete with a confirmation), a job that fetches the resource with a
// `download[hera:…]` line and prints it, the job's secrets (the server's reason for a bad name,
// set, inherited from the folder and overridden, remove) and the execution settings of the job
// editor (the server's 422 on the slot weight field, a timeout saved and shown).
// Screenshots: resources, resources-dark, job-secrets, job-editor-execution,
// job-summary-execution, resources-zh, resources-progress.
import { expect, test } from "@playwright/test";
import { signIn, watchProblems, waitFor } from "./support.mjs";

test("resource center, job secrets and execution settings", async ({ page, context }) => {
  const problems = watchProblems(page, ["status of 422"]);
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  const api = await signIn(page);
  const suffix = Date.now().toString(36);
  const name = `e2e-${suffix}/greeting.txt`;
  const first = `hello from version one ${suffix}\n`;
  const second = `hello from version two ${suffix}\n`;

  // ----- upload version 1 -----
  await page.getByTestId("nav-resources").click();
  await expect(page).toHaveURL(/\/resources$/);
  await expect(page.getByTestId("resources-help")).toContainText("download[hera:");
  const file = page.getByTestId("upload-file");
  await file.setInputFiles({ name: "greeting.txt", mimeType: "text/plain", buffer: Buffer.from(first) });
  // The name is prefilled with the file's; names may contain `/`.
  await expect(page.getByTestId("upload-name")).toHaveValue("greeting.txt");
  await expect(page.getByTestId("upload-chosen")).toContainText("greeting.txt");
  await page.getByTestId("upload-name").fill(name);
  await expect(page.getByTestId("upload-first-version")).toBeVisible();
  await page.getByTestId("upload-submit").click();
  await expect(page.getByTestId("upload-done")).toContainText(`${name}, version 1`);
  const row = page.locator(`[data-testid="resource-row"][data-name="${name}"]`);
  await expect(row.getByTestId("resource-latest")).toHaveText("v1");
  await expect(page.getByTestId("upload-name")).toHaveValue("");
  await expect(page.getByTestId("upload-submit")).toBeDisabled();

  // ----- the same name again: version 2 -----
  await file.setInputFiles({ name: "greeting.txt", mimeType: "text/plain", buffer: Buffer.from(second) });
  await page.getByTestId("upload-name").fill(name);
  await expect(page.getByTestId("upload-new-version")).toContainText("version 2");
  await page.getByTestId("upload-submit").click();
  await expect(page.getByTestId("upload-done")).toContainText(`${name}, version 2`);
  await expect(row.getByTestId("resource-latest")).toHaveText("v2");
  const listed = (await api("GET", "/api/resources")).find((r) => r.name === name);
  expect(listed.latest.version).toBe(2);
  expect(listed.latest.size).toBe(Buffer.byteLength(second));

  // ----- versions, download, copy -----
  await row.getByTestId("resource-versions").click();
  const versions = page.getByTestId("versions-card");
  await expect(versions).toContainText(`Versions of ${name}`);
  await expect(versions.getByTestId("version-row")).toHaveCount(2);
  await expect(versions.getByTestId("version-row").first()).toHaveAttribute("data-version", "2");
  await expect(versions.getByTestId("version-row").nth(1)).toContainText(`hera:${name}@1`);
  const downloading = page.waitForEvent("download");
  await versions.locator('[data-testid="version-row"][data-version="1"]').getByTestId("version-download").click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe("greeting.txt");
  const fs = await import("node:fs/promises");
  expect(await fs.readFile(await download.path(), "utf8")).toBe(first);
  await row.getByTestId("resource-copy").click();
  await expect(row.getByTestId("resource-copy")).toHaveText("Copied");
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(`hera:${name}@2`);
  await page.screenshot({ path: "screenshots/resources.png" });
  await page.getByTestId("theme-toggle").click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  await page.screenshot({ path: "screenshots/resources-dark.png" });
  await page.getByTestId("theme-toggle").click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "light");
  await page.getByTestId("lang-zh-CN").click();
  await expect(page.getByTestId("versions-card")).toContainText("的版本");
  await page.screenshot({ path: "screenshots/resources-zh.png" });
  await page.getByTestId("lang-en").click();

  // ----- a slow upload shows its progress in percent -----
  // Chromium's network emulation slows the request body to about 1 MB/s, so a 3 MB file takes a
  // few seconds: the bar shows a figure before the upload is done.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: 1024 * 1024,
  });
  const bigName = `e2e-${suffix}/big.bin`;
  await file.setInputFiles({
    name: "big.bin",
    mimeType: "application/octet-stream",
    buffer: Buffer.alloc(3 * 1024 * 1024, 7),
  });
  await page.getByTestId("upload-name").fill(bigName);
  await page.getByTestId("upload-submit").click();
  await expect(page.getByTestId("upload-percent")).toHaveText(/^\d{1,3}%$/);
  const bar = page.getByTestId("upload-progress").getByRole("progressbar");
  await expect(bar).toHaveAttribute("aria-valuenow", /^\d{1,3}$/);
  await page.getByTestId("upload-card").screenshot({ path: "screenshots/resources-progress.png" });
  await expect(page.getByTestId("upload-done")).toContainText(`${bigName}, version 1`, {
    timeout: 60_000,
  });
  await expect(page.getByTestId("upload-progress")).toHaveCount(0);
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: -1,
  });
  const big = (await api("GET", "/api/resources")).find((r) => r.name === bigName);
  expect(big.latest.size).toBe(3 * 1024 * 1024);

  // ----- a name the server refuses: its reason under the name field, gone once it is edited -----
  await file.setInputFiles({ name: "bad.txt", mimeType: "text/plain", buffer: Buffer.from("x") });
  await page.getByTestId("upload-name").fill("../escape.txt");
  await page.getByTestId("upload-submit").click();
  await expect(page.getByTestId("error-name")).toContainText("is not a file name");
  await page.getByTestId("upload-name").fill("escape.txt");
  await expect(page.getByTestId("error-name")).toHaveCount(0);

  // ----- a job fetches the latest version and prints it -----
  const folder = await api("POST", "/api/folders", { name: `resources-${suffix}` });
  const job = await api("POST", "/api/jobs", {
    name: `uses-resource-${suffix}`,
    folder_id: folder.id,
    job_type: "shell",
    script: `download[hera:${name} f.txt]\ncat f.txt`,
  });
  const run = await api("POST", `/api/jobs/${job.id}/run`, {});
  await waitFor(api, run.id, "success");
  const instance = await api("GET", `/api/instances/${run.id}`);
  const attempt = instance.attempts[instance.attempts.length - 1];
  const log = await api("GET", `/api/attempts/${attempt.id}/log`);
  expect(log.text).toContain(second.trim());

  // ----- job secrets -----
  await page.goto(`/jobs/${job.id}`);
  const secrets = page.getByTestId("job-secrets");
  await expect(secrets.getByTestId("secrets")).toContainText("No secrets for this job.");
  // A folder's secret is listed as inherited.
  await api("PUT", `/api/folders/${folder.id}/secrets/API_TOKEN`, { value: "from-folder" });
  await api("PUT", `/api/folders/${folder.id}/secrets/REGION`, { value: "eu" });
  await page.reload();
  const secretRow = (secret, own) =>
    secrets.locator(`[data-testid="secret-row"][data-name="${secret}"][data-own="${own}"]`);
  await expect(secretRow("REGION", false).getByTestId("secret-place")).toHaveText(
    `inherited from folder ${folder.name}`,
  );
  // The server says why a name is refused, under the name field.
  await secrets.getByTestId("secret-name").fill("1bad name");
  await secrets.getByTestId("secret-value").fill("x");
  await secrets.getByTestId("secret-save").click();
  await expect(secrets.getByTestId("error-secret-name")).toContainText("is not a variable name");
  // Set on the job: listed as set here, the folder's one of the same name overridden.
  await secrets.getByTestId("secret-name").fill("API_TOKEN");
  await secrets.getByTestId("secret-value").fill("s3cret-value");
  await expect(secrets.getByTestId("secret-value")).toHaveAttribute("type", "password");
  await secrets.getByTestId("secret-save").click();
  await expect(secrets.getByTestId("secret-saved")).toHaveText("API_TOKEN is set.");
  await expect(secrets.getByTestId("error-secret-name")).toHaveCount(0);
  await expect(secretRow("API_TOKEN", true).getByTestId("secret-place")).toHaveText("this job");
  await expect(secretRow("API_TOKEN", false).getByTestId("secret-overridden")).toBeVisible();
  await expect(secrets).not.toContainText("s3cret-value");
  await expect(secrets.getByTestId("secret-value")).toHaveValue("");
  const listedSecrets = await api("GET", `/api/jobs/${job.id}/secrets`);
  expect(listedSecrets.some((s) => s.name === "API_TOKEN" && s.folder_id === null)).toBe(true);
  await secrets.scrollIntoViewIfNeeded();
  await page.screenshot({ path: "screenshots/job-secrets.png" });
  // Remove, after a confirmation; the folder's value is no longer overridden.
  await secretRow("API_TOKEN", true).getByTestId("secret-remove").click();
  await expect(page.getByTestId("remove-secret-question")).toContainText("API_TOKEN");
  await page.getByTestId("remove-secret-confirm").click();
  await expect(secretRow("API_TOKEN", true)).toHaveCount(0);
  await expect(secretRow("API_TOKEN", false).getByTestId("secret-overridden")).toHaveCount(0);

  // ----- execution settings in the editor -----
  await page.getByTestId("edit-job").click();
  const editor = page.getByTestId("job-editor");
  await expect(editor.getByTestId("job-timeout")).toHaveValue("");
  await expect(editor.getByTestId("job-slot-weight")).toHaveValue("1");
  await expect(editor.getByTestId("job-retry-max-delay")).toBeDisabled();
  await editor.getByTestId("job-timeout").fill("900");
  await editor.getByTestId("job-expected-duration").fill("300");
  await editor.getByTestId("job-retry-count").fill("2");
  await editor.getByTestId("job-retry-backoff").selectOption("exponential");
  await expect(editor.getByTestId("job-retry-max-delay")).toBeEnabled();
  await editor.getByTestId("job-retry-max-delay").fill("600");
  // The server refuses 99 slots; its reason shows on the field.
  await editor.getByTestId("job-slot-weight").fill("99");
  await editor.getByTestId("save-job").click();
  await expect(editor.getByTestId("error-slot_weight")).toContainText("1 to 64");
  await editor.getByTestId("job-execution").evaluate((el) => el.scrollIntoView({ block: "center" }));
  await page.screenshot({ path: "screenshots/job-editor-execution.png" });
  await editor.getByTestId("job-slot-weight").fill("2");
  await editor.getByTestId("save-job").click();
  await expect(page.getByTestId("job-editor")).toHaveCount(0);
  await expect(page.getByTestId("job-execution-view")).toHaveAttribute("data-timeout", "900");
  await page.getByTestId("job-execution-view").evaluate((el) => el.scrollIntoView({ block: "center" }));
  await page.screenshot({ path: "screenshots/job-summary-execution.png" });
  const saved = await api("GET", `/api/jobs/${job.id}`);
  expect(saved.timeout_secs).toBe(900);
  expect(saved.expected_duration_secs).toBe(300);
  expect(saved.retry_backoff).toBe("exponential");
  expect(saved.retry_max_delay_secs).toBe(600);
  expect(saved.slot_weight).toBe(2);
  // Emptying the timeout removes it.
  await page.getByTestId("edit-job").click();
  await expect(editor.getByTestId("job-timeout")).toHaveValue("900");
  await editor.getByTestId("job-timeout").fill("");
  await editor.getByTestId("save-job").click();
  await expect(page.getByTestId("job-editor")).toHaveCount(0);
  expect((await api("GET", `/api/jobs/${job.id}`)).timeout_secs ?? null).toBeNull();

  // ----- delete the resource, after a confirmation -----
  await page.goto("/resources");
  await row.getByTestId("resource-delete").click();
  await expect(page.getByTestId("delete-resource-question")).toContainText(name);
  await page.getByTestId("delete-resource-cancel").click();
  await expect(row).toBeVisible();
  await row.getByTestId("resource-delete").click();
  await page.getByTestId("delete-resource-confirm").click();
  await expect(row).toHaveCount(0);
  expect((await api("GET", "/api/resources")).some((r) => r.name === name)).toBe(false);

  expect(problems).toEqual([]);
});
