//! `/folders/:id`: a folder's settings. Its name and its own configs (edited like a job's, checked
//! as they are typed, the server's per-field reasons shown next to their fields), the configs it
//! inherits from the folders above (read-only, each with its folder and an "overridden" badge that
//! follows the rows being edited), its secrets, and its subfolders and jobs as links.

use std::collections::{BTreeMap, BTreeSet};

use app::{
    api::{ConfigView, ErrorDetail, Folder, FolderUpdate, InheritedConfig},
    ids::FolderId,
};
use leptos::prelude::*;

use crate::{
    api::{
        catalog::Catalog,
        http::{self, ApiError},
    },
    components::{
        configs::{ConfigsField, InheritedConfigs, config_problems},
        error_view::{ActionError, form_errors, loading},
        kv_rows::KvRows,
        secrets_card::{SecretOwner, SecretsCard},
        table::Table,
    },
    i18n::{K, t},
    pages::{BadAddress, param},
};

/// The fields the form shows a reason next to (the names `FolderUpdate` uses).
const FIELDS: &[&str] = &["name", "configs"];

/// The folder page.
#[component]
pub fn FolderPage() -> impl IntoView {
    let id = param::<FolderId>("id");
    move || match id.get() {
        Some(id) => view! { <FolderView id /> }.into_any(),
        None => view! { <BadAddress /> }.into_any(),
    }
}

/// What the page loads before it shows the form.
#[derive(Clone)]
struct Loaded {
    folder: Folder,
    configs: ConfigView,
}

async fn load(id: FolderId) -> Result<Loaded, ApiError> {
    // The configs first: for a folder that does not exist the server answers 404 with its reason.
    let configs = http::get::<ConfigView>(format!("/api/folders/{id}/configs")).await?;
    let folders = http::get::<Vec<Folder>>("/api/folders").await?;
    let folder = folders
        .into_iter()
        .find(|folder| folder.id == id)
        .ok_or_else(|| ApiError::Server {
            status: 404,
            detail: ErrorDetail {
                code: "not_found".to_owned(),
                message: format!("folder {id} does not exist"),
                fields: None,
            },
        })?;
    Ok(Loaded { folder, configs })
}

#[component]
fn FolderView(id: FolderId) -> impl IntoView {
    let catalog = Catalog::current();
    let loaded = LocalResource::new(move || load(id));
    // The name in the heading follows the catalogue, which a save refreshes.
    let title = move || {
        let data = catalog.data();
        data.folders
            .iter()
            .find(|f| f.id == id)
            .map(|f| f.name.clone())
            .or_else(|| loaded.get().and_then(Result::ok).map(|l| l.folder.name))
            .unwrap_or_default()
    };
    let crumbs = move || {
        let data = catalog.data();
        let parent = data.folders.iter().find(|f| f.id == id)?.parent_id?;
        Some(data.folder_path(parent))
    };
    let body = move || match loaded.get() {
        None => loading().into_any(),
        Some(Err(err)) => view! {
            <div class="alert error" role="alert" data-testid="load-error">
                {err.to_string()}
            </div>
        }
        .into_any(),
        Some(Ok(Loaded { folder, configs })) => view! {
            <FolderForm folder own=configs.own inherited=configs.inherited />
            <SecretsCard owner=SecretOwner::Folder(id) />
            <FolderContents id />
        }
        .into_any(),
    };
    view! {
        <div class="page" data-testid="folder-page" data-folder-id=id.0>
            <div class="page-head">
                <div>
                    <div class="crumbs">{crumbs}</div>
                    <h1 data-testid="folder-title">
                        <span class="icon folder-icon title-icon"></span>
                        {title}
                        <span class="muted">" #" {id.0}</span>
                    </h1>
                </div>
                <div class="actions wrap">
                    <a
                        class="btn"
                        href=format!("/jobs/new?folder={id}")
                        data-testid="folder-new-job"
                    >
                        {move || t(K::NewJobHere)}
                    </a>
                </div>
            </div>
            {body}
        </div>
    }
}

/// The settings form (name and own configs) and, below it, what the folder inherits.
#[component]
fn FolderForm(
    folder: Folder,
    own: BTreeMap<String, String>,
    inherited: Vec<InheritedConfig>,
) -> impl IntoView {
    let catalog = Catalog::current();
    let id = folder.id;
    let name = RwSignal::new(folder.name);
    let configs = KvRows::new(&own);
    let row_problems = Memo::new(move |_| configs.problems(config_problems));
    let own_keys = Signal::derive(move || {
        configs.rows.with(|rows| {
            rows.iter()
                .map(|row| row.key.with(|key| key.trim().to_owned()))
                .filter(|key| !key.is_empty())
                .collect::<BTreeSet<_>>()
        })
    });
    let saved = RwSignal::new(false);
    let local_errors = RwSignal::new(BTreeMap::<String, String>::new());
    let save = Action::new_local(move |body: &FolderUpdate| {
        let body = body.clone();
        async move {
            http::put::<_, Folder>(format!("/api/folders/{id}"), &body).await?;
            catalog.refresh();
            saved.set(true);
            Ok::<_, ApiError>(())
        }
    });
    // (A sibling with the same name is a 409: its message shows above the button.)
    let form = form_errors(save, local_errors, FIELDS);
    let (errors, general_error) = (form.fields, form.general);
    let name_error = Signal::derive(move || errors.with(|e| e.get("name").cloned()));
    let configs_error = form.server_reason("configs");
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saved.set(false);
        save.value().set(None);
        let name = name.get_untracked().trim().to_owned();
        let mut problems = BTreeMap::new();
        if name.is_empty() {
            problems.insert("name".to_owned(), t(K::Required).to_owned());
        }
        if row_problems.with_untracked(|p| !p.is_empty()) {
            problems.insert("configs".to_owned(), t(K::ConfigsInvalid).to_owned());
        }
        let blocked = !problems.is_empty();
        local_errors.set(problems);
        if !blocked {
            save.dispatch_local(FolderUpdate {
                name,
                configs: configs.collect(),
            });
        }
    };
    view! {
        <form class="card editor" data-testid="folder-editor" novalidate on:submit=submit>
            <div class="card-head">
                <h2>{move || t(K::FolderSettings)}</h2>
            </div>
            <div class="grid-2">
                <div class="field" class:invalid=move || name_error.with(Option::is_some)>
                    <span class="label">{move || t(K::FolderName)}</span>
                    <input class="input" data-testid="folder-name" bind:value=name />
                    {move || {
                        name_error
                            .get()
                            .map(|reason| {
                                view! {
                                    <span class="field-error" data-testid="error-name">
                                        {reason}
                                    </span>
                                }
                            })
                    }}
                </div>
            </div>
            <ConfigsField
                configs
                problems=row_problems
                error=configs_error
                hint=K::FolderConfigsHint
            />
            <ActionError message=general_error />
            <div class="form-actions">
                <button
                    class="btn primary"
                    type="submit"
                    data-testid="save-folder"
                    disabled=move || save.pending().get()
                >
                    {move || t(if save.pending().get() { K::Saving } else { K::Save })}
                </button>
                <Show when=move || saved.get()>
                    <span class="notice" data-testid="folder-saved">
                        {move || t(K::FolderSaved)}
                    </span>
                </Show>
            </div>
        </form>
        <section class="card" data-testid="folder-inherited">
            <div class="card-head">
                <h2>{move || t(K::InheritedConfigs)}</h2>
            </div>
            <p class="muted hint-line">{move || t(K::InheritedConfigsHint)}</p>
            <InheritedConfigs inherited own=own_keys />
        </section>
    }
}

/// The folder's subfolders and jobs, as links; they follow the catalogue.
#[component]
fn FolderContents(id: FolderId) -> impl IntoView {
    let catalog = Catalog::current();
    let subfolders = move || {
        let data = catalog.data();
        let list = data.subfolders(Some(id));
        (!list.is_empty()).then(|| {
            let chips = list
                .into_iter()
                .map(|folder| {
                    view! {
                        <a
                            class="chip"
                            href=format!("/folders/{}", folder.id)
                            data-testid="folder-subfolder"
                        >
                            <span class="icon folder-icon"></span>
                            {folder.name.clone()}
                        </a>
                    }
                })
                .collect_view();
            view! {
                <div class="folder-subfolders">
                    <span class="label">{move || t(K::Subfolders)}</span>
                    <div class="chips">{chips}</div>
                </div>
            }
        })
    };
    let jobs = move || {
        let data = catalog.data();
        let list = data.jobs_in(id);
        let empty = list.is_empty();
        let rows = list
            .into_iter()
            .map(|job| {
                let schedule = match &job.cron {
                    Some(cron) => view! {
                        <code>{cron.clone()}</code>
                        <span class="muted">" · " {job.timezone.clone()}</span>
                    }
                    .into_any(),
                    None => view! { <span class="muted">"–"</span> }.into_any(),
                };
                let enabled = if job.enabled { K::Yes } else { K::No };
                let paused = job.paused.then(|| {
                    view! { <span class="badge state-paused">{move || t(K::StPaused)}</span> }
                });
                view! {
                    <tr data-testid="folder-job" data-job-id=job.id.0>
                        <td>
                            <a href=format!("/jobs/{}", job.id) data-testid="folder-job-link">
                                {job.name.clone()}
                            </a>
                            <span class="muted">" #" {job.id.0}</span>
                        </td>
                        <td>{job.job_type.as_str()}</td>
                        <td>{schedule}</td>
                        <td>{move || t(enabled)} " " {paused}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <Table
                headers=vec![K::Name, K::JobType, K::Schedule, K::Enabled]
                empty
                empty_text=K::FolderJobsNone
                testid="folder-jobs-table"
            >
                {rows}
            </Table>
        }
    };
    view! {
        <section class="card" data-testid="folder-jobs">
            <div class="card-head">
                <h2>{move || t(K::FolderJobs)}</h2>
            </div>
            {subfolders}
            {jobs}
        </section>
    }
}
