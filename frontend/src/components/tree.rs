//! The left sidebar: a search box (name or id), "new folder" / "new job" actions, and the folder
//! tree with its jobs. Folders open and close; the folders above the job being shown open by
//! themselves; while searching, everything that matches is shown open.

use std::collections::HashSet;

use app::{
    api::{Folder, NewFolder},
    ids::{FolderId, JobId},
};
use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::{
    api::{
        catalog::{Catalog, CatalogData},
        http,
    },
    components::error_view::ActionError,
    i18n::{K, t},
};

/// The sidebar.
#[component]
pub fn Sidebar() -> impl IntoView {
    let catalog = Catalog::current();
    let query = RwSignal::new(String::new());
    let open = RwSignal::new(HashSet::<FolderId>::new());
    let creating = RwSignal::new(false);
    let location = use_location();
    let current_job = Memo::new(move |_| {
        location.pathname.with(|path| {
            path.strip_prefix("/jobs/")
                .and_then(|rest| rest.split('/').next())
                .and_then(|id| id.parse::<JobId>().ok())
        })
    });
    let current_folder = Memo::new(move |_| {
        location.pathname.with(|path| {
            path.strip_prefix("/folders/")
                .and_then(|rest| rest.split('/').next())
                .and_then(|id| id.parse::<FolderId>().ok())
        })
    });

    // Open the folders above the job or the folder the page shows.
    Effect::new(move || {
        let data = catalog.data();
        let start = match (current_job.get(), current_folder.get()) {
            (Some(job), _) => data.job(job).map(|job| job.folder_id),
            (None, Some(folder)) => data
                .folders
                .iter()
                .find(|f| f.id == folder)
                .and_then(|f| f.parent_id),
            (None, None) => None,
        };
        let Some(start) = start else {
            return;
        };
        let mut above = Vec::new();
        let mut next = Some(start);
        while let Some(id) = next.filter(|id| !above.contains(id)) {
            above.push(id);
            next = data
                .folders
                .iter()
                .find(|f| f.id == id)
                .and_then(|f| f.parent_id);
        }
        if above
            .iter()
            .any(|id| !open.with_untracked(|set| set.contains(id)))
        {
            open.update(|set| set.extend(above));
        }
    });

    let load_error = Signal::derive(move || catalog.error().map(|e| e.to_string()));
    let folder_done = move |folder: Option<Folder>| {
        creating.set(false);
        if let Some(parent) = folder.and_then(|f| f.parent_id) {
            open.update(|set| {
                set.insert(parent);
            });
        }
    };

    let tree = move || {
        let data = catalog.data();
        let query = query.get();
        let filter = Some(query.trim().to_lowercase()).filter(|q| !q.is_empty());
        let ctx = TreeCtx {
            data: &data,
            open,
            current: current_job.get(),
            current_folder: current_folder.get(),
        };
        let rows: Vec<AnyView> = data
            .subfolders(None)
            .into_iter()
            .filter_map(|folder| ctx.folder(folder, filter.as_deref()))
            .collect();
        let empty = rows.is_empty().then(|| {
            let key = if filter.is_some() {
                K::NoMatch
            } else if catalog.loading() {
                K::Loading
            } else {
                K::TreeEmpty
            };
            view! { <p class="tree-empty">{move || t(key)}</p> }
        });
        view! {
            {rows}
            {empty}
        }
    };

    view! {
        <aside class="sidebar">
            <div class="sidebar-head">
                <input
                    type="search"
                    class="input"
                    data-testid="tree-search"
                    placeholder=move || t(K::SearchJobs)
                    bind:value=query
                />
                <div class="sidebar-actions">
                    <button
                        class="btn small"
                        data-testid="new-folder"
                        on:click=move |_| creating.update(|c| *c = !*c)
                    >
                        {move || t(K::NewFolder)}
                    </button>
                    <a class="btn small" href="/jobs/new" data-testid="new-job">
                        {move || t(K::NewJob)}
                    </a>
                </div>
                <Show when=move || creating.get()>
                    <NewFolderForm on_done=folder_done />
                </Show>
                <ActionError message=load_error />
            </div>
            <nav class="tree" data-testid="tree">
                {tree}
            </nav>
        </aside>
    }
}

struct TreeCtx<'a> {
    data: &'a CatalogData,
    open: RwSignal<HashSet<FolderId>>,
    current: Option<JobId>,
    current_folder: Option<FolderId>,
}

impl TreeCtx<'_> {
    /// One folder with what is below it, or `None` when a search is on and nothing in it matches.
    /// A folder whose own name matches shows everything below it.
    fn folder(&self, folder: &Folder, filter: Option<&str>) -> Option<AnyView> {
        let filter = filter.filter(|q| !folder.name.to_lowercase().contains(q));
        let subfolders: Vec<AnyView> = self
            .data
            .subfolders(Some(folder.id))
            .into_iter()
            .filter_map(|child| self.folder(child, filter))
            .collect();
        let jobs: Vec<AnyView> = self
            .data
            .jobs_in(folder.id)
            .into_iter()
            .filter(|job| filter.is_none_or(|q| matches_job(q, job.id, &job.name)))
            .map(|job| {
                let href = format!("/jobs/{}", job.id);
                let active = self.current == Some(job.id);
                view! {
                    <a class="tree-row job" class:active=active href=href data-testid="tree-job">
                        <span class="icon job-icon"></span>
                        <span class="name">{job.name.clone()}</span>
                        <span class="id">"#" {job.id.0}</span>
                    </a>
                }
                .into_any()
            })
            .collect();
        if filter.is_some() && subfolders.is_empty() && jobs.is_empty() {
            return None;
        }
        let id = folder.id;
        let open = self.open;
        let is_open = filter.is_some() || open.with(|set| set.contains(&id));
        let toggle = move |_| {
            open.update(|set| {
                if !set.remove(&id) {
                    set.insert(id);
                }
            })
        };
        let count = Some(self.data.jobs_in(id).len()).filter(|n| *n > 0);
        let active = self.current_folder == Some(id);
        Some(
            view! {
                <div class="tree-folder">
                    <div
                        class="tree-row folder"
                        class:active=active
                        data-testid="tree-folder"
                        data-folder-id=id.0
                    >
                        <button
                            class="twisty"
                            class:open=is_open
                            on:click=toggle
                            aria-label="toggle"
                        >
                            "▸"
                        </button>
                        <span class="icon folder-icon"></span>
                        <span class="name" on:click=toggle>
                            {folder.name.clone()}
                        </span>
                        <span class="count">{count}</span>
                        <a
                            class="row-action"
                            href=format!("/folders/{id}")
                            title=move || t(K::FolderSettings)
                            aria-label=move || t(K::FolderSettings)
                            data-testid="folder-settings"
                        >
                            "⚙"
                        </a>
                        <a
                            class="row-action"
                            href=format!("/jobs/new?folder={id}")
                            title=move || t(K::NewJobHere)
                            data-testid="new-job-in-folder"
                        >
                            "+"
                        </a>
                    </div>
                    {is_open
                        .then(|| {
                            view! {
                                <div class="tree-children">
                                    {subfolders}
                                    {jobs}
                                </div>
                            }
                        })}
                </div>
            }
            .into_any(),
        )
    }
}

/// A job matches a search by a part of its name, or by its id (`12` or `#12`).
fn matches_job(query: &str, id: JobId, name: &str) -> bool {
    name.to_lowercase().contains(query) || query.trim_start_matches('#') == id.to_string()
}

/// The inline "new folder" form: a name and a parent.
#[component]
fn NewFolderForm(#[prop(into)] on_done: Callback<Option<Folder>>) -> impl IntoView {
    let catalog = Catalog::current();
    let name = RwSignal::new(String::new());
    let parent = RwSignal::new(None::<FolderId>);
    let create = Action::new_local(move |input: &NewFolder| {
        let input = input.clone();
        async move {
            let folder = http::post::<_, Folder>("/api/folders", &input).await?;
            catalog.refresh();
            on_done.run(Some(folder));
            Ok::<_, http::ApiError>(())
        }
    });
    let error = Signal::derive(move || {
        create.value().with(|v| {
            v.as_ref()
                .and_then(|r| r.as_ref().err().map(|e| e.to_string()))
        })
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let folder = NewFolder {
            name: name.get_untracked().trim().to_owned(),
            parent_id: parent.get_untracked(),
        };
        create.dispatch_local(folder);
    };
    view! {
        <form class="inline-form" on:submit=submit data-testid="new-folder-form">
            <input
                class="input"
                data-testid="new-folder-name"
                placeholder=move || t(K::FolderName)
                bind:value=name
                required
            />
            <select
                class="input"
                data-testid="new-folder-parent"
                on:change=move |ev| parent.set(event_target_value(&ev).parse().ok())
            >
                <option value="">{move || t(K::TopLevel)}</option>
                {move || {
                    catalog
                        .data()
                        .folder_choices()
                        .into_iter()
                        .map(|(id, path)| view! { <option value=id.0>{path}</option> })
                        .collect_view()
                }}
            </select>
            <div class="row">
                <button
                    class="btn primary small"
                    type="submit"
                    data-testid="create-folder"
                    disabled=move || create.pending().get()
                >
                    {move || t(K::Create)}
                </button>
                <button class="btn small" type="button" on:click=move |_| on_done.run(None)>
                    {move || t(K::Cancel)}
                </button>
            </div>
            <ActionError message=error />
        </form>
    }
}
