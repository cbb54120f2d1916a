//! Definitions: folders and jobs. Saves are validated here (cron, zone, dependencies and cycles),
//! written through the store, then told to the scheduler so they take effect at once.

use std::collections::{BTreeMap, HashMap};

use app::{
    api::{
        ActionReason, ConfigView, DagEdge, DagNode, DagView, Folder, FolderUpdate, Job, JobInput,
        NewFolder, RenderRequest, Rendered,
    },
    cron::{CronError, Schedule},
    dag::{self, DagError},
    domain::{CalendarMode, MisfirePolicy, OverlapPolicy, RetryBackoff},
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

use super::{ApiJson, ApiPath, MaybeJson, audit};
use crate::{
    AppState,
    auth::CurrentUser,
    error::{ApiError, ApiResult},
    rendering::{Script, config_view, render_script},
    store::{AuditWrite, JobWrite},
};

pub(super) fn check_name(name: &str) -> Result<String, ApiError> {
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

/// Renames a folder and sets its configs (inherited by its folders and jobs; the nearest wins).
#[utoipa::path(put, path = "/api/folders/{id}", params(("id" = i64, Path)), request_body = FolderUpdate,
    responses((status = 200, body = Folder), (status = 404, body = app::api::ErrorBody),
        (status = 409, body = app::api::ErrorBody), (status = 422, body = app::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn update_folder(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<FolderId>,
    ApiJson(body): ApiJson<FolderUpdate>,
) -> ApiResult<Json<Folder>> {
    let name = check_name(&body.name)?;
    check_configs(&body.configs).map_err(|reason| ApiError::field("configs", reason))?;
    if !state.store.folders().await?.iter().any(|f| f.id == id) {
        return Err(ApiError::NotFound(format!("folder {id} does not exist")));
    }
    let folder = state
        .store
        .update_folder(id, &name, &body.configs)
        .await
        .map_err(|err| match err {
            crate::store::StoreError::Conflict(_) => {
                ApiError::Conflict(format!("a folder named `{name}` already exists here"))
            }
            other => other.into(),
        })?;
    state.generation.bump();
    Ok(Json(folder))
}

/// A job's own configs, the ones it inherits from its folders, and the effective set.
#[utoipa::path(get, path = "/api/jobs/{id}/configs", params(("id" = i64, Path)),
    responses((status = 200, body = ConfigView), (status = 404, body = app::api::ErrorBody)), security(("bearer" = [])))]
pub async fn job_configs(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<JobId>,
) -> ApiResult<Json<ConfigView>> {
    let job = job_or_404(&state, id).await?;
    Ok(Json(
        config_view(state.store.as_ref(), job.folder_id, &job.configs).await?,
    ))
}

/// A folder's own configs, the ones it inherits from the folders above it, and the effective set
/// its jobs start from.
#[utoipa::path(get, path = "/api/folders/{id}/configs", params(("id" = i64, Path)),
    responses((status = 200, body = ConfigView), (status = 404, body = app::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn folder_configs(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<FolderId>,
) -> ApiResult<Json<ConfigView>> {
    let mut path = state.store.folder_path(id).await?;
    let Some(folder) = path.pop().filter(|f| f.id == id) else {
        return Err(ApiError::NotFound(format!("folder {id} does not exist")));
    };
    Ok(Json(crate::rendering::configs_along(
        &path,
        &folder.configs,
    )))
}

/// Renders a script as an attempt at `business_time` would see it: configs (the folder's, then
/// the given own ones), `${zdt…}` and `$[…]` date macros, run-time parameters (shell-quoted). A
/// script that cannot be rendered is a 422 saying where and why.
#[utoipa::path(post, path = "/api/render", request_body = RenderRequest,
    responses((status = 200, body = Rendered), (status = 422, body = app::api::ErrorBody)), security(("bearer" = [])))]
pub async fn render_preview(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RenderRequest>,
) -> ApiResult<Json<Rendered>> {
    if let Some(folder) = body.folder_id
        && !state.store.folders().await?.iter().any(|f| f.id == folder)
    {
        return Err(ApiError::field(
            "folder_id",
            format!("folder {folder} does not exist"),
        ));
    }
    let script = Script {
        text: &body.script,
        configs: &body.configs,
        folder: body.folder_id,
        timezone: &body.timezone,
        business_time: body.business_time,
        params: &body.params,
    };
    match render_script(state.store.as_ref(), &script).await? {
        Ok(rendered) => Ok(Json(Rendered {
            rendered: rendered.text,
        })),
        Err(reason) => Err(ApiError::field("script", reason)),
    }
}

/// `GET /api/jobs` filters.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct JobFilter {
    /// Only the jobs of this folder.
    folder_id: Option<FolderId>,
    /// Only jobs whose name contains this text (any case), or whose id it is.
    q: Option<String>,
    /// With `q`: at most this many (default 50, at most 1000).
    limit: Option<i64>,
}

/// Jobs, optionally of one folder, optionally matching a search, by name.
#[utoipa::path(get, path = "/api/jobs", params(JobFilter), responses((status = 200, body = Vec<Job>)), security(("bearer" = [])))]
pub async fn list_jobs(
    State(state): State<AppState>,
    Query(filter): Query<JobFilter>,
) -> ApiResult<Json<Vec<Job>>> {
    match filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        Some(text) => {
            let limit = filter.limit.unwrap_or(50).clamp(1, 1000);
            Ok(Json(
                state
                    .store
                    .search_jobs(text, filter.folder_id, limit)
                    .await?,
            ))
        }
        None => Ok(Json(state.store.jobs(filter.folder_id).await?)),
    }
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
    let entry = job_audit("job.create", &job, format!("version {}", job.version));
    audit::record(&state, &user, entry).await;
    Ok((StatusCode::CREATED, Json(job)))
}

fn job_audit(action: &str, job: &Job, details: String) -> AuditWrite {
    AuditWrite {
        action: action.to_owned(),
        job_id: Some(job.id),
        details: format!("{} ({details})", job.name),
        ..AuditWrite::default()
    }
}

/// Saves a new version of a job; it takes effect at once for future instances.
#[utoipa::path(put, path = "/api/jobs/{id}", params(("id" = i64, Path)), request_body = JobInput,
    responses((status = 200, body = Job), (status = 404, body = app::api::ErrorBody), (status = 422, body = app::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn update_job(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiPath(id): ApiPath<JobId>,
    ApiJson(body): ApiJson<JobInput>,
) -> ApiResult<Json<Job>> {
    // Saves are serialised so two concurrent edits cannot close a cycle between them.
    let _guard = state.definitions.lock().await;
    job_or_404(&state, id).await?;
    let write = validate(&state, Some(id), body).await?;
    let job = state.store.update_job(id, &write, Utc::now()).await?;
    schedule(&state, &job).await?;
    let entry = job_audit("job.update", &job, format!("version {}", job.version));
    audit::record(&state, &user, entry).await;
    Ok(Json(job))
}

/// Pauses a job: no new instances until it is resumed, and its waiting instances stay waiting
/// (a manual run still runs). Unlike disabling, its downstream keeps waiting for it, and on
/// resume the slots missed meanwhile are handled by its misfire policy.
#[utoipa::path(post, path = "/api/jobs/{id}/pause", params(("id" = i64, Path)), request_body = ActionReason,
    responses((status = 200, body = Job), (status = 404, body = app::api::ErrorBody)), security(("bearer" = [])))]
pub async fn pause_job(
    state: State<AppState>,
    user: Extension<CurrentUser>,
    id: ApiPath<JobId>,
    body: MaybeJson<ActionReason>,
) -> ApiResult<Json<Job>> {
    set_paused(state, user, id, body, true).await
}

/// Resumes a paused job.
#[utoipa::path(post, path = "/api/jobs/{id}/resume", params(("id" = i64, Path)), request_body = ActionReason,
    responses((status = 200, body = Job), (status = 404, body = app::api::ErrorBody)), security(("bearer" = [])))]
pub async fn resume_job(
    state: State<AppState>,
    user: Extension<CurrentUser>,
    id: ApiPath<JobId>,
    body: MaybeJson<ActionReason>,
) -> ApiResult<Json<Job>> {
    set_paused(state, user, id, body, false).await
}

async fn set_paused(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiPath(id): ApiPath<JobId>,
    MaybeJson(body): MaybeJson<ActionReason>,
    pause: bool,
) -> ApiResult<Json<Job>> {
    let _guard = state.definitions.lock().await;
    let job = job_or_404(&state, id).await?;
    if job.paused == pause {
        return Ok(Json(job));
    }
    let job = state.store.set_job_paused(id, pause.then(Utc::now)).await?;
    schedule(&state, &job).await?;
    let action = if pause { "job.pause" } else { "job.resume" };
    let mut entry = job_audit(action, &job, format!("version {}", job.version));
    entry.reason = body.reason;
    audit::record(&state, &user, entry).await;
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
    Extension(user): Extension<CurrentUser>,
    ApiPath(id): ApiPath<JobId>,
) -> ApiResult<StatusCode> {
    let _guard = state.definitions.lock().await;
    let job = job_or_404(&state, id).await?;
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
    let entry = job_audit("job.delete", &job, format!("version {}", job.version));
    audit::record(&state, &user, entry).await;
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

pub(super) async fn schedule(state: &AppState, job: &Job) -> ApiResult<()> {
    let spec = JobSpec::from_job(job);
    state
        .scheduler
        .call(Input::JobUpserted(spec))
        .await
        .map_err(|err| {
            ApiError::Internal(anyhow::anyhow!("the scheduler did not take the job: {err}"))
        })?;
    Ok(())
}

pub(super) async fn validate(
    state: &AppState,
    id: Option<JobId>,
    body: JobInput,
) -> ApiResult<JobWrite> {
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
    // A job without dependencies closes no cycle: the graph is read only when there are some.
    let graph = if dependencies.is_empty() {
        BTreeMap::new()
    } else {
        state.store.dependency_graph().await?
    };
    // A new job has no downstream yet, so only existence and self-reference can fail for it.
    let candidate = id.unwrap_or(JobId(i64::MAX));
    if !dependencies.is_empty()
        && let Err(err) = dag::check_dependencies(&graph, candidate, &dependencies)
    {
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
    let retry_max_delay_secs = body.retry_max_delay_secs.unwrap_or(3600);
    if retry_max_delay_secs > 7 * 24 * 3600 {
        errors.insert(
            "retry_max_delay_secs".to_owned(),
            "must be at most one week".to_owned(),
        );
    }
    for (field, value) in [
        ("timeout_secs", body.timeout_secs),
        ("expected_duration_secs", body.expected_duration_secs),
    ] {
        if value.is_some_and(|v| v == 0 || v > 30 * 24 * 3600) {
            errors.insert(field.to_owned(), "must be 1 second to 30 days".to_owned());
        }
    }
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
    let dependency_on_skip = body.dependency_on_skip.unwrap_or_default();
    if let Some(stray) = dependency_on_skip
        .keys()
        .find(|job| !dependencies.contains(job))
    {
        errors.insert(
            "dependency_on_skip".to_owned(),
            format!("job {stray} is not a dependency"),
        );
    }
    if let Some(calendar) = body.calendar_id
        && let Err(err) = state.store.calendar(calendar).await
    {
        let reason = match err {
            crate::store::StoreError::NotFound => format!("calendar {calendar} does not exist"),
            other => return Err(other.into()),
        };
        errors.insert("calendar_id".to_owned(), reason);
    }
    let calendar_mode = match (body.calendar_id, body.calendar_mode) {
        (None, Some(mode)) if mode != CalendarMode::Ignore => {
            errors.insert(
                "calendar_mode".to_owned(),
                "choose a calendar first (calendar_id)".to_owned(),
            );
            mode
        }
        (None, _) => CalendarMode::Ignore,
        (Some(_), mode) => mode.unwrap_or(CalendarMode::WorkingDays),
    };
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
    let slot_weight = body.slot_weight.unwrap_or(1);
    if !(1..=64).contains(&slot_weight) {
        errors.insert(
            "slot_weight".to_owned(),
            "must be from 1 to 64 worker slots".to_owned(),
        );
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
        dependency_on_skip,
        calendar_id: body.calendar_id,
        calendar_mode,
        self_dependent: body.self_dependent.unwrap_or(false),
        host_group,
        retry_count: body.retry_count.unwrap_or(0),
        retry_delay_secs,
        retry_backoff: body.retry_backoff.unwrap_or(RetryBackoff::Fixed),
        retry_max_delay_secs,
        timeout_secs: body.timeout_secs,
        expected_duration_secs: body.expected_duration_secs,
        enabled: body.enabled.unwrap_or(true),
        priority,
        overlap_policy: body.overlap_policy.unwrap_or(OverlapPolicy::Allow),
        misfire_policy: body.misfire_policy.unwrap_or(MisfirePolicy::FireOnceNow),
        slot_weight,
        scratch: false,
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
