// Drag and drop in the development center's file trees: a file onto a folder, a folder onto
// another, a file back onto the tree's top; a folder dragged over itself or a folder inside it is
// marked refused and nothing moves; when the page's list is out of date and the server refuses
// the move (422: into a folder inside itself; 409: the name is taken there), its reason is shown.
// Screenshots: ide-drag-refused, ide-drag-ok, ide-drag-top. A second test cancels a drag when the
// list reloads under it.
import { expect, test } from "@playwright/test";
import { signIn, watchProblems } from "./support.mjs";

/** Signs in; the helpers both tests use: `make` creates a personal file or folder through the
 * API, `parentOf` reads where it is now, the rows are found in the personal tree `mine`, and
 * `suffix` keeps this run's names apart from earlier runs'. */
async function personalTree(page) {
  const api = await signIn(page);
  const suffix = Date.now().toString(36);
  const make = (name, parent_id = null, is_dir = false) =>
    api("POST", "/api/ide/files", { scope: "personal", parent_id, name, is_dir });
  const parentOf = async (id) =>
    (await api("GET", "/api/ide/files")).find((f) => f.id === id).parent_id;
  const mine = page.getByTestId("ide-tree-personal");
  const folderRow = (id) => mine.locator(`[data-testid="ide-folder"][data-file-id="${id}"]`);
  const fileRow = (id) => mine.locator(`[data-testid="ide-file"][data-file-id="${id}"]`);
  return { api, suffix, make, parentOf, mine, folderRow, fileRow };
}

test("move files and folders by drag and drop", async ({ page }) => {
  const problems = watchProblems(page, ["status of 422", "status of 409"]);
  const { api, suffix, make, parentOf, mine, folderRow, fileRow } = await personalTree(page);
  const box = await make(`box-${suffix}`, null, true);
  const outer = await make(`outer-${suffix}`, null, true);
  const inner = await make(`inner-${suffix}`, outer.id, true);
  const loose = await make(`loose-${suffix}.sh`);
  const p = await make(`p-${suffix}`, null, true);
  const q = await make(`q-${suffix}`, null, true);
  await make(`dup-${suffix}.sh`);
  const dupInBox = await make(`dup-${suffix}.sh`, box.id);

  await page.goto("/ide");
  // A row shown inside folder `parent`'s children (the tree has been reloaded after a move; a
  // drag must not start while the rows are being replaced).
  const shownIn = (parent, id) =>
    mine.locator(`[data-file-id="${parent}"] + .tree-children [data-file-id="${id}"]`);
  await expect(folderRow(outer.id)).toBeVisible();
  // Open `outer` to see `inner`.
  await folderRow(outer.id).locator(".twisty").click();
  await expect(folderRow(inner.id)).toBeVisible();

  // A folder over a folder inside it: marked refused; dropping moves nothing.
  await folderRow(outer.id).hover();
  await page.mouse.down();
  await folderRow(inner.id).hover({ position: { x: 40, y: 8 } });
  await folderRow(inner.id).hover({ position: { x: 50, y: 10 } });
  await expect(folderRow(inner.id)).toHaveClass(/drop-refused/);
  await expect(folderRow(outer.id)).toHaveClass(/dragging/);
  await page.screenshot({ path: "screenshots/ide-drag-refused.png" });
  // Over itself: refused too.
  await folderRow(outer.id).hover({ position: { x: 40, y: 8 } });
  await folderRow(outer.id).hover({ position: { x: 50, y: 10 } });
  await expect(folderRow(outer.id)).toHaveClass(/drop-refused/);
  await page.mouse.up();
  await expect(folderRow(inner.id)).not.toHaveClass(/drop-refused/);
  await expect(folderRow(outer.id)).not.toHaveClass(/dragging/);
  expect(await parentOf(outer.id)).toBe(null);

  // A file onto a folder: marked, then moved.
  await fileRow(loose.id).hover();
  await page.mouse.down();
  await folderRow(box.id).hover({ position: { x: 40, y: 8 } });
  await folderRow(box.id).hover({ position: { x: 50, y: 10 } });
  await expect(folderRow(box.id)).toHaveClass(/drop-ok/);
  await page.screenshot({ path: "screenshots/ide-drag-ok.png" });
  await page.mouse.up();
  await expect.poll(() => parentOf(loose.id)).toBe(box.id);
  // The target opens to show it.
  await expect(shownIn(box.id, loose.id)).toBeVisible();

  // A folder onto another folder.
  await folderRow(outer.id).dragTo(folderRow(box.id));
  await expect.poll(() => parentOf(outer.id)).toBe(box.id);
  await expect(shownIn(box.id, outer.id)).toBeVisible();

  // The file back onto the tree's top.
  // The tree's title stands for its top.
  const top = mine.getByTestId("ide-tree-personal-head");
  await fileRow(loose.id).hover();
  await page.mouse.down();
  await top.hover({ position: { x: 20, y: 10 } });
  await top.hover({ position: { x: 30, y: 12 } });
  await expect(mine).toHaveClass(/drop-ok/);
  await page.screenshot({ path: "screenshots/ide-drag-top.png" });
  await page.mouse.up();
  await expect.poll(() => parentOf(loose.id)).toBe(null);
  await expect(mine.locator(`.ide-tree-body > [data-file-id="${loose.id}"]`)).toBeVisible();
  await expect(page.getByTestId("ide-drop-error").getByTestId("action-error")).toHaveCount(0);

  // The list is out of date (q moved into p elsewhere): p onto q looks fine here, the server
  // refuses it and says why.
  await api("POST", `/api/ide/files/${q.id}/move`, { parent_id: p.id });
  await folderRow(p.id).dragTo(folderRow(q.id));
  await expect(page.getByTestId("ide-drop-error")).toContainText(
    "a folder cannot move into itself or a folder inside it",
  );
  expect(await parentOf(p.id)).toBe(null);

  // A name the target has already: the server's message.
  if (!(await fileRow(dupInBox.id).isVisible())) {
    await folderRow(box.id).locator(".twisty").click();
  }
  await expect(fileRow(dupInBox.id)).toBeVisible();
  await fileRow(dupInBox.id).hover();
  await page.mouse.down();
  await top.hover({ position: { x: 20, y: 10 } });
  await top.hover({ position: { x: 30, y: 12 } });
  await page.mouse.up();
  await expect(page.getByTestId("ide-drop-error").getByTestId("action-error")).toBeVisible();
  expect(await parentOf(dupInBox.id)).toBe(box.id);

  expect(problems).toEqual([]);
});

// The list reloads while a file is being dragged (here: the reload after the previous drop, held
// back until the next drag is under way, while another client moves the target folder): the drag
// is cancelled, its marks go, dropping moves nothing, and the user is told to try again; the next
// drag works. Screenshot: ide-drag-cancelled.
test("a drag is cancelled when the file list reloads under it", async ({ page }) => {
  const problems = watchProblems(page);
  const { api, suffix, make, parentOf, folderRow, fileRow } = await personalTree(page);
  const a = await make(`a-${suffix}`, null, true);
  const b = await make(`b-${suffix}`, null, true);
  const first = await make(`first-${suffix}.sh`);
  const second = await make(`second-${suffix}.sh`);

  await page.goto("/ide");
  await expect(fileRow(second.id)).toBeVisible();

  // The page's next reads of the list wait until `release` is called.
  let release;
  const held = new Promise((resolve) => {
    release = resolve;
  });
  let heldReads = 0;
  await page.route(/\/api\/ide\/files$/, async (route) => {
    if (route.request().method() === "GET") {
      heldReads += 1;
      await held;
    }
    await route.continue();
  });

  // A first drop: moved, and the reload after it is held.
  await fileRow(first.id).hover();
  await page.mouse.down();
  await folderRow(a.id).hover({ position: { x: 40, y: 8 } });
  await folderRow(a.id).hover({ position: { x: 50, y: 10 } });
  await page.mouse.up();
  await expect.poll(() => parentOf(first.id)).toBe(a.id);
  await expect.poll(() => heldReads).toBeGreaterThan(0);

  // A second drag, over `b`, still shown at the top.
  await fileRow(second.id).hover();
  await page.mouse.down();
  await folderRow(b.id).hover({ position: { x: 40, y: 8 } });
  await folderRow(b.id).hover({ position: { x: 50, y: 10 } });
  await expect(folderRow(b.id)).toHaveClass(/drop-ok/);
  await expect(fileRow(second.id)).toHaveClass(/dragging/);
  // Meanwhile someone moves `b` into `a`; then the held reload arrives.
  await api("POST", `/api/ide/files/${b.id}/move`, { parent_id: a.id });
  release();
  await expect(page.getByTestId("ide-drag-cancelled")).toHaveText(
    "The file list changed while you were dragging, so nothing was moved. Please try again.",
  );
  await expect(page.locator(".ide-tree.drop-ok, .ide-tree .drop-ok, .ide-tree .drop-refused, .ide-tree .dragging")).toHaveCount(0);
  await expect(page.locator(".ide-tree.drop-refused")).toHaveCount(0);
  await page.screenshot({ path: "screenshots/ide-drag-cancelled.png" });
  // Going on with the drag marks nothing and the drop moves nothing.
  const bNow = folderRow(b.id);
  await expect(bNow).toBeVisible();
  await bNow.hover({ position: { x: 40, y: 8 } });
  await bNow.hover({ position: { x: 50, y: 10 } });
  await expect(bNow).not.toHaveClass(/drop-ok/);
  await page.mouse.up();
  await page.waitForTimeout(500);
  expect(await parentOf(second.id)).toBe(null);
  await expect(page.locator(".ide-tree .dragging, .ide-tree .drop-ok")).toHaveCount(0);
  await expect(page.getByTestId("ide-drop-error").getByTestId("action-error")).toHaveCount(0);
  await page.unroute(/\/api\/ide\/files$/);

  // Trying again works, and the message goes.
  await fileRow(second.id).hover();
  await page.mouse.down();
  await folderRow(b.id).hover({ position: { x: 40, y: 8 } });
  await folderRow(b.id).hover({ position: { x: 50, y: 10 } });
  await expect(page.getByTestId("ide-drag-cancelled")).toHaveCount(0);
  await expect(folderRow(b.id)).toHaveClass(/drop-ok/);
  await page.mouse.up();
  await expect.poll(() => parentOf(second.id)).toBe(b.id);

  expect(problems).toEqual([]);
});
