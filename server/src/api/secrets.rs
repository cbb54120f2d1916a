//! Secret configs of folders and jobs: write-only. Setting one stores it encrypted; reading says
//! only which names are set, where, and since when.

use app::{
    api::{SecretInfo, SecretValue},
    ids::{FolderId, JobId},
};
use axum::{Extension, Json, extract::State, http::StatusCode};
use chrono::Utc;

use super::{ApiJson, ApiPath, audit, defs::job_or_404};
use crate::{
    AppState,
    auth::CurrentUser,
    error::{ApiError, ApiResult},
    store::{AuditWrite, SecretOwner, SecretRecord, StoreError},
};

/// Secret names are environment variable names, not Hera's own.
fn check_name(name: &str) -> ApiResult<()> {
    match super::env_name_problem(name) {
        Some(problem) => Err(ApiError::field("name", problem)),
        None => Ok(()),
    }
}

async fn folder_exists(state: &AppState, id: FolderId) -> ApiResult<()> {
    if state.store.folders().await?.iter().any(|f| f.id == id) {
        Ok(())
    } else {
        Err(ApiError::NotFound(format!("folder {id} does not exist")))
    }
}

/// The secrets a job's attempts get (its own and its folders'), nearest winning; no values.
#[utoipa::path(get, path = "/api/jobs/{id}/secrets", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<SecretInfo>), (status = 404, body = app::api::ErrorBody)), security(("bearer" = [])))]
pub async fn job_secrets(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<JobId>,
) -> ApiResult<Json<Vec<SecretInfo>>> {
    let job = job_or_404(&state, id).await?;
    Ok(Json(secret_infos(&state, job.folder_id, Some(id)).await?))
}

/// The secrets of a folder (its own and its parents'); no values.
#[utoipa::path(get, path = "/api/folders/{id}/secrets", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<SecretInfo>), (status = 404, body = app::api::ErrorBody)), security(("bearer" = [])))]
pub async fn folder_secrets(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<FolderId>,
) -> ApiResult<Json<Vec<SecretInfo>>> {
    folder_exists(&state, id).await?;
    Ok(Json(secret_infos(&state, id, None).await?))
}

async fn secret_infos(
    state: &AppState,
    folder: FolderId,
    job: Option<JobId>,
) -> ApiResult<Vec<SecretInfo>> {
    let folders = state.store.folders().await?;
    let owners = crate::secrets::owners(state.store.as_ref(), folder, job).await?;
    let records = state.store.secrets(&owners).await?;
    let rank = |owner: &SecretOwner| owners.iter().position(|o| o == owner);
    Ok(records
        .iter()
        .map(|record| {
            let overridden = records
                .iter()
                .any(|other| other.name == record.name && rank(&other.owner) > rank(&record.owner));
            let folder_id = match record.owner {
                SecretOwner::Folder(id) => Some(id),
                SecretOwner::Job(_) => None,
            };
            SecretInfo {
                name: record.name.clone(),
                folder_id,
                folder_name: folder_id
                    .and_then(|id| folders.iter().find(|f| f.id == id))
                    .map(|f| f.name.clone()),
                overridden,
                updated_at: record.updated_at,
            }
        })
        .collect())
}

/// Sets a job's secret (encrypted at rest; attempts get it as an environment variable).
#[utoipa::path(put, path = "/api/jobs/{id}/secrets/{name}", params(("id" = i64, Path), ("name" = String, Path)),
    request_body = SecretValue,
    responses((status = 204), (status = 404, body = app::api::ErrorBody), (status = 422, body = app::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn set_job_secret(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiPath((id, name)): ApiPath<(JobId, String)>,
    ApiJson(body): ApiJson<SecretValue>,
) -> ApiResult<StatusCode> {
    job_or_404(&state, id).await?;
    set(&state, &user, SecretOwner::Job(id), &name, &body.value).await
}

/// Sets a folder's secret (inherited by its jobs and subfolders).
#[utoipa::path(put, path = "/api/folders/{id}/secrets/{name}", params(("id" = i64, Path), ("name" = String, Path)),
    request_body = SecretValue,
    responses((status = 204), (status = 404, body = app::api::ErrorBody), (status = 422, body = app::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn set_folder_secret(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiPath((id, name)): ApiPath<(FolderId, String)>,
    ApiJson(body): ApiJson<SecretValue>,
) -> ApiResult<StatusCode> {
    folder_exists(&state, id).await?;
    set(&state, &user, SecretOwner::Folder(id), &name, &body.value).await
}

/// Deletes a job's secret.
#[utoipa::path(delete, path = "/api/jobs/{id}/secrets/{name}", params(("id" = i64, Path), ("name" = String, Path)),
    responses((status = 204), (status = 404, body = app::api::ErrorBody)), security(("bearer" = [])))]
pub async fn delete_job_secret(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiPath((id, name)): ApiPath<(JobId, String)>,
) -> ApiResult<StatusCode> {
    delete(&state, &user, SecretOwner::Job(id), &name).await
}

/// Deletes a folder's secret.
#[utoipa::path(delete, path = "/api/folders/{id}/secrets/{name}", params(("id" = i64, Path), ("name" = String, Path)),
    responses((status = 204), (status = 404, body = app::api::ErrorBody)), security(("bearer" = [])))]
pub async fn delete_folder_secret(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiPath((id, name)): ApiPath<(FolderId, String)>,
) -> ApiResult<StatusCode> {
    delete(&state, &user, SecretOwner::Folder(id), &name).await
}

fn audit_entry(owner: SecretOwner, action: &str, name: &str) -> AuditWrite {
    AuditWrite {
        action: action.to_owned(),
        job_id: match owner {
            SecretOwner::Job(id) => Some(id),
            SecretOwner::Folder(_) => None,
        },
        details: format!("{name} of {owner}"),
        ..AuditWrite::default()
    }
}

async fn set(
    state: &AppState,
    user: &CurrentUser,
    owner: SecretOwner,
    name: &str,
    value: &str,
) -> ApiResult<StatusCode> {
    check_name(name)?;
    if value.len() > 64 << 10 || value.contains('\0') {
        return Err(ApiError::field(
            "value",
            "must be at most 64 KiB, without NUL characters",
        ));
    }
    let (nonce, sealed) = state.secrets.seal(owner, name, value);
    let record = SecretRecord {
        owner,
        name: name.to_owned(),
        nonce,
        sealed,
        updated_at: Utc::now(),
    };
    state.store.set_secret(&record).await?;
    state.generation.bump();
    audit::record(state, user, audit_entry(owner, "secret.set", name)).await;
    Ok(StatusCode::NO_CONTENT)
}

async fn delete(
    state: &AppState,
    user: &CurrentUser,
    owner: SecretOwner,
    name: &str,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_secret(owner, name)
        .await
        .map_err(|err| match err {
            StoreError::NotFound => {
                ApiError::NotFound(format!("{owner} has no secret named `{name}`"))
            }
            other => other.into(),
        })?;
    state.generation.bump();
    audit::record(state, user, audit_entry(owner, "secret.delete", name)).await;
    Ok(StatusCode::NO_CONTENT)
}
