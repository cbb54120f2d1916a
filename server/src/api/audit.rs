//! The audit trail: every action on jobs, instances, backfills and calendars is recorded with who
//! did it and why, after it took effect.

use app::{
    api::AuditEntry,
    ids::{BackfillId, CalendarId, InstanceId, JobId},
};
use axum::{
    Json,
    extract::{Query, State},
};
use chrono::Utc;
use serde::Deserialize;

use crate::{
    AppState,
    auth::CurrentUser,
    error::ApiResult,
    store::{AuditFilter, AuditWrite},
};

/// Records an action. The action has already happened, so a failed write is logged, not
/// returned: the user's request succeeded.
pub(super) async fn record(state: &AppState, user: &CurrentUser, mut entry: AuditWrite) {
    entry.actor.clone_from(&user.username);
    entry.reason = entry
        .reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    if let Err(err) = state.store.record_audit(&entry, Utc::now()).await {
        tracing::error!(error = %err, action = %entry.action, "cannot record an audit entry");
    }
}

/// `GET /api/audit` filters.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct AuditQuery {
    /// Only entries about this job.
    job_id: Option<JobId>,
    /// Only entries about this instance.
    instance_id: Option<InstanceId>,
    /// Only entries about this backfill.
    backfill_id: Option<BackfillId>,
    /// Only entries about this calendar.
    calendar_id: Option<CalendarId>,
    /// How many (default 100, at most 1000).
    limit: Option<i64>,
}

/// The audit trail, newest first: who did what, to what, and why.
#[utoipa::path(get, path = "/api/audit", params(AuditQuery),
    responses((status = 200, body = Vec<AuditEntry>)), security(("bearer" = [])))]
pub async fn list_audit(
    State(state): State<AppState>,
    Query(query): Query<AuditQuery>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    let filter = AuditFilter {
        job_id: query.job_id,
        instance_id: query.instance_id,
        backfill_id: query.backfill_id,
        calendar_id: query.calendar_id,
    };
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    Ok(Json(state.store.audit(&filter, limit).await?))
}
