//! `/jobs/:id`: a job's definition (with Edit and Run now) and its instances with their attempts
//! and actions (rerun, force a state, cancel), live: an event for this job refetches the list.

use app::{
    api::{Event, Instance, Job},
    cron::Schedule,
    domain::DependencyWindow,
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
        error_view::{ActionError, loading},
        instance_actions::{ActionsRow, ActionsState, ActionsToggle, has_actions},
        job_editor::JobEditor,
        state_badge::StateBadge,
        table::Table,
        why_panel::{WhyRow, WhyState, WhyToggle, can_explain},
    },
    i18n::{
        K, fill, misfire_label, overlap_label, t, trigger_label, window_label, window_short_label,
    },
    pages::{BadAddress, param},
};

/// How many instances the page lists.
const INSTANCE_LIMIT: u32 = 50;

/// The job page.
#[component]
pub fn JobPage() -> impl IntoView {
    let id = param::<JobId>("id");
    move || match id.get() {
        Some(id) => view! { <JobView id /> }.into_any(),
        None => view! { <BadAddress /> }.into_any(),
    }
}

#[component]
fn JobView(id: JobId) -> impl IntoView {
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
    let instances = LocalResource::new(move || {
        live.changes.track();
        http::get::<Vec<Instance>>(format!("/api/jobs/{id}/instances?limit={INSTANCE_LIMIT}"))
    });
    let run = Action::new_local(move |()| async move {
        let instance = http::post_empty::<Instance>(format!("/api/jobs/{id}/run")).await?;
        instances.refetch();
        Ok::<_, ApiError>(instance)
    });
    let run_error = Signal::derive(move || {
        run.value().with(|v| {
            v.as_ref()
                .and_then(|r| r.as_ref().err())
                .map(ApiError::to_string)
        })
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
    let delete_error = Signal::derive(move || {
        delete.value().with(|v| {
            v.as_ref()
                .and_then(|r| r.as_ref().err())
                .map(ApiError::to_string)
        })
    });

    let loaded = move || job.get().and_then(Result::ok);
    let definition = move || {
        let job_now = loaded()?;
        Some(if editing.get() {
            view! {
                <JobEditor
                    job=job_now
                    on_saved=move |_| {
                        editing.set(false);
                        job.refetch();
                    }
                    on_cancel=move |()| editing.set(false)
                />
            }
            .into_any()
        } else {
            view! { <JobSummary job=job_now /> }.into_any()
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
                <div class="page-head">
                    <div>
                        <div class="crumbs">
                            {move || loaded().map(|job| catalog.data().folder_path(job.folder_id))}
                        </div>
                        <h1 data-testid="job-title">
                            {move || loaded().map(|job| job.name)}
                            <span class="muted">" #" {id.0}</span>
                        </h1>
                    </div>
                    <div class="actions">
                        <a class="btn" href=format!("/jobs/{id}/dag") data-testid="open-dag">
                            {move || t(K::Dag)}
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
                <Show when=move || confirming.get()>
                    <div class="card delete-confirm" data-testid="delete-job-form">
                        <div class="actions-form">
                            <span class="actions-question" data-testid="delete-job-question">
                                {move || {
                                    let name = loaded().map(|job| job.name).unwrap_or_default();
                                    fill(t(K::DeleteJobQuestion), &[("name", &name)])
                                }}
                            </span>
                            <div class="actions-buttons">
                                <button
                                    class="btn small primary danger-fill"
                                    data-testid="delete-job-confirm"
                                    disabled=move || delete.pending().get()
                                    on:click=move |_| {
                                        delete.dispatch_local(());
                                    }
                                >
                                    {move || t(K::Confirm)}
                                </button>
                                <button
                                    class="btn small"
                                    data-testid="delete-job-cancel"
                                    on:click=move |_| {
                                        confirming.set(false);
                                        delete.value().set(None);
                                    }
                                >
                                    {move || t(K::Cancel)}
                                </button>
                            </div>
                        </div>
                        <ActionError message=delete_error />
                    </div>
                </Show>
                {definition}
                <section class="card">
                    <div class="card-head">
                        <h2>{move || t(K::Instances)}</h2>
                        <LiveDot connected=live.connected />
                    </div>
                    <InstanceTable instances refetch=move || instances.refetch() />
                </section>
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
    // Each dependency with its window; the same day (the default) goes without a label.
    let dependencies: Vec<_> = job
        .dependencies
        .iter()
        .map(|id| {
            let window = job.dependency_windows.get(id).copied();
            (*id, window.unwrap_or(DependencyWindow::SameDay))
        })
        .collect();
    let deps = move || {
        if dependencies.is_empty() {
            return view! { <span class="muted">"–"</span> }.into_any();
        }
        let data = catalog.data();
        dependencies
            .iter()
            .map(|&(id, window)| {
                let name = data.job(id).map(|j| j.name.clone()).unwrap_or_default();
                let short = window_short_label(window).map(|short| {
                    view! { <span class="chip-window-view">" · " {move || t(short)}</span> }
                });
                view! {
                    <a
                        class="chip"
                        href=format!("/jobs/{id}")
                        title=move || t(window_label(window))
                        data-testid="job-dependency"
                        data-job-id=id.0
                        data-window=window.as_str()
                    >
                        {name}
                        <span class="id">"#" {id.0}</span>
                        {short}
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
    view! {
        <section class="card" data-testid="job-summary">
            {(!job.description.is_empty())
                .then(|| view! { <p class="description">{job.description.clone()}</p> })}
            <dl class="summary">
                <dt>{move || t(K::JobType)}</dt>
                <dd>{job.job_type.as_str()}</dd>
                <dt>{move || t(K::Schedule)}</dt>
                <dd>{schedule}</dd>
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
                <dd>{retries}</dd>
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

/// The instances of a job, newest first, each followed by its actions panel and its "why not
/// started" panel when open, and by its attempts.
///
/// Rows are keyed by their whole instance: a refetch rebuilds only the rows of instances that
/// changed, so an open panel (a reason being typed) stays as it is while others update.
#[component]
fn InstanceTable(
    instances: LocalResource<Result<Vec<Instance>, ApiError>>,
    #[prop(into)] refetch: Callback<()>,
) -> impl IntoView {
    let cancel = Action::new_local(move |id: &InstanceId| {
        let path = format!("/api/instances/{id}/cancel");
        async move {
            http::post_empty::<Instance>(&path).await?;
            refetch.run(());
            Ok::<_, ApiError>(())
        }
    });
    let cancel_error = Signal::derive(move || {
        cancel.value().with(|v| {
            v.as_ref()
                .and_then(|r| r.as_ref().err())
                .map(ApiError::to_string)
        })
    });
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
    let table = move || match status.get() {
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
                    children=move |instance| instance_rows(instance, cancel, why, actions, columns)
                />
            </Table>
        }
        .into_any(),
    };
    view! {
        <ActionError message=cancel_error />
        {table}
    }
}

/// The key of an instance's rows: all of it, so that any change rebuilds them.
fn row_key(instance: &Instance) -> String {
    serde_json::to_string(instance).unwrap_or_else(|_| instance.id.to_string())
}

fn instance_rows(
    instance: Instance,
    cancel: Action<InstanceId, Result<(), ApiError>>,
    why: WhyState,
    actions: ActionsState,
    columns: usize,
) -> impl IntoView {
    let id = instance.id;
    let state = instance.state;
    let can_cancel = !state.is_terminal();
    let explains = can_explain(state);
    let acts = has_actions(state);
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
                    {can_cancel
                        .then(|| {
                            view! {
                                <button
                                    class="btn small danger"
                                    data-testid="cancel-instance"
                                    disabled=move || cancel.pending().get()
                                    on:click=move |_| {
                                        cancel.dispatch_local(id);
                                    }
                                >
                                    {move || t(K::Cancel)}
                                </button>
                            }
                        })}
                    {acts.then(|| view! { <ActionsToggle id actions /> })}
                </div>
            </td>
        </tr>
        {acts.then(|| view! { <ActionsRow id state actions columns /> })}
        {explains.then(|| view! { <WhyRow id why columns /> })}
        {attempts}
    }
}
