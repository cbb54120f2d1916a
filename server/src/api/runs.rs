//! Run control and run state: trigger a job, read and cancel instances, read attempt logs.

use std::collections::BTreeMap;

use app::{
    api::{ActionReason, Attempt, ForceState, Instance, LogPage, Rerun, RunRequest, WhyNotStarted},
    domain::InstanceState,
    domain::TriggerKind,
    engine::{EngineError, Handled, Input},
    ids::{AttemptId, InstanceId, JobId},
};
use axum::{
    Extension, Json,
    extract::{Query, State},
    http::StatusCode,
};
use serde::Deserialize;

use super::{ApiJson, ApiPath, MaybeJson, audit, defs::job_or_404};
use crate::{
    AppState,
    auth::CurrentUser,
    error::{ApiError, ApiResult},
    scheduler::{CallError, adopt_context},
    store::{AuditWrite, StoreError},
};

/// The most log text one page carries.
pub const LOG_PAGE_BYTES: usize = 1 << 20;

pub(super) fn engine_error(err: CallError) -> ApiError {
    match err {
        CallError::Refused(EngineError::UnknownJob(id)) => {
            ApiError::NotFound(format!("job {id} does not exist"))
        }
        CallError::Refused(EngineError::BadRequest(message)) => ApiError::BadRequest(message),
        CallError::Refused(EngineError::UnknownInstance(id)) => ApiError::Conflict(format!(
            "instance {id} is no longer active and cannot be changed"
        )),
        CallError::Refused(err) => ApiError::Conflict(err.to_string()),
        CallError::Stopped => ApiError::Internal(anyhow::anyhow!("the scheduler is stopping")),
    }
}

pub(super) async fn instance_or_404(state: &AppState, id: InstanceId) -> ApiResult<Instance> {
    state.store.instance(id).await.map_err(|err| match err {
        StoreError::NotFound => ApiError::NotFound(format!("instance {id} does not exist")),
        other => other.into(),
    })
}

/// Runs the job now (this instance only; dependencies are not waited for and downstream is not
/// released). The optional body gives run-time parameters — environment variables of this run
/// only, never written into the job — and a business time (default: the current second). A
/// second trigger in the same second with the same parameters names the same instance; with other
/// parameters it takes the next free second. An ended instance at an explicit business time is
/// rerun with the new parameters; an active one there is a 409.
#[utoipa::path(post, path = "/api/jobs/{id}/run", params(("id" = i64, Path)), request_body = RunRequest,
    responses((status = 201, body = Instance), (status = 404, body = app::api::ErrorBody),
        (status = 409, body = app::api::ErrorBody), (status = 422, body = app::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn run_job(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiPath(id): ApiPath<JobId>,
    MaybeJson(body): MaybeJson<RunRequest>,
) -> ApiResult<(StatusCode, Json<Instance>)> {
    job_or_404(&state, id).await?;
    check_params(&body.params)?;
    if let Some(at) = body.business_time {
        adopt_context(&state.store, &state.scheduler, &[id], at, at).await?;
    }
    let kind = if body.params.is_empty() {
        TriggerKind::Manual
    } else {
        TriggerKind::Api
    };
    let instance = trigger(
        &state,
        Input::Trigger {
            job: id,
            kind,
            params: body.params.clone(),
            at: body.business_time,
        },
    )
    .await?;
    let names: Vec<&str> = body.params.keys().map(String::as_str).collect();
    let details = if names.is_empty() {
        format!("business time {}", instance.scheduled_at.to_rfc3339())
    } else {
        format!(
            "business time {}, parameters {}",
            instance.scheduled_at.to_rfc3339(),
            names.join(", ")
        )
    };
    let entry = AuditWrite {
        action: "job.run".to_owned(),
        job_id: Some(id),
        instance_id: Some(instance.id),
        reason: body.reason,
        details,
        ..AuditWrite::default()
    };
    audit::record(&state, &user, entry).await;
    Ok((StatusCode::CREATED, Json(instance)))
}

/// Hands a trigger to the scheduler and reads back the instance it created.
pub(super) async fn trigger(state: &AppState, input: Input) -> ApiResult<Instance> {
    let handled = state.scheduler.call(input).await.map_err(engine_error)?;
    let Handled::Instance(instance) = handled else {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "the scheduler created no instance"
        )));
    };
    instance_or_404(state, instance).await
}

/// Run-time parameter names are environment variable names, not Hera's own.
fn check_params(params: &BTreeMap<String, String>) -> ApiResult<()> {
    if params.len() > 100 {
        return Err(ApiError::field("params", "at most 100 parameters"));
    }
    let mut total = 0;
    for (name, value) in params {
        if let Some(problem) = super::env_name_problem(name) {
            return Err(ApiError::field("params", problem));
        }
        if value.contains('\0') {
            return Err(ApiError::field(
                "params",
                format!("the value of `{name}` contains a NUL character"),
            ));
        }
        total += name.len() + value.len();
    }
    if total > 256 << 10 {
        return Err(ApiError::field("params", "at most 256 KiB of parameters"));
    }
    Ok(())
}

/// `?limit=N&from=…&to=…`.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct InstanceRange {
    /// How many (default 50, at most 1000).
    limit: Option<i64>,
    /// Only business times at or after this instant (RFC 3339).
    from: Option<chrono::DateTime<chrono::Utc>>,
    /// Only business times before this instant (RFC 3339).
    to: Option<chrono::DateTime<chrono::Utc>>,
}

/// A job's instances, newest business time first, with their attempts.
#[utoipa::path(get, path = "/api/jobs/{id}/instances", params(("id" = i64, Path), InstanceRange),
    responses((status = 200, body = Vec<Instance>), (status = 404, body = app::api::ErrorBody)), security(("bearer" = [])))]
pub async fn job_instances(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<JobId>,
    Query(range): Query<InstanceRange>,
) -> ApiResult<Json<Vec<Instance>>> {
    job_or_404(&state, id).await?;
    let limit = range.limit.unwrap_or(50).clamp(1, 1000);
    Ok(Json(
        state
            .store
            .job_instances(id, limit, range.from, range.to)
            .await?,
    ))
}

/// One instance with its attempts.
#[utoipa::path(get, path = "/api/instances/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = Instance), (status = 404, body = app::api::ErrorBody)), security(("bearer" = [])))]
pub async fn get_instance(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<InstanceId>,
) -> ApiResult<Json<Instance>> {
    Ok(Json(instance_or_404(&state, id).await?))
}

/// Why an instance has not started yet: each upstream instance of its business day with its
/// state (or when it is due), its queue position, the workers of its host group, a pending retry.
#[utoipa::path(get, path = "/api/instances/{id}/why", params(("id" = i64, Path)),
    responses((status = 200, body = WhyNotStarted), (status = 404, body = app::api::ErrorBody)), security(("bearer" = [])))]
pub async fn why_instance(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<InstanceId>,
) -> ApiResult<Json<WhyNotStarted>> {
    let instance = instance_or_404(&state, id).await?;
    let answer = state.scheduler.why(id).await.map_err(engine_error)?;
    // The engine keeps only recent and active instances; an old one is explained by its record.
    Ok(Json(answer.unwrap_or_else(|| {
        WhyNotStarted {
            instance_id: id,
            state: instance.state,
            summary: instance
                .reason
                .unwrap_or_else(|| format!("the instance is {}", instance.state)),
            upstreams: Vec::new(),
            queue_position: None,
            queue_length: 0,
            host_group: String::new(),
            workers_in_group: 0,
            free_slots_in_group: 0,
            retry_at: None,
        }
    })))
}

/// Runs a finished instance again as a new attempt of the same version: `manual` (this instance
/// only), `recover` (then its downstream is released as after a scheduled success) or `cascade`
/// (it and every downstream instance of its windows rerun, each once, in dependency order).
#[utoipa::path(post, path = "/api/instances/{id}/rerun", params(("id" = i64, Path)), request_body = Rerun,
    responses((status = 200, body = Instance), (status = 404, body = app::api::ErrorBody),
        (status = 409, body = app::api::ErrorBody), (status = 422, body = app::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn rerun_instance(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiPath(id): ApiPath<InstanceId>,
    ApiJson(body): ApiJson<Rerun>,
) -> ApiResult<Json<Instance>> {
    let instance = instance_or_404(&state, id).await?;
    let input = match body.mode {
        TriggerKind::Manual | TriggerKind::Recover => Input::Rerun {
            instance: id,
            kind: body.mode,
        },
        TriggerKind::Cascade => Input::Cascade { instance: id },
        _ => {
            return Err(ApiError::field(
                "mode",
                "must be manual, recover or cascade",
            ));
        }
    };
    load_for_command(&state, &instance, body.mode != TriggerKind::Manual).await?;
    state.scheduler.call(input).await.map_err(engine_error)?;
    let entry = AuditWrite {
        action: "instance.rerun".to_owned(),
        job_id: Some(instance.job_id),
        instance_id: Some(id),
        reason: body.reason,
        details: format!("mode {}", body.mode),
        ..AuditWrite::default()
    };
    audit::record(&state, &user, entry).await;
    Ok(Json(instance_or_404(&state, id).await?))
}

/// Makes sure the engine holds an instance (and, when its downstream is affected, the instances
/// of its downstream closure around its business time) before a command names it: the engine
/// keeps only recent history in memory.
async fn load_for_command(
    state: &AppState,
    instance: &Instance,
    downstream: bool,
) -> ApiResult<()> {
    let mut jobs = vec![instance.job_id];
    if downstream {
        let graph = state.store.dependency_graph().await?;
        jobs.extend(app::dag::downstream_closure(&graph, instance.job_id));
    }
    let at = instance.scheduled_at;
    adopt_context(&state.store, &state.scheduler, &jobs, at, at).await?;
    Ok(())
}

/// Forces the status of an instance that is not running: `success` releases its downstream,
/// `skipped` lets downstream treat it as done, `failed` blocks it. The reason is recorded with the
/// user's name.
#[utoipa::path(post, path = "/api/instances/{id}/force", params(("id" = i64, Path)), request_body = ForceState,
    responses((status = 200, body = Instance), (status = 404, body = app::api::ErrorBody),
        (status = 409, body = app::api::ErrorBody), (status = 422, body = app::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn force_instance(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiPath(id): ApiPath<InstanceId>,
    ApiJson(body): ApiJson<ForceState>,
) -> ApiResult<Json<Instance>> {
    let instance = instance_or_404(&state, id).await?;
    let reason = body.reason.trim();
    if reason.is_empty() {
        return Err(ApiError::field("reason", "say why the status is forced"));
    }
    if !matches!(
        body.state,
        InstanceState::Success | InstanceState::Failed | InstanceState::Skipped
    ) {
        return Err(ApiError::field(
            "state",
            "must be success, failed or skipped",
        ));
    }
    let recorded = format!("forced to {} by {}: {reason}", body.state, user.username);
    let input = Input::Force {
        instance: id,
        state: body.state,
        reason: recorded,
    };
    load_for_command(&state, &instance, body.state.releases_downstream()).await?;
    state.scheduler.call(input).await.map_err(engine_error)?;
    let entry = AuditWrite {
        action: "instance.force".to_owned(),
        job_id: Some(instance.job_id),
        instance_id: Some(id),
        reason: Some(reason.to_owned()),
        details: format!("state {} (was {})", body.state, instance.state),
        ..AuditWrite::default()
    };
    audit::record(&state, &user, entry).await;
    Ok(Json(instance_or_404(&state, id).await?))
}

/// Cancels a waiting, queued or running instance (a running attempt's process tree is killed).
#[utoipa::path(post, path = "/api/instances/{id}/cancel", params(("id" = i64, Path)), request_body = ActionReason,
    responses((status = 200, body = Instance), (status = 404, body = app::api::ErrorBody), (status = 409, body = app::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn cancel_instance(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiPath(id): ApiPath<InstanceId>,
    MaybeJson(body): MaybeJson<ActionReason>,
) -> ApiResult<Json<Instance>> {
    let instance = instance_or_404(&state, id).await?;
    state
        .scheduler
        .call(Input::Cancel { instance: id })
        .await
        .map_err(engine_error)?;
    let entry = AuditWrite {
        action: "instance.cancel".to_owned(),
        job_id: Some(instance.job_id),
        instance_id: Some(id),
        reason: body.reason,
        details: format!("was {}", instance.state),
        ..AuditWrite::default()
    };
    audit::record(&state, &user, entry).await;
    Ok(Json(instance_or_404(&state, id).await?))
}

/// One attempt (its instance has the job and business time).
#[utoipa::path(get, path = "/api/attempts/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = Attempt), (status = 404, body = app::api::ErrorBody)), security(("bearer" = [])))]
pub async fn get_attempt(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<AttemptId>,
) -> ApiResult<Json<Attempt>> {
    let not_found = || ApiError::NotFound(format!("attempt {id} does not exist"));
    let instance = state
        .store
        .attempt_instance(id)
        .await
        .map_err(|err| match err {
            StoreError::NotFound => not_found(),
            other => other.into(),
        })?;
    let instance = instance_or_404(&state, instance).await?;
    instance
        .attempts
        .into_iter()
        .find(|a| a.id == id)
        .map(Json)
        .ok_or_else(not_found)
}

/// `?offset=N`.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct Offset {
    /// Byte offset to read from (default 0).
    pub(super) offset: Option<u64>,
}

/// A page of an attempt's log from a byte offset.
#[utoipa::path(get, path = "/api/attempts/{id}/log", params(("id" = i64, Path), Offset),
    responses((status = 200, body = LogPage), (status = 404, body = app::api::ErrorBody)), security(("bearer" = [])))]
pub async fn attempt_log(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<AttemptId>,
    Query(offset): Query<Offset>,
) -> ApiResult<Json<LogPage>> {
    let offset = offset.offset.unwrap_or(0);
    let (text, next_offset, complete) = read_log_page(&state, id, offset, LOG_PAGE_BYTES).await?;
    Ok(Json(LogPage {
        offset,
        next_offset,
        text,
        complete,
    }))
}

/// Reads log text from `offset`; `complete` when the attempt had ended before the read and the
/// read reached the end. Every chunk is stored before the result, so that end is final.
pub(super) async fn read_log_page(
    state: &AppState,
    id: AttemptId,
    offset: u64,
    max_bytes: usize,
) -> ApiResult<(String, u64, bool)> {
    let (_, ended) = state
        .store
        .attempt_owner(id)
        .await
        .map_err(|err| match err {
            StoreError::NotFound => ApiError::NotFound(format!("attempt {id} does not exist")),
            other => other.into(),
        })?;
    let (text, next) = state.store.read_log(id, offset, max_bytes).await?;
    let complete = ended && state.store.read_log(id, next, 1).await?.0.is_empty();
    Ok((text, next, complete))
}
