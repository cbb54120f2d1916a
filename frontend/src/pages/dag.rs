//! `/jobs/:id/dag`: the job with everything upstream and downstream of it, coloured by the state
//! of each job's latest instance, live.

use app::{
    api::{DagView, Event},
    ids::JobId,
};
use leptos::prelude::*;

use crate::{
    api::{
        http::{self, ApiError},
        ws::watch_events,
    },
    components::{
        dag_graph::DagGraph,
        error_view::ActionError,
        state_badge::{StateBadge, StateName},
    },
    i18n::{K, t},
    pages::{BadAddress, job::LiveDot, param},
};

/// The DAG page.
#[component]
pub fn DagPage() -> impl IntoView {
    let id = param::<JobId>("id");
    move || match id.get() {
        Some(id) => view! { <DagOf id /> }.into_any(),
        None => view! { <BadAddress /> }.into_any(),
    }
}

#[component]
fn DagOf(id: JobId) -> impl IntoView {
    let live = watch_events(|event| matches!(event, Event::Instance { .. }));
    let dag = LocalResource::new(move || {
        live.changes.track();
        http::get::<DagView>(format!("/api/jobs/{id}/dag"))
    });
    let view_data = Signal::derive(move || dag.get().and_then(Result::ok));
    let error = Signal::derive(move || {
        dag.get()
            .and_then(Result::err)
            .map(|e: ApiError| e.to_string())
    });
    let name = move || {
        view_data.with(|dag| {
            dag.as_ref()
                .and_then(|dag| dag.nodes.iter().find(|n| n.job_id == dag.center))
                .map(|node| node.name.clone())
        })
    };
    let legend = ["success", "failed", "running", "queued", "waiting", "none"];
    view! {
        <div class="page dag-page">
            <div class="page-head">
                <div>
                    <div class="crumbs">
                        <a href=format!("/jobs/{id}")>{name} " #" {id.0}</a>
                    </div>
                    <h1>{move || t(K::Dag)}</h1>
                </div>
                <div class="actions">
                    <LiveDot connected=live.connected />
                </div>
            </div>
            <ActionError message=error />
            <section class="card dag-card">
                <DagGraph dag=view_data />
                <div class="legend">
                    {legend.map(|s| view! { <StateBadge state=StateName(s) /> }).collect_view()}
                    <span class="muted">{move || t(K::DagHint)}</span>
                </div>
            </section>
        </div>
    }
}
