// The UI's look and speed: the home dashboard following a run live; the log viewer (line numbers,
// ANSI colours, search with highlighted hits, "jump to first error", download); the dark theme,
// remembered, with screenshots of the dashboard, the job page and the log page; and two timings
// printed for the report (`console.log` lines starting with "measure:"): the first render of the
// home page, and the log view under a fast stream (a job printing 200,000 lines with `seq`).
// Screenshots: home, home-dark(-1920), log-search, log-error, log-page-dark, job-page-dark,
// dag-page-dark, job-editor-dark, log-stream.
import { expect, test } from "@playwright/test";
import { signIn, watchProblems } from "./support.mjs";

/** Creates a shell job running `script` in a new folder and runs it; returns its ids. */
async function runScript(api, name, script) {
  const folder = await api("POST", "/api/folders", { name: `${name}-folder` });
  const job = await api("POST", "/api/jobs", {
    name,
    folder_id: folder.id,
    job_type: "shell",
    script,
  });
  const instance = await api("POST", `/api/jobs/${job.id}/run`, {});
  let attempt;
  await expect
    .poll(
      async () => {
        attempt = (await api("GET", `/api/instances/${instance.id}`)).attempts[0]?.id;
        return attempt;
      },
      { timeout: 30_000 },
    )
    .toBeTruthy();
  return { jobId: job.id, instanceId: instance.id, attemptId: attempt };
}

const count = async (page, state) =>
  Number(await page.getByTestId(`count-${state}`).getAttribute("data-count"));

test("the dashboard follows a run live, and renders fast", async ({ page, browser }) => {
  const problems = watchProblems(page);
  const api = await signIn(page);
  const suffix = Date.now().toString(36);

  // First render of the home page on localhost, with an empty cache (a new browser context with
  // the same session) and again with a warm one.
  const session = await page.context().storageState();
  const measureHome = async (target) => {
    const started = Date.now();
    await target.goto("/");
    await expect(target.getByTestId("count-success")).toBeVisible();
    const total = Date.now() - started;
    const timing = await target.evaluate(() => {
      const nav = performance.getEntriesByType("navigation")[0];
      return { domContentLoaded: Math.round(nav.domContentLoadedEventEnd), now: Math.round(performance.now()) };
    });
    return { total, ...timing };
  };
  const cold = await browser.newContext({
    storageState: session,
    baseURL: process.env.HERA_URL,
    viewport: { width: 1280, height: 800 },
  });
  const coldPage = await cold.newPage();
  const coldTiming = await measureHome(coldPage);
  await cold.close();
  const warmTiming = await measureHome(page);
  console.log(
    `measure: home page first render (cold cache): ${coldTiming.total} ms wall, ` +
      `DOMContentLoaded ${coldTiming.domContentLoaded} ms, dashboard shown at ${coldTiming.now} ms`,
  );
  console.log(
    `measure: home page first render (warm cache): ${warmTiming.total} ms wall, ` +
      `DOMContentLoaded ${warmTiming.domContentLoaded} ms, dashboard shown at ${warmTiming.now} ms`,
  );

  // A run shows up without reloading: one more success today, and in today's trend bar.
  await expect(page.getByTestId("trend-day")).toHaveCount(7);
  const before = await count(page, "success");
  const todayBar = page.getByTestId("trend-day").last().locator("rect.success");
  const barBefore = Number(await todayBar.getAttribute("data-count"));
  await runScript(api, `dash-${suffix}`, "echo dashboard");
  await expect.poll(() => count(page, "success"), { timeout: 30_000 }).toBe(before + 1);
  await expect(todayBar).toHaveAttribute("data-count", String(barBefore + 1));
  await expect(page.getByTestId("longest-row").first()).toBeVisible();
  // A failure is listed with a link to its log.
  const failed = await runScript(api, `fail-${suffix}`, "echo about to fail; exit 3");
  const failure = page.getByTestId("failure-row").filter({ hasText: `fail-${suffix}` });
  await expect(failure).toBeVisible({ timeout: 30_000 });
  await expect(failure.getByTestId("failure-log")).toHaveAttribute(
    "href",
    `/instances/${failed.instanceId}/log`,
  );
  await page.screenshot({ path: "screenshots/home.png" });

  // Chinese, then the dark theme.
  await page.getByTestId("lang-zh-CN").click();
  await expect(page.getByRole("heading", { name: "今天" })).toBeVisible();
  await page.getByTestId("lang-en").click();
  await page.getByTestId("theme-toggle").click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  await page.screenshot({ path: "screenshots/home-dark.png" });
  await page.setViewportSize({ width: 1920, height: 1080 });
  await page.screenshot({ path: "screenshots/home-dark-1920.png" });
  expect(problems).toEqual([]);
});

test("the log viewer: colours, search, first error, download, dark theme", async ({ page }) => {
  const problems = watchProblems(page);
  const api = await signIn(page);
  const suffix = Date.now().toString(36);
  const script = [
    'for i in $(seq 1 3000); do echo "line $i"; done',
    'echo "ERROR: disk full on /data"',
    "printf '\\033[32mgreen\\033[0m and \\033[1;31mbold red\\033[0m\\n'",
    "seq 1 2000",
  ].join("\n");
  const { jobId, attemptId } = await runScript(api, `log-${suffix}`, script);
  await page.goto(`/attempts/${attemptId}/log`);
  await expect(page.getByTestId("log-status")).toHaveAttribute("data-status", "complete");
  const log = page.getByTestId("log");
  const lines = Number(await page.getByTestId("log-lines").getAttribute("data-lines"));
  expect(lines).toBeGreaterThan(5002);
  // Virtualised: only the visible lines (and a margin) are in the DOM; following shows the end.
  expect(await page.getByTestId("log-row").count()).toBeLessThan(150);
  await expect(log).toContainText("hera: exit code 0");

  // Search: 11 hits for "line 42" (42, 420–429), highlighted, stepped through.
  await page.getByTestId("log-search").fill("LINE 42");
  await expect(page.getByTestId("log-search-count")).toHaveText("1 / 11");
  await expect(page.getByTestId("follow")).not.toBeChecked();
  const current = log.locator(".hit.current");
  await expect(current).toHaveCount(1);
  await expect(current).toHaveText("line 42");
  await expect(current.locator("xpath=..")).toHaveText(/\] line 42$/);
  await page.getByTestId("log-search-next").click();
  await expect(page.getByTestId("log-search-count")).toHaveText("2 / 11");
  await expect(log.locator(".hit.current").locator("xpath=..")).toContainText("line 420");
  expect(await log.locator(".hit").count()).toBeGreaterThan(5);
  await page.getByTestId("log-search").press("Shift+Enter");
  await page.getByTestId("log-search").press("Shift+Enter");
  await expect(page.getByTestId("log-search-count")).toHaveText("11 / 11");
  await page.screenshot({ path: "screenshots/log-search.png" });
  await page.getByTestId("log-search").fill("");
  await expect(page.getByTestId("log-search-count")).toHaveText("0 / 0");

  // Jump to the first error: the ERROR line, after 3,000 others, with the colours of the next.
  await page.getByTestId("log-first-error").click();
  const target = log.locator(".log-row.target");
  await expect(target).toHaveCount(1);
  await expect(target).toContainText("ERROR: disk full on /data");
  await expect(target).toBeInViewport();
  await expect(log.locator(".c3", { hasText: "green" })).toBeVisible();
  await expect(log.locator(".c2.b", { hasText: "bold red" })).toBeVisible();
  await expect(log).not.toContainText("[32m");
  await page.screenshot({ path: "screenshots/log-error.png" });

  // Download: the whole log as a file.
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByTestId("log-download").click(),
  ]);
  expect(download.suggestedFilename()).toBe(`attempt-${attemptId}.log`);
  const text = await (await download.createReadStream()).toArray();
  const saved = Buffer.concat(text).toString("utf8");
  expect(saved).toContain("ERROR: disk full on /data");
  expect(saved.trimEnd().split("\n").length).toBe(lines);

  // The dark theme: remembered across a reload; the log page and the job page in it.
  await page.getByTestId("theme-toggle").click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  await page.reload();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  await expect(page.getByTestId("log-status")).toHaveAttribute("data-status", "complete");
  await page.getByTestId("log-first-error").click();
  await expect(log.locator(".log-row.target")).toBeInViewport();
  await page.screenshot({ path: "screenshots/log-page-dark.png" });
  await page.goto(`/jobs/${jobId}`);
  await expect(page.getByTestId("instance-row").first()).toBeVisible();
  await page.screenshot({ path: "screenshots/job-page-dark.png" });
  // The DAG takes its colours from the theme, also when it changes while drawn.
  await page.getByTestId("open-dag").click();
  await expect(page.getByTestId("dag")).toHaveAttribute("data-nodes", "1");
  await page.getByTestId("theme-toggle").click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "light");
  await page.getByTestId("theme-toggle").click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  await page.screenshot({ path: "screenshots/dag-page-dark.png" });
  await page.goto(`/jobs/${jobId}`);
  // The editor follows the theme too.
  await page.getByTestId("edit-job").click();
  await expect(page.getByTestId("job-script").locator(".cm-content")).toContainText("ERROR: disk");
  await page.getByTestId("job-script").scrollIntoViewIfNeeded();
  await page.screenshot({ path: "screenshots/job-editor-dark.png" });
  await page.getByTestId("theme-toggle").click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "light");
  expect(problems).toEqual([]);
});

test("the log view stays smooth under a fast stream", async ({ page }) => {
  const problems = watchProblems(page);
  const api = await signIn(page);
  const suffix = Date.now().toString(36);
  const total = 200_000;
  // Frame gaps, recorded from the first frame of every page.
  await page.addInitScript(() => {
    window.heraFrames = [];
    let last = performance.now();
    const tick = (now) => {
      window.heraFrames.push(now - last);
      last = now;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  const { attemptId } = await runScript(api, `stream-${suffix}`, `seq 1 ${total}`);
  const started = Date.now();
  await page.goto(`/attempts/${attemptId}/log`);
  await expect(page.getByTestId("log-row").first()).toBeVisible();
  const firstLines = Date.now() - started;
  await page.evaluate(() => {
    window.heraFrames = [];
  });
  const log = page.getByTestId("log");
  await expect(page.getByTestId("log-status")).toHaveAttribute("data-status", "complete", {
    timeout: 120_000,
  });
  const done = Date.now() - started;
  const lines = Number(await page.getByTestId("log-lines").getAttribute("data-lines"));
  expect(lines).toBeGreaterThanOrEqual(total);
  await expect(log).toContainText(`] ${total}`);
  const frames = await frameStats(page);
  const rows = await page.getByTestId("log-row").count();
  await page.screenshot({ path: "screenshots/log-stream.png" });

  // Scrolling to the middle and searching the whole log stay quick.
  const scrollStart = Date.now();
  await log.evaluate((el) => {
    el.scrollTop = el.scrollHeight / 2;
  });
  await expect(log.locator(".log-row .ln", { hasText: /^\s*100\d{3}\s*$/ }).first()).toBeVisible();
  const scrollMs = Date.now() - scrollStart;
  const searchStart = Date.now();
  await page.getByTestId("log-search").fill("199999");
  await expect(page.getByTestId("log-search-count")).toHaveText("1 / 1");
  const searchMs = Date.now() - searchStart;
  console.log(
    `measure: log stream of ${lines} lines: first lines shown after ${firstLines} ms, ` +
      `complete after ${done} ms (${Math.round((lines / done) * 1000)} lines/s shown)`,
  );
  console.log(`measure: frames while catching up: ${frames}; rows in the DOM: ${rows}`);
  console.log(
    `measure: scroll to the middle redrawn in ${scrollMs} ms; search of the whole log in ${searchMs} ms (incl. 150 ms typing pause)`,
  );
  expect(rows).toBeLessThan(150);

  // A live stream of 10,000 lines a second for ten seconds, watched from its start.
  const paced =
    "sleep 3; for s in $(seq 0 9); do seq $((s * 10000 + 1)) $((s * 10000 + 10000)); sleep 1; done";
  const live = await runScript(api, `paced-${suffix}`, paced);
  await page.goto(`/attempts/${live.attemptId}/log`);
  await expect(page.getByTestId("log-status")).toHaveAttribute("data-status", "live");
  await page.evaluate(() => {
    window.heraFrames = [];
  });
  await expect(page.getByTestId("log-status")).toHaveAttribute("data-status", "complete", {
    timeout: 60_000,
  });
  await expect(log).toContainText("] 100000");
  console.log(`measure: frames during a live stream of 10,000 lines/s: ${await frameStats(page)}`);
  expect(await page.getByTestId("log-row").count()).toBeLessThan(150);
  expect(problems).toEqual([]);
});

/** The frame gaps recorded since the last reset, summarised. */
async function frameStats(page) {
  const frames = await page.evaluate(() => window.heraFrames);
  const sorted = [...frames].sort((a, b) => a - b);
  const p = (q) => (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0).toFixed(1);
  const slow = frames.filter((gap) => gap > 50).length;
  return `${frames.length} frames, median ${p(0.5)} ms, p95 ${p(0.95)} ms, max ${p(1)} ms, ${slow} over 50 ms`;
}
