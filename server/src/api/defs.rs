//! Definitions: folders and jobs. Saves are validated here (cron, zone, dependencies and cycles),
//! written through the store, then told to the scheduler so they take effect at once.

use std::collections::{BTreeMap, HashMap};

use app::{
    api::{DagEdge, DagNode, DagView, Folder, Job, JobInput, NewFolder},
    cron::{CronError, Schedule},
    dag::{self, DagError},
    domain::{MisfirePolicy, OverlapPolicy},
    engine::{Input, JobSpec},
    ids::{FolderId, JobId},
};
use axum::{
    Extension, Json,
    extract::{Query, State},
    http::StatusCode,
};
use chrono::Utc;
use serde::Deserialize;

use super::{ApiJson, ApiPath};
use crate::{
    AppState,
    auth::CurrentUser,
    error::{ApiError, ApiResult},
    store::JobWrite,
};

fn check_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ApiError::field("name", "must not be empty"));
    }
    if name.chars().count() > 200 {
        return Err(ApiError::field("name", "must be at most 200 characters"));
    }
    if name.chars().any(char::is_control) {
        return Err(ApiError::field(
            "name",
            "must not contain control characters",
        ));
    }
    Ok(name.to_owned())
}

/// Every folder (the client builds the tree from `parent_id`).
#[utoipa::path(get, path = "/api/folders", responses((status = 200, body = Vec<Folder>)), security(("bearer" = [])))]
pub async fn list_folders(State(state): State<AppState>) -> ApiResult<Json<Vec<Folder>>> {
    Ok(Json(state.store.folders().await?))
}

/// Creates a folder.
#[utoipa::path(post, path = "/api/folders", request_body = NewFolder,
    responses((status = 201, body = Folder), (status = 409, body = app::api::ErrorBody), (status = 422, body = app::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_folder(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<NewFolder>,
) -> ApiResult<(StatusCode, Json<Folder>)> {
    let name = check_name(&body.name)?;
    if let Some(parent) = body.parent_id
        && !state.store.folders().await?.iter().any(|f| f.id == parent)
    {
        return Err(ApiError::field(
            "parent_id",
            format!("folder {parent} does not exist"),
        ));
    }
    let folder = state
        .store
        .create_folder(&name, body.parent_id, Utc::now())
        .await
        .map_err(|err| match err {
            crate::store::StoreError::Conflict(_) => {
                ApiError::Conflict(format!("a folder named `{name}` already exists here"))
            }
            other => other.into(),
        })?;
    Ok((StatusCode::CREATED, Json(folder)))
}

/// `GET /api/jobs` filters.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct JobFilter {
    /// Only the jobs of this folder.
    folder_id: Option<FolderId>,
}

/// Jobs, optionally of one folder.
#[utoipa::path(get, path = "/api/jobs", params(JobFilter), responses((status = 200, body = Vec<Job>)), security(("bearer" = [])))]
pub async fn list_jobs(
    State(state): State<AppState>,
    Query(filter): Query<JobFilter>,
) -> ApiResult<Json<Vec<Job>>> {
    Ok(Json(state.store.jobs(filter.folder_id).await?))
}

/// One job.
#[utoipa::path(get, path = "/api/jobs/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = Job), (status = 404, body = app::api::ErrorBody)), security(("bearer" = [])))]
pub async fn get_job(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<JobId>,
) -> ApiResult<Json<Job>> {
    Ok(Json(job_or_404(&state, id).await?))
}

pub(super) async fn job_or_404(state: &AppState, id: JobId) -> ApiResult<Job> {
    state.store.job(id).await.map_err(|err| match err {
        crate::store::StoreError::NotFound => {
            ApiError::NotFound(format!("job {id} does not exist"))
        }
        other => other.into(),
    })
}

/// Creates a job. A bad cron, zone or dependency set is a 422 naming the field and the reason.
#[utoipa::path(post, path = "/api/jobs", request_body = JobInput,
    responses((status = 201, body = Job), (status = 422, body = app::api::ErrorBody)), security(("bearer" = [])))]
pub async fn create_job(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiJson(body): ApiJson<JobInput>,
) -> ApiResult<(StatusCode, Json<Job>)> {
    let _guard = state.definitions.lock().await;
    let write = validate(&state, None, body).await?;
    let job = state
        .store
        .create_job(&write, &user.username, Utc::now())
        .await?;
    schedule(&state, &job).await?;
    Ok((StatusCode::CREATED, Json(job)))
}

/// Saves a new version of a job; it takes effect at once for future instances.
#[utoipa::path(put, path = "/api/jobs/{id}", params(("id" = i64, Path)), request_body = JobInput,
    responses((status = 200, body = Job), (status = 404, body = app::api::ErrorBody), (status = 422, body = app::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn update_job(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<JobId>,
    ApiJson(body): ApiJson<JobInput>,
) -> ApiResult<Json<Job>> {
    // Saves are serialised so two concurrent edits cannot close a cycle between them.
    let _guard = state.definitions.lock().await;
    job_or_404(&state, id).await?;
    let write = validate(&state, Some(id), body).await?;
    let job = state.store.update_job(id, &write, Utc::now()).await?;
    schedule(&state, &job).await?;
    Ok(Json(job))
}

/// Config keys are what `${key}` can name: letters, digits, `_`, `.` and `-`.
fn check_configs(configs: &std::collections::BTreeMap<String, String>) -> Result<(), String> {
    if configs.len() > 500 {
        return Err("at most 500 configs".to_owned());
    }
    for (key, value) in configs {
        let valid_key = !key.is_empty()
            && key.len() <= 128
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if !valid_key {
            return Err(format!(
                "key `{key}`: use 1–128 letters, digits, `_`, `.` or `-`"
            ));
        }
        if value.len() > 64 << 10 {
            return Err(format!("the value of `{key}` is longer than 64 KiB"));
        }
    }
    Ok(())
}

/// Deletes a job. Refused (409) while other jobs depend on it, with their names; its instances
/// that have not started are cancelled, running ones finish, history stays.
#[utoipa::path(delete, path = "/api/jobs/{id}", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = app::api::ErrorBody), (status = 409, body = app::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete_job(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<JobId>,
) -> ApiResult<StatusCode> {
    let _guard = state.definitions.lock().await;
    job_or_404(&state, id).await?;
    let graph = state.store.dependency_graph().await?;
    let dependents: Vec<JobId> = graph
        .iter()
        .filter(|(_, ups)| ups.contains(&id))
        .map(|(job, _)| *job)
        .collect();
    if !dependents.is_empty() {
        let names = job_names(&state).await?;
        let list: Vec<String> = dependents
            .iter()
            .map(|d| {
                names
                    .get(d)
                    .map_or_else(|| d.to_string(), |n| format!("{n} ({d})"))
            })
            .collect();
        return Err(ApiError::Conflict(format!(
            "job {id} cannot be deleted: {} depend on it; remove those dependencies first",
            list.join(", ")
        )));
    }
    state.store.delete_job(id, Utc::now()).await?;
    state
        .scheduler
        .call(Input::JobRemoved(id))
        .await
        .map_err(|err| {
            ApiError::Internal(anyhow::anyhow!(
                "the scheduler did not take the deletion: {err}"
            ))
        })?;
    Ok(StatusCode::NO_CONTENT)
}

async fn job_names(state: &AppState) -> ApiResult<HashMap<JobId, String>> {
    Ok(state
        .store
        .jobs(None)
        .await?
        .into_iter()
        .map(|j| (j.id, j.name))
        .collect())
}

async fn schedule(state: &AppState, job: &Job) -> ApiResult<()> {
    let spec = JobSpec {
        id: job.id,
        version: job.version,
        cron: job.cron.clone(),
        timezone: job.timezone.clone(),
        dependencies: job.dependencies.clone(),
        windows: job.dependency_windows.clone(),
        self_dependent: job.self_dependent,
        host_group: job.host_group.clone(),
        retry_count: job.retry_count,
        retry_delay_secs: job.retry_delay_secs,
        enabled: job.enabled,
        priority: job.priority,
        overlap: job.overlap_policy,
        misfire: job.misfire_policy,
        schedule_from: job.created_at,
    };
    state
        .scheduler
        .call(Input::JobUpserted(spec))
        .await
        .map_err(|err| {
            ApiError::Internal(anyhow::anyhow!("the scheduler did not take the job: {err}"))
        })?;
    Ok(())
}

async fn validate(state: &AppState, id: Option<JobId>, body: JobInput) -> ApiResult<JobWrite> {
    let mut errors = BTreeMap::new();
    let name = check_name(&body.name).map_err(|err| match err {
        ApiError::Invalid(fields) => fields.into_values().next().unwrap_or_default(),
        other => other.to_string(),
    });
    if let Err(reason) = &name {
        errors.insert("name".to_owned(), reason.clone());
    }
    if !state
        .store
        .folders()
        .await?
        .iter()
        .any(|f| f.id == body.folder_id)
    {
        errors.insert(
            "folder_id".to_owned(),
            format!("folder {} does not exist", body.folder_id),
        );
    }
    let timezone = body
        .timezone
        .as_deref()
        .map(str::trim)
        .filter(|z| !z.is_empty())
        .unwrap_or("UTC")
        .to_owned();
    if let Err(err) = app::cron::parse_zone(&timezone) {
        errors.insert("timezone".to_owned(), err.to_string());
    }
    let cron = body
        .cron
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned);
    if let Some(cron) = &cron {
        match Schedule::parse(cron, &timezone) {
            Ok(_) | Err(CronError::UnknownZone(_)) => {}
            Err(err) => {
                errors.insert("cron".to_owned(), err.to_string());
            }
        }
    }
    let mut dependencies = body.dependencies.unwrap_or_default();
    dependencies.sort();
    dependencies.dedup();
    let graph = state.store.dependency_graph().await?;
    // A new job has no downstream yet, so only existence and self-reference can fail for it.
    let candidate = id.unwrap_or(JobId(i64::MAX));
    if let Err(err) = dag::check_dependencies(&graph, candidate, &dependencies) {
        let reason = match err {
            DagError::Cycle { path } => {
                let names = job_names(state).await?;
                let steps: Vec<String> = path
                    .iter()
                    .map(|id| {
                        names
                            .get(id)
                            .map_or_else(|| id.to_string(), |n| format!("{n} ({id})"))
                    })
                    .collect();
                format!(
                    "this would create a dependency cycle: {}",
                    steps.join(" -> ")
                )
            }
            other => other.to_string(),
        };
        errors.insert("dependencies".to_owned(), reason);
    }
    let host_group = body
        .host_group
        .as_deref()
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .unwrap_or("default")
        .to_owned();
    let retry_delay_secs = body.retry_delay_secs.unwrap_or(60);
    if body.retry_count.unwrap_or(0) > 100 {
        errors.insert("retry_count".to_owned(), "must be at most 100".to_owned());
    }
    if retry_delay_secs > 7 * 24 * 3600 {
        errors.insert(
            "retry_delay_secs".to_owned(),
            "must be at most one week".to_owned(),
        );
    }
    let dependency_windows = body.dependency_windows.unwrap_or_default();
    if let Some(stray) = dependency_windows
        .keys()
        .find(|job| !dependencies.contains(job))
    {
        errors.insert(
            "dependency_windows".to_owned(),
            format!("job {stray} is not a dependency"),
        );
    }
    let priority = body.priority.unwrap_or(3);
    if !(1..=5).contains(&priority) {
        errors.insert(
            "priority".to_owned(),
            "must be 1 (lowest) to 5 (highest)".to_owned(),
        );
    }
    let configs = body.configs.unwrap_or_default();
    if let Err(reason) = check_configs(&configs) {
        errors.insert("configs".to_owned(), reason);
    }
    if body.script.len() > 1 << 20 {
        errors.insert("script".to_owned(), "must be at most 1 MiB".to_owned());
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    Ok(JobWrite {
        folder_id: body.folder_id,
        name: name.unwrap_or_default(),
        description: body.description.unwrap_or_default(),
        job_type: body.job_type,
        script: body.script,
        configs,
        cron,
        timezone,
        dependencies,
        dependency_windows,
        self_dependent: body.self_dependent.unwrap_or(false),
        host_group,
        retry_count: body.retry_count.unwrap_or(0),
        retry_delay_secs,
        enabled: body.enabled.unwrap_or(true),
        priority,
        overlap_policy: body.overlap_policy.unwrap_or(OverlapPolicy::Allow),
        misfire_policy: body.misfire_policy.unwrap_or(MisfirePolicy::FireOnceNow),
    })
}

/// The job with its whole upstream and downstream closure, each node with its latest state.
#[utoipa::path(get, path = "/api/jobs/{id}/dag", params(("id" = i64, Path)),
    responses((status = 200, body = DagView), (status = 404, body = app::api::ErrorBody)), security(("bearer" = [])))]
pub async fn job_dag(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<JobId>,
) -> ApiResult<Json<DagView>> {
    job_or_404(&state, id).await?;
    let graph = state.store.dependency_graph().await?;
    let (nodes, edges) = dag::neighbourhood(&graph, id);
    let ids: Vec<JobId> = nodes.iter().copied().collect();
    let states = state.store.latest_states(&ids).await?;
    let names = job_names(&state).await?;
    let nodes = ids
        .into_iter()
        .map(|job_id| DagNode {
            job_id,
            name: names.get(&job_id).cloned().unwrap_or_default(),
            state: states.get(&job_id).map(|s| s.1),
            instance_id: states.get(&job_id).map(|s| s.0),
        })
        .collect();
    let edges = edges
        .into_iter()
        .map(|(from, to)| DagEdge { from, to })
        .collect();
    Ok(Json(DagView {
        center: id,
        nodes,
        edges,
    }))
}
