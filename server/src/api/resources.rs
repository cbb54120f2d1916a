//! The resource center: upload (streamed, size-limited), list, versions, download and delete of
//! named files that jobs fetch into their work directories (`hera:<name>[@version]` in
//! `hera.resources` or a `download[…]` directive); and the route workers fetch contents from.

use app::{
    api::{Resource, ResourceVersion},
    files::check_local_name,
    ids::ResourceId,
};
use axum::{
    Extension, Json,
    body::Body,
    extract::{Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::Utc;

use super::{ApiPath, audit};
use crate::{
    AppState,
    auth::{CurrentUser, hash_token},
    content::PutError,
    error::{ApiError, ApiResult},
    store::{AuditWrite, StoreError},
};

/// `POST /api/resources` parameters.
#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct UploadQuery {
    /// The resource's name (may contain `/`, e.g. `lib/udf.jar`); an existing name gets a new
    /// version.
    name: String,
}

/// Every resource with its latest version.
#[utoipa::path(get, path = "/api/resources", responses((status = 200, body = Vec<Resource>)), security(("bearer" = [])))]
pub async fn list_resources(State(state): State<AppState>) -> ApiResult<Json<Vec<Resource>>> {
    Ok(Json(state.store.resources().await?))
}

/// Uploads a file as the next version of the resource `name` (the request body is the file,
/// streamed; at most the server's limit, default 100 MiB).
#[utoipa::path(post, path = "/api/resources", params(UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = ResourceVersion), (status = 413, body = app::api::ErrorBody), (status = 422, body = app::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn upload_resource(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Query(query): Query<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<ResourceVersion>)> {
    let name = query.name.trim().to_owned();
    check_local_name(&name).map_err(|reason| ApiError::field("name", reason))?;
    if name.chars().count() > 200 {
        return Err(ApiError::field("name", "must be at most 200 characters"));
    }
    // Refuse early what the client says is too large; the stream is counted either way.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > state.content.max_bytes) {
        return Err(too_large(state.content.max_bytes));
    }
    let (sha256, size) = match state.content.put(body.into_data_stream()).await {
        Ok(stored) => stored,
        Err(PutError::TooLarge(limit)) => return Err(too_large(limit)),
        Err(PutError::Body(reason)) => return Err(ApiError::BadRequest(reason)),
        Err(PutError::Store(err)) => {
            return Err(ApiError::Internal(anyhow::anyhow!(
                "the resource store failed: {err}"
            )));
        }
    };
    let version = state
        .store
        .add_resource_version(&name, size, &sha256, &user.username, Utc::now())
        .await?;
    let entry = AuditWrite {
        action: "resource.upload".to_owned(),
        details: format!(
            "{name} version {} ({size} bytes, sha256 {sha256})",
            version.version
        ),
        ..AuditWrite::default()
    };
    audit::record(&state, &user, entry).await;
    Ok((StatusCode::CREATED, Json(version)))
}

fn too_large(limit: u64) -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "the file is larger than the limit of {} MiB",
        limit >> 20
    ))
}

/// One resource with all its versions, newest first.
#[utoipa::path(get, path = "/api/resources/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = Resource), (status = 404, body = app::api::ErrorBody)), security(("bearer" = [])))]
pub async fn get_resource(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<ResourceId>,
) -> ApiResult<Json<Resource>> {
    Ok(Json(resource_or_404(&state, id).await?))
}

async fn resource_or_404(state: &AppState, id: ResourceId) -> ApiResult<Resource> {
    state.store.resource(id).await.map_err(|err| match err {
        StoreError::NotFound => ApiError::NotFound(format!("resource {id} does not exist")),
        other => other.into(),
    })
}

/// `GET /api/resources/{id}/content` parameters.
#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct ContentQuery {
    /// The version (default: the latest).
    version: Option<u32>,
}

/// Downloads a version of a resource.
#[utoipa::path(get, path = "/api/resources/{id}/content", params(("id" = i64, Path), ContentQuery),
    responses((status = 200, body = Vec<u8>, content_type = "application/octet-stream"), (status = 404, body = app::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn download_resource(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<ResourceId>,
    Query(query): Query<ContentQuery>,
) -> ApiResult<Response> {
    let resource = resource_or_404(&state, id).await?;
    let version = match query.version {
        None => &resource.latest,
        Some(v) => resource
            .versions
            .iter()
            .find(|rv| rv.version == v)
            .ok_or_else(|| ApiError::NotFound(format!("{} has no version {v}", resource.name)))?,
    };
    let file_name = resource.name.rsplit('/').next().unwrap_or("resource");
    let disposition = format!(
        "attachment; filename=\"{}\"",
        file_name.replace(['"', '\\'], "_")
    );
    stream_content(&state, &version.sha256, version.size, Some(disposition)).await
}

async fn stream_content(
    state: &AppState,
    sha256: &str,
    size: u64,
    disposition: Option<String>,
) -> ApiResult<Response> {
    let stream =
        state.content.get(sha256).await.map_err(|err| {
            ApiError::Internal(anyhow::anyhow!("the resource store failed: {err}"))
        })?;
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(header::CONTENT_LENGTH, size.into());
    if let Some(value) = disposition.and_then(|d| header::HeaderValue::from_str(&d).ok()) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// Deletes a resource with all its versions. Jobs that still name it fail before they start,
/// saying so.
#[utoipa::path(delete, path = "/api/resources/{id}", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = app::api::ErrorBody)), security(("bearer" = [])))]
pub async fn delete_resource(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiPath(id): ApiPath<ResourceId>,
) -> ApiResult<StatusCode> {
    let resource = resource_or_404(&state, id).await?;
    let unused = state.store.delete_resource(id).await?;
    for sha256 in unused {
        if let Err(err) = state.content.delete(&sha256).await {
            tracing::warn!(%sha256, error = %err, "cannot remove an unused resource content");
        }
    }
    let entry = AuditWrite {
        action: "resource.delete".to_owned(),
        details: format!("{} ({} version(s))", resource.name, resource.versions.len()),
        ..AuditWrite::default()
    };
    audit::record(&state, &user, entry).await;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/worker/files/{sha256}`: a worker fetches a resource's content by its checksum,
/// authenticated by its worker token (`Authorization: Bearer <token>`). Only contents of stored
/// resource versions are served.
pub async fn worker_file(
    State(state): State<AppState>,
    ApiPath(sha256): ApiPath<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| ApiError::Unauthorized("a worker token is required".to_owned()))?;
    match state.store.worker_by_token(&hash_token(token)).await {
        Ok(_) => {}
        Err(StoreError::NotFound) => {
            return Err(ApiError::Unauthorized("unknown worker token".to_owned()));
        }
        Err(err) => return Err(err.into()),
    }
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::NotFound("no such content".to_owned()));
    }
    let sha256 = sha256.to_ascii_lowercase();
    let Some(size) = state.store.resource_content_size(&sha256).await? else {
        return Err(ApiError::NotFound("no such content".to_owned()));
    };
    stream_content(&state, &sha256, size, None).await
}
