//! Workers: the cluster list and worker tokens.

use app::{
    api::{
        DashboardInstance, Drain, IssuedWorkerToken, NewWorkerToken, QueueView, QueuedInstance,
        Worker,
    },
    engine::Input,
    ids::WorkerId,
};
use axum::{
    Extension, Json,
    extract::{Query, State},
    http::StatusCode,
};
use chrono::Utc;

use super::{ApiJson, ApiPath};
use crate::{
    AppState,
    auth::{CurrentUser, hash_token, random_secret},
    error::{ApiError, ApiResult},
    store::{AuditWrite, StoreError},
};

/// Every registered worker, with live information for the connected ones.
#[utoipa::path(get, path = "/api/workers", responses((status = 200, body = Vec<Worker>)), security(("bearer" = [])))]
pub async fn list_workers(State(state): State<AppState>) -> ApiResult<Json<Vec<Worker>>> {
    let connected = state.hub.connected();
    let mut running = state.store.running_attempts().await?;
    let draining = state.store.draining_workers().await?;
    let workers = state
        .store
        .workers()
        .await?
        .into_iter()
        .map(|(id, name)| {
            let info = connected.get(&id);
            let attempts = running.remove(&id).unwrap_or_default();
            Worker {
                id,
                name,
                host_group: info.map(|i| i.host_group.clone()).unwrap_or_default(),
                slots: info.map_or(0, |i| i.slots),
                running: attempts.len() as u32,
                connected: info.is_some(),
                hostname: info.map(|i| i.hostname.clone()).unwrap_or_default(),
                last_seen: info.map(|i| i.last_seen),
                load: info.and_then(|i| i.load.clone()),
                draining: draining.contains(&id),
                history: info
                    .map(|i| i.history.iter().cloned().collect())
                    .unwrap_or_default(),
                attempts,
            }
        })
        .collect();
    Ok(Json(workers))
}

/// What waits for a worker slot, in dispatch order (at most `limit`, default 100), and why.
#[utoipa::path(get, path = "/api/queue", params(QueueQuery),
    responses((status = 200, body = QueueView)), security(("bearer" = [])))]
pub async fn queue(
    State(state): State<AppState>,
    Query(query): Query<QueueQuery>,
) -> ApiResult<Json<QueueView>> {
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let head = state
        .scheduler
        .queue(limit)
        .await
        .map_err(super::runs::engine_error)?;
    let mut queued = Vec::with_capacity(head.len());
    for (index, (id, host_group)) in head.into_iter().enumerate() {
        let Ok(instance) = state.store.instance(id).await else {
            continue;
        };
        let waiting_for = match state
            .scheduler
            .why(id)
            .await
            .map_err(super::runs::engine_error)?
        {
            Some(why) => why.summary,
            None => "queued".to_owned(),
        };
        queued.push(QueuedInstance {
            position: index as u32 + 1,
            instance: DashboardInstance {
                instance_id: instance.id,
                job_id: instance.job_id,
                job_name: instance.job_name,
                business_time: instance.scheduled_at,
                state: instance.state,
                started_at: instance.started_at,
                finished_at: instance.finished_at,
                reason: instance.reason,
            },
            host_group,
            waiting_for,
        });
    }
    let queue_length = match queued.first() {
        Some(first) => state
            .scheduler
            .why(first.instance.instance_id)
            .await
            .map_err(super::runs::engine_error)?
            .map_or(queued.len() as u32, |w| w.queue_length),
        None => 0,
    };
    Ok(Json(QueueView {
        queued,
        queue_length,
    }))
}

/// `GET /api/queue` parameters.
#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct QueueQuery {
    /// How many (default 100, at most 1000).
    limit: Option<usize>,
}

/// Drains a worker (no new attempts; the running ones finish) or takes it back (administrators
/// only). Kept across restarts.
#[utoipa::path(post, path = "/api/workers/{id}/drain", params(("id" = i64, Path)), request_body = Drain,
    responses((status = 200, body = Worker), (status = 403, body = app::api::ErrorBody), (status = 404, body = app::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn drain_worker(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiPath(id): ApiPath<WorkerId>,
    ApiJson(body): ApiJson<Drain>,
) -> ApiResult<Json<Worker>> {
    if !user.is_admin {
        return Err(ApiError::Forbidden(
            "only administrators can drain workers".to_owned(),
        ));
    }
    state
        .store
        .set_worker_draining(id, body.draining)
        .await
        .map_err(|err| match err {
            StoreError::NotFound => ApiError::NotFound(format!("worker {id} does not exist")),
            other => other.into(),
        })?;
    let input = Input::WorkerDraining {
        worker: id,
        draining: body.draining,
    };
    state.scheduler.call(input).await.map_err(|err| {
        ApiError::Internal(anyhow::anyhow!(
            "the scheduler did not take the drain: {err}"
        ))
    })?;
    let entry = AuditWrite {
        action: if body.draining {
            "worker.drain"
        } else {
            "worker.undrain"
        }
        .to_owned(),
        details: format!("worker {id}"),
        ..AuditWrite::default()
    };
    super::audit::record(&state, &user, entry).await;
    let Json(workers) = list_workers(State(state)).await?;
    workers
        .into_iter()
        .find(|w| w.id == id)
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("worker {id} does not exist")))
}

/// Issues a token for a new worker (administrators only). The token is returned once.
#[utoipa::path(post, path = "/api/worker-tokens", request_body = NewWorkerToken,
    responses((status = 201, body = IssuedWorkerToken), (status = 403, body = app::api::ErrorBody), (status = 409, body = app::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn issue_worker_token(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiJson(body): ApiJson<NewWorkerToken>,
) -> ApiResult<(StatusCode, Json<IssuedWorkerToken>)> {
    if !user.is_admin {
        return Err(ApiError::Forbidden(
            "only administrators can issue worker tokens".to_owned(),
        ));
    }
    let name = body.name.trim();
    let valid = !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !valid {
        return Err(ApiError::field(
            "name",
            "use 1–100 letters, digits, `-`, `_` or `.`",
        ));
    }
    let token = random_secret(32);
    let worker_id = state
        .store
        .create_worker(name, &hash_token(&token), Utc::now())
        .await
        .map_err(|err| match err {
            StoreError::Conflict(_) => {
                ApiError::Conflict(format!("a worker named `{name}` already exists"))
            }
            other => other.into(),
        })?;
    Ok((
        StatusCode::CREATED,
        Json(IssuedWorkerToken {
            worker_id,
            name: name.to_owned(),
            token,
        }),
    ))
}
