//! `/workers`: the cluster: every worker, its host group, whether it is connected, its slots and
//! load; live on worker events.

use app::api::{Event, Worker};
use leptos::prelude::*;

use crate::{
    api::{
        http::{self, ApiError},
        ws::watch_events,
    },
    browser,
    components::{
        error_view::{error_fallback, loading},
        state_badge::{StateBadge, StateName},
        table::Table,
    },
    i18n::{K, t},
    pages::job::LiveDot,
};

/// The cluster page.
#[component]
pub fn WorkersPage() -> impl IntoView {
    let live = watch_events(|event| matches!(event, Event::Worker { .. }));
    let workers = LocalResource::new(move || {
        live.changes.track();
        http::get::<Vec<Worker>>("/api/workers")
    });
    let headers = vec![
        K::Name,
        K::HostGroup,
        K::Host,
        K::State,
        K::Slots,
        K::Running,
        K::Cpu,
        K::Memory,
        K::Load,
        K::LastSeen,
    ];
    let table = move || {
        let headers = headers.clone();
        Suspend::new(async move {
            let mut list = workers.await?;
            list.sort_by(|a, b| (&a.host_group, &a.name).cmp(&(&b.host_group, &b.name)));
            let empty = list.is_empty();
            let rows = list.into_iter().map(worker_row).collect_view();
            Ok::<_, ApiError>(view! {
                <Table headers=headers.clone() empty empty_text=K::NoWorkers testid="workers">
                    {rows}
                </Table>
            })
        })
    };
    view! {
        <div class="page">
            <div class="page-head">
                <h1>{move || t(K::NavCluster)}</h1>
                <div class="actions">
                    <LiveDot connected=live.connected />
                </div>
            </div>
            <section class="card">
                <Transition fallback=loading>
                    <ErrorBoundary fallback=error_fallback>{table}</ErrorBoundary>
                </Transition>
            </section>
        </div>
    }
}

fn worker_row(worker: Worker) -> impl IntoView {
    let state = StateName(if worker.connected {
        "connected"
    } else {
        "disconnected"
    });
    let load = worker.load.clone().unwrap_or_default();
    let has_load = worker.load.is_some();
    let memory = has_load.then(|| {
        format!(
            "{} / {}",
            browser::bytes(load.memory_used),
            browser::bytes(load.memory_total)
        )
    });
    view! {
        <tr data-testid="worker-row">
            <td>{worker.name}</td>
            <td>{worker.host_group}</td>
            <td>{worker.hostname}</td>
            <td>
                <StateBadge state />
            </td>
            <td>{worker.slots}</td>
            <td>{worker.running}</td>
            <td>{has_load.then(|| format!("{:.0}%", load.cpu_percent))}</td>
            <td>{memory}</td>
            <td>{has_load.then(|| format!("{:.2}", load.load_one))}</td>
            <td>{browser::local_short(worker.last_seen)}</td>
        </tr>
    }
}
