// What the browser specs share: signing in as admin, collecting page errors, waiting for an
// instance's state. Not a spec itself (Playwright runs only *.spec.mjs).
import { expect } from "@playwright/test";

const password = process.env.HERA_PASSWORD;

/** Signs in through the login page; returns a helper for authenticated API calls. */
export async function signIn(page) {
  expect(password, "HERA_PASSWORD must be set (run.sh does)").toBeTruthy();
  await page.goto("/login");
  await page.getByTestId("login-username").fill("admin");
  await page.getByTestId("login-password").fill(password);
  await page.getByTestId("login-submit").click();
  await expect(page.getByTestId("current-user")).toHaveText("admin");
  const token = await page.evaluate(() => JSON.parse(localStorage.getItem("hera.session")).token);
  const headers = { Authorization: `Bearer ${token}` };
  return async (method, path, data) => {
    const response = await page.request.fetch(path, { method, headers, data });
    expect(response.ok(), `${method} ${path}: ${await response.text()}`).toBe(true);
    return response.status() === 204 ? null : response.json();
  };
}

/**
 * Collects the page's uncaught errors and console errors (the test expects none at its end);
 * console lines containing one of `expected` (e.g. a 422 the test provokes) are not problems.
 */
export function watchProblems(page, expected = []) {
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error" && !expected.some((text) => msg.text().includes(text))) {
      problems.push(`console error: ${msg.text()}`);
    }
  });
  return problems;
}

/** Polls an instance until it is in `state` (up to a minute). */
export async function waitFor(api, instanceId, state) {
  await expect
    .poll(async () => (await api("GET", `/api/instances/${instanceId}`)).state, { timeout: 60_000 })
    .toBe(state);
}
