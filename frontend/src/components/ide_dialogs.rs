//! The development center's small dialogs: a name (new file, new folder, rename), a folder to move
//! to, and publishing a file as a new job or a new version of a job. Each shows the server's
//! message where it failed and closes on Escape or a click beside it.

use app::{
    api::{IdeFile, IdeFileUpdate, IdeMove, IdePublish, IdeScope, Job, NewIdeFile},
    domain::JobType,
    ids::{FolderId, IdeFileId, JobId},
};
use leptos::{ev, html, prelude::*};
use wasm_bindgen::JsCast;

use crate::{
    api::{
        catalog::Catalog,
        http::{self, ApiError},
    },
    components::{
        error_view::{ActionError, action_error},
        ide_tree::{children, descendants},
    },
    i18n::{K, fill, t},
};

/// A dialog frame: backdrop, card, title; Escape and a click on the backdrop close it.
#[component]
fn Dialog(
    testid: &'static str,
    #[prop(into)] title: Signal<String>,
    #[prop(into)] on_close: Callback<()>,
    #[prop(into)] on_submit: Callback<()>,
    children: Children,
) -> impl IntoView {
    // The first field gets the focus.
    let form = NodeRef::<html::Form>::new();
    Effect::new(move |_| {
        let field = form
            .get()
            .and_then(|form| form.query_selector("input, select").ok().flatten())
            .and_then(|field| field.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(field) = field {
            let _ = field.focus();
        }
    });
    view! {
        <div class="modal-backdrop" on:click=move |_| on_close.run(())>
            <form
                class="card modal ide-dialog"
                node_ref=form
                role="dialog"
                aria-modal="true"
                data-testid=testid
                novalidate
                on:click=|ev| ev.stop_propagation()
                on:keydown=move |ev: ev::KeyboardEvent| {
                    if ev.key() == "Escape" {
                        on_close.run(());
                    }
                }
                on:submit=move |ev: ev::SubmitEvent| {
                    ev.prevent_default();
                    on_submit.run(());
                }
            >
                <h2>{title}</h2>
                {children()}
            </form>
        </div>
    }
}

/// The buttons of a dialog: `label` submits.
#[component]
fn DialogButtons(
    label: K,
    #[prop(into)] pending: Signal<bool>,
    #[prop(into)] on_close: Callback<()>,
) -> impl IntoView {
    view! {
        <div class="form-actions">
            <button
                class="btn primary"
                type="submit"
                data-testid="ide-dialog-submit"
                disabled=move || pending.get()
            >
                {move || t(label)}
            </button>
            <button class="btn" type="button" on:click=move |_| on_close.run(())>
                {move || t(K::Cancel)}
            </button>
        </div>
    }
}

/// The options of a job-type select, `current` selected.
pub fn job_type_options(current: Signal<JobType>) -> impl IntoView {
    JobType::ALL
        .iter()
        .map(|kind| {
            let kind = *kind;
            view! {
                <option value=kind.as_str() selected=move || current.get() == kind>
                    {kind.as_str()}
                </option>
            }
        })
        .collect_view()
}

/// A new file or folder in `parent` of `scope`; `on_done` gets it.
#[component]
pub fn CreateDialog(
    scope: IdeScope,
    parent: Option<IdeFileId>,
    dir: bool,
    #[prop(into)] on_done: Callback<IdeFile>,
    #[prop(into)] on_close: Callback<()>,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let job_type = RwSignal::new(JobType::Shell);
    let create = Action::new_local(move |body: &NewIdeFile| {
        let body = body.clone();
        async move {
            let file = http::post::<_, IdeFile>("/api/ide/files", &body).await?;
            on_done.run(file);
            Ok::<_, ApiError>(())
        }
    });
    let submit = move |()| {
        create.dispatch_local(NewIdeFile {
            scope,
            parent_id: parent,
            name: name.get_untracked().trim().to_owned(),
            is_dir: dir,
            job_type: (!dir).then(|| job_type.get_untracked()),
            content: String::new(),
        });
    };
    let title = Signal::derive(move || {
        t(if dir {
            K::IdeNewFolderTitle
        } else {
            K::IdeNewFileTitle
        })
        .to_owned()
    });
    let type_field = (!dir).then(|| {
        view! {
            <label class="field">
                <span class="label">{move || t(K::JobType)}</span>
                <select
                    class="input"
                    data-testid="ide-dialog-type"
                    on:change=move |ev| {
                        if let Ok(kind) = event_target_value(&ev).parse() {
                            job_type.set(kind);
                        }
                    }
                >
                    {job_type_options(job_type.into())}
                </select>
            </label>
        }
    });
    view! {
        <Dialog testid="ide-create-dialog" title on_close on_submit=submit>
            <label class="field">
                <span class="label">{move || t(K::Name)}</span>
                <input
                    class="input"
                    data-testid="ide-dialog-name"
                    maxlength="200"
                    placeholder=move || t(if dir { K::FolderName } else { K::IdeFileName })
                    bind:value=name
                />
            </label>
            {type_field}
            <ActionError message=action_error(create) />
            <DialogButtons label=K::Create pending=create.pending() on_close />
        </Dialog>
    }
}

/// Renames `file`; `on_done` gets it renamed.
#[component]
pub fn RenameDialog(
    file: IdeFile,
    #[prop(into)] on_done: Callback<IdeFile>,
    #[prop(into)] on_close: Callback<()>,
) -> impl IntoView {
    let id = file.id;
    let old = StoredValue::new(file.name.clone());
    let name = RwSignal::new(file.name);
    let rename = Action::new_local(move |name: &String| {
        let body = IdeFileUpdate {
            name: Some(name.clone()),
            ..IdeFileUpdate::default()
        };
        async move {
            let file = http::put::<_, IdeFile>(format!("/api/ide/files/{id}"), &body).await?;
            on_done.run(file);
            Ok::<_, ApiError>(())
        }
    });
    let title =
        Signal::derive(move || old.with_value(|old| fill(t(K::IdeRenameTitle), &[("name", old)])));
    view! {
        <Dialog
            testid="ide-rename-dialog"
            title
            on_close
            on_submit=move |()| {
                rename.dispatch_local(name.get_untracked().trim().to_owned());
            }
        >
            <label class="field">
                <span class="label">{move || t(K::Name)}</span>
                <input
                    class="input"
                    data-testid="ide-dialog-name"
                    maxlength="200"
                    bind:value=name
                />
            </label>
            <ActionError message=action_error(rename) />
            <DialogButtons label=K::Rename pending=rename.pending() on_close />
        </Dialog>
    }
}

/// Moves file or folder `id` into folder `parent` (none: the top) of its tree; the server refuses
/// a folder into itself or below itself (422) and a name the folder has already (409).
pub async fn move_file(id: IdeFileId, parent: Option<IdeFileId>) -> Result<IdeFile, ApiError> {
    let body = IdeMove { parent_id: parent };
    http::post::<_, IdeFile>(format!("/api/ide/files/{id}/move"), &body).await
}

/// Moves `file` to another folder of its tree (`files`: everything the user sees).
#[component]
pub fn MoveDialog(
    file: IdeFile,
    files: Vec<IdeFile>,
    #[prop(into)] on_done: Callback<IdeFile>,
    #[prop(into)] on_close: Callback<()>,
) -> impl IntoView {
    let id = file.id;
    // The folders of its tree, with their paths, leaving out itself and what is below it.
    let below = descendants(&files, id);
    let mut choices = Vec::new();
    let mut todo = vec![(None::<IdeFileId>, String::new())];
    while let Some((parent, path)) = todo.pop() {
        for child in children(&files, file.scope, parent)
            .into_iter()
            .filter(|f| f.is_dir && f.id != id && !below.contains(&f.id))
        {
            let path = if path.is_empty() {
                child.name.clone()
            } else {
                format!("{path} / {}", child.name)
            };
            choices.push((child.id, path.clone()));
            todo.push((Some(child.id), path));
        }
    }
    choices.sort_by(|a, b| a.1.cmp(&b.1));
    let target = RwSignal::new(file.parent_id);
    let name = StoredValue::new(file.name);
    let shift = Action::new_local(move |parent: &Option<IdeFileId>| {
        let parent = *parent;
        async move {
            let file = move_file(id, parent).await?;
            on_done.run(file);
            Ok::<_, ApiError>(())
        }
    });
    let title =
        Signal::derive(move || name.with_value(|name| fill(t(K::IdeMoveTitle), &[("name", name)])));
    let options = choices
        .into_iter()
        .map(|(folder, path)| {
            view! {
                <option value=folder.0 selected=move || target.get() == Some(folder)>
                    {path}
                </option>
            }
        })
        .collect_view();
    view! {
        <Dialog
            testid="ide-move-dialog"
            title
            on_close
            on_submit=move |()| {
                shift.dispatch_local(target.get_untracked());
            }
        >
            <label class="field">
                <span class="label">{move || t(K::Folder)}</span>
                <select
                    class="input"
                    data-testid="ide-move-target"
                    on:change=move |ev| target.set(event_target_value(&ev).parse().ok())
                >
                    <option value="" selected=move || target.get().is_none()>
                        {move || t(K::TopLevel)}
                    </option>
                    {options}
                </select>
            </label>
            <ActionError message=action_error(shift) />
            <DialogButtons label=K::IdeMoveButton pending=shift.pending() on_close />
        </Dialog>
    }
}

/// Publishing `file` with the editor's `text` (saved first: publishing copies the saved file): a
/// new job in a folder, or a new version of a job found by name or id. `on_done` gets the job and
/// the text saved.
#[component]
pub fn PublishDialog(
    file: IdeFile,
    #[prop(into)] text: Signal<String>,
    #[prop(into)] on_done: Callback<(Job, String)>,
    #[prop(into)] on_close: Callback<()>,
) -> impl IntoView {
    let catalog = Catalog::current();
    let id = file.id;
    let update = RwSignal::new(file.published_job_id.is_some());
    let base = file
        .name
        .rsplit_once('.')
        .map_or(file.name.as_str(), |(base, _)| base)
        .to_owned();
    let name = RwSignal::new(base);
    let folder = RwSignal::new(None::<FolderId>);
    let query = RwSignal::new(
        file.published_job_id
            .map(|job| job.to_string())
            .unwrap_or_default(),
    );
    let chosen = RwSignal::new(file.published_job_id);
    let invalid = RwSignal::new(None::<K>);
    // The jobs matching the search, after a pause in typing.
    let debounced = RwSignal::new(query.get_untracked());
    let timer = StoredValue::new_local(None::<TimeoutHandle>);
    Effect::new(move |_| {
        let text = query.get();
        if let Some(timer) = timer.get_value() {
            timer.clear();
        }
        let handle = set_timeout_with_handle(
            move || {
                debounced.try_set(text);
            },
            std::time::Duration::from_millis(250),
        );
        timer.set_value(handle.ok());
    });
    let found = LocalResource::new(move || {
        let q = debounced.get();
        async move {
            let q = q.trim().trim_start_matches('#').to_owned();
            if q.is_empty() {
                return Ok(Vec::new());
            }
            let q = js_sys::encode_uri_component(&q);
            http::get::<Vec<Job>>(format!("/api/jobs?q={q}&limit=8")).await
        }
    });
    let publish = Action::new_local(move |body: &IdePublish| {
        let body = body.clone();
        let content = text.get_untracked();
        async move {
            let save = IdeFileUpdate {
                content: Some(content.clone()),
                ..IdeFileUpdate::default()
            };
            http::put::<_, IdeFile>(format!("/api/ide/files/{id}"), &save).await?;
            let job = http::post::<_, Job>(format!("/api/ide/files/{id}/publish"), &body).await?;
            on_done.run((job, content));
            Ok::<_, ApiError>(())
        }
    });
    let submit = move |()| {
        let body = if update.get_untracked() {
            let Some(job) = chosen.get_untracked() else {
                invalid.set(Some(K::IdeChooseJob));
                return;
            };
            IdePublish {
                job_id: Some(job),
                folder_id: None,
                name: None,
            }
        } else {
            let Some(folder) = folder.get_untracked() else {
                invalid.set(Some(K::ChooseFolder));
                return;
            };
            IdePublish {
                job_id: None,
                folder_id: Some(folder),
                name: Some(name.get_untracked().trim().to_owned()),
            }
        };
        invalid.set(None);
        publish.dispatch_local(body);
    };
    let file_name = StoredValue::new(file.name);
    let title = Signal::derive(move || {
        file_name.with_value(|name| fill(t(K::IdePublishTitle), &[("name", name)]))
    });
    let mode = move |to_update: bool, key: K, testid: &'static str| {
        view! {
            <button
                type="button"
                class="seg"
                class:active=move || update.get() == to_update
                data-testid=testid
                on:click=move |_| {
                    update.set(to_update);
                    invalid.set(None);
                }
            >
                {move || t(key)}
            </button>
        }
    };
    let new_job = move || {
        view! {
            <div class="grid-2">
                <label class="field">
                    <span class="label">{move || t(K::Folder)}</span>
                    <select
                        class="input"
                        data-testid="ide-publish-folder"
                        on:change=move |ev| folder.set(event_target_value(&ev).parse().ok())
                    >
                        <option value="">{move || t(K::ChooseFolder)}</option>
                        {move || {
                            catalog
                                .data()
                                .folder_choices()
                                .into_iter()
                                .map(|(id, path)| {
                                    view! {
                                        <option value=id.0 selected=folder.get_untracked() == Some(id)>
                                            {path}
                                        </option>
                                    }
                                })
                                .collect_view()
                        }}
                    </select>
                </label>
                <label class="field">
                    <span class="label">{move || t(K::Name)}</span>
                    <input
                        class="input"
                        data-testid="ide-publish-name"
                        maxlength="200"
                        bind:value=name
                    />
                </label>
            </div>
            <p class="muted hint-line">{move || t(K::IdePublishNewHint)}</p>
        }
    };
    let pick = move |job: JobId| {
        chosen.set(Some(job));
        invalid.set(None);
    };
    let existing = move || {
        let results = move || {
            match found.get() {
            None => None,
            Some(Err(err)) => Some(
                view! { <div class="alert error" role="alert">{err.to_string()}</div> }.into_any(),
            ),
            Some(Ok(jobs)) if jobs.is_empty() => debounced
                .with(|q| !q.trim().is_empty())
                .then(|| view! { <p class="muted suggestions-empty">{move || t(K::NoMatch)}</p> }.into_any()),
            Some(Ok(jobs)) => Some(
                view! {
                    <div class="ide-job-results" role="listbox">
                        {jobs
                            .into_iter()
                            .map(|job| {
                                let job_id = job.id;
                                let path = catalog.data().folder_path(job.folder_id);
                                view! {
                                    <button
                                        type="button"
                                        role="option"
                                        class="ide-job-result"
                                        class:active=move || chosen.get() == Some(job_id)
                                        aria-selected=move || (chosen.get() == Some(job_id)).to_string()
                                        data-testid="ide-publish-job"
                                        data-job-id=job_id.0
                                        on:click=move |_| pick(job_id)
                                    >
                                        <span class="name">{job.name}</span>
                                        <span class="id">"#" {job_id.0}</span>
                                        <span class="muted">{path}</span>
                                    </button>
                                }
                            })
                            .collect_view()}
                    </div>
                }
                .into_any(),
            ),
        }
        };
        view! {
            <label class="field">
                <span class="label">{move || t(K::IdeJobSearch)}</span>
                <input
                    class="input"
                    type="search"
                    data-testid="ide-publish-search"
                    placeholder=move || t(K::IdeJobSearchHint)
                    bind:value=query
                />
            </label>
            {results}
            <p class="muted hint-line">{move || t(K::IdePublishUpdateHint)}</p>
        }
    };
    view! {
        <Dialog testid="ide-publish-dialog" title on_close on_submit=submit>
            <div class="segmented light" role="group">
                {mode(false, K::IdePublishNew, "ide-publish-mode-new")}
                {mode(true, K::IdePublishUpdate, "ide-publish-mode-update")}
            </div>
            {move || if update.get() { existing().into_any() } else { new_job().into_any() }}
            {move || {
                invalid
                    .get()
                    .map(|key| view! { <p class="field-error" data-testid="ide-publish-invalid">{move || t(key)}</p> })
            }}
            <ActionError message=action_error(publish) />
            <DialogButtons label=K::IdePublishButton pending=publish.pending() on_close />
        </Dialog>
    }
}
