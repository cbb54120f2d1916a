//! Run control and run state: trigger a job, read and cancel instances, read attempt logs.

use app::{
    api::{Attempt, ForceState, Instance, LogPage, Rerun, WhyNotStarted},
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

use super::{ApiJson, ApiPath, defs::job_or_404};
use crate::{
    AppState,
    auth::CurrentUser,
    error::{ApiError, ApiResult},
    scheduler::CallError,
    store::StoreError,
};

/// The most log text one page carries.
pub const LOG_PAGE_BYTES: usize = 1 << 20;

fn engine_error(err: CallError) -> ApiError {
    match err {
        CallError::Refused(EngineError::UnknownJob(id)) => {
            ApiError::NotFound(format!("job {id} does not exist"))
        }
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

/// Runs the job now (manual trigger): a new instance at the current second, this instance only.
#[utoipa::path(post, path = "/api/jobs/{id}/run", params(("id" = i64, Path)),
    responses((status = 201, body = Instance), (status = 404, body = app::api::ErrorBody)), security(("bearer" = [])))]
pub async fn run_job(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<JobId>,
) -> ApiResult<(StatusCode, Json<Instance>)> {
    job_or_404(&state, id).await?;
    let handled = state
        .scheduler
        .call(Input::Trigger {
            job: id,
            kind: TriggerKind::Manual,
        })
        .await
        .map_err(engine_error)?;
    let Handled::Instance(instance) = handled else {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "the scheduler created no instance"
        )));
    };
    Ok((
        StatusCode::CREATED,
        Json(instance_or_404(&state, instance).await?),
    ))
}

/// `?limit=N`.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct Limit {
    /// How many (default 50, at most 1000).
    limit: Option<i64>,
}

/// A job's instances, newest business time first, with their attempts.
#[utoipa::path(get, path = "/api/jobs/{id}/instances", params(("id" = i64, Path), Limit),
    responses((status = 200, body = Vec<Instance>), (status = 404, body = app::api::ErrorBody)), security(("bearer" = [])))]
pub async fn job_instances(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<JobId>,
    Query(limit): Query<Limit>,
) -> ApiResult<Json<Vec<Instance>>> {
    job_or_404(&state, id).await?;
    let limit = limit.limit.unwrap_or(50).clamp(1, 1000);
    Ok(Json(state.store.job_instances(id, limit).await?))
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
    ApiPath(id): ApiPath<InstanceId>,
    ApiJson(body): ApiJson<Rerun>,
) -> ApiResult<Json<Instance>> {
    instance_or_404(&state, id).await?;
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
    state.scheduler.call(input).await.map_err(engine_error)?;
    Ok(Json(instance_or_404(&state, id).await?))
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
    instance_or_404(&state, id).await?;
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
    let reason = format!("forced to {} by {}: {reason}", body.state, user.username);
    let input = Input::Force {
        instance: id,
        state: body.state,
        reason,
    };
    state.scheduler.call(input).await.map_err(engine_error)?;
    Ok(Json(instance_or_404(&state, id).await?))
}

/// Cancels a waiting, queued or running instance (a running attempt's process tree is killed).
#[utoipa::path(post, path = "/api/instances/{id}/cancel", params(("id" = i64, Path)),
    responses((status = 200, body = Instance), (status = 404, body = app::api::ErrorBody), (status = 409, body = app::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn cancel_instance(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<InstanceId>,
) -> ApiResult<Json<Instance>> {
    instance_or_404(&state, id).await?;
    state
        .scheduler
        .call(Input::Cancel { instance: id })
        .await
        .map_err(engine_error)?;
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
