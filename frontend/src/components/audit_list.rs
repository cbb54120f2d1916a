//! The audit trail of one object (`GET /api/audit?job_id=…`, `backfill_id=…`, `calendar_id=…`):
//! who did what, when, with which details and why, newest first.

use app::api::AuditEntry;
use leptos::prelude::*;

use crate::{
    api::http::{self, ApiError},
    browser,
    components::{
        error_view::{error_fallback, loading},
        table::Table,
    },
    i18n::{K, audit_action_label, t},
};

/// How many entries are shown.
const AUDIT_LIMIT: u32 = 50;

/// The entries matching `filter` (the query string, e.g. `job_id=7`), fetched again whenever
/// `refresh` moves.
#[component]
pub fn AuditList(filter: String, #[prop(into)] refresh: Signal<u64>) -> impl IntoView {
    let entries = LocalResource::new(move || {
        refresh.track();
        http::get::<Vec<AuditEntry>>(format!("/api/audit?{filter}&limit={AUDIT_LIMIT}"))
    });
    let headers = vec![K::When, K::Who, K::Actions, K::Details, K::Reason];
    let table = move || {
        let headers = headers.clone();
        Suspend::new(async move {
            let list = entries.await?;
            let empty = list.is_empty();
            let rows = list.into_iter().map(entry_row).collect_view();
            Ok::<_, ApiError>(view! {
                <Table headers empty empty_text=K::NoActivity testid="audit">
                    {rows}
                </Table>
            })
        })
    };
    view! {
        <Transition fallback=loading>
            <ErrorBoundary fallback=error_fallback>{table}</ErrorBoundary>
        </Transition>
    }
}

fn entry_row(entry: AuditEntry) -> impl IntoView {
    let action = entry.action.clone();
    let label = move || audit_action_label(&action).map_or_else(|| action.clone(), |k| t(k).into());
    // The instance it concerned, on its job's page.
    let instance = entry.instance_id.zip(entry.job_id).map(|(instance, job)| {
        view! {
            <a href=format!("/jobs/{job}?instance={instance}") data-testid="audit-instance">
                {move || t(K::Instance)}
                " #"
                {instance.0}
            </a>
            " "
        }
    });
    view! {
        <tr data-testid="audit-row" data-action=entry.action>
            <td>{browser::local_short(Some(entry.at))}</td>
            <td>{entry.actor}</td>
            <td>{label}</td>
            <td class="wrap">{instance} <span class="mono">{entry.details}</span></td>
            <td class="wrap" data-testid="audit-reason">
                {entry.reason}
            </td>
        </tr>
    }
}
