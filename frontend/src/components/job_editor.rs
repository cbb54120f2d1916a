//! The job editor, for new jobs and for editing: definition fields, a live preview of the next
//! fire times computed in the browser by `app::cron`, a dependency picker, and the server's
//! per-field reasons from a 422 shown next to their fields.

use std::collections::BTreeMap;

use app::{
    api::{Job, JobInput},
    cron::Schedule,
    domain::JobType,
    ids::{FolderId, JobId},
};
use leptos::prelude::*;

use crate::{
    api::{
        catalog::Catalog,
        http::{self, ApiError},
    },
    browser,
    components::error_view::ActionError,
    i18n::{K, t},
};

/// The fields the editor shows a reason next to (the names `JobInput` uses).
const FIELDS: &[&str] = &[
    "name",
    "folder_id",
    "description",
    "job_type",
    "host_group",
    "script",
    "cron",
    "timezone",
    "dependencies",
    "retry_count",
    "retry_delay_secs",
    "enabled",
];

/// Time zones offered in the zone field (any IANA name may be typed).
const ZONES: &[&str] = &[
    "UTC",
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Australia/Sydney",
];

/// The editor. With `job` it edits that job (PUT), otherwise it creates one (POST) in `folder`.
#[component]
pub fn JobEditor(
    #[prop(optional)] job: Option<Job>,
    #[prop(optional_no_strip)] folder: Option<FolderId>,
    #[prop(into)] on_saved: Callback<Job>,
    #[prop(into)] on_cancel: Callback<()>,
) -> impl IntoView {
    let catalog = Catalog::current();
    let editing = job.as_ref().map(|job| job.id);
    let default_zone = browser::time_zone().unwrap_or_else(|| "UTC".to_owned());
    let name = RwSignal::new(job.as_ref().map(|j| j.name.clone()).unwrap_or_default());
    let description = RwSignal::new(
        job.as_ref()
            .map(|j| j.description.clone())
            .unwrap_or_default(),
    );
    let folder_id = RwSignal::new(job.as_ref().map(|j| j.folder_id).or(folder));
    let job_type = RwSignal::new(job.as_ref().map_or(JobType::Shell, |j| j.job_type));
    let script = RwSignal::new(job.as_ref().map(|j| j.script.clone()).unwrap_or_default());
    let cron = RwSignal::new(
        job.as_ref()
            .and_then(|j| j.cron.clone())
            .unwrap_or_default(),
    );
    let zone = RwSignal::new(job.as_ref().map_or(default_zone, |j| j.timezone.clone()));
    let dependencies = RwSignal::new(
        job.as_ref()
            .map(|j| j.dependencies.clone())
            .unwrap_or_default(),
    );
    let host_group = RwSignal::new(
        job.as_ref()
            .map_or_else(|| "default".to_owned(), |j| j.host_group.clone()),
    );
    let retry_count = RwSignal::new(job.as_ref().map_or(0, |j| j.retry_count).to_string());
    let retry_delay = RwSignal::new(job.as_ref().map_or(60, |j| j.retry_delay_secs).to_string());
    let enabled = RwSignal::new(job.as_ref().is_none_or(|j| j.enabled));

    // Reasons found before sending (empty name, bad numbers…); the server's come from `save`.
    let local_errors = RwSignal::new(BTreeMap::<String, String>::new());
    let save = Action::new_local(move |input: &JobInput| {
        let input = input.clone();
        async move {
            let job: Job = match editing {
                Some(id) => http::put(format!("/api/jobs/{id}"), &input).await?,
                None => http::post("/api/jobs", &input).await?,
            };
            catalog.refresh();
            on_saved.run(job);
            Ok::<_, ApiError>(())
        }
    });
    let errors = Memo::new(move |_| {
        let local = local_errors.get();
        if !local.is_empty() {
            return local;
        }
        save.value().with(|v| match v {
            Some(Err(err)) => err.fields(),
            _ => BTreeMap::new(),
        })
    });
    // Above the buttons: "fix the marked fields" when every reason sits next to its field,
    // otherwise the server's message.
    let general_error = Signal::derive(move || {
        let marked = |fields: &BTreeMap<String, String>| {
            !fields.is_empty() && fields.keys().all(|field| FIELDS.contains(&field.as_str()))
        };
        if local_errors.with(marked) {
            return Some(t(K::FixFields).to_owned());
        }
        save.value().with(|v| match v {
            Some(Err(err)) if marked(&err.fields()) => Some(t(K::FixFields).to_owned()),
            Some(Err(err)) => Some(err.to_string()),
            _ => None,
        })
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut problems = BTreeMap::new();
        let name = name.get_untracked().trim().to_owned();
        if name.is_empty() {
            problems.insert("name".to_owned(), t(K::Required).to_owned());
        }
        if folder_id.get_untracked().is_none() {
            problems.insert("folder_id".to_owned(), t(K::Required).to_owned());
        }
        let retry_count = retry_count.get_untracked().trim().parse::<u32>();
        let retry_delay = retry_delay.get_untracked().trim().parse::<u32>();
        for (field, ok) in [
            ("retry_count", retry_count.is_ok()),
            ("retry_delay_secs", retry_delay.is_ok()),
        ] {
            if !ok {
                problems.insert(field.to_owned(), t(K::WholeNumber).to_owned());
            }
        }
        let (Some(folder_id), Ok(retry_count), Ok(retry_delay), true) = (
            folder_id.get_untracked(),
            retry_count,
            retry_delay,
            problems.is_empty(),
        ) else {
            local_errors.set(problems);
            return;
        };
        local_errors.set(BTreeMap::new());
        let cron = Some(cron.get_untracked().trim().to_owned()).filter(|c| !c.is_empty());
        save.dispatch_local(JobInput {
            name,
            folder_id,
            job_type: job_type.get_untracked(),
            script: script.get_untracked(),
            description: Some(description.get_untracked()),
            cron,
            timezone: Some(zone.get_untracked().trim().to_owned()),
            dependencies: Some(dependencies.get_untracked()),
            host_group: Some(host_group.get_untracked().trim().to_owned()),
            retry_count: Some(retry_count),
            retry_delay_secs: Some(retry_delay),
            enabled: Some(enabled.get_untracked()),
        });
    };

    view! {
        <form class="card editor" on:submit=submit data-testid="job-editor" novalidate>
            <div class="grid-2">
                <Field label=K::Name name="name" errors=errors>
                    <input class="input" data-testid="job-name" bind:value=name />
                </Field>
                <Field label=K::Folder name="folder_id" errors=errors>
                    <select
                        class="input"
                        data-testid="job-folder"
                        on:change=move |ev| folder_id.set(event_target_value(&ev).parse().ok())
                    >
                        <option value="" selected=move || folder_id.get().is_none()>
                            {move || t(K::ChooseFolder)}
                        </option>
                        {move || {
                            catalog
                                .data()
                                .folder_choices()
                                .into_iter()
                                .map(|(id, path)| {
                                    view! {
                                        <option
                                            value=id.0
                                            selected=move || folder_id.get() == Some(id)
                                        >
                                            {path}
                                        </option>
                                    }
                                })
                                .collect_view()
                        }}
                    </select>
                </Field>
            </div>
            <Field label=K::Description name="description" errors=errors>
                <textarea
                    class="input"
                    rows="2"
                    data-testid="job-description"
                    bind:value=description
                ></textarea>
            </Field>
            <div class="grid-2">
                <Field label=K::JobType name="job_type" errors=errors>
                    <select
                        class="input"
                        data-testid="job-type"
                        on:change=move |ev| {
                            if let Ok(kind) = event_target_value(&ev).parse() {
                                job_type.set(kind);
                            }
                        }
                    >
                        {JobType::ALL
                            .iter()
                            .map(|kind| {
                                let kind = *kind;
                                view! {
                                    <option
                                        value=kind.as_str()
                                        selected=move || job_type.get() == kind
                                    >
                                        {kind.as_str()}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </Field>
                <Field label=K::HostGroup name="host_group" errors=errors>
                    <input class="input" data-testid="job-host-group" bind:value=host_group />
                </Field>
            </div>
            <Field label=K::Script name="script" errors=errors>
                <textarea
                    class="input code"
                    rows="10"
                    spellcheck="false"
                    data-testid="job-script"
                    bind:value=script
                ></textarea>
            </Field>
            <div class="grid-2">
                <Field label=K::Cron name="cron" errors=errors>
                    <input
                        class="input mono"
                        data-testid="job-cron"
                        placeholder="0 0 3 * * ?"
                        bind:value=cron
                    />
                </Field>
                <Field label=K::TimeZone name="timezone" errors=errors>
                    <input
                        class="input"
                        list="hera-zones"
                        data-testid="job-timezone"
                        bind:value=zone
                    />
                    <datalist id="hera-zones">
                        {ZONES.iter().map(|z| view! { <option value=*z></option> }).collect_view()}
                    </datalist>
                </Field>
            </div>
            <CronPreview cron=cron.into() zone=zone.into() />
            <Field label=K::Dependencies name="dependencies" errors=errors>
                <DependencyPicker selected=dependencies exclude=editing />
            </Field>
            <div class="grid-3">
                <Field label=K::RetryCount name="retry_count" errors=errors>
                    <input
                        class="input"
                        type="number"
                        min="0"
                        data-testid="job-retry-count"
                        bind:value=retry_count
                    />
                </Field>
                <Field label=K::RetryDelay name="retry_delay_secs" errors=errors>
                    <input
                        class="input"
                        type="number"
                        min="0"
                        data-testid="job-retry-delay"
                        bind:value=retry_delay
                    />
                </Field>
                <Field label=K::Enabled name="enabled" errors=errors>
                    <label class="check">
                        <input type="checkbox" data-testid="job-enabled" bind:checked=enabled />
                        {move || t(K::EnabledHint)}
                    </label>
                </Field>
            </div>
            <ActionError message=general_error />
            <div class="form-actions">
                <button
                    class="btn primary"
                    type="submit"
                    data-testid="save-job"
                    disabled=move || save.pending().get()
                >
                    {move || t(if save.pending().get() { K::Saving } else { K::Save })}
                </button>
                <button class="btn" type="button" on:click=move |_| on_cancel.run(())>
                    {move || t(K::Cancel)}
                </button>
            </div>
        </form>
    }
}

/// A labelled form field with the reason it was refused, if any.
#[component]
fn Field(
    label: K,
    name: &'static str,
    errors: Memo<BTreeMap<String, String>>,
    children: Children,
) -> impl IntoView {
    let error = move || errors.with(|e| e.get(name).cloned());
    view! {
        <div class="field" class:invalid=move || error().is_some()>
            <span class="label">{move || t(label)}</span>
            {children()}
            {move || {
                error()
                    .map(|reason| {
                        view! {
                            <span class="field-error" data-testid=format!("error-{name}")>
                                {reason}
                            </span>
                        }
                    })
            }}
        </div>
    }
}

/// The next five fire times of `cron` in `zone`, computed in the browser, or why it does not parse.
#[component]
fn CronPreview(cron: Signal<String>, zone: Signal<String>) -> impl IntoView {
    let preview = Memo::new(move |_| {
        let cron = cron.get();
        if cron.trim().is_empty() {
            return Ok(Vec::new());
        }
        let zone = zone.get();
        Schedule::parse(&cron, &zone)
            .map(|schedule| {
                schedule
                    .upcoming(browser::now(), 5)
                    .into_iter()
                    .map(|at| browser::in_zone(at, &zone))
                    .collect::<Vec<_>>()
            })
            .map_err(|err| err.to_string())
    });
    view! {
        <div class="cron-preview" data-testid="cron-preview">
            {move || match preview.get() {
                Ok(times) if times.is_empty() => {
                    view! { <p class="muted">{move || t(K::NoSchedule)}</p> }.into_any()
                }
                Ok(times) => {
                    view! {
                        <span class="label">{move || t(K::NextFireTimes)}</span>
                        <ol class="fire-times">
                            {times.into_iter().map(|time| view! { <li>{time}</li> }).collect_view()}
                        </ol>
                    }
                        .into_any()
                }
                Err(reason) => {
                    view! {
                        <p class="field-error" data-testid="cron-error">
                            {reason}
                        </p>
                    }
                        .into_any()
                }
            }}
        </div>
    }
}

/// Chips for the chosen upstream jobs, and a search (name or id) to add more.
#[component]
fn DependencyPicker(selected: RwSignal<Vec<JobId>>, exclude: Option<JobId>) -> impl IntoView {
    let catalog = Catalog::current();
    let query = RwSignal::new(String::new());
    let chips = move || {
        let data = catalog.data();
        selected
            .get()
            .into_iter()
            .map(|id| {
                let name = data
                    .job(id)
                    .map_or_else(String::new, |job| job.name.clone());
                view! {
                    <span class="chip" data-testid="dependency-chip">
                        <a href=format!("/jobs/{id}")>{name}</a>
                        <span class="id">"#" {id.0}</span>
                        <button
                            type="button"
                            class="chip-remove"
                            title=move || t(K::Remove)
                            on:click=move |_| {
                                selected.update(|ids| ids.retain(|other| *other != id));
                            }
                        >
                            "×"
                        </button>
                    </span>
                }
            })
            .collect_view()
    };
    let suggestions = move || {
        let needle = query.get().trim().to_lowercase();
        if needle.is_empty() {
            return None;
        }
        let data = catalog.data();
        let chosen = selected.get();
        let matches: Vec<_> = data
            .jobs
            .iter()
            .filter(|job| Some(job.id) != exclude && !chosen.contains(&job.id))
            .filter(|job| {
                job.name.to_lowercase().contains(&needle)
                    || needle.trim_start_matches('#') == job.id.to_string()
            })
            .take(8)
            .map(|job| {
                let id = job.id;
                let path = data.folder_path(job.folder_id);
                view! {
                    <li>
                        <button
                            type="button"
                            data-testid="dependency-option"
                            on:click=move |_| {
                                selected.update(|ids| ids.push(id));
                                query.set(String::new());
                            }
                        >
                            <span>{job.name.clone()}</span>
                            <span class="id">"#" {id.0}</span>
                            <span class="muted">{path}</span>
                        </button>
                    </li>
                }
            })
            .collect();
        Some(if matches.is_empty() {
            view! { <p class="muted suggestions-empty">{move || t(K::NoMatch)}</p> }.into_any()
        } else {
            view! { <ul class="suggestions">{matches}</ul> }.into_any()
        })
    };
    view! {
        <div class="picker">
            <div class="chips">{chips}</div>
            <input
                class="input"
                data-testid="dependency-search"
                placeholder=move || t(K::SearchJobs)
                bind:value=query
            />
            {suggestions}
        </div>
    }
}
