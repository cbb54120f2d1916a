// The walking skeleton end to end, through the UI: log in, create a folder and a shell job in it
// (with a config and a live cron preview), run it, and watch its log arrive live until the attempt
// succeeds. Then the DAG of a three-job chain (two jobs added over the API), dependency windows and
// self-dependency set in the editor, the warning that disabling `load` affects `report`, the error
// page of an attempt that does not exist, and the "Why?" panel of an instance that waits for its
// upstream. On the way, the instance's actions: rerun it, then mark it failed with a reason. Last,
// deleting jobs: refused (409) while others depend on the job, then done for one nothing depends
// on, which leaves the tree.
import { expect, test } from "@playwright/test";

const SCRIPT = 'echo "hello from hera"; for i in 1 2 3; do echo "line $i"; sleep 1; done';
const password = process.env.HERA_PASSWORD;

test("create a job, run it and follow its log", async ({ page }) => {
  expect(password, "HERA_PASSWORD must be set (run.sh does)").toBeTruthy();
  const suffix = Date.now().toString(36);
  const problems = [];
  // Set while the spec provokes a 422 or a 409 on purpose (Chromium logs the refused request).
  let expect422 = false;
  let expect409 = false;
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (msg) => {
    // The deliberately wrong password answers 401, which Chromium logs as a failed resource.
    // The attempt that does not exist answers 404 (its page and its log socket).
    const expected =
      msg.text().includes("status of 401") ||
      (expect422 && msg.text().includes("status of 422")) ||
      (expect409 && msg.text().includes("status of 409")) ||
      `${msg.text()} ${msg.location().url}`.includes("/attempts/999999");
    if (msg.type() === "error" && !expected) {
      problems.push(`console error: ${msg.text()}`);
    }
  });

  // Log in (a wrong password first: the server's message is shown).
  await page.goto("/");
  await expect(page).toHaveURL(/\/login$/);
  await page.getByTestId("login-username").fill("admin");
  await page.getByTestId("login-password").fill("not-the-password");
  await page.getByTestId("login-submit").click();
  await expect(page.getByTestId("action-error")).toBeVisible();
  await page.getByTestId("login-password").fill(password);
  await page.getByTestId("login-submit").click();
  await expect(page.getByTestId("current-user")).toHaveText("admin");

  // A folder.
  const folderName = `e2e-${suffix}`;
  await page.getByTestId("new-folder").click();
  await page.getByTestId("new-folder-name").fill(folderName);
  await page.getByTestId("create-folder").click();
  const folder = page.getByTestId("tree-folder").filter({ hasText: folderName });
  await expect(folder).toBeVisible();

  // A shell job in it, from the folder's "+".
  await folder.hover();
  await folder.getByTestId("new-job-in-folder").click();
  await expect(page).toHaveURL(/\/jobs\/new\?folder=\d+$/);
  const jobName = `hello-${suffix}`;
  await page.getByTestId("job-name").fill(jobName);
  await expect(page.getByTestId("job-folder").locator("option:checked")).toHaveText(folderName);
  // The script editor is CodeMirror: type into it as a user does (its bracket and quote closing
  // must leave the text as typed).
  const editor = page.getByTestId("job-script").locator(".cm-content");
  await editor.click();
  await page.keyboard.type(SCRIPT);
  await expect(editor).toHaveText(SCRIPT);
  // One config; its key is checked as it is typed.
  await page.getByTestId("config-add").click();
  const config = page.getByTestId("config-row").first();
  await config.getByTestId("config-key").fill("dw table");
  await expect(config.getByTestId("config-error")).toBeVisible();
  await page.getByTestId("configs").screenshot({ path: "screenshots/editor-config-error.png" });
  await config.getByTestId("config-key").fill("dw.table");
  await config.getByTestId("config-value").fill("ods.orders");
  await expect(config.getByTestId("config-error")).toHaveCount(0);
  // The cron preview is computed in the browser: an error, then five fire times.
  await page.getByTestId("job-cron").fill("0 61 * * * ?");
  await expect(page.getByTestId("cron-error")).toBeVisible();
  await page.getByTestId("job-timezone").fill("Asia/Shanghai");
  await page.getByTestId("job-cron").fill("0 0 3 * * ?");
  await expect(page.getByTestId("cron-preview").locator("li")).toHaveCount(5);
  await expect(page.getByTestId("cron-preview").locator("li").first()).toContainText("03:00:00");
  await page.getByTestId("job-editor").screenshot({ path: "screenshots/job-editor.png" });
  await page.getByTestId("job-priority").selectOption("4");
  await page.getByTestId("job-overlap").selectOption("queue");
  await page.getByTestId("save-job").click();
  await expect(page).toHaveURL(/\/jobs\/\d+$/);
  await expect(page.getByTestId("job-title")).toContainText(jobName);
  await expect(page.getByTestId("job-priority-view")).toHaveText("4");
  await expect(page.getByTestId("job-policies")).toContainText("run after it");
  await expect(page.getByTestId("tree-job").filter({ hasText: jobName })).toBeVisible();
  await expect(page.getByTestId("job-config")).toHaveCount(1);
  await expect(page.getByTestId("job-configs")).toContainText("dw.table = ods.orders");
  const jobId = Number(new URL(page.url()).pathname.split("/").pop());

  // The language switch translates the page and is remembered.
  await page.getByTestId("lang-zh-CN").click();
  await expect(page.getByTestId("run-now")).toHaveText("立即运行");
  await page.screenshot({ path: "screenshots/job-page-zh.png" });
  await page.getByTestId("lang-en").click();
  await expect(page.getByTestId("run-now")).toHaveText("Run now");

  // Run it: the instance and its attempt appear through the live event stream.
  await page.getByTestId("run-now").click();
  const logLink = page.getByTestId("attempt-log-link").first();
  await expect(logLink).toBeVisible();
  await logLink.click();
  await expect(page).toHaveURL(/\/attempts\/\d+\/log\?instance=\d+$/);

  // The log arrives while the attempt runs, then completes.
  const log = page.getByTestId("log");
  await expect(log).toContainText("hello from hera");
  const statusWhenFirstSeen = await page.getByTestId("log-status").getAttribute("data-status");
  await expect(log).toContainText("line 3");
  await expect(page.getByTestId("log-status")).toHaveAttribute("data-status", "complete");
  await expect(page.getByTestId("attempt-state").getByTestId("state-badge")).toHaveAttribute(
    "data-state",
    "success",
  );
  await expect(page.getByTestId("attempt-exit-code")).toHaveText("0");
  await page.screenshot({ path: "screenshots/log-page.png" });
  expect(statusWhenFirstSeen, "the first lines arrived while the attempt still ran").toBe("live");

  // Without ?instance= the page finds the attempt's instance itself.
  const logPath = new URL(page.url()).pathname;
  await page.goto(logPath);
  await expect(page.getByTestId("log-job-link")).toHaveText(jobName);
  await expect(page.getByTestId("attempt-exit-code")).toHaveText("0");
  await expect(page.getByTestId("log")).toContainText("line 3");
  await expect(page.getByTestId("log-status")).toHaveAttribute("data-status", "complete");

  // Back on the job page the instance is a success.
  await page.getByTestId("log-job-link").click();
  await expect(page.getByTestId("instance-row").first().getByTestId("state-badge")).toHaveAttribute(
    "data-state",
    "success",
  );
  await page.screenshot({ path: "screenshots/job-page.png" });

  // The instance's actions: run it again, then force its state with a reason.
  const doneRow = page.getByTestId("instance-row").first();
  const doneId = await doneRow.getAttribute("data-instance-id");
  const instanceRow = page.locator(`[data-testid="instance-row"][data-instance-id="${doneId}"]`);
  const panel = page.locator(`[data-testid="actions-panel"][data-instance-id="${doneId}"]`);
  await instanceRow.getByTestId("instance-actions").click();
  await expect(instanceRow.getByTestId("instance-actions")).toHaveAttribute("aria-expanded", "true");
  await expect(panel.getByTestId("action-rerun")).toBeVisible();
  await expect(panel.getByTestId("action-recover")).toHaveText("Recover (rerun + release downstream)");
  await expect(panel.getByTestId("action-cascade")).toHaveText("Cascade (rerun with all downstream)");
  await expect(panel.getByTestId("action-force-failed")).toBeVisible();
  await expect(panel.getByTestId("action-skip")).toBeVisible();
  // A success cannot be marked a success again.
  await expect(panel.getByTestId("action-force-success")).toHaveCount(0);
  await page
    .locator("section.card", { has: page.getByTestId("instances") })
    .screenshot({ path: "screenshots/instance-actions.png" });
  await page.getByTestId("lang-zh-CN").click();
  await expect(panel.getByTestId("action-rerun")).toHaveText("重跑");
  await expect(panel.getByTestId("action-cascade")).toHaveText("级联重跑（含全部下游）");
  await page.getByTestId("lang-en").click();
  // A cascade asks first; cancelling goes back to the buttons.
  await panel.getByTestId("action-cascade").click();
  await expect(panel.getByTestId("cascade-form")).toContainText(`#${doneId}`);
  await panel.getByTestId("cascade-form").getByRole("button", { name: "Cancel" }).click();
  await expect(panel.getByTestId("cascade-form")).toHaveCount(0);
  // A refused action shows the server's message in the panel (a 409 made up once).
  expect409 = true;
  const rerunPath = `**/api/instances/${doneId}/rerun`;
  await page.route(rerunPath, (route) =>
    route.fulfill({
      status: 409,
      contentType: "application/json",
      body: JSON.stringify({ error: { code: "conflict", message: "made-up conflict" } }),
    }),
  );
  await panel.getByTestId("action-recover").click();
  await expect(panel.getByTestId("action-error")).toHaveText("made-up conflict");
  await page.unroute(rerunPath);
  expect409 = false;
  // Rerun: a second attempt, which succeeds; the panel closes.
  await panel.getByTestId("action-rerun").click();
  await expect(panel).toHaveCount(0);
  await expect(instanceRow).toHaveAttribute("data-attempts", "2", { timeout: 30_000 });
  await expect(
    page.locator(`[data-testid="attempt-row"][data-instance-id="${doneId}"]`),
  ).toHaveCount(2);
  await expect(instanceRow.getByTestId("state-badge")).toHaveAttribute("data-state", "success", {
    timeout: 30_000,
  });
  await expect(
    page
      .locator(`[data-testid="attempt-row"][data-instance-id="${doneId}"]`)
      .first()
      .getByTestId("state-badge"),
  ).toHaveAttribute("data-state", "success");
  // Mark it failed: the reason is required, then recorded with the user's name.
  await instanceRow.getByTestId("instance-actions").click();
  await panel.getByTestId("action-force-failed").click();
  await expect(panel.getByTestId("force-reason")).toBeFocused();
  await panel.getByTestId("force-confirm").click();
  await expect(panel.getByTestId("force-reason-error")).toHaveText("Required");
  const reason = `bad data in ods.orders ${suffix}`;
  await panel.getByTestId("force-reason").fill(reason);
  await expect(panel.getByTestId("force-reason-error")).toHaveCount(0);
  await page
    .locator("section.card", { has: page.getByTestId("instances") })
    .screenshot({ path: "screenshots/instance-force.png" });
  await panel.getByTestId("force-confirm").click();
  await expect(panel).toHaveCount(0);
  await expect(instanceRow.getByTestId("state-badge")).toHaveAttribute("data-state", "failed");
  await expect(instanceRow.getByTestId("instance-reason")).toContainText(
    `forced to failed by admin: ${reason}`,
  );

  // Two downstream jobs over the API make a chain of three for the DAG view.
  const token = await page.evaluate(() => JSON.parse(localStorage.getItem("hera.session")).token);
  const headers = { Authorization: `Bearer ${token}` };
  const job = await (await page.request.get(`/api/jobs/${jobId}`, { headers })).json();
  let upstream = jobId;
  const chain = [];
  for (const step of ["load", "report"]) {
    const response = await page.request.post("/api/jobs", {
      headers,
      data: {
        name: `${step}-${suffix}`,
        folder_id: job.folder_id,
        job_type: "shell",
        script: "true",
        dependencies: [upstream],
      },
    });
    expect(response.status(), await response.text()).toBe(201);
    upstream = (await response.json()).id;
    chain.push(upstream);
  }
  const [loadId, reportId] = chain;

  // The DAG view draws the chain.
  await page.getByTestId("open-dag").click();
  await expect(page.getByTestId("dag").locator("canvas").first()).toBeVisible();
  // One level around the first job at first (it and `load`), the whole chain once expanded.
  await expect(page.getByTestId("dag")).toHaveAttribute("data-total", "3");
  await expect(page.getByTestId("dag")).toHaveAttribute("data-nodes", "2");
  await page.getByTestId("dag-expand-all").click();
  await expect(page.getByTestId("dag")).toHaveAttribute("data-nodes", "3");
  await page.screenshot({ path: "screenshots/dag-page.png" });

  // The cluster page lists the standalone worker.
  await page.getByTestId("nav-workers").click();
  await expect(page.getByTestId("worker-row").first()).toBeVisible();
  await page.screenshot({ path: "screenshots/workers-page.png" });

  // Dependency windows and self-dependency in the editor: `report` waits for the previous day of
  // `load`, for the same day of the first job, and for its own previous instance.
  await page.goto(`/jobs/${reportId}`);
  await page.getByTestId("edit-job").click();
  const loadWindow = page.getByTestId(`dep-window-${loadId}`);
  await expect(loadWindow).toHaveValue("same_day");
  await expect(page.getByTestId("job-self-dependent")).not.toBeChecked();
  const helloWindow = page.getByTestId(`dep-window-${jobId}`);
  const addHello = async () => {
    await page.getByTestId("dependency-search").fill(jobName);
    await page.getByTestId("dependency-option").filter({ hasText: jobName }).click();
    await expect(helloWindow).toHaveValue("same_day");
  };
  // A new dependency waits for the same day; removing it drops the window it was given.
  await addHello();
  await helloWindow.selectOption("same_hour");
  await page
    .getByTestId("dependency-chip")
    .filter({ has: helloWindow })
    .getByTestId("dependency-remove")
    .click();
  await expect(helloWindow).toHaveCount(0);
  await addHello();
  await loadWindow.selectOption("previous_day");
  await expect(loadWindow.locator("option:checked")).toHaveText("previous day (T−1)");
  await page.getByTestId("job-self-dependent").check();
  // The page scrolls inside its main area: a viewport shot around the dependencies.
  await page.getByTestId("dependency-search").scrollIntoViewIfNeeded();
  await page.screenshot({ path: "screenshots/editor-windows.png" });
  // The server's reason for `dependency_windows` shows next to the dependencies: a window for a
  // job that is not a dependency (the job itself) is slipped into the request once.
  expect422 = true;
  await page.route(`**/api/jobs/${reportId}`, async (route) => {
    if (route.request().method() !== "PUT") {
      await route.continue();
      return;
    }
    const body = route.request().postDataJSON();
    body.dependency_windows = { ...body.dependency_windows, [reportId]: "same_hour" };
    await route.continue({ postData: JSON.stringify(body) });
  });
  await page.getByTestId("save-job").click();
  await expect(page.getByTestId("error-dependency_windows")).toContainText("not a dependency");
  await page.unroute(`**/api/jobs/${reportId}`);
  expect422 = false;
  await page.getByTestId("save-job").click();
  await expect(page.getByTestId("job-editor")).toHaveCount(0);
  const loadChip = page.locator(`[data-testid="job-dependency"][data-job-id="${loadId}"]`);
  const helloChip = page.locator(`[data-testid="job-dependency"][data-job-id="${jobId}"]`);
  await expect(loadChip).toContainText(`load-${suffix}`);
  await expect(loadChip).toContainText("T−1");
  await expect(loadChip).toHaveAttribute("data-window", "previous_day");
  await expect(helloChip).toHaveAttribute("data-window", "same_day");
  await expect(helloChip).not.toContainText("·");
  await expect(page.getByTestId("job-self-dependent-view")).toHaveText("Yes");
  const saved = await (await page.request.get(`/api/jobs/${reportId}`, { headers })).json();
  expect(saved.dependency_windows).toEqual({ [loadId]: "previous_day", [jobId]: "same_day" });
  expect(saved.self_dependent).toBe(true);
  await page.getByTestId("job-summary").screenshot({ path: "screenshots/job-windows.png" });
  await page.getByTestId("lang-zh-CN").click();
  await expect(page.getByTestId("job-summary")).toContainText("自依赖");
  await page.getByTestId("edit-job").click();
  await expect(loadWindow.locator("option:checked")).toHaveText("前一天（T−1）");
  await expect(page.getByTestId("job-self-dependent")).toBeChecked();
  await page.getByTestId("lang-en").click();
  await page.getByTestId("job-editor").getByRole("button", { name: "Cancel" }).click();
  await expect(page.getByTestId("job-editor")).toHaveCount(0);

  // Unticking "Enabled" of `load` names `report`, which depends on it; ticking it again hides
  // the warning. The edit is cancelled, not saved.
  await page.goto(`/jobs/${loadId}`);
  await page.getByTestId("edit-job").click();
  const disableWarning = page.getByTestId("disable-warning");
  await expect(page.getByTestId("job-enabled")).toBeChecked();
  await expect(disableWarning).toHaveCount(0);
  await page.getByTestId("job-enabled").uncheck();
  await expect(disableWarning).toContainText(`report-${suffix} (#${reportId})`);
  await expect(disableWarning).toContainText("run without waiting for it");
  await expect(disableWarning.getByRole("link", { name: `report-${suffix}` })).toHaveAttribute(
    "href",
    `/jobs/${reportId}`,
  );
  await disableWarning.scrollIntoViewIfNeeded();
  await page.screenshot({ path: "screenshots/editor-disable-warning.png" });
  await page.getByTestId("job-enabled").check();
  await expect(disableWarning).toHaveCount(0);
  await page.getByTestId("job-editor").getByRole("button", { name: "Cancel" }).click();
  await expect(page.getByTestId("job-editor")).toHaveCount(0);
  const load = await (await page.request.get(`/api/jobs/${loadId}`, { headers })).json();
  expect(load.enabled).toBe(true);

  // An attempt that does not exist: the server's message, no endless reconnection.
  await page.goto("/attempts/999999/log");
  await expect(page.getByTestId("load-error")).toContainText("999999");
  await expect(page.getByTestId("log-status")).toHaveCount(0);
  await page.screenshot({ path: "screenshots/missing-attempt.png" });

  // Why has an instance not started? `waits` fires every second and depends on `late`, due at
  // 23:00. Both share a time zone where 23:00 is still ahead today, so `late` is due that day.
  const zone = new Date().getUTCHours() < 22 ? "UTC" : "Asia/Shanghai";
  const createJob = async (name, cron, dependencies) => {
    const response = await page.request.post("/api/jobs", {
      headers,
      data: {
        name,
        folder_id: job.folder_id,
        job_type: "shell",
        script: "true",
        cron,
        timezone: zone,
        dependencies,
      },
    });
    expect(response.status(), await response.text()).toBe(201);
    return (await response.json()).id;
  };
  const lateName = `late-${suffix}`;
  const lateId = await createJob(lateName, "0 0 23 * * ?", []);
  const waitsId = await createJob(`waits-${suffix}`, "* * * * * ?", [lateId]);
  await page.goto(`/jobs/${waitsId}`);
  const waiting = page
    .getByTestId("instance-row")
    .filter({ has: page.locator('[data-testid="state-badge"][data-state="waiting"]') })
    .first();
  await expect(waiting).toBeVisible({ timeout: 70_000 });
  // New instances arrive every second (newest first): follow this one by its id.
  const instanceId = await waiting.getAttribute("data-instance-id");
  const row = page.locator(`[data-testid="instance-row"][data-instance-id="${instanceId}"]`);
  await row.getByTestId("why-toggle").click();
  await expect(row.getByTestId("why-toggle")).toHaveAttribute("aria-expanded", "true");
  const why = page.locator(`[data-testid="why-panel"][data-instance-id="${instanceId}"]`);
  await expect(why.getByTestId("why-summary")).toContainText("waiting for upstream");
  const upstreamLine = why.getByTestId("why-upstream");
  await expect(upstreamLine).toHaveCount(1);
  await expect(upstreamLine).toHaveAttribute("data-done", "false");
  await expect(upstreamLine).toContainText(lateName);
  await expect(upstreamLine).toContainText("due");
  await expect(upstreamLine.locator("a")).toHaveAttribute("href", `/jobs/${lateId}`);
  await expect(why).toContainText("Host group default");
  // The panel stays open while the list refreshes on live events.
  const rowsBefore = await page.getByTestId("instance-row").count();
  await expect
    .poll(() => page.getByTestId("instance-row").count())
    .toBeGreaterThan(rowsBefore);
  await expect(upstreamLine).toContainText(lateName);
  await page
    .locator("section.card", { has: page.getByTestId("instances") })
    .screenshot({ path: "screenshots/why-panel.png" });
  // Closing it removes the panel.
  await row.getByTestId("why-toggle").click();
  await expect(why).toHaveCount(0);

  // Deleting a job that others depend on (`load` and `report` depend on the first job) is refused:
  // the server's message names them, in place, and the page stays.
  await page.goto(`/jobs/${jobId}`);
  await expect(page.getByTestId("job-title")).toContainText(jobName);
  await page.getByTestId("delete-job").click();
  const deleteForm = page.getByTestId("delete-job-form");
  await expect(deleteForm).toContainText(`Delete job ${jobName}?`);
  await page.getByTestId("lang-zh-CN").click();
  await expect(deleteForm).toContainText(`删除任务 ${jobName}？`);
  await page.getByTestId("lang-en").click();
  expect409 = true;
  await page.getByTestId("delete-job-confirm").click();
  const deleteError = deleteForm.getByTestId("action-error");
  await expect(deleteError).toContainText("cannot be deleted");
  await expect(deleteError).toContainText(`load-${suffix} (${loadId})`);
  await expect(deleteError).toContainText(`report-${suffix} (${reportId})`);
  expect409 = false;
  await expect(page).toHaveURL(new RegExp(`/jobs/${jobId}$`));
  await page.screenshot({ path: "screenshots/delete-refused.png" });
  await deleteForm.getByTestId("delete-job-cancel").click();
  await expect(deleteForm).toHaveCount(0);
  expect((await page.request.get(`/api/jobs/${jobId}`, { headers })).status()).toBe(200);

  // `waits` has no dependents: deleting it lands on the home page and drops it from the tree.
  const waitsName = `waits-${suffix}`;
  await page.goto(`/jobs/${waitsId}`);
  const waitsInTree = page.getByTestId("tree-job").filter({ hasText: waitsName });
  await expect(waitsInTree).toBeVisible();
  await page.getByTestId("delete-job").click();
  await expect(deleteForm).toContainText(`Delete job ${waitsName}?`);
  await page.getByTestId("delete-job-confirm").click();
  await expect(page).toHaveURL(/\/$/);
  await expect(waitsInTree).toHaveCount(0);
  await expect(page.getByTestId("tree-job").filter({ hasText: lateName })).toBeVisible();
  expect((await page.request.get(`/api/jobs/${waitsId}`, { headers })).status()).toBe(404);

  expect(problems).toEqual([]);
});
