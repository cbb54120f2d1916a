// The walking skeleton end to end, through the UI only: log in, create a folder and a shell job in
// it (with a live cron preview), run it, and watch its log arrive live until the attempt succeeds.
import { expect, test } from "@playwright/test";

const SCRIPT = 'echo "hello from hera"; for i in 1 2 3; do echo "line $i"; sleep 1; done';
const password = process.env.HERA_PASSWORD;

test("create a job, run it and follow its log", async ({ page }) => {
  expect(password, "HERA_PASSWORD must be set (run.sh does)").toBeTruthy();
  const suffix = Date.now().toString(36);
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (msg) => {
    // The deliberately wrong password answers 401, which Chromium logs as a failed resource.
    if (msg.type() === "error" && !msg.text().includes("status of 401")) {
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
  await page.getByTestId("job-script").fill(SCRIPT);
  // The cron preview is computed in the browser: an error, then five fire times.
  await page.getByTestId("job-cron").fill("0 61 * * * ?");
  await expect(page.getByTestId("cron-error")).toBeVisible();
  await page.getByTestId("job-timezone").fill("Asia/Shanghai");
  await page.getByTestId("job-cron").fill("0 0 3 * * ?");
  await expect(page.getByTestId("cron-preview").locator("li")).toHaveCount(5);
  await expect(page.getByTestId("cron-preview").locator("li").first()).toContainText("03:00:00");
  await page.getByTestId("save-job").click();
  await expect(page).toHaveURL(/\/jobs\/\d+$/);
  await expect(page.getByTestId("job-title")).toContainText(jobName);
  await expect(page.getByTestId("tree-job").filter({ hasText: jobName })).toBeVisible();

  // The language switch translates the page and is remembered.
  await page.getByTestId("lang-zh-CN").click();
  await expect(page.getByTestId("run-now")).toHaveText("立即运行");
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

  // Back on the job page the instance is a success.
  await page.getByTestId("log-job-link").click();
  await expect(page.getByTestId("instance-row").first().getByTestId("state-badge")).toHaveAttribute(
    "data-state",
    "success",
  );
  await page.screenshot({ path: "screenshots/job-page.png" });

  // The DAG view draws the job.
  await page.getByTestId("open-dag").click();
  await expect(page.getByTestId("dag").locator("canvas").first()).toBeVisible();
  await page.screenshot({ path: "screenshots/dag-page.png" });

  // The cluster page lists the standalone worker.
  await page.getByTestId("nav-workers").click();
  await expect(page.getByTestId("worker-row").first()).toBeVisible();
  await page.screenshot({ path: "screenshots/workers-page.png" });

  expect(problems).toEqual([]);
});
