//! `/workers`: the cluster: every worker, its host group, whether it is connected or draining, its
//! slots, sparklines of its recent load, the attempts it runs, and Drain / Undrain; below, the
//! queue of instances waiting for a worker slot and why. Live on worker events, and refreshed
//! every [`REFRESH`] for the load history and the queue.

use std::time::Duration;

use app::{
    api::{Drain, Event, LOAD_HISTORY_LEN, QueueView, QueuedInstance, RunningAttempt, Worker},
    ids::WorkerId,
};
use leptos::prelude::*;

use crate::{
    api::{
        http::{self, ApiError},
        ws::watch_events,
    },
    browser,
    components::{
        confirm::ConfirmCard,
        error_view::{action_error, error_fallback, loading},
        sparkline::Sparkline,
        state_badge::{StateBadge, StateName},
        table::Table,
    },
    i18n::{K, fill, t},
    pages::job::LiveDot,
};

/// How often the page fetches the workers and the queue again (the workers' heartbeat period).
const REFRESH: Duration = Duration::from_secs(5);
/// How many queued instances are listed.
const QUEUE_LIMIT: u32 = 100;

/// The worker a Drain / Undrain question is asked about, and which of the two.
#[derive(Clone, Debug, PartialEq)]
struct DrainAsk {
    id: WorkerId,
    name: String,
    draining: bool,
}

/// The cluster page.
#[component]
pub fn WorkersPage() -> impl IntoView {
    let live = watch_events(|event| matches!(event, Event::Worker { .. }));
    let tick = ticker(REFRESH);
    let workers = LocalResource::new(move || {
        live.changes.track();
        tick.track();
        http::get::<Vec<Worker>>("/api/workers")
    });
    let queue = LocalResource::new(move || {
        live.changes.track();
        tick.track();
        http::get::<QueueView>(format!("/api/queue?limit={QUEUE_LIMIT}"))
    });

    let asking = RwSignal::new(None::<DrainAsk>);
    let drain = Action::new_local(move |ask: &DrainAsk| {
        let (id, draining) = (ask.id, ask.draining);
        async move {
            let body = Drain { draining };
            let worker: Worker = http::post(format!("/api/workers/{id}/drain"), &body).await?;
            asking.set(None);
            workers.refetch();
            queue.refetch();
            Ok::<_, ApiError>(worker)
        }
    });
    let drain_error = action_error(drain);
    let ask = Callback::new(move |ask: DrainAsk| {
        drain.value().set(None);
        asking.set(Some(ask));
    });
    let confirm = move || {
        asking.get().map(|current| {
            let key = if current.draining {
                K::DrainQuestion
            } else {
                K::UndrainQuestion
            };
            let name = current.name.clone();
            let question = Signal::derive(move || fill(t(key), &[("name", &name)]));
            view! {
                <ConfirmCard
                    question
                    testid="drain"
                    danger=current.draining
                    pending=drain.pending()
                    error=drain_error
                    on_confirm=move |()| {
                        drain.dispatch_local(current.clone());
                    }
                    on_cancel=move |()| asking.set(None)
                />
            }
        })
    };

    let headers = vec![
        K::Name,
        K::HostGroup,
        K::State,
        K::Slots,
        K::Cpu,
        K::Memory,
        K::Load,
        K::LastSeen,
        K::Empty,
    ];
    let table = move || {
        let headers = headers.clone();
        Suspend::new(async move {
            let mut list = workers.await?;
            list.sort_by(|a, b| (&a.host_group, &a.name).cmp(&(&b.host_group, &b.name)));
            let empty = list.is_empty();
            let rows = list
                .into_iter()
                .map(|worker| worker_rows(worker, ask))
                .collect_view();
            Ok::<_, ApiError>(view! {
                <Table headers=headers.clone() empty empty_text=K::NoWorkers testid="workers">
                    {rows}
                </Table>
            })
        })
    };
    let queue_view = move || {
        Suspend::new(async move {
            let queue = queue.await?;
            Ok::<_, ApiError>(view! { <QueueCard queue /> })
        })
    };
    view! {
        <div class="page cluster-page">
            <div class="page-head">
                <div>
                    <h1>{move || t(K::NavCluster)}</h1>
                    <p class="muted page-hint">{move || t(K::ClusterHint)}</p>
                </div>
                <div class="actions">
                    <LiveDot connected=live.connected />
                </div>
            </div>
            {confirm}
            <section class="card">
                <Transition fallback=loading>
                    <ErrorBoundary fallback=error_fallback>{table}</ErrorBoundary>
                </Transition>
            </section>
            <section class="card" data-testid="queue">
                <Transition fallback=loading>
                    <ErrorBoundary fallback=error_fallback>{queue_view}</ErrorBoundary>
                </Transition>
            </section>
        </div>
    }
}

/// A counter that moves every `period` while the calling component is mounted.
fn ticker(period: Duration) -> RwSignal<u64> {
    let tick = RwSignal::new(0u64);
    if let Ok(handle) = set_interval_with_handle(move || tick.update(|n| *n += 1), period) {
        on_cleanup(move || handle.clear());
    }
    tick
}

/// A worker's row, and below it the attempts it runs.
fn worker_rows(worker: Worker, ask: Callback<DrainAsk>) -> impl IntoView {
    let state = StateName(if worker.connected {
        "connected"
    } else {
        "disconnected"
    });
    let draining = worker.draining;
    let minutes = (worker.history.len() * 5).div_ceil(60).max(1).to_string();
    let spark_title = move |key: K, value: String| {
        let minutes = minutes.clone();
        Signal::derive(move || fill(t(key), &[("m", &minutes), ("v", &value)]))
    };
    let load = worker.load.clone();
    let cpu_now = load.as_ref().map(|l| format!("{:.0}%", l.cpu_percent));
    let memory_now = load.as_ref().map(|l| {
        let percent = if l.memory_total > 0 {
            l.memory_used as f64 / l.memory_total as f64 * 100.0
        } else {
            0.0
        };
        format!("{percent:.0}%")
    });
    let memory_bytes = load.as_ref().map(|l| {
        format!(
            "{} / {}",
            browser::bytes(l.memory_used),
            browser::bytes(l.memory_total)
        )
    });
    let load_now = load.as_ref().map(|l| format!("{:.2}", l.load_one));
    let history = &worker.history[worker.history.len().saturating_sub(LOAD_HISTORY_LEN)..];
    let cpu: Vec<f64> = history.iter().map(|s| f64::from(s.cpu_percent)).collect();
    let memory: Vec<f64> = history
        .iter()
        .map(|s| f64::from(s.memory_percent))
        .collect();
    let load_one: Vec<f64> = history.iter().map(|s| s.load_one).collect();
    let sparks = worker.connected.then(|| {
        let memory_title = {
            let bytes = memory_bytes.clone().unwrap_or_default();
            let now = memory_now.clone().unwrap_or_default();
            spark_title(K::SparkMemory, format!("{now} ({bytes})"))
        };
        (
            view! {
                <Sparkline
                    values=cpu
                    max=100.0
                    kind="cpu"
                    title=spark_title(K::SparkCpu, cpu_now.clone().unwrap_or_default())
                    value=cpu_now.clone().unwrap_or_default()
                />
            },
            view! {
                <Sparkline
                    values=memory
                    max=100.0
                    kind="memory"
                    title=memory_title
                    value=memory_now.clone().unwrap_or_default()
                />
            },
            view! {
                <Sparkline
                    values=load_one
                    kind="load"
                    title=spark_title(K::SparkLoad, load_now.clone().unwrap_or_default())
                    value=load_now.clone().unwrap_or_default()
                />
            },
        )
    });
    let (cpu_cell, memory_cell, load_cell) = match sparks {
        Some((c, m, l)) => (Some(c), Some(m), Some(l)),
        None => (None, None, None),
    };
    let request = DrainAsk {
        id: worker.id,
        name: worker.name.clone(),
        draining: !draining,
    };
    let button = view! {
        <button
            class="btn small"
            class:danger=!draining
            data-testid="drain-toggle"
            data-draining=draining.to_string()
            on:click=move |_| ask.run(request.clone())
        >
            {move || t(if draining { K::Undrain } else { K::Drain })}
        </button>
    };
    let attempts = (!worker.attempts.is_empty()).then(|| {
        let name = worker.name.clone();
        let list = worker.attempts.iter().map(attempt_item).collect_view();
        view! {
            <tr class="attempt-row worker-attempts">
                <td class="indent" colspan="9">
                    <span class="muted">
                        {move || fill(t(K::OnWorker), &[("name", &name)])}
                    </span>
                    <ul class="worker-attempt-list" data-testid="worker-attempts">
                        {list}
                    </ul>
                </td>
            </tr>
        }
    });
    view! {
        <tr
            class="instance-row"
            data-testid="worker-row"
            data-worker=worker.name.clone()
            data-draining=draining.to_string()
        >
            <td>
                <div class="worker-name">{worker.name.clone()}</div>
                <div class="muted small-text">{worker.hostname.clone()}</div>
            </td>
            <td>{worker.host_group.clone()}</td>
            <td>
                <div class="badges">
                    <StateBadge state />
                    {draining
                        .then(|| {
                            view! {
                                <span class="badge state-draining" data-testid="draining-badge">
                                    {move || t(K::Draining)}
                                </span>
                            }
                        })}
                </div>
            </td>
            <td class="mono">{format!("{} / {}", worker.running, worker.slots)}</td>
            <td>{cpu_cell}</td>
            <td>{memory_cell}</td>
            <td>{load_cell}</td>
            <td>{browser::local_short(worker.last_seen)}</td>
            <td class="row-actions-cell">{button}</td>
        </tr>
        {attempts}
    }
}

/// One attempt a worker runs: its job, state, how long it has run, and its log.
fn attempt_item(attempt: &RunningAttempt) -> impl IntoView + use<> {
    let job = format!("/jobs/{}?instance={}", attempt.job_id, attempt.instance_id);
    let log = format!("/attempts/{}/log", attempt.attempt_id);
    view! {
        <li data-testid="worker-attempt">
            <a href=job class="worker-attempt-job">
                {attempt.job_name.clone()}
            </a>
            <StateBadge state=attempt.state />
            <span class="mono muted">{browser::elapsed(attempt.started_at, None)}</span>
            <a href=log data-testid="worker-attempt-log">
                {move || t(K::Log)}
            </a>
        </li>
    }
}

/// The queue: what waits for a worker slot, in dispatch order, and why.
#[component]
fn QueueCard(queue: QueueView) -> impl IntoView {
    let QueueView {
        queued,
        queue_length,
    } = queue;
    let shown = queued.len() as u32;
    let empty = queued.is_empty();
    let rows = queued.into_iter().map(queue_row).collect_view();
    let count = move || fill(t(K::QueueCount), &[("n", &queue_length.to_string())]);
    let partial = (shown < queue_length).then(|| {
        view! {
            <span class="muted">
                {move || fill(t(K::QueueShown), &[("n", &shown.to_string())])}
            </span>
        }
    });
    view! {
        <div class="card-head">
            <h2>{move || t(K::Queue)}</h2>
            <span class="muted" data-testid="queue-length" data-count=queue_length>
                {count}
            </span>
            {partial}
        </div>
        <Table
            headers=vec![K::Position, K::Job, K::BusinessTime, K::HostGroup, K::WaitingFor]
            empty
            empty_text=K::QueueEmpty
            testid="queue-table"
        >
            {rows}
        </Table>
    }
}

fn queue_row(item: QueuedInstance) -> impl IntoView {
    let instance = item.instance;
    let href = format!(
        "/jobs/{}?instance={}",
        instance.job_id, instance.instance_id
    );
    view! {
        <tr data-testid="queue-row">
            <td class="mono">{item.position}</td>
            <td class="wrap">
                <a href=href>{instance.job_name}</a>
            </td>
            <td>{browser::local_short(Some(instance.business_time))}</td>
            <td>{item.host_group}</td>
            <td class="wrap reason">{item.waiting_for}</td>
        </tr>
    }
}
