// Scheduling through the UI: a business calendar (created, filled by importing a CSV file, one
// day toggled in its year view, refused deletion while a job uses it); two jobs, upstream and
// downstream, the downstream one following the calendar and propagating skips; pausing and
// resuming the upstream job; running it with a parameter; picking its instance in the job's month
// calendar and rerunning it with a reason; and a backfill of the upstream job with its downstream
// over two days: previewed (dry run), started, and followed until every instance has succeeded.
// Screenshots: calendars, calendar-editor, run-params, job-calendar, backfill-new, backfill-detail.
import { expect, test } from "@playwright/test";

const password = process.env.HERA_PASSWORD;

/** `YYYY-MM-DD` of a Date, in UTC. */
const isoDate = (date) => date.toISOString().slice(0, 10);

test("calendars, pause, run with parameters, the job calendar and a backfill", async ({ page }) => {
  test.setTimeout(240_000);
  expect(password, "HERA_PASSWORD must be set (run.sh does)").toBeTruthy();
  const suffix = Date.now().toString(36);
  const problems = [];
  // Set while the spec provokes a 409 on purpose (Chromium logs the refused request).
  let expect409 = false;
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (msg) => {
    const expected = expect409 && msg.text().includes("status of 409");
    if (msg.type() === "error" && !expected) {
      problems.push(`console error: ${msg.text()}`);
    }
  });

  await page.goto("/");
  await expect(page).toHaveURL(/\/login$/);
  await page.getByTestId("login-username").fill("admin");
  await page.getByTestId("login-password").fill(password);
  await page.getByTestId("login-submit").click();
  await expect(page.getByTestId("current-user")).toHaveText("admin");
  const token = await page.evaluate(() => JSON.parse(localStorage.getItem("hera.session")).token);
  const headers = { Authorization: `Bearer ${token}` };
  const api = async (method, path, data) => {
    const response = await page.request.fetch(path, { method, headers, data });
    expect(response.ok(), `${method} ${path}: ${await response.text()}`).toBe(true);
    return response.status() === 204 ? null : response.json();
  };

  // A calendar, from the calendars page.
  await page.getByTestId("nav-calendars").click();
  await expect(page).toHaveURL(/\/calendars$/);
  const calendarName = `cal-${suffix}`;
  await page.getByTestId("new-calendar-name").fill(calendarName);
  await page.getByTestId("create-calendar").click();
  await expect(page).toHaveURL(/\/calendars\/\d+$/);
  const calendarId = Number(new URL(page.url()).pathname.split("/").pop());
  await expect(page.getByTestId("calendar-title")).toContainText(calendarName);
  await expect(page.getByTestId("weekend-6")).toBeChecked();
  await expect(page.getByTestId("weekend-7")).toBeChecked();
  await expect(page.getByTestId("weekend-1")).not.toBeChecked();

  // Import next year's holidays from a CSV file, read by the browser.
  const year = new Date().getUTCFullYear() + 1;
  const csv = [
    `${year}-10-01,holiday,National Day`,
    `${year}-10-02,holiday,National Day`,
    `${year}-10-10,workday,Make-up day`,
    "",
  ].join("\n");
  await page.getByTestId("import-file").setInputFiles({
    name: "holidays.csv",
    mimeType: "text/csv",
    buffer: Buffer.from(csv),
  });
  await expect(page.getByTestId("import-text")).toHaveValue(csv);
  await expect(page.getByTestId("import-format")).toHaveValue("csv");
  await page.getByTestId("import-submit").click();
  const imported = page.getByTestId("import-result");
  await expect(imported).toHaveAttribute("data-holidays", "2");
  await expect(imported).toHaveAttribute("data-workdays", "1");

  // The year view shows them: holidays non-working, the make-up day working.
  await page.getByTestId("year-next").click();
  await expect(page.getByTestId("year-title")).toHaveText(String(year));
  const day = (date) => page.locator(`[data-testid="year-day"][data-date="${date}"]`);
  await expect(day(`${year}-10-01`)).toHaveAttribute("data-kind", "holiday");
  await expect(day(`${year}-10-01`)).toHaveAttribute("data-working", "false");
  await expect(day(`${year}-10-01`)).toHaveAttribute("title", /National Day/);
  await expect(day(`${year}-10-10`)).toHaveAttribute("data-kind", "workday");
  await expect(day(`${year}-10-10`)).toHaveAttribute("data-working", "true");
  await expect(page.getByTestId("exception-row")).toHaveCount(3);

  // Clicking a working day makes it a holiday, with a note; saving keeps it.
  let extra = new Date(Date.UTC(year, 9, 12));
  while ([0, 6].includes(extra.getUTCDay())) extra = new Date(extra.getTime() + 86_400_000);
  const extraDate = isoDate(extra);
  await expect(day(extraDate)).toHaveAttribute("data-working", "true");
  await day(extraDate).click();
  await expect(day(extraDate)).toHaveAttribute("data-kind", "holiday");
  await expect(day(extraDate)).toHaveAttribute("data-working", "false");
  const extraRow = page.locator(`[data-testid="exception-row"][data-date="${extraDate}"]`);
  await extraRow.getByTestId("exception-note").fill("Company day");
  await expect(page.getByTestId("calendar-dirty")).toBeVisible();
  await page.getByTestId("save-calendar").click();
  await expect(page.getByTestId("calendar-dirty")).toHaveCount(0);
  const saved = await api("GET", `/api/calendars/${calendarId}`);
  expect(saved.days).toContainEqual({ date: extraDate, kind: "holiday", note: "Company day" });
  expect(saved.days).toHaveLength(4);
  await page.getByTestId("year-view").scrollIntoViewIfNeeded();
  await page.screenshot({ path: "screenshots/calendar-editor.png" });

  await page.getByTestId("nav-calendars").click();
  const calendarRow = page.locator(`[data-testid="calendar-row"][data-calendar-id="${calendarId}"]`);
  await expect(calendarRow.getByTestId("calendar-holidays")).toHaveText("3");
  await expect(calendarRow.getByTestId("calendar-workdays")).toHaveText("1");
  await page.screenshot({ path: "screenshots/calendars.png" });

  // Two jobs over the API: `up-…` and `down-…`, which depends on it; both daily at 02:00 UTC.
  const folder = await api("POST", "/api/folders", { name: `sched-${suffix}` });
  const createJob = (name, dependencies) =>
    api("POST", "/api/jobs", {
      name,
      folder_id: folder.id,
      job_type: "shell",
      script: "echo hi",
      cron: "0 0 2 * * ?",
      timezone: "UTC",
      dependencies,
    });
  const upName = `up-${suffix}`;
  const downName = `down-${suffix}`;
  const upId = (await createJob(upName, [])).id;
  const downId = (await createJob(downName, [upId])).id;

  // In the editor, `down` follows the calendar (choosing it picks working days) and a skipped
  // `up` instance skips it too.
  await page.goto(`/jobs/${downId}`);
  await page.getByTestId("edit-job").click();
  await expect(page.getByTestId("job-calendar-mode")).toBeDisabled();
  await page.getByTestId("job-calendar").selectOption(String(calendarId));
  await expect(page.getByTestId("job-calendar-mode")).toHaveValue("working_days");
  await expect(page.getByTestId(`dep-on-skip-${upId}`)).toHaveValue("done");
  await page.getByTestId(`dep-on-skip-${upId}`).selectOption("propagate");
  await page.getByTestId("save-job").click();
  await expect(page.getByTestId("job-editor")).toHaveCount(0);
  await expect(page.getByTestId("job-calendar-view")).toContainText(calendarName);
  await expect(page.getByTestId("job-calendar-view")).toHaveAttribute("data-mode", "working_days");
  await expect(page.getByTestId("job-dependency")).toHaveAttribute("data-on-skip", "propagate");
  const down = await api("GET", `/api/jobs/${downId}`);
  expect(down.calendar_id).toBe(calendarId);
  expect(down.calendar_mode).toBe("working_days");
  expect(down.dependency_on_skip).toEqual({ [upId]: "propagate" });

  // The calendar names the job that uses it and cannot be deleted meanwhile.
  await page.goto(`/calendars/${calendarId}`);
  await expect(page.getByTestId("calendar-job")).toContainText(downName);
  await page.getByTestId("delete-calendar").click();
  expect409 = true;
  await page.getByTestId("delete-calendar-confirm").click();
  await expect(
    page.getByTestId("delete-calendar-form").getByTestId("action-error"),
  ).toContainText(downName);
  expect409 = false;
  await page.getByTestId("delete-calendar-cancel").click();
  await expect(page).toHaveURL(new RegExp(`/calendars/${calendarId}$`));

  // Pause `up` with a reason: the badge says since when; resume it.
  await page.goto(`/jobs/${upId}`);
  await expect(page.getByTestId("job-title")).toContainText(upName);
  await expect(page.getByTestId("paused-badge")).toHaveCount(0);
  await page.getByTestId("pause-job").click();
  await page.getByTestId("pause-job-reason").fill("upstream maintenance");
  await page.getByTestId("pause-job-confirm").click();
  await expect(page.getByTestId("paused-badge")).toContainText("Paused since");
  await expect(page.getByTestId("pause-job")).toHaveText("Resume");
  expect((await api("GET", `/api/jobs/${upId}`)).paused).toBe(true);
  const pausedEntry = page.locator('[data-testid="audit-row"][data-action="job.pause"]');
  await expect(pausedEntry.getByTestId("audit-reason")).toHaveText("upstream maintenance");
  await page.getByTestId("lang-zh-CN").click();
  await expect(page.getByTestId("paused-badge")).toContainText("起暂停");
  await page.getByTestId("lang-en").click();
  await page.getByTestId("pause-job").click();
  await page.getByTestId("pause-job-confirm").click();
  await expect(page.getByTestId("paused-badge")).toHaveCount(0);
  await expect(page.getByTestId("pause-job")).toHaveText("Pause");
  expect((await api("GET", `/api/jobs/${upId}`)).paused).toBe(false);

  // Run it with a parameter: the new instance is selected and shows it.
  await page.getByTestId("run-with-params").click();
  const dialog = page.getByTestId("run-dialog");
  await expect(dialog).toBeVisible();
  await dialog.getByTestId("param-name").first().fill("FOO");
  await dialog.getByTestId("param-value").first().fill("bar");
  await dialog.getByTestId("run-reason").fill("check the parameter");
  await page.screenshot({ path: "screenshots/run-params.png" });
  await dialog.getByTestId("run-submit").click();
  await expect(dialog).toHaveCount(0);
  const selected = page.getByTestId("selected-instance");
  await expect(selected).toBeVisible();
  await expect(selected.locator('[data-testid="instance-param"][data-key="FOO"]')).toHaveText(
    "FOO=bar",
  );
  await expect(selected).toHaveAttribute("data-state", "success", { timeout: 60_000 });
  const instanceId = await selected.getAttribute("data-instance-id");

  // The month calendar has it as a chip on its day: deselect, then pick it there.
  await page.getByTestId("selected-close").click();
  await expect(selected).toHaveCount(0);
  const chip = page.locator(`[data-testid="cal-instance"][data-instance-id="${instanceId}"]`);
  await expect(chip).toHaveAttribute("data-state", "success");
  await chip.click();
  await expect(selected).toHaveAttribute("data-instance-id", instanceId);
  await expect(chip).toHaveClass(/selected/);
  const panel = selected.getByTestId("actions-panel");
  await expect(panel.getByTestId("action-rerun")).toBeVisible();
  await page.getByTestId("instance-calendar").scrollIntoViewIfNeeded();
  await page.screenshot({ path: "screenshots/job-calendar.png" });
  // Rerun it from there, with a reason that lands in the activity.
  await panel.getByTestId("action-reason").fill("rerun from the calendar");
  await panel.getByTestId("action-rerun").click();
  const rerunEntry = page.locator('[data-testid="audit-row"][data-action="instance.rerun"]');
  await expect(rerunEntry.getByTestId("audit-reason")).toHaveText("rerun from the calendar");
  await expect(selected).toHaveAttribute("data-state", "success", { timeout: 60_000 });
  await expect(selected.getByTestId("selected-attempt")).toHaveCount(2);

  // A backfill of `up` and its downstream over two past working days (a Monday and a Tuesday).
  let monday = new Date(Date.now() - 7 * 86_400_000);
  while (monday.getUTCDay() !== 1) monday = new Date(monday.getTime() - 86_400_000);
  const tuesday = new Date(monday.getTime() + 86_400_000);
  await page.getByTestId("open-backfill").click();
  await expect(page).toHaveURL(new RegExp(`/backfills/new\\?job=${upId}$`));
  await expect(page.getByTestId("backfill-job")).toHaveValue(String(upId));
  await expect(page.getByTestId("backfill-start")).toBeDisabled();
  await page.getByTestId("backfill-downstream").check();
  await page.getByTestId("backfill-start-date").fill(isoDate(monday));
  await page.getByTestId("backfill-end-date").fill(isoDate(tuesday));
  await page.getByTestId("backfill-parallelism").fill("2");
  await page.getByTestId("backfill-reason").fill("reload two days");
  await page.getByTestId("backfill-preview").click();
  const plan = page.getByTestId("backfill-plan");
  await expect(plan).toHaveAttribute("data-items", "4");
  await expect(plan).toHaveAttribute("data-to-run", "4");
  await expect(plan.getByTestId("plan-job")).toHaveCount(2);
  await expect(plan.locator('[data-testid="plan-item"][data-action="create"]')).toHaveCount(4);
  const startButton = page.getByTestId("backfill-start");
  await expect(startButton).toBeEnabled();
  await page.screenshot({ path: "screenshots/backfill-new.png" });
  await startButton.click();
  await expect(page).toHaveURL(/\/backfills\/\d+$/);
  const backfillId = new URL(page.url()).pathname.split("/").pop();
  const progress = page.getByTestId("backfill-progress");
  await expect(progress).toHaveAttribute("data-total", "4");
  await expect(progress).toHaveAttribute("data-done", "4", { timeout: 120_000 });
  await expect(page.getByTestId("backfill-detail")).toHaveAttribute("data-state", "finished");
  await expect(
    page.locator('[data-testid="backfill-member"][data-state="success"]'),
  ).toHaveCount(4);
  await page.screenshot({ path: "screenshots/backfill-detail.png" });

  // A member's log, through its instance's latest attempt.
  await page.getByTestId("member-log").first().click();
  await expect(page).toHaveURL(/\/attempts\/\d+\/log\?instance=\d+$/);
  await expect(page.getByTestId("log")).toContainText("hi");

  // The list of backfills has it.
  await page.getByTestId("nav-backfills").click();
  const row = page.locator(`[data-testid="backfill-row"][data-backfill-id="${backfillId}"]`);
  await expect(row).toHaveAttribute("data-state", "finished");
  await expect(row.getByTestId("backfill-progress")).toHaveAttribute("data-done", "4");

  expect(problems).toEqual([]);
});
