//! `/jobs/:id`: a job's definition (Edit, Copy, Run now, Run with parameters, Pause / Resume with
//! a "paused since" badge, Backfill…, Delete, whose confirmation lists the jobs that depend on it),
//! its instances as a month calendar where a click selects one (`?instance=N` selects it from a
//! link) and shows its parameters, "why not started" answer, actions and attempts, the latest
//! instances as a list, the job's secrets, and the job's activity (audit trail). Live: an event
//! for this job refetches the list, and (at most every second) the calendar, the selected instance
//! and the activity.

use std::time::Duration;

use app::{
    api::{ActionReason, Calendar, Event, Instance, Job, RunRequest},
    cron::Schedule,
    domain::{DependencyWindow, OnSkip, RetryBackoff},
    ids::{InstanceId, JobId},
};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::{
    api::{
        catalog::Catalog,
        http::{self, ApiError},
        ws::watch_events,
    },
    browser,
    components::{
        audit_list::AuditList,
        confirm::ConfirmCard,
        error_view::{ActionError, action_error, loading},
        instance_actions::{ActionsRow, ActionsState, ActionsToggle},
        instance_calendar::{InstanceCalendar, SelectedInstance},
        job_editor::{JobEditor, job_links},
        month::Month,
        run_dialog::{RunDialog, run_job},
        secrets_card::{SecretOwner, SecretsCard},
        state_badge::StateBadge,
        table::Table,
        why_panel::{WhyRow, WhyState, WhyToggle, can_explain},
    },
    i18n::{
        K, calendar_mode_label, fill, misfire_label, overlap_label, t, trigger_label, window_label,
        window_short_label,
    },
    pages::{BadAddress, param, query},
};

/// How many instances the page lists.
const INSTANCE_LIMIT: u32 = 50;

/// The job page; `?instance=N` selects that instance.
#[component]
pub fn JobPage() -> impl IntoView {
    let id = param::<JobId>("id");
    let wanted = query::<InstanceId>("instance");
    move || match id.get() {
        Some(id) => view! { <JobView id wanted /> }.into_any(),
        None => view! { <BadAddress /> }.into_any(),
    }
}

#[component]
fn JobView(id: JobId, wanted: Memo<Option<InstanceId>>) -> impl IntoView {
    let job = LocalResource::new(move || http::get::<Job>(format!("/api/jobs/{id}")));
    let editing = RwSignal::new(false);
    // While the job is being deleted its instance list is not reloaded: the deletion's own events
    // (its waiting instances are cancelled) would otherwise ask for a job that is gone.
    let deleting = RwSignal::new(false);
    let live = watch_events(move |event| match event {
        Event::Instance { job_id, .. } | Event::Attempt { job_id, .. } => {
            *job_id == id && !deleting.get_untracked()
        }
        _ => false,
    });
    // The calendar, the selected instance and the activity follow events at most once a second.
    let calmly = live.throttled(Duration::from_secs(1));
    // Moves after the user's own actions, which the activity lists.
    let acted = RwSignal::new(0u64);
    let activity = Signal::derive(move || calmly.changes.get() + acted.get());
    let instances = LocalResource::new(move || {
        live.changes.track();
        http::get::<Vec<Instance>>(format!("/api/jobs/{id}/instances?limit={INSTANCE_LIMIT}"))
    });
    let selected = RwSignal::new(None::<InstanceId>);
    Effect::new(move |_| {
        if let Some(instance) = wanted.get() {
            selected.set(Some(instance));
        }
    });
    // The month the calendar shows; it sets it to this month of the job's zone.
    let month = RwSignal::new(Month::of(browser::today()));
    let after_action = move || {
        instances.refetch();
        acted.update(|n| *n += 1);
    };
    let after_run = move |instance: Instance| {
        after_action();
        selected.set(Some(instance.id));
    };

    // Run now, and run with parameters (a dialog).
    let run = Action::new_local(move |()| async move {
        let instance = run_job(id, &RunRequest::default()).await?;
        after_run(instance);
        Ok::<_, ApiError>(())
    });
    let run_error = action_error(run);
    let run_dialog = RwSignal::new(false);

    // Pause / resume: asks first, with an optional reason.
    let confirming_pause = RwSignal::new(false);
    let pause_reason = RwSignal::new(String::new());
    let set_paused = Action::new_local(move |pause: &bool| {
        let path = format!("/api/jobs/{id}/{}", if *pause { "pause" } else { "resume" });
        let reason = Some(pause_reason.get_untracked().trim().to_owned()).filter(|r| !r.is_empty());
        async move {
            http::post::<_, Job>(path, &ActionReason { reason }).await?;
            confirming_pause.set(false);
            pause_reason.set(String::new());
            job.refetch();
            acted.update(|n| *n += 1);
            Ok::<_, ApiError>(())
        }
    });

    // Delete: asks first; a 409 (other jobs depend on it) shows the server's message in place.
    let catalog = Catalog::current();
    let navigate = use_navigate();
    let confirming = RwSignal::new(false);
    let delete = Action::new_local(move |()| {
        let navigate = navigate.clone();
        async move {
            deleting.set(true);
            if let Err(err) = http::delete(format!("/api/jobs/{id}")).await {
                deleting.set(false);
                instances.refetch();
                return Err(err);
            }
            catalog.refresh();
            navigate("/", Default::default());
            Ok::<_, ApiError>(())
        }
    });

    // The jobs that depend on this one (from the catalogue, as the editor's disable warning):
    // the delete confirmation lists them. `None` while the catalogue loads.
    let dependents = Memo::new(move |_| {
        (!catalog.loading()).then(|| {
            catalog
                .data()
                .dependents(id)
                .into_iter()
                .map(|job| (job.id, job.name.clone()))
                .collect::<Vec<_>>()
        })
    });
    let delete_impact = move || {
        dependents.get().map(|jobs| {
            if jobs.is_empty() {
                view! {
                    <p class="muted confirm-impact" data-testid="delete-no-dependents">
                        {move || t(K::DeleteNoDependents)}
                    </p>
                }
                .into_any()
            } else {
                view! {
                    <p class="field-warning confirm-impact" data-testid="delete-dependents">
                        {move || job_links(t(K::DeleteDependents), jobs.clone())}
                    </p>
                }
                .into_any()
            }
        })
    };

    let loaded = move || job.get().and_then(Result::ok);
    let paused = Memo::new(move |_| loaded().is_some_and(|job| job.paused));
    let zone = Memo::new(move |_| loaded().map(|job| job.timezone));
    let name = move || loaded().map(|job| job.name).unwrap_or_default();
    let definition = move || {
        let job_now = loaded()?;
        Some(if editing.get() {
            view! {
                <JobEditor
                    job=job_now
                    on_saved=move |_| {
                        editing.set(false);
                        job.refetch();
                        acted.update(|n| *n += 1);
                    }
                    on_cancel=move |()| editing.set(false)
                />
            }
            .into_any()
        } else {
            view! { <JobSummary job=job_now /> }.into_any()
        })
    };
    let paused_badge = move || {
        let job = loaded().filter(|job| job.paused)?;
        let since = job.paused_at.map(browser::local);
        Some(view! {
            <span class="badge state-paused paused-badge" data-testid="paused-badge">
                {move || match &since {
                    Some(at) => fill(t(K::PausedSince), &[("at", at)]),
                    None => t(K::StPaused).to_owned(),
                }}
            </span>
        })
    };
    let calendar = move || {
        zone.get().map(|zone| {
            view! {
                <section class="card" data-testid="instance-calendar">
                    <InstanceCalendar
                        job=id
                        zone
                        month
                        selected
                        refresh=calmly.changes
                    />
                </section>
            }
        })
    };
    let selection = move || match (selected.get(), zone.get()) {
        (Some(instance), Some(zone)) => view! {
            <SelectedInstance
                id=instance
                zone
                month
                refresh=calmly.changes
                on_changed=move |()| after_action()
                on_close=move |()| selected.set(None)
            />
        }
        .into_any(),
        _ => view! { <p class="muted hint-line">{move || t(K::PickInstanceHint)}</p> }.into_any(),
    };
    let dialog = move || {
        run_dialog.get().then(loaded).flatten().map(|job| {
            view! {
                <RunDialog
                    job=id
                    name=job.name
                    zone=job.timezone
                    on_done=move |instance| {
                        run_dialog.set(false);
                        after_run(instance);
                    }
                    on_close=move |()| run_dialog.set(false)
                />
            }
        })
    };

    view! {
        <div class="page">
            {move || match job.get() {
                None => Some(loading().into_any()),
                Some(Err(err)) => {
                    Some(
                        view! {
                            <div class="alert error" role="alert" data-testid="load-error">
                                {err.to_string()}
                            </div>
                        }
                            .into_any(),
                    )
                }
                Some(Ok(_)) => None,
            }}
            <Show when=move || loaded().is_some()>
                <div class="page-head job-head">
                    <div>
                        <div class="crumbs">
                            {move || loaded().map(|job| catalog.data().folder_path(job.folder_id))}
                        </div>
                        <h1 data-testid="job-title">
                            {name}
                            <span class="muted">" #" {id.0}</span>
                            {paused_badge}
                        </h1>
                    </div>
                    <div class="actions wrap">
                        <a class="btn" href=format!("/jobs/{id}/dag") data-testid="open-dag">
                            {move || t(K::Dag)}
                        </a>
                        <a
                            class="btn"
                            href=format!("/backfills/new?job={id}")
                            data-testid="open-backfill"
                        >
                            {move || t(K::BackfillLink)}
                        </a>
                        <button
                            class="btn"
                            data-testid="edit-job"
                            disabled=move || editing.get()
                            on:click=move |_| editing.set(true)
                        >
                            {move || t(K::Edit)}
                        </button>
                        <button
                            class="btn"
                            data-testid="pause-job"
                            data-paused=move || paused.get().to_string()
                            disabled=move || confirming_pause.get()
                            on:click=move |_| {
                                set_paused.value().set(None);
                                confirming_pause.set(true);
                            }
                        >
                            {move || t(if paused.get() { K::Resume } else { K::Pause })}
                        </button>
                        <a class="btn" href=format!("/jobs/new?copy={id}") data-testid="copy-job">
                            {move || t(K::CopyJob)}
                        </a>
                        <button
                            class="btn"
                            data-testid="run-with-params"
                            on:click=move |_| run_dialog.set(true)
                        >
                            {move || t(K::RunWithParams)}
                        </button>
                        <button
                            class="btn primary"
                            data-testid="run-now"
                            disabled=move || run.pending().get()
                            on:click=move |_| {
                                run.dispatch_local(());
                            }
                        >
                            {move || t(K::RunNow)}
                        </button>
                        <button
                            class="btn danger"
                            data-testid="delete-job"
                            disabled=move || confirming.get()
                            on:click=move |_| confirming.set(true)
                        >
                            {move || t(K::DeleteJob)}
                        </button>
                    </div>
                </div>
                <ActionError message=run_error />
                <Show when=move || confirming_pause.get()>
                    <ConfirmCard
                        testid="pause-job"
                        question=Signal::derive(move || {
                            let question = if paused.get() {
                                K::ResumeQuestion
                            } else {
                                K::PauseQuestion
                            };
                            fill(t(question), &[("name", &name())])
                        })
                        reason=pause_reason
                        pending=set_paused.pending()
                        error=action_error(set_paused)
                        on_confirm=move |()| {
                            set_paused.dispatch_local(!paused.get_untracked());
                        }
                        on_cancel=move |()| confirming_pause.set(false)
                    />
                </Show>
                <Show when=move || confirming.get()>
                    <ConfirmCard
                        testid="delete-job"
                        danger=true
                        question=Signal::derive(move || {
                            fill(t(K::DeleteJobQuestion), &[("name", &name())])
                        })
                        pending=delete.pending()
                        error=action_error(delete)
                        on_confirm=move |()| {
                            delete.dispatch_local(());
                        }
                        on_cancel=move |()| {
                            confirming.set(false);
                            delete.value().set(None);
                        }
                    >
                        {delete_impact}
                    </ConfirmCard>
                </Show>
                {definition}
                {calendar}
                {selection}
                <section class="card">
                    <div class="card-head">
                        <h2>{move || t(K::RecentInstances)}</h2>
                        <LiveDot connected=live.connected />
                    </div>
                    <InstanceTable instances refetch=move || after_action() />
                </section>
                <SecretsCard owner=SecretOwner::Job(id) />
                <section class="card" data-testid="job-activity">
                    <div class="card-head">
                        <h2>{move || t(K::Activity)}</h2>
                    </div>
                    <AuditList filter=format!("job_id={id}") refresh=activity />
                </section>
                {dialog}
            </Show>
        </div>
    }
}

/// A dot that says whether live updates are flowing.
#[component]
pub fn LiveDot(connected: ReadSignal<bool>) -> impl IntoView {
    view! {
        <span
            class="live-dot"
            class:live=move || connected.get()
            class:reconnecting=move || !connected.get()
            data-testid="live"
        >
            {move || t(if connected.get() { K::LogLive } else { K::LogReconnecting })}
        </span>
    }
}

#[component]
fn JobSummary(job: Job) -> impl IntoView {
    let catalog = Catalog::current();
    let schedule = match &job.cron {
        Some(cron) => {
            let next = Schedule::parse(cron, &job.timezone)
                .ok()
                .and_then(|s| s.next_after(browser::now()))
                .map(|at| browser::in_zone(at, &job.timezone));
            let zone = job.timezone.clone();
            view! {
                <code>{cron.clone()}</code>
                " · "
                {zone}
                {next
                    .map(|next| {
                        view! { <span class="muted">" · " {move || t(K::Next)} " " {next}</span> }
                    })}
            }
            .into_any()
        }
        None => view! { <span class="muted">{move || t(K::NoSchedule)}</span> }.into_any(),
    };
    // Each dependency with its window and what a skipped instance of it means; the defaults (the
    // same day, counts as done) go without a label.
    let dependencies: Vec<_> = job
        .dependencies
        .iter()
        .map(|id| {
            let window = job.dependency_windows.get(id).copied();
            let on_skip = job.dependency_on_skip.get(id).copied();
            (
                *id,
                window.unwrap_or(DependencyWindow::SameDay),
                on_skip.unwrap_or(OnSkip::Done),
            )
        })
        .collect();
    let deps = move || {
        if dependencies.is_empty() {
            return view! { <span class="muted">"–"</span> }.into_any();
        }
        let data = catalog.data();
        dependencies
            .iter()
            .map(|&(id, window, on_skip)| {
                let name = data.job(id).map(|j| j.name.clone()).unwrap_or_default();
                let short = window_short_label(window).map(|short| {
                    view! { <span class="chip-window-view">" · " {move || t(short)}</span> }
                });
                let propagates = (on_skip == OnSkip::Propagate).then(|| {
                    view! {
                        <span class="chip-window-view">
                            " · "
                            {move || t(K::OnSkipShortPropagate)}
                        </span>
                    }
                });
                view! {
                    <a
                        class="chip"
                        href=format!("/jobs/{id}")
                        title=move || t(window_label(window))
                        data-testid="job-dependency"
                        data-job-id=id.0
                        data-window=window.as_str()
                        data-on-skip=on_skip.as_str()
                    >
                        {name}
                        <span class="id">"#" {id.0}</span>
                        {short}
                        {propagates}
                    </a>
                }
            })
            .collect_view()
            .into_any()
    };
    let configs = if job.configs.is_empty() {
        view! { <span class="muted">"–"</span> }.into_any()
    } else {
        job.configs
            .iter()
            .map(|(key, value)| {
                view! {
                    <div class="config" data-testid="job-config" data-key=key.clone()>
                        <span class="config-key">{key.clone()}</span>
                        <span class="config-eq">" = "</span>
                        <span class="config-value">{value.clone()}</span>
                    </div>
                }
            })
            .collect_view()
            .into_any()
    };
    let enabled = if job.enabled { K::Yes } else { K::No };
    let retries = format!("{} × {}s", job.retry_count, job.retry_delay_secs);
    let backoff =
        (job.retry_backoff == RetryBackoff::Exponential).then_some(job.retry_max_delay_secs);
    let retries = move || match backoff {
        Some(max) => format!(
            "{retries} · {}",
            fill(t(K::BackoffUpTo), &[("max", &max.to_string())])
        ),
        None => retries.clone(),
    };
    let (timeout, expected, slots) = (
        job.timeout_secs,
        job.expected_duration_secs,
        job.slot_weight,
    );
    let execution = move || {
        let secs = |secs: Option<u32>| {
            secs.map_or_else(
                || t(K::NoLimit).to_owned(),
                |s| browser::duration(chrono::TimeDelta::seconds(s.into())),
            )
        };
        format!(
            "{} {} · {} {} · {}",
            t(K::TimeoutView),
            secs(timeout),
            t(K::ExpectedView),
            secs(expected),
            fill(t(K::SlotsTaken), &[("n", &slots.to_string())]),
        )
    };
    let (overlap, misfire) = (
        overlap_label(job.overlap_policy),
        misfire_label(job.misfire_policy),
    );
    let policies = move || {
        format!(
            "{}: {} · {}: {}",
            t(K::Overlap),
            t(overlap),
            t(K::Misfire),
            t(misfire)
        )
    };
    let calendar = job.calendar_id.map(|calendar| {
        let named =
            LocalResource::new(move || http::get::<Calendar>(format!("/api/calendars/{calendar}")));
        let mode = calendar_mode_label(job.calendar_mode);
        view! {
            <dt>{move || t(K::BusinessCalendar)}</dt>
            <dd data-testid="job-calendar-view" data-mode=job.calendar_mode.as_str()>
                <a href=format!("/calendars/{calendar}")>
                    {move || {
                        named
                            .get()
                            .and_then(Result::ok)
                            .map_or_else(|| format!("#{calendar}"), |c| c.name)
                    }}
                </a>
                " · "
                {move || t(mode)}
            </dd>
        }
    });
    view! {
        <section class="card" data-testid="job-summary">
            {(!job.description.is_empty())
                .then(|| view! { <p class="description">{job.description.clone()}</p> })}
            <dl class="summary">
                <dt>{move || t(K::JobType)}</dt>
                <dd>{job.job_type.as_str()}</dd>
                <dt>{move || t(K::Schedule)}</dt>
                <dd>{schedule}</dd>
                {calendar}
                <dt>{move || t(K::Dependencies)}</dt>
                <dd class="chips" data-testid="job-dependencies">
                    {deps}
                </dd>
                {job
                    .self_dependent
                    .then(|| {
                        view! {
                            <dt>{move || t(K::SelfDependent)}</dt>
                            <dd data-testid="job-self-dependent-view">{move || t(K::Yes)}</dd>
                        }
                    })}
                <dt>{move || t(K::Configs)}</dt>
                <dd class="configs-view" data-testid="job-configs">
                    {configs}
                </dd>
                <dt>{move || t(K::HostGroup)}</dt>
                <dd>{job.host_group.clone()}</dd>
                <dt>{move || t(K::Retries)}</dt>
                <dd data-testid="job-retries-view">{retries}</dd>
                <dt>{move || t(K::Execution)}</dt>
                <dd
                    data-testid="job-execution-view"
                    data-timeout=timeout.map(|s| s.to_string()).unwrap_or_default()
                >
                    {execution}
                </dd>
                <dt>{move || t(K::Priority)}</dt>
                <dd data-testid="job-priority-view">{job.priority}</dd>
                <dt>{move || t(K::Policies)}</dt>
                <dd data-testid="job-policies">{policies}</dd>
                <dt>{move || t(K::Enabled)}</dt>
                <dd>{move || t(enabled)}</dd>
                <dt>{move || t(K::Owner)}</dt>
                <dd>{job.owner.clone()}</dd>
                <dt>{move || t(K::Version)}</dt>
                <dd>{job.version} " · " {browser::local(job.updated_at)}</dd>
            </dl>
            <details class="script" open>
                <summary>{move || t(K::Script)}</summary>
                <pre class="code" data-testid="job-script-view">{job.script.clone()}</pre>
            </details>
        </section>
    }
}

/// The latest instances of a job, newest first, each followed by its actions panel and its "why
/// not started" panel when open, and by its attempts.
///
/// Rows are keyed by their whole instance: a refetch rebuilds only the rows of instances that
/// changed, so an open panel (a reason being typed) stays as it is while others update.
#[component]
fn InstanceTable(
    instances: LocalResource<Result<Vec<Instance>, ApiError>>,
    #[prop(into)] refetch: Callback<()>,
) -> impl IntoView {
    let headers = vec![
        K::Instance,
        K::BusinessTime,
        K::Trigger,
        K::State,
        K::Worker,
        K::ExitCode,
        K::Started,
        K::Finished,
        K::Duration,
        K::Empty,
    ];
    let columns = headers.len();
    // Outside the rows: open panels stay open.
    let why = WhyState::new();
    let actions = ActionsState::new(refetch);
    // Every answer of the list (even an unchanged one) makes the open "Why?" panels ask again.
    Effect::new(move |_| {
        if instances.with(Option::is_some) {
            why.refresh();
        }
    });
    // Loading, failed, or loaded (and then the table stays while the list changes).
    let status = Memo::new(move |_| {
        instances.with(|answer| {
            answer
                .as_ref()
                .map(|result| result.as_ref().map(|_| ()).map_err(ApiError::clone))
        })
    });
    let list = move || {
        instances.with(|answer| match answer {
            Some(Ok(list)) => list.clone(),
            _ => Vec::new(),
        })
    };
    let empty = Signal::derive(move || {
        instances.with(|answer| matches!(answer, Some(Ok(list)) if list.is_empty()))
    });
    move || match status.get() {
        None => loading().into_any(),
        Some(Err(err)) => view! {
            <div class="alert error" role="alert" data-testid="load-error">
                <strong>{move || t(K::LoadFailed)}</strong>
                " "
                {err.to_string()}
            </div>
        }
        .into_any(),
        Some(Ok(())) => view! {
            <Table headers=headers.clone() empty empty_text=K::NoInstances testid="instances">
                <For
                    each=list
                    key=row_key
                    children=move |instance| instance_rows(instance, why, actions, columns)
                />
            </Table>
        }
        .into_any(),
    }
}

/// The key of an instance's rows: all of it, so that any change rebuilds them.
fn row_key(instance: &Instance) -> String {
    serde_json::to_string(instance).unwrap_or_else(|_| instance.id.to_string())
}

fn instance_rows(
    instance: Instance,
    why: WhyState,
    actions: ActionsState,
    columns: usize,
) -> impl IntoView {
    let id = instance.id;
    let state = instance.state;
    let explains = can_explain(state);
    let attempts = instance
        .attempts
        .iter()
        .rev()
        .map(|attempt| {
            let log = format!("/attempts/{}/log?instance={id}", attempt.id);
            view! {
                <tr class="attempt-row" data-testid="attempt-row" data-instance-id=id.0>
                    <td class="indent">{move || t(K::Attempt)} " " {attempt.number}</td>
                    <td></td>
                    <td>{trigger_label(attempt.trigger)}</td>
                    <td>
                        <StateBadge state=attempt.state />
                    </td>
                    <td>{attempt.worker_name.clone().unwrap_or_default()}</td>
                    <td class="mono">{attempt.exit_code.map(|c| c.to_string())}</td>
                    <td>{browser::local_short(attempt.started_at)}</td>
                    <td>{browser::local_short(attempt.finished_at)}</td>
                    <td>{browser::elapsed(attempt.started_at, attempt.finished_at)}</td>
                    <td>
                        <a href=log data-testid="attempt-log-link">
                            {move || t(K::Log)}
                        </a>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <tr
            class="instance-row"
            data-testid="instance-row"
            data-instance-id=id.0
            data-attempts=instance.attempts.len()
        >
            <td class="mono">"#" {id.0}</td>
            <td>{browser::local_short(Some(instance.scheduled_at))}</td>
            <td>{trigger_label(instance.trigger)}</td>
            <td>
                <StateBadge state />
            </td>
            <td colspan="2" class="muted reason" data-testid="instance-reason">
                {instance.reason.clone()}
            </td>
            <td>{browser::local_short(instance.started_at)}</td>
            <td>{browser::local_short(instance.finished_at)}</td>
            <td>{browser::elapsed(instance.started_at, instance.finished_at)}</td>
            <td>
                <div class="row-actions">
                    {explains.then(|| view! { <WhyToggle id why /> })}
                    <ActionsToggle id actions />
                </div>
            </td>
        </tr>
        <ActionsRow id state actions columns />
        {explains.then(|| view! { <WhyRow id why columns /> })}
        {attempts}
    }
}
