//! Backfills: a dry run that lists every instance a backfill would run, then the backfill itself
//! with its progress, pause, resume, cancel and "rerun the failed ones". The plan comes from the
//! engine (which knows the schedules and calendars); the store says which instances exist.

use std::collections::{BTreeMap, BTreeSet};

use app::{
    api::{
        ActionReason, Backfill, BackfillDetail, BackfillPlan, BackfillPlanItem, BackfillRequest,
    },
    domain::{BackfillOrder, BackfillState, BackfillVersion},
    engine::{BackfillAction, BackfillItem, BackfillSpec, Input, InstanceRecord, PlanTimes},
    ids::{BackfillId, JobId},
};
use axum::{
    Extension, Json,
    extract::{Query, State},
    http::StatusCode,
};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

use super::{ApiJson, ApiPath, MaybeJson, audit, defs::job_or_404, runs::engine_error};
use crate::{
    AppState,
    auth::CurrentUser,
    error::{ApiError, ApiResult},
    scheduler::adopt_context,
    store::{AuditWrite, BackfillWrite, StoreError},
};

/// A validated request: what to plan and how to run it.
struct Checked {
    job: JobId,
    include_downstream: bool,
    times: PlanTimes,
    parallelism: u32,
    order: BackfillOrder,
    version: BackfillVersion,
}

fn check(body: &BackfillRequest) -> ApiResult<Checked> {
    let mut errors = BTreeMap::new();
    let times = match (&body.start_date, &body.end_date, &body.business_times) {
        (Some(start), Some(end), None) => Some(PlanTimes::Dates {
            start: *start,
            end: *end,
        }),
        (None, None, Some(list)) if !list.is_empty() => Some(PlanTimes::Times(list.clone())),
        (None, None, Some(_)) => {
            errors.insert(
                "business_times".to_owned(),
                "give at least one business time".to_owned(),
            );
            None
        }
        (Some(_), None, None) | (None, Some(_), None) => {
            errors.insert(
                "end_date".to_owned(),
                "give both start_date and end_date".to_owned(),
            );
            None
        }
        _ => {
            errors.insert(
                "start_date".to_owned(),
                "give either start_date and end_date, or business_times".to_owned(),
            );
            None
        }
    };
    let parallelism = body.parallelism.unwrap_or(1);
    if !(1..=100).contains(&parallelism) {
        errors.insert("parallelism".to_owned(), "must be 1 to 100".to_owned());
    }
    if body
        .reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > 1000)
    {
        errors.insert(
            "reason".to_owned(),
            "must be at most 1000 characters".to_owned(),
        );
    }
    match times {
        Some(times) if errors.is_empty() => Ok(Checked {
            job: body.job_id,
            include_downstream: body.include_downstream,
            times,
            parallelism,
            order: body.order.unwrap_or(BackfillOrder::OldestFirst),
            version: body.version.unwrap_or(BackfillVersion::Latest),
        }),
        _ => Err(ApiError::Invalid(errors)),
    }
}

/// The plan with what exists now: per item the instance there, the action and the version.
async fn plan(state: &AppState, request: &Checked) -> ApiResult<BackfillPlan> {
    job_or_404(state, request.job).await?;
    let pairs = state
        .scheduler
        .plan_backfill(
            request.job,
            request.include_downstream,
            request.times.clone(),
        )
        .await
        .map_err(engine_error)?;
    let jobs: BTreeSet<JobId> = pairs.iter().map(|p| p.0).collect();
    let existing = existing_instances(state, &pairs).await?;
    let mut current: BTreeMap<JobId, (String, i64)> = BTreeMap::new();
    for job in &jobs {
        let found = job_or_404(state, *job).await?;
        current.insert(*job, (found.name, found.version));
    }
    let mut items = Vec::with_capacity(pairs.len());
    for (job, at) in pairs {
        let (name, latest) = current.get(&job).cloned().unwrap_or_default();
        let record = existing.get(&(job, at));
        let action = match record {
            None => "create",
            Some(r) if r.state.is_terminal() => "rerun",
            Some(_) => "leave",
        };
        let version = match (request.version, record) {
            (BackfillVersion::Latest, _) => latest,
            (BackfillVersion::Pinned, Some(r)) => r.job_version,
            (BackfillVersion::Pinned, None) => state.store.job_version_at(job, at).await?,
        };
        items.push(BackfillPlanItem {
            job_id: job,
            job_name: name,
            business_time: at,
            instance_id: record.map(|r| r.id),
            state: record.map(|r| r.state),
            action: action.to_owned(),
            version,
        });
    }
    let to_run = items.iter().filter(|i| i.action != "leave").count() as u32;
    Ok(BackfillPlan { items, to_run })
}

/// The stored instances at the planned (job, business time) pairs.
async fn existing_instances(
    state: &AppState,
    pairs: &[(JobId, DateTime<Utc>)],
) -> ApiResult<BTreeMap<(JobId, DateTime<Utc>), InstanceRecord>> {
    let Some((from, to)) = span(pairs) else {
        return Ok(BTreeMap::new());
    };
    let jobs: Vec<JobId> = pairs
        .iter()
        .map(|p| p.0)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let wanted: BTreeSet<(JobId, DateTime<Utc>)> = pairs.iter().copied().collect();
    Ok(state
        .store
        .instance_records(&jobs, from, to + Duration::seconds(1))
        .await?
        .into_iter()
        .filter(|r| wanted.contains(&(r.job, r.scheduled_at)))
        .map(|r| ((r.job, r.scheduled_at), r))
        .collect())
}

fn span(pairs: &[(JobId, DateTime<Utc>)]) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let from = pairs.iter().map(|p| p.1).min()?;
    let to = pairs.iter().map(|p| p.1).max()?;
    Some((from, to))
}

/// Lists every instance a backfill would run, per job in dependency order, with what is there
/// now (`create`, `rerun`, or `leave` for an active one). Changes nothing.
#[utoipa::path(post, path = "/api/backfills/dry-run", request_body = BackfillRequest,
    responses((status = 200, body = BackfillPlan), (status = 400, body = app::api::ErrorBody),
        (status = 404, body = app::api::ErrorBody), (status = 422, body = app::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn dry_run(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<BackfillRequest>,
) -> ApiResult<Json<BackfillPlan>> {
    let request = check(&body)?;
    Ok(Json(plan(&state, &request).await?))
}

/// Starts a backfill: every planned instance goes back to waiting at once (missing ones are
/// created), then they run in dependency order, `parallelism` at a time, in the chosen order.
#[utoipa::path(post, path = "/api/backfills", request_body = BackfillRequest,
    responses((status = 201, body = Backfill), (status = 400, body = app::api::ErrorBody),
        (status = 404, body = app::api::ErrorBody), (status = 422, body = app::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn start_backfill(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiJson(body): ApiJson<BackfillRequest>,
) -> ApiResult<(StatusCode, Json<Backfill>)> {
    let request = check(&body)?;
    let plan = plan(&state, &request).await?;
    let items: Vec<BackfillItem> = plan
        .items
        .iter()
        .filter(|i| i.action != "leave")
        .map(|i| BackfillItem {
            job: i.job_id,
            at: i.business_time,
            version: i.version,
        })
        .collect();
    if items.is_empty() {
        return Err(ApiError::BadRequest(
            "the backfill has nothing to run: no slot in the range, or every instance is active"
                .to_owned(),
        ));
    }
    let pairs: Vec<(JobId, DateTime<Utc>)> = items.iter().map(|i| (i.job, i.at)).collect();
    let jobs: Vec<JobId> = pairs
        .iter()
        .map(|p| p.0)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let (from, to) = span(&pairs).expect("not empty");
    adopt_context(&state.store, &state.scheduler, &jobs, from, to).await?;
    let now = Utc::now();
    let id = state
        .store
        .create_backfill(
            &BackfillWrite {
                job_id: request.job,
                include_downstream: request.include_downstream,
                parallelism: request.parallelism,
                order: request.order,
                version: request.version,
                created_by: user.username.clone(),
                reason: body.reason.clone(),
            },
            now,
        )
        .await?;
    let spec = BackfillSpec {
        id,
        parallelism: request.parallelism,
        order: request.order,
        paused: false,
    };
    let count = items.len();
    let started = state
        .scheduler
        .call(Input::Backfill {
            spec,
            action: BackfillAction::Start(items),
        })
        .await;
    if let Err(err) = started {
        state
            .store
            .set_backfill_state(id, BackfillState::Cancelled, Utc::now())
            .await?;
        return Err(engine_error(err));
    }
    let entry = AuditWrite {
        action: "backfill.start".to_owned(),
        job_id: Some(request.job),
        backfill_id: Some(id),
        reason: body.reason,
        details: format!(
            "{count} instances from {} to {}{}, parallelism {}, {}, version {}",
            from.to_rfc3339(),
            to.to_rfc3339(),
            if request.include_downstream {
                " with downstream"
            } else {
                ""
            },
            request.parallelism,
            request.order,
            request.version
        ),
        ..AuditWrite::default()
    };
    audit::record(&state, &user, entry).await;
    Ok((
        StatusCode::CREATED,
        Json(backfill_or_404(&state, id).await?),
    ))
}

async fn backfill_or_404(state: &AppState, id: BackfillId) -> ApiResult<Backfill> {
    state.store.backfill(id).await.map_err(|err| match err {
        StoreError::NotFound => ApiError::NotFound(format!("backfill {id} does not exist")),
        other => other.into(),
    })
}

/// `GET /api/backfills` filters.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct BackfillFilter {
    /// Only backfills started on this job.
    job_id: Option<JobId>,
    /// How many (default 50, at most 500).
    limit: Option<i64>,
}

/// Backfills, newest first, with their progress.
#[utoipa::path(get, path = "/api/backfills", params(BackfillFilter),
    responses((status = 200, body = Vec<Backfill>)), security(("bearer" = [])))]
pub async fn list_backfills(
    State(state): State<AppState>,
    Query(filter): Query<BackfillFilter>,
) -> ApiResult<Json<Vec<Backfill>>> {
    let limit = filter.limit.unwrap_or(50).clamp(1, 500);
    Ok(Json(state.store.backfills(filter.job_id, limit).await?))
}

/// One backfill with its instances.
#[utoipa::path(get, path = "/api/backfills/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = BackfillDetail), (status = 404, body = app::api::ErrorBody)), security(("bearer" = [])))]
pub async fn get_backfill(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<BackfillId>,
) -> ApiResult<Json<BackfillDetail>> {
    let backfill = backfill_or_404(&state, id).await?;
    let instances = state.store.backfill_members(id).await?;
    Ok(Json(BackfillDetail {
        backfill,
        instances,
    }))
}

/// `pause` (no new instance of it starts), `resume`, `cancel` (its unfinished instances are
/// cancelled) or `rerun-failed` (its failed and cancelled instances run again).
#[utoipa::path(post, path = "/api/backfills/{id}/{action}",
    params(("id" = i64, Path), ("action" = String, Path, description = "pause, resume, cancel or rerun-failed")),
    request_body = ActionReason,
    responses((status = 200, body = Backfill), (status = 404, body = app::api::ErrorBody), (status = 409, body = app::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn control_backfill(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiPath((id, action)): ApiPath<(BackfillId, String)>,
    MaybeJson(body): MaybeJson<ActionReason>,
) -> ApiResult<Json<Backfill>> {
    let backfill = backfill_or_404(&state, id).await?;
    let (engine_action, next) = match (action.as_str(), backfill.state) {
        ("pause", BackfillState::Running) => (BackfillAction::Pause, BackfillState::Paused),
        ("resume", BackfillState::Paused) => (BackfillAction::Resume, BackfillState::Running),
        ("cancel", BackfillState::Running | BackfillState::Paused) => {
            (BackfillAction::Cancel, BackfillState::Cancelled)
        }
        ("rerun-failed", _) => (BackfillAction::RerunFailed, BackfillState::Running),
        ("pause" | "resume" | "cancel", state) => {
            return Err(ApiError::Conflict(format!(
                "backfill {id} is {state}; it cannot be {}",
                match action.as_str() {
                    "pause" => "paused",
                    "resume" => "resumed",
                    _ => "cancelled",
                }
            )));
        }
        (other, _) => {
            return Err(ApiError::NotFound(format!(
                "no backfill action `{other}`: use pause, resume, cancel or rerun-failed"
            )));
        }
    };
    if engine_action == BackfillAction::RerunFailed
        && let (Some(from), Some(to)) = (backfill.first_business_time, backfill.last_business_time)
    {
        // Its instances may have aged out of the engine's memory.
        let members = state.store.backfill_members(id).await?;
        let jobs: Vec<JobId> = members
            .iter()
            .map(|m| m.job_id)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        adopt_context(&state.store, &state.scheduler, &jobs, from, to).await?;
    }
    let spec = BackfillSpec {
        id,
        parallelism: backfill.parallelism,
        order: backfill.order,
        paused: next == BackfillState::Paused,
    };
    state
        .scheduler
        .call(Input::Backfill {
            spec,
            action: engine_action,
        })
        .await
        .map_err(engine_error)?;
    state.store.set_backfill_state(id, next, Utc::now()).await?;
    let entry = AuditWrite {
        action: format!("backfill.{}", action.replace('-', "_")),
        job_id: Some(backfill.job_id),
        backfill_id: Some(id),
        reason: body.reason,
        details: format!("was {}", backfill.state),
        ..AuditWrite::default()
    };
    audit::record(&state, &user, entry).await;
    Ok(Json(backfill_or_404(&state, id).await?))
}
