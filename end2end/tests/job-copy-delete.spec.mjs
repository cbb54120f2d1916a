// Copying a job and deleting one that others depend on. Job A (with configs, a cron, retries,
// execution settings, a description and a secret) and job B, which depends on A, come from the
// API. Copy on A's page opens the new-job editor at /jobs/new?copy=<A> prefilled with all of A
// but its secrets (a note says so) and named "<A>-copy"; the prefill survives a reload; saving
// creates a new job with A's definition. Then Delete on A: its confirmation lists B as a link
// and warns that B stops waiting for A; the copy's own confirmation says nothing depends on it.
// The server refuses the deletion while B depends on A (409, shown in the card); once B's
// dependency is removed, the confirmation says nothing depends on A and confirming deletes it.
import { expect, test } from "@playwright/test";

import { signIn, watchProblems } from "./support.mjs";

const SCRIPT = 'echo "load ${table}"\nsleep 1';

test("copy a job, then delete one with the jobs that depend on it listed", async ({ page }) => {
  // The refused deletion answers 409, which Chromium logs.
  const problems = watchProblems(page, ["status of 409"]);
  const api = await signIn(page);
  const suffix = Date.now().toString(36);
  const folder = await api("POST", "/api/folders", { name: `copy-${suffix}` });
  const upstream = await api("POST", "/api/jobs", {
    name: `extract-${suffix}`,
    folder_id: folder.id,
    job_type: "shell",
    script: "true",
  });
  const a = await api("POST", "/api/jobs", {
    name: `load-${suffix}`,
    folder_id: folder.id,
    job_type: "shell",
    script: SCRIPT,
    description: "Loads the orders table",
    configs: { table: "ods.orders" },
    cron: "0 0 3 * * ?",
    timezone: "Asia/Shanghai",
    host_group: "default",
    dependencies: [upstream.id],
    dependency_windows: { [upstream.id]: "previous_day" },
    retry_count: 2,
    retry_delay_secs: 30,
    timeout_secs: 600,
    slot_weight: 2,
    priority: 4,
  });
  await api("PUT", `/api/jobs/${a.id}/secrets/API_TOKEN`, { value: "s3cret" });
  const b = await api("POST", "/api/jobs", {
    name: `report-${suffix}`,
    folder_id: folder.id,
    job_type: "shell",
    script: "echo report",
    dependencies: [a.id],
  });

  // Copy A from its page.
  await page.goto(`/jobs/${a.id}`);
  await expect(page.getByTestId("job-title")).toContainText(a.name);
  await page.getByTestId("copy-job").click();
  await expect(page).toHaveURL(new RegExp(`/jobs/new\\?copy=${a.id}$`));
  const checkPrefilled = async () => {
    await expect(page.getByTestId("copy-title")).toContainText(a.name);
    await expect(page.getByTestId("job-name")).toHaveValue(`${a.name}-copy`);
    await expect(page.getByTestId("job-folder").locator("option:checked")).toHaveText(folder.name);
    await expect(page.getByTestId("job-description")).toHaveValue("Loads the orders table");
    await expect(page.getByTestId("job-cron")).toHaveValue("0 0 3 * * ?");
    await expect(page.getByTestId("job-timezone")).toHaveValue("Asia/Shanghai");
    await expect(page.getByTestId("job-script").locator(".cm-content")).toHaveText(
      SCRIPT.replace("\n", ""),
    );
    await expect(page.getByTestId("config-key").first()).toHaveValue("table");
    await expect(page.getByTestId("config-value").first()).toHaveValue("ods.orders");
    await expect(page.getByTestId("copy-note")).toContainText("secrets are not copied");
    await expect(page.getByTestId("copy-note").getByRole("link")).toHaveText(a.name);
  };
  await checkPrefilled();
  await page.setViewportSize({ width: 1280, height: 1400 });
  await page.screenshot({ path: "screenshots/job-copy-editor.png" });
  await page.setViewportSize({ width: 1280, height: 800 });
  // The source is in the address: a reload shows the same copy.
  await page.reload();
  await checkPrefilled();
  await page.getByTestId("lang-zh-CN").click();
  await expect(page.getByTestId("copy-note")).toContainText("密钥不会被复制");
  await page.getByTestId("copy-note").screenshot({ path: "screenshots/job-copy-note-zh.png" });
  await page.getByTestId("lang-en").click();

  // Saving creates a new job with A's definition (and no secrets); the page goes to it.
  await page.getByTestId("save-job").click();
  await expect(page).toHaveURL(/\/jobs\/\d+$/);
  const copyId = Number(new URL(page.url()).pathname.split("/").pop());
  expect(copyId).not.toBe(a.id);
  await expect(page.getByTestId("job-title")).toContainText(`${a.name}-copy`);
  await expect(page.getByTestId("job-script-view")).toHaveText(SCRIPT);
  const copy = await api("GET", `/api/jobs/${copyId}`);
  for (const field of [
    "folder_id",
    "job_type",
    "script",
    "description",
    "configs",
    "cron",
    "timezone",
    "host_group",
    "dependencies",
    "dependency_windows",
    "retry_count",
    "retry_delay_secs",
    "timeout_secs",
    "slot_weight",
    "priority",
  ]) {
    expect(copy[field], field).toEqual(a[field]);
  }
  expect(copy.name).toBe(`${a.name}-copy`);
  expect(await api("GET", `/api/jobs/${copyId}/secrets`)).toEqual([]);

  // Nothing depends on the copy: its delete confirmation says so.
  await page.getByTestId("delete-job").click();
  await expect(page.getByTestId("delete-no-dependents")).toBeVisible();
  await expect(page.getByTestId("delete-dependents")).toHaveCount(0);
  await page.getByTestId("delete-job-cancel").click();

  // A's delete confirmation lists B, as a link, and says B's dependency must go first.
  await page.goto(`/jobs/${a.id}`);
  await page.getByTestId("delete-job").click();
  const dependents = page.getByTestId("delete-dependents");
  await expect(dependents).toContainText("cannot be deleted until");
  const link = dependents.getByTestId("dependent-job");
  await expect(link).toHaveCount(1);
  await expect(link).toHaveText(b.name);
  await expect(link).toHaveAttribute("href", `/jobs/${b.id}`);
  await expect(page.getByTestId("delete-no-dependents")).toHaveCount(0);
  await page.getByTestId("delete-job-form").screenshot({ path: "screenshots/job-delete-dependents.png" });
  await page.screenshot({ path: "screenshots/job-delete-page.png" });
  await page.getByTestId("lang-zh-CN").click();
  await expect(dependents).toContainText("需先移除它们对此任务的依赖");
  await page.getByTestId("delete-job-form").screenshot({ path: "screenshots/job-delete-dependents-zh.png" });
  await page.getByTestId("lang-en").click();

  // Confirm. The server still refuses to delete a job that others depend on (409, the original
  // Hera's rule): its message shows in the card, which keeps listing B.
  await page.getByTestId("delete-job-confirm").click();
  await expect(page.getByTestId("delete-job-form").getByTestId("action-error")).toContainText(
    "cannot be deleted",
  );
  await expect(link).toHaveText(b.name);
  await page.getByTestId("delete-job-cancel").click();

  // Once B no longer depends on A, the confirmation says nothing does, and confirming deletes A:
  // the page goes home, A's address answers 404 and the tree no longer lists it.
  const { id: _id, ...bDefinition } = await api("GET", `/api/jobs/${b.id}`);
  await api("PUT", `/api/jobs/${b.id}`, {
    ...bDefinition,
    dependencies: [],
    dependency_windows: {},
    dependency_on_skip: {},
  });
  await page.reload();
  await page.getByTestId("delete-job").click();
  await expect(page.getByTestId("delete-no-dependents")).toHaveText("No other job depends on it.");
  await expect(page.getByTestId("delete-dependents")).toHaveCount(0);
  await page.getByTestId("delete-job-confirm").click();
  await expect(page).toHaveURL(/\/$/);
  const token = await page.evaluate(() => JSON.parse(localStorage.getItem("hera.session")).token);
  const gone = await page.request.get(`/api/jobs/${a.id}`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  expect(gone.status()).toBe(404);
  await expect(page.locator(`[data-testid="tree-job"][href="/jobs/${a.id}"]`)).toHaveCount(0);
  await expect(page.locator(`[data-testid="tree-job"][href="/jobs/${copyId}"]`)).toHaveCount(1);

  expect(problems).toEqual([]);
});
