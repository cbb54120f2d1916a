//! `/backfills`: every backfill, newest first, with its state, progress, job, business-time range
//! and who started it; live (throttled) on instance events.

use std::time::Duration;

use app::api::{Backfill, Event};
use leptos::prelude::*;

use crate::{
    api::{
        http::{self, ApiError},
        ws::watch_events,
    },
    browser,
    components::{
        error_view::{error_fallback, loading},
        progress::BackfillProgress,
        state_badge::StateBadge,
        table::Table,
    },
    i18n::{K, t},
    pages::job::LiveDot,
};

/// How many backfills the page lists.
const BACKFILL_LIMIT: u32 = 100;

/// The backfills page.
#[component]
pub fn BackfillsPage() -> impl IntoView {
    let live = watch_events(|event| matches!(event, Event::Instance { .. }))
        .throttled(Duration::from_secs(2));
    let backfills = LocalResource::new(move || {
        live.changes.track();
        http::get::<Vec<Backfill>>(format!("/api/backfills?limit={BACKFILL_LIMIT}"))
    });
    let headers = vec![
        K::Backfill,
        K::Job,
        K::State,
        K::Progress,
        K::Range,
        K::StartedBy,
        K::Started,
    ];
    let table = move || {
        let headers = headers.clone();
        Suspend::new(async move {
            let list = backfills.await?;
            let empty = list.is_empty();
            let rows = list.into_iter().map(backfill_row).collect_view();
            Ok::<_, ApiError>(view! {
                <Table headers empty empty_text=K::NoBackfills testid="backfills">
                    {rows}
                </Table>
            })
        })
    };
    view! {
        <div class="page">
            <div class="page-head">
                <h1>{move || t(K::Backfills)}</h1>
                <div class="actions">
                    <LiveDot connected=live.connected />
                    <a class="btn primary" href="/backfills/new" data-testid="new-backfill">
                        {move || t(K::NewBackfill)}
                    </a>
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

/// The first and last business time of a backfill, in local time.
pub fn range_text(backfill: &Backfill) -> String {
    match (backfill.first_business_time, backfill.last_business_time) {
        (Some(first), Some(last)) if first == last => browser::local(first),
        (Some(first), Some(last)) => {
            format!("{} – {}", browser::local(first), browser::local(last))
        }
        _ => "–".to_owned(),
    }
}

fn backfill_row(backfill: Backfill) -> impl IntoView {
    let (id, job) = (backfill.id, backfill.job_id);
    let range = range_text(&backfill);
    let downstream = backfill
        .include_downstream
        .then(|| view! { <span class="muted">" " {move || t(K::PlusDownstream)}</span> });
    view! {
        <tr data-testid="backfill-row" data-backfill-id=id.0 data-state=backfill.state.as_str()>
            <td>
                <a href=format!("/backfills/{id}") data-testid="backfill-link">
                    "#"
                    {id.0}
                </a>
            </td>
            <td>
                <a href=format!("/jobs/{job}")>{backfill.job_name.clone()}</a>
                {downstream}
            </td>
            <td>
                <StateBadge state=backfill.state />
            </td>
            <td class="progress-cell">
                <BackfillProgress backfill=backfill.clone() />
            </td>
            <td>{range}</td>
            <td>{backfill.created_by.clone()}</td>
            <td>{browser::local_short(Some(backfill.created_at))}</td>
        </tr>
    }
}
