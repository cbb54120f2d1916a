// The cluster page (load sparklines, the attempts a worker runs, Drain / Undrain round trip, the
// queue while the only worker drains), the timeline (a Gantt bar per attempt of a folder's
// instances of today; bars take the keyboard focus, with a label, and open with Enter or Space)
// and the search (top bar box, a word of a script found and highlighted, the server's 422 for a
// one-character query, the empty and no-result states).
// Screenshots: cluster, cluster-draining, cluster-dark, timeline, timeline-dark, timeline-focus,
// search, search-dark.
import { expect, test } from "@playwright/test";
import { signIn, watchProblems, waitFor } from "./support.mjs";

test("cluster, timeline and search", async ({ page }) => {
  const problems = watchProblems(page, ["status of 422"]);
  const api = await signIn(page);
  const suffix = Date.now().toString(36);
  const word = `zebracorn${suffix}`;

  // A folder with three jobs: one that runs a while (its script holds the word searched for
  // below), one that fails, one that is quick.
  const folder = await api("POST", "/api/folders", { name: `timeline-${suffix}` });
  const job = async (name, script) =>
    api("POST", "/api/jobs", { name, folder_id: folder.id, job_type: "shell", script });
  const slow = await job(`slow-${suffix}`, `echo ${word}\nsleep 6\necho done`);
  const failing = await job(`fails-${suffix}`, "echo about to fail; sleep 1; exit 2");
  const quick = await job(`quick-${suffix}`, "echo quick");
  const slowRun = await api("POST", `/api/jobs/${slow.id}/run`, {});
  const failRun = await api("POST", `/api/jobs/${failing.id}/run`, {});
  const quickRun = await api("POST", `/api/jobs/${quick.id}/run`, {});

  // ----- cluster -----
  await page.getByTestId("nav-workers").click();
  await expect(page).toHaveURL(/\/workers$/);
  const row = page.getByTestId("worker-row").first();
  await expect(row).toBeVisible();
  // Load sparklines: an SVG line per series once there is a heartbeat.
  for (const kind of ["cpu", "memory", "load"]) {
    await expect(row.getByTestId(`spark-${kind}`).locator("svg")).toBeVisible();
    await expect(row.getByTestId(`spark-${kind}`).locator("svg polyline")).toHaveCount(1, {
      timeout: 30_000,
    });
  }
  // The slow job shows among the worker's attempts, with its log and elapsed time.
  const attempt = page.getByTestId("worker-attempt").filter({ hasText: slow.name });
  await expect(attempt).toBeVisible({ timeout: 30_000 });
  await expect(attempt.getByRole("link", { name: slow.name })).toHaveAttribute(
    "href",
    new RegExp(`^/jobs/${slow.id}\\?instance=${slowRun.id}$`),
  );
  await expect(attempt.getByTestId("worker-attempt-log")).toHaveAttribute("href", /^\/attempts\/\d+\/log$/);
  await expect(page.getByTestId("queue")).toBeVisible();
  await page.screenshot({ path: "screenshots/cluster.png" });

  // Drain, with a confirmation; the worker is marked, and a new run waits in the queue.
  const workerName = await row.getAttribute("data-worker");
  const worker = page.locator(`[data-testid="worker-row"][data-worker="${workerName}"]`);
  await expect(worker).toHaveAttribute("data-draining", "false");
  let drained = false;
  try {
    await worker.getByTestId("drain-toggle").click();
    await expect(page.getByTestId("drain-question")).toContainText(workerName);
    await page.getByTestId("drain-confirm").click();
    drained = true;
    await expect(page.getByTestId("drain-form")).toBeHidden();
    await expect(worker).toHaveAttribute("data-draining", "true");
    await expect(worker.getByTestId("draining-badge")).toBeVisible();
    await expect(worker.getByTestId("drain-toggle")).toHaveText("Undrain");
    const listed = (await api("GET", "/api/workers")).find((w) => w.name === workerName);
    expect(listed.draining).toBe(true);

    await waitFor(api, quickRun.id, "success");
    const queuedRun = await api("POST", `/api/jobs/${quick.id}/run`, {});
    const queued = page.getByTestId("queue-row").filter({ hasText: quick.name });
    await expect(queued).toBeVisible({ timeout: 20_000 });
    await expect(page.getByTestId("queue-length")).not.toHaveAttribute("data-count", "0");
    await page.screenshot({ path: "screenshots/cluster-draining.png" });

    // Undrain: cancelling the question changes nothing, confirming takes the worker back and
    // the queued run starts.
    await worker.getByTestId("drain-toggle").click();
    await page.getByTestId("drain-cancel").click();
    await expect(worker).toHaveAttribute("data-draining", "true");
    await worker.getByTestId("drain-toggle").click();
    await page.getByTestId("drain-confirm").click();
    await expect(worker).toHaveAttribute("data-draining", "false");
    drained = false;
    await expect(worker.getByTestId("draining-badge")).toHaveCount(0);
    await waitFor(api, queuedRun.id, "success");
    await expect(page.getByTestId("queue-row").filter({ hasText: quick.name })).toHaveCount(0, {
      timeout: 20_000,
    });
  } finally {
    if (drained) {
      const id = (await api("GET", "/api/workers")).find((w) => w.name === workerName).id;
      await api("POST", `/api/workers/${id}/drain`, { draining: false });
    }
  }
  await page.getByTestId("theme-toggle").click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  await page.screenshot({ path: "screenshots/cluster-dark.png" });
  await page.getByTestId("theme-toggle").click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "light");

  // ----- timeline -----
  await waitFor(api, slowRun.id, "success");
  await waitFor(api, failRun.id, "failed");
  await page.getByTestId("nav-timeline").click();
  await expect(page.getByTestId("timeline-choose")).toBeVisible();
  await page.getByTestId("timeline-folder").selectOption(String(folder.id));
  await expect(page).toHaveURL(new RegExp(`folder=${folder.id}`));
  const slowRow = page.locator(`[data-testid="gantt-row"][data-job="${slow.name}"]`);
  await expect(slowRow).toBeVisible();
  await expect(slowRow.getByTestId("gantt-bar")).toHaveAttribute("data-state", "success");
  const failRow = page.locator(`[data-testid="gantt-row"][data-job="${failing.name}"]`);
  await expect(failRow.getByTestId("gantt-bar")).toHaveAttribute("data-state", "failed");
  // A row per instance the API lists, a bar per attempt.
  const date = await page.getByTestId("timeline-date").inputValue();
  const zone = await page.getByTestId("timeline-zone").inputValue();
  const listed = await api(
    "GET",
    `/api/timeline?folder_id=${folder.id}&date=${date}&timezone=${encodeURIComponent(zone)}`,
  );
  expect(listed.length).toBeGreaterThanOrEqual(3);
  await expect(page.getByTestId("gantt-row")).toHaveCount(listed.length);
  const attempts = listed.reduce((n, instance) => n + instance.attempts.length, 0);
  await expect(page.getByTestId("gantt-bar")).toHaveCount(attempts);
  await page.screenshot({ path: "screenshots/timeline.png" });
  await page.getByTestId("theme-toggle").click();
  await page.screenshot({ path: "screenshots/timeline-dark.png" });
  await page.getByTestId("theme-toggle").click();
  // Another date: nothing; an unknown zone: the server's message; back to today.
  const today = await page.getByTestId("timeline-date").inputValue();
  await page.getByTestId("timeline-date").fill("2001-01-01");
  await expect(page.getByTestId("timeline-empty")).toBeVisible();
  await expect(page).toHaveURL(/date=2001-01-01/);
  await page.getByTestId("timeline-zone").fill("Mars/Olympus");
  await page.getByTestId("timeline-zone").press("Enter");
  await expect(page.getByTestId("load-error")).toContainText("Mars/Olympus");
  await page.getByTestId("timeline-zone").fill("UTC");
  await page.getByTestId("timeline-zone").press("Enter");
  await page.getByTestId("timeline-date").fill(today);
  await expect(slowRow).toBeVisible();
  // The bars take the keyboard focus, with a label naming the job, the state, the start and the
  // end; Space or Enter opens the log as a click does.
  const failBar = failRow.getByTestId("gantt-bar").last();
  await expect(failBar).toHaveAttribute("tabindex", "0");
  await expect(failBar).toHaveAttribute(
    "aria-label",
    new RegExp(`^${failing.name}, attempt \\d+: failed, from \\d{4}-\\d\\d-\\d\\d .+ to \\d{4}-`),
  );
  await failBar.focus();
  await expect(failBar).toBeFocused();
  await page.getByTestId("gantt-row").first().scrollIntoViewIfNeeded();
  await page.screenshot({ path: "screenshots/timeline-focus.png" });
  await page.keyboard.press("Space");
  await expect(page).toHaveURL(/\/(attempts|instances)\/\d+\/log/);
  await page.goBack();
  await slowRow.getByTestId("gantt-bar").focus();
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/(attempts|instances)\/\d+\/log/);
  await page.goBack();
  await expect(slowRow).toBeVisible();
  // A bar opens its instance's log.
  await slowRow.getByTestId("gantt-bar").click();
  await expect(page).toHaveURL(/\/attempts\/\d+\/log/);
  await expect(page.getByTestId("log-tail")).toContainText(word, { timeout: 20_000 });

  // ----- search -----
  await page.getByTestId("top-search").fill(word.toUpperCase());
  await page.getByTestId("top-search").press("Enter");
  await expect(page).toHaveURL(new RegExp(`/search\\?q=${word.toUpperCase()}`));
  const hit = page.getByTestId("search-hit").filter({ hasText: slow.name });
  await expect(hit).toHaveAttribute("data-matched", "script");
  await expect(hit.locator("mark")).toHaveText(word);
  await expect(hit.getByRole("link", { name: slow.name })).toHaveAttribute("href", `/jobs/${slow.id}`);
  await expect(page.getByTestId("search-total")).toHaveText("1 job found");
  await expect(page.getByTestId("search-input")).toHaveValue(word.toUpperCase());
  await page.screenshot({ path: "screenshots/search.png" });
  // A name match is its own group, highlighted in the name.
  const input = page.getByTestId("search-input");
  await input.fill(suffix);
  await expect(page).toHaveURL(new RegExp(`q=${suffix}$`));
  await expect(page.getByTestId("search-group-name").getByTestId("search-hit")).toHaveCount(3);
  await expect(page.getByTestId("search-total")).toHaveText("3 jobs found");
  await page.getByTestId("theme-toggle").click();
  await page.screenshot({ path: "screenshots/search-dark.png" });
  await page.getByTestId("theme-toggle").click();
  // One character: the server's 422 under the box.
  await input.fill("z");
  await expect(page.getByTestId("search-error")).toContainText("at least 2 characters");
  // Nothing found; nothing typed.
  await input.fill(`nothing-${suffix}-here`);
  await expect(page.getByTestId("search-none")).toBeVisible();
  await expect(page.getByTestId("search-error")).toHaveCount(0);
  await input.fill("");
  await expect(page.getByTestId("search-hint")).toBeVisible();

  expect(problems).toEqual([]);
});
