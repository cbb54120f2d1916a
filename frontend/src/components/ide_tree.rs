//! One file tree of the development center ("My files" or "Shared"): folders that open and
//! close, files that open in the editor, "+ File" / "+ Folder" at the top and in each folder,
//! per-row rename, move and delete, which the page carries out through [`TreeAsk`], and drag and
//! drop of a file or folder onto a folder or the tree's top to move it ([`drop_check`] says where
//! it may go; a refused place is marked while the drag is over it). When the list of files changes
//! during a drag, the page cancels it ([`DragState::cancel`]): it would drop onto a stale tree.

use std::collections::HashSet;

use app::{
    api::{IdeFile, IdeScope},
    domain::JobType,
    ids::IdeFileId,
};
use leptos::prelude::*;

use crate::i18n::{K, t};

/// What a tree asks the page to do.
#[derive(Clone, Debug, PartialEq)]
pub enum TreeAsk {
    /// Create a file (`dir: false`) or folder in `parent` (none: the top) of `scope`.
    Create {
        /// The tree.
        scope: IdeScope,
        /// The folder.
        parent: Option<IdeFileId>,
        /// A folder rather than a file.
        dir: bool,
    },
    /// Rename it.
    Rename(IdeFile),
    /// Move it to another folder.
    Move(IdeFile),
    /// Delete it (a folder with its contents).
    Delete(IdeFile),
}

/// The files of one folder (`parent`, none: the top) of `scope`: folders first, then by name.
pub fn children(files: &[IdeFile], scope: IdeScope, parent: Option<IdeFileId>) -> Vec<&IdeFile> {
    let mut out: Vec<_> = files
        .iter()
        .filter(|f| f.scope == scope && f.parent_id == parent)
        .collect();
    out.sort_by(|a, b| b.is_dir.cmp(&a.is_dir).then_with(|| a.name.cmp(&b.name)));
    out
}

/// Everything below folder `id` (not itself).
pub fn descendants(files: &[IdeFile], id: IdeFileId) -> Vec<IdeFileId> {
    let mut out = Vec::new();
    let mut todo = vec![id];
    // Bounded by the number of files, so a (corrupt) cycle cannot loop forever.
    while let Some(folder) = todo.pop().filter(|_| out.len() <= files.len()) {
        for file in files.iter().filter(|f| f.parent_id == Some(folder)) {
            out.push(file.id);
            if file.is_dir {
                todo.push(file.id);
            }
        }
    }
    out
}

/// What dropping a dragged file on a place of a tree would do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropCheck {
    /// Move it there.
    Move,
    /// Nothing: it is there already.
    Stay,
    /// Refused: a folder into itself or below itself, another tree, or not a folder.
    Refused,
}

/// What dropping `dragged` on folder `target` (none: the top) of the tree `scope` would do.
pub fn drop_check(
    files: &[IdeFile],
    dragged: IdeFileId,
    scope: IdeScope,
    target: Option<IdeFileId>,
) -> DropCheck {
    let Some(file) = files.iter().find(|f| f.id == dragged) else {
        return DropCheck::Refused;
    };
    if file.scope != scope {
        return DropCheck::Refused;
    }
    if let Some(target) = target {
        let is_folder = files
            .iter()
            .any(|f| f.id == target && f.is_dir && f.scope == scope);
        if target == dragged || !is_folder || descendants(files, dragged).contains(&target) {
            return DropCheck::Refused;
        }
    }
    if file.parent_id == target {
        DropCheck::Stay
    } else {
        DropCheck::Move
    }
}

/// The drag under way, shared by both trees of the page.
#[derive(Clone, Copy)]
pub struct DragState {
    /// The file or folder being dragged.
    dragging: RwSignal<Option<IdeFileId>>,
    /// The place the drag is over (tree, folder or top) and whether it may be dropped there.
    over: RwSignal<Option<(IdeScope, Option<IdeFileId>, bool)>>,
}

impl DragState {
    /// No drag yet.
    pub fn new() -> Self {
        DragState {
            dragging: RwSignal::new(None),
            over: RwSignal::new(None),
        }
    }

    /// Whether the drag is over `target` of `scope`: `Some(true)` may drop, `Some(false)` refused.
    fn state(self, scope: IdeScope, target: Option<IdeFileId>) -> Option<bool> {
        self.over.with(|over| match over {
            Some((s, t, ok)) if *s == scope && *t == target => Some(*ok),
            _ => None,
        })
    }

    fn set_over(self, spot: Option<(IdeScope, Option<IdeFileId>, bool)>) {
        if self.over.get_untracked() != spot {
            self.over.set(spot);
        }
    }

    fn end(self) {
        self.dragging.set(None);
        self.set_over(None);
    }

    /// The file or folder being dragged (tracked).
    pub fn active(self) -> Option<IdeFileId> {
        self.dragging.get()
    }

    /// Abandons the drag under way, if any (the tree it started in has changed): its marks go, and
    /// the rest of it drops nowhere (no place accepts it without a drag under way). Whether there
    /// was one.
    pub fn cancel(self) -> bool {
        if self.dragging.get_untracked().is_none() {
            return false;
        }
        self.end();
        true
    }
}

/// A short mark of a file's job type, shown in its icon.
pub fn type_mark(kind: JobType) -> &'static str {
    match kind {
        JobType::Shell => "sh",
        JobType::Python => "py",
        JobType::Hive => "hq",
        JobType::SparkSql => "ss",
        JobType::SparkSubmit => "sp",
        JobType::Http => "ht",
        JobType::Sql => "sq",
    }
}

/// The tree of `scope`, titled `title`.
#[component]
pub fn IdeTree(
    scope: IdeScope,
    title: K,
    #[prop(into)] files: Signal<Vec<IdeFile>>,
    #[prop(into)] loaded: Signal<bool>,
    #[prop(into)] current: Signal<Option<IdeFileId>>,
    expanded: RwSignal<HashSet<IdeFileId>>,
    drag: DragState,
    #[prop(into)] on_open: Callback<IdeFileId>,
    #[prop(into)] on_ask: Callback<TreeAsk>,
    /// Move a file or folder (dropped) into a folder (none: the top).
    #[prop(into)]
    on_move: Callback<(IdeFileId, Option<IdeFileId>)>,
) -> impl IntoView {
    let testid = match scope {
        IdeScope::Personal => "ide-tree-personal",
        IdeScope::Shared => "ide-tree-shared",
    };
    let ctx = RowCtx {
        scope,
        files,
        current,
        expanded,
        drag,
        on_open,
        on_ask,
        on_move,
    };
    let rows = move || {
        files.with(|all| {
            let rows: Vec<AnyView> = children(all, scope, None)
                .into_iter()
                .map(|file| ctx.row(all, file))
                .collect();
            if rows.is_empty() {
                let key = if loaded.get() {
                    K::IdeTreeEmpty
                } else {
                    K::Loading
                };
                view! { <p class="tree-empty">{move || t(key)}</p> }.into_any()
            } else {
                rows.into_any()
            }
        })
    };
    let create = move |dir: bool| {
        on_ask.run(TreeAsk::Create {
            scope,
            parent: None,
            dir,
        })
    };
    // The whole section (its title included) is the tree's top as a drop target; rows over it
    // are folders of their own.
    view! {
        <section
            class="ide-tree"
            class:drop-ok=move || drag.state(scope, None) == Some(true)
            class:drop-refused=move || drag.state(scope, None) == Some(false)
            data-testid=testid
            on:dragenter=move |ev| ctx.drag_over(&ev, None)
            on:dragover=move |ev| ctx.drag_over(&ev, None)
            on:drop=move |ev| ctx.drop(&ev, None)
            on:dragleave=move |ev| ctx.drag_leave(&ev)
        >
            <div class="ide-tree-head" data-testid=format!("{testid}-head")>
                <h2>{move || t(title)}</h2>
                <div class="spacer"></div>
                <button class="btn small" data-testid="ide-new-file" on:click=move |_| create(false)>
                    {move || t(K::IdeNewFile)}
                </button>
                <button class="btn small" data-testid="ide-new-folder" on:click=move |_| create(true)>
                    {move || t(K::NewFolder)}
                </button>
            </div>
            <div class="ide-tree-body tree">{rows}</div>
        </section>
    }
}

#[derive(Clone, Copy)]
struct RowCtx {
    scope: IdeScope,
    files: Signal<Vec<IdeFile>>,
    current: Signal<Option<IdeFileId>>,
    expanded: RwSignal<HashSet<IdeFileId>>,
    drag: DragState,
    on_open: Callback<IdeFileId>,
    on_ask: Callback<TreeAsk>,
    on_move: Callback<(IdeFileId, Option<IdeFileId>)>,
}

impl RowCtx {
    fn check(self, target: Option<IdeFileId>) -> Option<(IdeFileId, DropCheck)> {
        let dragged = self.drag.dragging.get_untracked()?;
        let check = self
            .files
            .with_untracked(|all| drop_check(all, dragged, self.scope, target));
        Some((dragged, check))
    }

    fn drag_start(self, ev: &leptos::ev::DragEvent, id: IdeFileId, name: &str) {
        ev.stop_propagation();
        if let Some(transfer) = ev.data_transfer() {
            transfer.set_effect_allowed("move");
            // Some browsers start a drag only with data; the name is what a text target would get.
            let _ = transfer.set_data("text/plain", name);
        }
        self.drag.dragging.set(Some(id));
    }

    /// Entering or over folder `target` (none: the top): accepts the drop where it may go (both
    /// events must be cancelled for that), marks a refused place, and leaves "already there"
    /// unmarked.
    fn drag_over(self, ev: &leptos::ev::DragEvent, target: Option<IdeFileId>) {
        let Some((_, check)) = self.check(target) else {
            return;
        };
        ev.stop_propagation();
        let allowed = check == DropCheck::Move;
        if allowed {
            ev.prevent_default();
        }
        if let Some(transfer) = ev.data_transfer() {
            transfer.set_drop_effect(if allowed { "move" } else { "none" });
        }
        self.drag.set_over(match check {
            DropCheck::Move => Some((self.scope, target, true)),
            DropCheck::Refused => Some((self.scope, target, false)),
            DropCheck::Stay => None,
        });
    }

    /// Leaving the tree for somewhere else clears the mark (between rows, the next `dragover`
    /// marks the new place at once).
    fn drag_leave(self, ev: &leptos::ev::DragEvent) {
        use wasm_bindgen::JsCast;
        let node = |target: Option<web_sys::EventTarget>| {
            target.and_then(|t| t.dyn_into::<web_sys::Node>().ok())
        };
        let inside = node(ev.current_target())
            .zip(node(ev.related_target()))
            .is_some_and(|(tree, entered)| tree.contains(Some(&entered)));
        if !inside {
            self.drag.set_over(None);
        }
    }

    fn drop(self, ev: &leptos::ev::DragEvent, target: Option<IdeFileId>) {
        let Some((dragged, check)) = self.check(target) else {
            return;
        };
        ev.prevent_default();
        ev.stop_propagation();
        self.drag.end();
        if check == DropCheck::Move {
            self.on_move.run((dragged, target));
        }
    }

    /// One row, and for an open folder the rows below it.
    fn row(self, all: &[IdeFile], file: &IdeFile) -> AnyView {
        let id = file.id;
        let on_ask = self.on_ask;
        let ask = move |make: fn(IdeFile) -> TreeAsk| {
            let files = self.files;
            move |ev: leptos::ev::MouseEvent| {
                ev.stop_propagation();
                if let Some(file) =
                    files.with_untracked(|all| all.iter().find(|f| f.id == id).cloned())
                {
                    on_ask.run(make(file));
                }
            }
        };
        let actions = view! {
            <button
                class="row-action"
                data-testid="ide-rename"
                title=move || t(K::Rename)
                aria-label=move || t(K::Rename)
                on:click=ask(TreeAsk::Rename)
            >
                "✎"
            </button>
            <button
                class="row-action"
                data-testid="ide-move"
                title=move || t(K::IdeMove)
                aria-label=move || t(K::IdeMove)
                on:click=ask(TreeAsk::Move)
            >
                "⇄"
            </button>
            <button
                class="row-action danger"
                data-testid="ide-delete"
                title=move || t(K::Delete)
                aria-label=move || t(K::Delete)
                on:click=ask(TreeAsk::Delete)
            >
                "×"
            </button>
        };
        if !file.is_dir {
            let active = move || self.current.get() == Some(id);
            let published = file.published_job_id.map(|job| {
                view! {
                    <span class="id" title=move || t(K::IdePublishedMark)>
                        "→#"
                        {job.0}
                    </span>
                }
            });
            let on_open = self.on_open;
            // Over a file, a drop goes to the file's folder.
            let parent = file.parent_id;
            let name = file.name.clone();
            return view! {
                <div
                    class="tree-row ide-file"
                    class:active=active
                    data-testid="ide-file"
                    data-file-id=id.0
                    data-name=file.name.clone()
                    role="button"
                    tabindex="0"
                    draggable="true"
                    class:dragging=move || self.drag.dragging.get() == Some(id)
                    on:dragstart=move |ev| self.drag_start(&ev, id, &name)
                    on:dragend=move |_| self.drag.end()
                    on:dragenter=move |ev| self.drag_over(&ev, parent)
                    on:dragover=move |ev| self.drag_over(&ev, parent)
                    on:drop=move |ev| self.drop(&ev, parent)
                    on:click=move |_| on_open.run(id)
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                        if ev.key() == "Enter" {
                            on_open.run(id);
                        }
                    }
                >
                    <span class="ide-type" data-type=file.job_type.as_str()>
                        {type_mark(file.job_type)}
                    </span>
                    <span class="name">{file.name.clone()}</span>
                    {published}
                    {actions}
                </div>
            }
            .into_any();
        }
        let expanded = self.expanded;
        let is_open = expanded.with(|set| set.contains(&id));
        let toggle = move |_| {
            expanded.update(|set| {
                if !set.remove(&id) {
                    set.insert(id);
                }
            })
        };
        let scope = file.scope;
        let name = file.name.clone();
        let create = move |dir: bool| {
            move |ev: leptos::ev::MouseEvent| {
                ev.stop_propagation();
                on_ask.run(TreeAsk::Create {
                    scope,
                    parent: Some(id),
                    dir,
                });
            }
        };
        let below: Vec<AnyView> = if is_open {
            children(all, file.scope, Some(id))
                .into_iter()
                .map(|child| self.row(all, child))
                .collect()
        } else {
            Vec::new()
        };
        let empty = (is_open && below.is_empty())
            .then(|| view! { <p class="tree-empty">{move || t(K::IdeFolderEmpty)}</p> });
        view! {
            <div class="tree-folder">
                <div
                    class="tree-row folder ide-folder"
                    class:dragging=move || self.drag.dragging.get() == Some(id)
                    class:drop-ok=move || self.drag.state(scope, Some(id)) == Some(true)
                    class:drop-refused=move || self.drag.state(scope, Some(id)) == Some(false)
                    data-testid="ide-folder"
                    data-file-id=id.0
                    data-name=file.name.clone()
                    draggable="true"
                    on:dragstart=move |ev| self.drag_start(&ev, id, &name)
                    on:dragend=move |_| self.drag.end()
                    on:dragenter=move |ev| self.drag_over(&ev, Some(id))
                    on:dragover=move |ev| self.drag_over(&ev, Some(id))
                    on:drop=move |ev| self.drop(&ev, Some(id))
                    on:click=toggle
                >
                    <button
                        class="twisty"
                        class:open=is_open
                        aria-expanded=is_open.to_string()
                        aria-label=move || t(K::IdeToggleFolder)
                    >
                        "▸"
                    </button>
                    <span class="icon folder-icon"></span>
                    <span class="name">{file.name.clone()}</span>
                    <button
                        class="row-action"
                        data-testid="ide-new-file-here"
                        title=move || t(K::IdeNewFileHere)
                        aria-label=move || t(K::IdeNewFileHere)
                        on:click=create(false)
                    >
                        "+"
                    </button>
                    <button
                        class="row-action"
                        data-testid="ide-new-folder-here"
                        title=move || t(K::IdeNewFolderHere)
                        aria-label=move || t(K::IdeNewFolderHere)
                        on:click=create(true)
                    >
                        <span class="icon folder-icon small"></span>
                    </button>
                    {actions}
                </div>
                {is_open.then(|| view! { <div class="tree-children">{below} {empty}</div> })}
            </div>
        }
        .into_any()
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    fn file(id: i64, parent: Option<i64>, name: &str, is_dir: bool) -> IdeFile {
        IdeFile {
            id: IdeFileId(id),
            scope: IdeScope::Personal,
            parent_id: parent.map(IdeFileId),
            name: name.to_owned(),
            is_dir,
            job_type: JobType::Shell,
            content: None,
            published_job_id: None,
            updated_at: Utc.timestamp_opt(0, 0).unwrap(),
        }
    }

    #[test]
    fn folders_come_first_then_names() {
        let files = [
            file(1, None, "b.sh", false),
            file(2, None, "z", true),
            file(3, None, "a.sh", false),
            file(4, Some(2), "inner.sh", false),
        ];
        let names: Vec<_> = children(&files, IdeScope::Personal, None)
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        assert_eq!(names, ["z", "a.sh", "b.sh"]);
        assert!(children(&files, IdeScope::Shared, None).is_empty());
    }

    #[test]
    fn a_folder_never_goes_into_itself_or_below_itself() {
        let mut files = vec![
            file(1, None, "top", true),
            file(2, Some(1), "mid", true),
            file(3, Some(2), "deep.sh", false),
            file(4, None, "other", true),
            file(5, None, "loose.sh", false),
        ];
        let mut shared = file(6, None, "team", true);
        shared.scope = IdeScope::Shared;
        files.push(shared);
        let check = |dragged, target: Option<i64>| {
            drop_check(
                &files,
                IdeFileId(dragged),
                IdeScope::Personal,
                target.map(IdeFileId),
            )
        };
        assert_eq!(check(1, Some(1)), DropCheck::Refused);
        assert_eq!(check(1, Some(2)), DropCheck::Refused);
        assert_eq!(check(1, Some(4)), DropCheck::Move);
        assert_eq!(check(2, None), DropCheck::Move);
        assert_eq!(check(2, Some(1)), DropCheck::Stay);
        assert_eq!(check(1, None), DropCheck::Stay);
        assert_eq!(check(3, Some(4)), DropCheck::Move);
        assert_eq!(check(5, Some(3)), DropCheck::Refused, "a file is no folder");
        assert_eq!(check(5, Some(6)), DropCheck::Refused, "another tree");
        assert_eq!(
            drop_check(&files, IdeFileId(5), IdeScope::Shared, None),
            DropCheck::Refused
        );
        assert_eq!(check(99, None), DropCheck::Refused);
    }

    #[test]
    fn descendants_cover_nested_folders() {
        let files = [
            file(1, None, "top", true),
            file(2, Some(1), "mid", true),
            file(3, Some(2), "deep.sh", false),
            file(4, Some(1), "x.sh", false),
            file(5, None, "other.sh", false),
        ];
        let mut below = descendants(&files, IdeFileId(1));
        below.sort_by_key(|id| id.0);
        assert_eq!(below, [IdeFileId(2), IdeFileId(3), IdeFileId(4)]);
        assert!(descendants(&files, IdeFileId(5)).is_empty());
    }
}
