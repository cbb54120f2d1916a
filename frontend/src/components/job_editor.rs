//! The job editor, for new jobs and for editing: definition fields, the job's key=value configs
//! (checked as they are typed), a live preview of the next fire times computed in the browser by
//! `app::cron`, a dependency picker with each dependency's window and the self-dependency switch,
//! the execution settings (retries and their backoff, timeout, expected duration, worker slots),
//! and the server's per-field reasons from a 422 shown next to their fields.

use std::collections::BTreeMap;

use app::{
    api::{Calendar, Job, JobInput},
    cron::Schedule,
    domain::{
        CalendarMode, DependencyWindow, JobType, MisfirePolicy, OnSkip, OverlapPolicy, RetryBackoff,
    },
    ids::{CalendarId, FolderId, JobId},
};
use leptos::prelude::*;

use crate::{
    api::{
        catalog::Catalog,
        http::{self, ApiError},
    },
    browser,
    components::{
        code_editor::CodeEditor,
        configs::{ConfigsField, config_problems},
        error_view::{ActionError, form_errors},
        kv_rows::KvRows,
        render_preview::ScriptPreview,
    },
    i18n::{
        K, backoff_label, calendar_mode_label, fill, misfire_label, on_skip_label, overlap_label,
        t, window_label,
    },
};

/// The fields the editor shows a reason next to (the names `JobInput` uses).
const FIELDS: &[&str] = &[
    "name",
    "folder_id",
    "description",
    "job_type",
    "host_group",
    "script",
    "configs",
    "cron",
    "timezone",
    "dependencies",
    "dependency_windows",
    "dependency_on_skip",
    "self_dependent",
    "calendar_id",
    "calendar_mode",
    "retry_count",
    "retry_delay_secs",
    "retry_backoff",
    "retry_max_delay_secs",
    "timeout_secs",
    "expected_duration_secs",
    "slot_weight",
    "enabled",
    "priority",
    "overlap_policy",
    "misfire_policy",
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

/// An optional number of seconds as typed: empty is none, otherwise a whole number (`Err` when
/// it is not one).
fn optional_secs(text: &str) -> Result<Option<u32>, ()> {
    let text = text.trim();
    if text.is_empty() {
        Ok(None)
    } else {
        text.parse().map(Some).map_err(|_| ())
    }
}

/// A per-dependency setting (window, on-skip) of every dependency in `dependencies`: its value in
/// `chosen`, else `default` (what the editor sends: the setting of a removed dependency is dropped).
fn per_dependency<T: Copy>(
    dependencies: &[JobId],
    chosen: &BTreeMap<JobId, T>,
    default: T,
) -> BTreeMap<JobId, T> {
    dependencies
        .iter()
        .map(|id| (*id, chosen.get(id).copied().unwrap_or(default)))
        .collect()
}

/// The text of `template` before and after its `{name}` placeholder (all of it before when the
/// placeholder is missing), so that something other than text can go in between.
pub fn split_placeholder<'a>(template: &'a str, name: &str) -> (&'a str, &'a str) {
    template
        .split_once(&format!("{{{name}}}"))
        .unwrap_or((template, ""))
}

/// The syntax the script of a job type is edited in (see [`CodeEditor`]).
fn script_language(kind: JobType) -> &'static str {
    match kind {
        JobType::Shell | JobType::SparkSubmit | JobType::Http => "shell",
        JobType::Python => "python",
        JobType::Hive | JobType::SparkSql | JobType::Sql => "sql",
    }
}

/// `template` with `before` and `after` its `{jobs}` placeholder and, in between, each job as a
/// link, "name (#id)", separated as the language separates list items (test id `dependent-job`).
pub fn job_links(template: &str, jobs: Vec<(JobId, String)>) -> impl IntoView + use<> {
    let (before, after) = split_placeholder(template, "jobs");
    let (before, after) = (before.to_owned(), after.to_owned());
    let items = jobs
        .into_iter()
        .enumerate()
        .map(|(index, (id, name))| {
            let item = fill(t(K::DependentJob), &[("id", &id.to_string())]);
            let (pre, post) = split_placeholder(&item, "name");
            let (pre, post) = (pre.to_owned(), post.to_owned());
            view! {
                {(index > 0).then(|| t(K::ListSeparator))}
                {pre}
                <a href=format!("/jobs/{id}") data-testid="dependent-job" data-job-id=id.0>
                    {name}
                </a>
                {post}
            }
        })
        .collect_view();
    view! {
        {before}
        {items}
        {after}
    }
}

/// The name a copy of the job `name` starts with.
pub fn copy_name(name: &str) -> String {
    format!("{name}-copy")
}

/// The editor. With `job` it edits that job (PUT), otherwise it creates one (POST) in `folder`;
/// with `template` (and no `job`) the new job starts as a copy of that one, named
/// [`copy_name`], and a note says that its secrets are not copied.
#[component]
pub fn JobEditor(
    #[prop(optional)] job: Option<Job>,
    #[prop(optional_no_strip)] folder: Option<FolderId>,
    #[prop(optional)] template: Option<Job>,
    #[prop(into)] on_saved: Callback<Job>,
    #[prop(into)] on_cancel: Callback<()>,
) -> impl IntoView {
    let catalog = Catalog::current();
    let editing = job.as_ref().map(|job| job.id);
    // A copy is a new job prefilled with everything of its source but the name (and the secrets,
    // which cannot be read back).
    let copied_from = template
        .as_ref()
        .filter(|_| job.is_none())
        .map(|source| (source.id, source.name.clone()));
    let job = job.or_else(|| {
        template.map(|source| Job {
            name: copy_name(&source.name),
            ..source
        })
    });
    let copy_note = copied_from.map(|(id, name)| {
        view! {
            <p class="field-warning copy-note" data-testid="copy-note" data-source-id=id.0>
                {move || {
                    let note = fill(t(K::CopyNote), &[("id", &id.to_string())]);
                    let (before, after) = split_placeholder(&note, "name");
                    let (before, after) = (before.to_owned(), after.to_owned());
                    view! {
                        {before}
                        <a href=format!("/jobs/{id}")>{name.clone()}</a>
                        {after}
                    }
                }}
            </p>
        }
    });
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
    let priority = RwSignal::new(job.as_ref().map_or(3, |j| j.priority));
    let windows = RwSignal::new(
        job.as_ref()
            .map(|j| j.dependency_windows.clone())
            .unwrap_or_default(),
    );
    let on_skip = RwSignal::new(
        job.as_ref()
            .map(|j| j.dependency_on_skip.clone())
            .unwrap_or_default(),
    );
    let self_dependent = RwSignal::new(job.as_ref().is_some_and(|j| j.self_dependent));
    let calendar_id = RwSignal::new(job.as_ref().and_then(|j| j.calendar_id));
    let calendar_mode = RwSignal::new(
        job.as_ref()
            .map_or(CalendarMode::Ignore, |j| j.calendar_mode),
    );
    let overlap = RwSignal::new(
        job.as_ref()
            .map_or(OverlapPolicy::Allow, |j| j.overlap_policy),
    );
    let misfire = RwSignal::new(
        job.as_ref()
            .map_or(MisfirePolicy::FireOnceNow, |j| j.misfire_policy),
    );
    let configs = KvRows::new(job.iter().flat_map(|j| &j.configs));
    let backoff = RwSignal::new(
        job.as_ref()
            .map_or(RetryBackoff::Fixed, |j| j.retry_backoff),
    );
    let max_delay = RwSignal::new(
        job.as_ref()
            .map_or(3600, |j| j.retry_max_delay_secs)
            .to_string(),
    );
    let secs_text = |secs: Option<u32>| secs.map(|s| s.to_string()).unwrap_or_default();
    let timeout = RwSignal::new(secs_text(job.as_ref().and_then(|j| j.timeout_secs)));
    let expected = RwSignal::new(secs_text(
        job.as_ref().and_then(|j| j.expected_duration_secs),
    ));
    let slot_weight = RwSignal::new(job.as_ref().map_or(1, |j| j.slot_weight).to_string());
    // The jobs that depend on the edited one: unticking "Enabled" warns that they stop waiting.
    let dependents = Memo::new(move |_| {
        editing.map_or_else(Vec::new, |id| {
            catalog
                .data()
                .dependents(id)
                .into_iter()
                .map(|job| (job.id, job.name.clone()))
                .collect::<Vec<_>>()
        })
    });
    let disable_warning = move || {
        if enabled.get() {
            return None;
        }
        let jobs = dependents.get();
        if jobs.is_empty() {
            return None;
        }
        Some(view! {
            <p class="field-warning" data-testid="disable-warning">
                {job_links(t(K::DisableWarning), jobs)}
            </p>
        })
    };
    let row_problems = Memo::new(move |_| configs.problems(config_problems));

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
    let form = form_errors(save, local_errors, FIELDS);
    let (errors, general_error) = (form.fields, form.general);

    let configs_error = form.server_reason("configs");

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
        let max_delay = max_delay.get_untracked().trim().parse::<u32>();
        let timeout = optional_secs(&timeout.get_untracked());
        let expected = optional_secs(&expected.get_untracked());
        let slot_weight = slot_weight.get_untracked().trim().parse::<u32>();
        for (field, ok) in [
            ("retry_count", retry_count.is_ok()),
            ("retry_delay_secs", retry_delay.is_ok()),
            ("retry_max_delay_secs", max_delay.is_ok()),
            ("timeout_secs", timeout.is_ok()),
            ("expected_duration_secs", expected.is_ok()),
            ("slot_weight", slot_weight.is_ok()),
        ] {
            if !ok {
                problems.insert(field.to_owned(), t(K::WholeNumber).to_owned());
            }
        }
        if row_problems.with_untracked(|p| !p.is_empty()) {
            problems.insert("configs".to_owned(), t(K::ConfigsInvalid).to_owned());
        }
        let (
            Some(folder_id),
            Ok(retry_count),
            Ok(retry_delay),
            Ok(max_delay),
            Ok(timeout),
            Ok(expected),
            Ok(slot_weight),
            true,
        ) = (
            folder_id.get_untracked(),
            retry_count,
            retry_delay,
            max_delay,
            timeout,
            expected,
            slot_weight,
            problems.is_empty(),
        )
        else {
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
            configs: Some(configs.collect()),
            cron,
            timezone: Some(zone.get_untracked().trim().to_owned()),
            dependencies: Some(dependencies.get_untracked()),
            host_group: Some(host_group.get_untracked().trim().to_owned()),
            retry_count: Some(retry_count),
            retry_delay_secs: Some(retry_delay),
            retry_backoff: Some(backoff.get_untracked()),
            retry_max_delay_secs: Some(max_delay),
            timeout_secs: timeout,
            expected_duration_secs: expected,
            slot_weight: Some(slot_weight),
            enabled: Some(enabled.get_untracked()),
            dependency_windows: Some(dependencies.with_untracked(|deps| {
                windows.with_untracked(|w| per_dependency(deps, w, DependencyWindow::SameDay))
            })),
            dependency_on_skip: Some(dependencies.with_untracked(|deps| {
                on_skip.with_untracked(|o| per_dependency(deps, o, OnSkip::Done))
            })),
            self_dependent: Some(self_dependent.get_untracked()),
            calendar_id: calendar_id.get_untracked(),
            // Without a calendar there is nothing to filter by.
            calendar_mode: Some(if calendar_id.get_untracked().is_some() {
                calendar_mode.get_untracked()
            } else {
                CalendarMode::Ignore
            }),
            priority: Some(priority.get_untracked()),
            overlap_policy: Some(overlap.get_untracked()),
            misfire_policy: Some(misfire.get_untracked()),
        });
    };

    view! {
        <form class="card editor" on:submit=submit data-testid="job-editor" novalidate>
            {copy_note}
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
                <CodeEditor
                    value=script
                    language=Signal::derive(move || script_language(job_type.get()))
                    testid="job-script"
                />
                <ScriptPreview script zone folder=folder_id configs />
            </Field>
            <ConfigsField configs problems=row_problems error=configs_error />
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
            <CalendarFields calendar=calendar_id mode=calendar_mode errors />
            <Field
                label=K::Dependencies
                name="dependencies"
                also=&["dependency_windows", "dependency_on_skip"]
                errors=errors
            >
                <DependencyPicker selected=dependencies windows on_skip exclude=editing />
                <label class="check">
                    <input
                        type="checkbox"
                        data-testid="job-self-dependent"
                        bind:checked=self_dependent
                    />
                    {move || t(K::SelfDependentHint)}
                </label>
            </Field>
            <fieldset class="editor-section" data-testid="job-execution">
                <legend>{move || t(K::Execution)}</legend>
                <div class="grid-4">
                    <Field label=K::RetryCount name="retry_count" hint=K::RetryCountHint errors=errors>
                        <input
                            class="input"
                            type="number"
                            min="0"
                            data-testid="job-retry-count"
                            bind:value=retry_count
                        />
                    </Field>
                    <Field label=K::RetryDelay name="retry_delay_secs" hint=K::RetryDelayHint errors=errors>
                        <input
                            class="input"
                            type="number"
                            min="0"
                            data-testid="job-retry-delay"
                            bind:value=retry_delay
                        />
                    </Field>
                    <Field label=K::RetryBackoffLabel name="retry_backoff" hint=K::RetryBackoffHint errors=errors>
                        <select
                            class="input"
                            data-testid="job-retry-backoff"
                            on:change=move |ev| {
                                if let Ok(value) = event_target_value(&ev).parse() {
                                    backoff.set(value);
                                }
                            }
                        >
                            {RetryBackoff::ALL
                                .iter()
                                .map(|choice| {
                                    let choice = *choice;
                                    view! {
                                        <option value=choice.as_str() selected=move || backoff.get() == choice>
                                            {move || t(backoff_label(choice))}
                                        </option>
                                    }
                                })
                                .collect_view()}
                        </select>
                    </Field>
                    <Field label=K::RetryMaxDelay name="retry_max_delay_secs" hint=K::RetryMaxDelayHint errors=errors>
                        <input
                            class="input"
                            type="number"
                            min="0"
                            data-testid="job-retry-max-delay"
                            disabled=move || backoff.get() == RetryBackoff::Fixed
                            bind:value=max_delay
                        />
                    </Field>
                </div>
                <div class="grid-4">
                    <Field label=K::Timeout name="timeout_secs" hint=K::TimeoutHint errors=errors>
                        <input
                            class="input"
                            type="number"
                            min="1"
                            data-testid="job-timeout"
                            placeholder=move || t(K::NoLimit)
                            bind:value=timeout
                        />
                    </Field>
                    <Field
                        label=K::ExpectedDuration
                        name="expected_duration_secs"
                        hint=K::ExpectedDurationHint
                        errors=errors
                    >
                        <input
                            class="input"
                            type="number"
                            min="1"
                            data-testid="job-expected-duration"
                            placeholder=move || t(K::NoLimit)
                            bind:value=expected
                        />
                    </Field>
                    <Field label=K::SlotWeight name="slot_weight" hint=K::SlotWeightHint errors=errors>
                        <input
                            class="input"
                            type="number"
                            min="1"
                            max="64"
                            data-testid="job-slot-weight"
                            bind:value=slot_weight
                        />
                    </Field>
                    <Field label=K::Priority name="priority" hint=K::PriorityHint errors=errors>
                        <select
                            class="input"
                            data-testid="job-priority"
                            on:change=move |ev| {
                                if let Ok(value) = event_target_value(&ev).parse() {
                                    priority.set(value);
                                }
                            }
                        >
                            {(1..=5u8)
                                .rev()
                                .map(|value| {
                                    let hint = move || match value {
                                        5 => format!("{value} ({})", t(K::PriorityHigh)),
                                        1 => format!("{value} ({})", t(K::PriorityLow)),
                                        _ => value.to_string(),
                                    };
                                    view! {
                                        <option value=value.to_string() selected=move || priority.get() == value>
                                            {hint}
                                        </option>
                                    }
                                })
                                .collect_view()}
                        </select>
                    </Field>
                </div>
            </fieldset>
            <div class="grid-3">
                <Field label=K::Overlap name="overlap_policy" errors=errors>
                    <select
                        class="input"
                        data-testid="job-overlap"
                        on:change=move |ev| {
                            if let Ok(value) = event_target_value(&ev).parse() {
                                overlap.set(value);
                            }
                        }
                    >
                        {OverlapPolicy::ALL
                            .iter()
                            .map(|policy| {
                                let policy = *policy;
                                view! {
                                    <option value=policy.as_str() selected=move || overlap.get() == policy>
                                        {move || t(overlap_label(policy))}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </Field>
                <Field label=K::Misfire name="misfire_policy" errors=errors>
                    <select
                        class="input"
                        data-testid="job-misfire"
                        on:change=move |ev| {
                            if let Ok(value) = event_target_value(&ev).parse() {
                                misfire.set(value);
                            }
                        }
                    >
                        {MisfirePolicy::ALL
                            .iter()
                            .map(|policy| {
                                let policy = *policy;
                                view! {
                                    <option value=policy.as_str() selected=move || misfire.get() == policy>
                                        {move || t(misfire_label(policy))}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </Field>
                <Field label=K::Enabled name="enabled" errors=errors>
                    <label class="check">
                        <input type="checkbox" data-testid="job-enabled" bind:checked=enabled />
                        {move || t(K::EnabledHint)}
                    </label>
                    {disable_warning}
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

/// A labelled form field with the reason it was refused, if any; `also` names more request
/// fields whose reasons are shown here too (a dependency's window next to the dependencies).
#[component]
fn Field(
    label: K,
    name: &'static str,
    #[prop(optional)] also: &'static [&'static str],
    #[prop(optional)] hint: Option<K>,
    errors: Memo<BTreeMap<String, String>>,
    children: Children,
) -> impl IntoView {
    let reasons = move || {
        errors.with(|e| {
            std::iter::once(&name)
                .chain(also)
                .filter_map(|field| Some((*field, e.get(*field)?.clone())))
                .collect::<Vec<_>>()
        })
    };
    view! {
        <div class="field" class:invalid=move || !reasons().is_empty()>
            <span class="label">{move || t(label)}</span>
            {children()}
            {move || {
                reasons()
                    .into_iter()
                    .map(|(field, reason)| {
                        view! {
                            <span class="field-error" data-testid=format!("error-{field}")>
                                {reason}
                            </span>
                        }
                    })
                    .collect_view()
            }}
            {hint.map(|hint| view! { <span class="muted hint">{move || t(hint)}</span> })}
        </div>
    }
}

/// The business calendar that filters the cron slots, and how. Choosing a calendar while its mode
/// is `ignore` switches to working days (what choosing one usually means); without a calendar the
/// mode does not apply.
#[component]
fn CalendarFields(
    calendar: RwSignal<Option<CalendarId>>,
    mode: RwSignal<CalendarMode>,
    errors: Memo<BTreeMap<String, String>>,
) -> impl IntoView {
    let calendars = LocalResource::new(|| http::get::<Vec<Calendar>>("/api/calendars"));
    let choices = move || {
        let mut list = calendars.get().and_then(Result::ok).unwrap_or_default();
        list.sort_by(|a, b| a.name.cmp(&b.name));
        list.into_iter()
            .map(|cal| {
                let id = cal.id;
                view! {
                    <option value=id.0 selected=move || calendar.get() == Some(id)>
                        {cal.name}
                    </option>
                }
            })
            .collect_view()
    };
    let load_error = move || {
        calendars.get().and_then(Result::err).map(|err| {
            view! { <span class="field-error">{err.to_string()}</span> }
        })
    };
    view! {
        <div class="grid-2">
            <Field label=K::BusinessCalendar name="calendar_id" errors=errors>
                <select
                    class="input"
                    data-testid="job-calendar"
                    on:change=move |ev| {
                        let chosen = event_target_value(&ev).parse().ok();
                        if chosen.is_some() && mode.get_untracked() == CalendarMode::Ignore {
                            mode.set(CalendarMode::WorkingDays);
                        }
                        calendar.set(chosen);
                    }
                >
                    <option value="" selected=move || calendar.get().is_none()>
                        {move || t(K::NoCalendar)}
                    </option>
                    {choices}
                </select>
                {load_error}
            </Field>
            <Field label=K::CalendarModeLabel name="calendar_mode" errors=errors>
                <select
                    class="input"
                    data-testid="job-calendar-mode"
                    disabled=move || calendar.get().is_none()
                    on:change=move |ev| {
                        if let Ok(value) = event_target_value(&ev).parse() {
                            mode.set(value);
                        }
                    }
                >
                    {CalendarMode::ALL
                        .iter()
                        .map(|choice| {
                            let choice = *choice;
                            view! {
                                <option value=choice.as_str() selected=move || mode.get() == choice>
                                    {move || t(calendar_mode_label(choice))}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </Field>
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

/// Chips for the chosen upstream jobs, each with the select of its window, and a search (name or
/// id) to add more. A new dependency waits for the same day; removing one drops its window.
#[component]
fn DependencyPicker(
    selected: RwSignal<Vec<JobId>>,
    windows: RwSignal<BTreeMap<JobId, DependencyWindow>>,
    on_skip: RwSignal<BTreeMap<JobId, OnSkip>>,
    exclude: Option<JobId>,
) -> impl IntoView {
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
                let window = move || {
                    windows.with(|w| w.get(&id).copied().unwrap_or(DependencyWindow::SameDay))
                };
                let skip = move || on_skip.with(|o| o.get(&id).copied().unwrap_or(OnSkip::Done));
                view! {
                    <span class="chip" data-testid="dependency-chip" data-job-id=id.0>
                        <a href=format!("/jobs/{id}")>{name}</a>
                        <span class="id">"#" {id.0}</span>
                        <select
                            class="chip-window"
                            data-testid=format!("dep-window-{id}")
                            title=move || t(K::DepWindowHint)
                            aria-label=move || t(K::DepWindowHint)
                            on:change=move |ev| {
                                if let Ok(value) = event_target_value(&ev).parse() {
                                    windows.update(|w| {
                                        w.insert(id, value);
                                    });
                                }
                            }
                        >
                            {DependencyWindow::ALL
                                .iter()
                                .map(|choice| {
                                    let choice = *choice;
                                    view! {
                                        <option
                                            value=choice.as_str()
                                            selected=move || window() == choice
                                        >
                                            {move || t(window_label(choice))}
                                        </option>
                                    }
                                })
                                .collect_view()}
                        </select>
                        <select
                            class="chip-window"
                            data-testid=format!("dep-on-skip-{id}")
                            title=move || t(K::OnSkipHint)
                            aria-label=move || t(K::OnSkipHint)
                            on:change=move |ev| {
                                if let Ok(value) = event_target_value(&ev).parse() {
                                    on_skip.update(|o| {
                                        o.insert(id, value);
                                    });
                                }
                            }
                        >
                            {OnSkip::ALL
                                .iter()
                                .map(|choice| {
                                    let choice = *choice;
                                    view! {
                                        <option value=choice.as_str() selected=move || skip() == choice>
                                            {move || t(on_skip_label(choice))}
                                        </option>
                                    }
                                })
                                .collect_view()}
                        </select>
                        <button
                            type="button"
                            class="chip-remove"
                            data-testid="dependency-remove"
                            title=move || t(K::Remove)
                            on:click=move |_| {
                                selected.update(|ids| ids.retain(|other| *other != id));
                                windows.update(|w| {
                                    w.remove(&id);
                                });
                                on_skip.update(|o| {
                                    o.remove(&id);
                                });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn every_dependency_is_sent_with_its_setting_and_only_those() {
        let (a, b, gone) = (JobId(1), JobId(2), JobId(3));
        let windows = BTreeMap::from([
            (b, DependencyWindow::PreviousDay),
            (gone, DependencyWindow::SameHour),
        ]);
        assert_eq!(
            per_dependency(&[a, b], &windows, DependencyWindow::SameDay),
            BTreeMap::from([
                (a, DependencyWindow::SameDay),
                (b, DependencyWindow::PreviousDay)
            ])
        );
        assert!(per_dependency(&[], &windows, DependencyWindow::SameDay).is_empty());
        let skips = BTreeMap::from([(a, OnSkip::Propagate)]);
        assert_eq!(
            per_dependency(&[a, b], &skips, OnSkip::Done),
            BTreeMap::from([(a, OnSkip::Propagate), (b, OnSkip::Done)])
        );
    }

    #[test]
    fn optional_seconds_are_empty_or_a_whole_number() {
        assert_eq!(optional_secs(""), Ok(None));
        assert_eq!(optional_secs("  "), Ok(None));
        assert_eq!(optional_secs(" 90 "), Ok(Some(90)));
        assert_eq!(optional_secs("1.5"), Err(()));
        assert_eq!(optional_secs("-1"), Err(()));
    }

    #[test]
    fn splits_a_template_at_its_placeholder() {
        assert_eq!(
            split_placeholder("These: {jobs}. Done.", "jobs"),
            ("These: ", ". Done.")
        );
        assert_eq!(split_placeholder("{name} (#2)", "name"), ("", " (#2)"));
        assert_eq!(split_placeholder("no slot", "jobs"), ("no slot", ""));
    }

    #[test]
    fn a_copy_is_named_after_its_source() {
        assert_eq!(copy_name("daily-load"), "daily-load-copy");
        // Every template the copy and delete texts fill has the placeholder they split at.
        for lang in [Lang::En, Lang::Zh] {
            assert!(K::CopyNote.text(lang).contains("{name}"));
            assert!(K::DeleteDependents.text(lang).contains("{jobs}"));
            assert!(K::DisableWarning.text(lang).contains("{jobs}"));
        }
    }
}
