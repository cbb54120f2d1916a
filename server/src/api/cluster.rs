//! Workers: the cluster list and worker tokens.

use app::{
    api::{Drain, IssuedWorkerToken, NewWorkerToken, Worker},
    engine::Input,
    ids::WorkerId,
};
use axum::{Extension, Json, extract::State, http::StatusCode};
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
    let running = state.store.running_per_worker().await?;
    let draining = state.store.draining_workers().await?;
    let workers = state
        .store
        .workers()
        .await?
        .into_iter()
        .map(|(id, name)| {
            let info = connected.get(&id);
            Worker {
                id,
                name,
                host_group: info.map(|i| i.host_group.clone()).unwrap_or_default(),
                slots: info.map_or(0, |i| i.slots),
                running: running.get(&id).copied().unwrap_or(0),
                connected: info.is_some(),
                hostname: info.map(|i| i.hostname.clone()).unwrap_or_default(),
                last_seen: info.map(|i| i.last_seen),
                load: info.and_then(|i| i.load.clone()),
                draining: draining.contains(&id),
            }
        })
        .collect();
    Ok(Json(workers))
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
