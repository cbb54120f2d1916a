// Accounts: someone registers on /register (the form's own checks first, then the account waits
// for approval), the login page says the account waits for an administrator; the administrator
// approves it on /users (the Users link is in the nav for administrators only); the new user signs
// in, sees no Users link and changes their password on /account (reached from their name in the
// header), which signs their other browser out (as does "sign out everywhere else" after it signs
// in again) while the changing page and a second tab of the same browser go on; the administrator disables them from another browser, and the user's open home page
// (its event socket closed by the server) falls back to the login page by itself saying why, as
// does a new sign-in. The administrator's own row offers no
// Disable, and the server's refusal shows in the row it concerns. Guessing a password is cut off
// after 5 tries.
// Screenshots: register, register-done, login-pending, users, account, login-notice,
// login-disabled, login-disabled-zh, users-zh.
import { expect, test } from "@playwright/test";
import { signIn, watchProblems } from "./support.mjs";

const PENDING = "this account is waiting for an administrator's approval";
const DISABLED = "this account is disabled; ask an administrator to enable it";
const SIGNED_OUT =
  "You were signed out: the password was changed or all sessions were ended. Sign in again.";

async function logIn(page, username, password) {
  await page.goto("/login");
  await page.getByTestId("login-username").fill(username);
  await page.getByTestId("login-password").fill(password);
  await page.getByTestId("login-submit").click();
}

test("register, wait for approval, approve, sign in, change password, disable", async ({
  page,
  browser,
}) => {
  // Refusals the test provokes: a wrong password (401), a pending or disabled account (403), a
  // taken name (409), a wrong current password (422), and the disabled user's open page whose
  // event socket is refused (Chromium's words for a 401 on a WebSocket handshake).
  const problems = watchProblems(page, [
    "status of 401",
    "status of 403",
    "status of 429",
    "status of 409",
    "status of 422",
    "HTTP Authentication failed",
  ]);
  const name = `e2e-${Date.now().toString(36)}`;
  const password = "first-pass-1";

  // ----- register: from the login page's link; the form's own checks, then the account -----
  await page.goto("/login");
  await page.getByTestId("register-link").click();
  await expect(page).toHaveURL(/\/register$/);
  const form = page.getByTestId("register-form");
  await form.getByTestId("register-username").fill("a b");
  await form.getByTestId("register-password").fill("short");
  await form.getByTestId("register-repeat").fill("shorter");
  await form.getByTestId("register-submit").click();
  await expect(form.getByTestId("register-username-error")).toContainText("2–64 letters");
  await expect(form.getByTestId("register-password-error")).toHaveText("At least 8 characters.");
  await expect(form.getByTestId("register-repeat-error")).toHaveText("The two passwords differ.");
  await expect(form.getByTestId("action-error")).toHaveText("Please fix the marked fields.");
  await page.screenshot({ path: "screenshots/register.png" });
  // A taken name: the server's 409 above the button.
  await form.getByTestId("register-username").fill("admin");
  await form.getByTestId("register-password").fill(password);
  await form.getByTestId("register-repeat").fill(password);
  await form.getByTestId("register-submit").click();
  await expect(form.getByTestId("action-error")).toHaveText(
    "the user name `admin` is already taken",
  );
  await form.getByTestId("register-username").fill(name);
  await form.getByTestId("register-submit").click();
  await expect(page.getByTestId("register-done")).toContainText(
    `The account ${name} was created. It waits for an administrator's approval`,
  );
  await page.screenshot({ path: "screenshots/register-done.png" });

  // ----- the login page says why it cannot sign in yet (a wrong password says nothing) -----
  await logIn(page, name, "not-the-password");
  await expect(page.getByTestId("action-error")).toHaveText("wrong user name or password");
  await logIn(page, name, password);
  await expect(page.getByTestId("action-error")).toHaveText(PENDING);
  await page.screenshot({ path: "screenshots/login-pending.png" });
  // Guessing: after 5 failed tries of one name from here, the 6th is refused before checking.
  for (let i = 0; i < 5; i++) {
    await logIn(page, `${name}-guessed`, `guess-${i}`);
    await expect(page.getByTestId("action-error")).toHaveText("wrong user name or password");
  }
  await logIn(page, `${name}-guessed`, "guess-5");
  await expect(page.getByTestId("action-error")).toHaveText(
    "Too many failed attempts from this address. Wait a few minutes, then try again.",
  );

  // ----- the administrator approves it on /users -----
  await signIn(page);
  await page.getByTestId("nav-users").click();
  await expect(page).toHaveURL(/\/users$/);
  const row = page.locator(`[data-testid="user-row"][data-username="${name}"]`);
  await expect(row).toHaveAttribute("data-status", "pending");
  await expect(row.getByTestId("state-badge")).toHaveText("waiting for approval");
  await expect(row.getByTestId("user-role")).toHaveText("User");
  const own = page.locator('[data-testid="user-row"][data-username="admin"]');
  await expect(own).toContainText("(you)");
  await expect(own.getByTestId("user-disable")).toHaveCount(0);
  await expect(own.getByTestId("user-remove-admin")).toHaveCount(0);
  await row.getByTestId("user-approve").click();
  await expect(row).toHaveAttribute("data-status", "active");
  await expect(row.getByTestId("state-badge")).toHaveText("active");
  await expect(row.getByTestId("user-approve")).toHaveCount(0);
  await expect(row.getByTestId("user-disable")).toBeVisible();
  // The add-user form: its own check, then the server's refusal of a taken name.
  const add = page.getByTestId("add-user");
  await add.getByTestId("add-user-name").fill(name);
  await add.getByTestId("add-user-password").fill("x");
  await add.getByTestId("add-user-submit").click();
  await expect(add.getByTestId("add-user-password-error")).toHaveText("At least 8 characters.");
  await add.getByTestId("add-user-password").fill("long-enough-1");
  await add.getByTestId("add-user-submit").click();
  await expect(add.getByTestId("action-error")).toHaveText(
    `the user name \`${name}\` is already taken`,
  );
  await add.getByTestId("add-user-name").fill(`${name}-ops`);
  await add.getByTestId("add-user-admin").check();
  await add.getByTestId("add-user-submit").click();
  await expect(add.getByTestId("user-added")).toHaveText(`Account ${name}-ops added.`);
  const ops = page.locator(`[data-testid="user-row"][data-username="${name}-ops"]`);
  await expect(ops).toHaveAttribute("data-status", "active");
  await expect(ops.getByTestId("user-role")).toHaveText("Administrator");
  await page.screenshot({ path: "screenshots/users.png", fullPage: true });
  await page.getByTestId("logout").click();

  // ----- the new user signs in: no Users link; the password changes on /account -----
  await logIn(page, name, password);
  await expect(page.getByTestId("current-user")).toHaveText(name);
  await expect(page.locator(".topnav")).toBeVisible();
  await expect(page.getByTestId("nav-users")).toHaveCount(0);
  await page.getByTestId("current-user").click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByTestId("account-who")).toHaveText(`Signed in as ${name} (User).`);
  const pw = page.getByTestId("password-form");
  await pw.getByTestId("current-password").fill("wrong-password");
  await pw.getByTestId("new-password").fill("second-pass-2");
  await pw.getByTestId("repeat-password").fill("second-pass-2");
  await pw.getByTestId("change-password").click();
  await expect(pw.getByTestId("current-password-error")).toHaveText(
    "this is not your current password",
  );
  // The same user is also signed in in another browser, on the live home page.
  const otherContext = await browser.newContext({
    baseURL: process.env.HERA_URL,
    viewport: { width: 1280, height: 800 },
  });
  const other = await otherContext.newPage();
  const otherProblems = watchProblems(other, ["status of 401"]);
  await logIn(other, name, password);
  await expect(other.getByTestId("count-success")).toBeVisible();
  // And in a second tab of this browser, also on the live home page.
  const secondTab = await page.context().newPage();
  await secondTab.goto("/");
  await expect(secondTab.getByTestId("count-success")).toBeVisible();
  await pw.getByTestId("current-password").fill(password);
  await pw.getByTestId("change-password").click();
  await expect(pw.getByTestId("password-changed")).toBeVisible();
  await expect(pw.getByTestId("current-password")).toHaveValue("");
  // The change signed the other browser out at once, saying why; this page goes on.
  await expect(other).toHaveURL(/\/login$/);
  await expect(other.getByTestId("login-notice")).toHaveText(SIGNED_OUT);
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByTestId("account-who")).toHaveText(`Signed in as ${name} (User).`);
  // The second tab took the new session over (its socket was closed too): it stays, and it
  // did not forget the session this browser keeps, so a reload stays signed in.
  await secondTab.waitForTimeout(1000);
  await expect(secondTab).toHaveURL(/\/$/);
  await secondTab.reload();
  await expect(secondTab.getByTestId("count-success")).toBeVisible();
  await secondTab.close();
  // "Sign out everywhere else" does the same without a new password.
  await logIn(other, name, "second-pass-2");
  await expect(other.getByTestId("count-success")).toBeVisible();
  await page.getByTestId("end-other-sessions").click();
  await expect(page.getByTestId("other-sessions-ended")).toBeVisible();
  await expect(other).toHaveURL(/\/login$/);
  await expect(other.getByTestId("login-notice")).toHaveText(SIGNED_OUT);
  await otherContext.close();
  expect(otherProblems).toEqual([]);
  await page.screenshot({ path: "screenshots/account.png", fullPage: true });
  // The home page follows live events over a WebSocket.
  await page.goto("/");
  await expect(page.getByTestId("count-success")).toBeVisible();

  // ----- the administrator disables the account from another browser -----
  const adminContext = await browser.newContext({
    baseURL: process.env.HERA_URL,
    viewport: { width: 1280, height: 800 },
  });
  const adminPage = await adminContext.newPage();
  const adminProblems = watchProblems(adminPage);
  await signIn(adminPage);
  await adminPage.goto("/users");
  const adminRow = adminPage.locator(`[data-testid="user-row"][data-username="${name}"]`);
  await adminRow.getByTestId("user-disable").click();
  await expect(adminRow).toHaveAttribute("data-status", "disabled");
  await expect(adminRow.getByTestId("state-badge")).toHaveText("disabled");
  await expect(adminRow.getByTestId("user-enable")).toBeVisible();

  // The user's open page: its event socket is closed by the server, the page falls back to the
  // login page at once (no click, no reload), saying why.
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByTestId("login-notice")).toHaveText(DISABLED);
  await page.screenshot({ path: "screenshots/login-notice.png" });
  await logIn(page, name, "second-pass-2");
  await expect(page.getByTestId("login-notice")).toHaveCount(0);
  await expect(page.getByTestId("action-error")).toHaveText(DISABLED);
  await page.screenshot({ path: "screenshots/login-disabled.png" });
  // In Chinese: the UI says it in the user's language (the server's error code tells which).
  await page.getByTestId("lang-zh-CN").click();
  await page.getByTestId("login-submit").click();
  await expect(page.getByTestId("action-error")).toHaveText("此账号已停用，请联系管理员启用");
  await page.screenshot({ path: "screenshots/login-disabled-zh.png" });
  await page.getByTestId("lang-en").click();

  // The administrator's users page in Chinese.
  await adminPage.getByTestId("lang-zh-CN").click();
  await expect(adminRow.getByTestId("state-badge")).toHaveText("已停用");
  await adminPage.screenshot({ path: "screenshots/users-zh.png", fullPage: true });
  await adminPage.getByTestId("lang-en").click();
  await adminContext.close();

  expect(problems).toEqual([]);
  expect(adminProblems).toEqual([]);
});
