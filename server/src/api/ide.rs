//! The development center (IDE): a personal file tree per user and one shared tree. A file runs
//! on a host group as an instance of its hidden *run job* (a job marked scratch: kept out of job
//! lists, search, the dashboard and timelines), so runs get the scheduler's queueing, slots,
//! rendering, secrets, live logs and history like any instance; publishing copies the file into a
//! real job.

use std::collections::BTreeMap;

use app::{
    api::{
        IdeFile, IdeFileUpdate, IdeMove, IdePublish, IdeRun, IdeScope, Instance, Job, JobInput,
        NewIdeFile,
    },
    domain::{JobType, TriggerKind},
    engine::Input,
    ids::{FolderId, IdeFileId},
};
use axum::{
    Extension, Json,
    extract::{Query, State},
    http::StatusCode,
};
use chrono::Utc;

use super::{
    ApiJson, ApiPath, audit,
    defs::{self, check_name, job_or_404},
    runs::{engine_error, trigger},
};
use crate::{
    AppState,
    auth::CurrentUser,
    error::{ApiError, ApiResult},
    store::{AuditWrite, IdeFileRecord, IdeFileWrite, StoreError},
};

/// The longest file the IDE stores or runs (as for job scripts).
const MAX_CONTENT: usize = 1 << 20;

/// The user's personal tree and the shared tree (folders first, then by name), without content.
#[utoipa::path(get, path = "/api/ide/files", responses((status = 200, body = Vec<IdeFile>)), security(("bearer" = [])))]
pub async fn list_files(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
) -> ApiResult<Json<Vec<IdeFile>>> {
    let files = state.store.ide_files(&user.username).await?;
    Ok(Json(files.into_iter().map(|r| r.file).collect()))
}

/// Creates a file or folder in the user's personal tree or the shared one.
#[utoipa::path(post, path = "/api/ide/files", request_body = NewIdeFile,
    responses((status = 201, body = IdeFile), (status = 409, body = app::api::ErrorBody), (status = 422, body = app::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_file(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiJson(body): ApiJson<NewIdeFile>,
) -> ApiResult<(StatusCode, Json<IdeFile>)> {
    let name = file_name(&body.name)?;
    check_content(&body.content)?;
    if body.is_dir && (body.job_type.is_some() || !body.content.is_empty()) {
        return Err(ApiError::field(
            "is_dir",
            "a folder has no job type or content",
        ));
    }
    let owner = match body.scope {
        IdeScope::Personal => Some(user.username.clone()),
        IdeScope::Shared => None,
    };
    if let Some(parent) = body.parent_id {
        let parent = folder_of(&state, &user, parent, "parent_id").await?;
        if parent.owner != owner {
            return Err(ApiError::field(
                "parent_id",
                "the folder is in the other tree",
            ));
        }
    }
    let write = IdeFileWrite {
        owner,
        parent_id: body.parent_id,
        name,
        is_dir: body.is_dir,
        job_type: body.job_type.unwrap_or(JobType::Shell),
        content: body.content,
    };
    let id = state
        .store
        .create_ide_file(&write, Utc::now())
        .await
        .map_err(|err| name_taken(err, &write.name))?;
    let file = visible(&state, &user, id).await?;
    Ok((StatusCode::CREATED, Json(file.file)))
}

/// One file with its content.
#[utoipa::path(get, path = "/api/ide/files/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = IdeFile), (status = 404, body = app::api::ErrorBody)), security(("bearer" = [])))]
pub async fn get_file(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiPath(id): ApiPath<IdeFileId>,
) -> ApiResult<Json<IdeFile>> {
    Ok(Json(visible(&state, &user, id).await?.file))
}

/// Renames a file or folder, or saves a file's text or job type (the editor autosaves here).
#[utoipa::path(put, path = "/api/ide/files/{id}", params(("id" = i64, Path)), request_body = IdeFileUpdate,
    responses((status = 200, body = IdeFile), (status = 404, body = app::api::ErrorBody), (status = 409, body = app::api::ErrorBody), (status = 422, body = app::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn update_file(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiPath(id): ApiPath<IdeFileId>,
    ApiJson(mut body): ApiJson<IdeFileUpdate>,
) -> ApiResult<Json<IdeFile>> {
    let file = visible(&state, &user, id).await?;
    if let Some(name) = &body.name {
        body.name = Some(file_name(name)?);
    }
    if let Some(content) = &body.content {
        check_content(content)?;
    }
    if file.file.is_dir && (body.content.is_some() || body.job_type.is_some()) {
        return Err(ApiError::field(
            "content",
            "a folder has no job type or content",
        ));
    }
    let name = body.name.clone().unwrap_or_default();
    state
        .store
        .update_ide_file(id, &body, Utc::now())
        .await
        .map_err(|err| name_taken(err, &name))?;
    Ok(Json(visible(&state, &user, id).await?.file))
}

/// Moves a file or folder to another folder of the same tree.
#[utoipa::path(post, path = "/api/ide/files/{id}/move", params(("id" = i64, Path)), request_body = IdeMove,
    responses((status = 200, body = IdeFile), (status = 404, body = app::api::ErrorBody), (status = 409, body = app::api::ErrorBody), (status = 422, body = app::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn move_file(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiPath(id): ApiPath<IdeFileId>,
    ApiJson(body): ApiJson<IdeMove>,
) -> ApiResult<Json<IdeFile>> {
    let file = visible(&state, &user, id).await?;
    if let Some(target) = body.parent_id {
        let parent = folder_of(&state, &user, target, "parent_id").await?;
        if parent.owner != file.owner {
            return Err(ApiError::field(
                "parent_id",
                "files move only inside their own tree",
            ));
        }
        // Walk up from the target: reaching the moved folder would make a loop.
        let tree: BTreeMap<IdeFileId, Option<IdeFileId>> = state
            .store
            .ide_files(&user.username)
            .await?
            .into_iter()
            .map(|r| (r.file.id, r.file.parent_id))
            .collect();
        let mut at = Some(target);
        while let Some(folder) = at {
            if folder == id {
                return Err(ApiError::field(
                    "parent_id",
                    "a folder cannot move into itself or a folder inside it",
                ));
            }
            at = tree.get(&folder).copied().flatten();
        }
    }
    state
        .store
        .move_ide_file(id, body.parent_id, Utc::now())
        .await
        .map_err(|err| name_taken(err, &file.file.name))?;
    Ok(Json(visible(&state, &user, id).await?.file))
}

/// Deletes a file, or a folder with everything in it. Past runs stay in the store.
#[utoipa::path(delete, path = "/api/ide/files/{id}", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = app::api::ErrorBody)), security(("bearer" = [])))]
pub async fn delete_file(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiPath(id): ApiPath<IdeFileId>,
) -> ApiResult<StatusCode> {
    visible(&state, &user, id).await?;
    let _guard = state.definitions.lock().await;
    let run_jobs = state.store.delete_ide_file(id).await?;
    for job in run_jobs {
        state.store.delete_job(job, Utc::now()).await?;
        state
            .scheduler
            .call(Input::JobRemoved(job))
            .await
            .map_err(engine_error)?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Runs the file — or the given text, such as the editor's selection — on a host group, now.
/// The run is an instance of the file's hidden run job: it queues for a slot, renders configs
/// and secrets of `folder_id` (default: the first top-level folder), and its log streams live.
#[utoipa::path(post, path = "/api/ide/files/{id}/run", params(("id" = i64, Path)), request_body = IdeRun,
    responses((status = 201, body = Instance), (status = 404, body = app::api::ErrorBody), (status = 422, body = app::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn run_file(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiPath(id): ApiPath<IdeFileId>,
    ApiJson(body): ApiJson<IdeRun>,
) -> ApiResult<(StatusCode, Json<Instance>)> {
    let record = visible(&state, &user, id).await?;
    if record.file.is_dir {
        return Err(ApiError::NotFound(format!("{id} is a folder, not a file")));
    }
    let script = match body.script {
        Some(script) => script,
        None => record.file.content.clone().unwrap_or_default(),
    };
    if script.trim().is_empty() {
        return Err(ApiError::field("script", "there is nothing to run"));
    }
    let folder_id = match body.folder_id {
        Some(folder) => folder,
        None => default_folder(&state).await?,
    };
    let mut input = JobInput::minimal(
        format!("IDE · {}", record.file.name),
        folder_id,
        record.file.job_type,
        script,
    );
    input.host_group = Some(body.host_group);
    input.description = Some(format!("Runs of development-center file {id}"));
    let job = {
        let _guard = state.definitions.lock().await;
        let mut write = defs::validate(&state, record.run_job_id, input).await?;
        write.scratch = true;
        let job = match record.run_job_id {
            Some(job) => state.store.update_job(job, &write, Utc::now()).await?,
            None => {
                let job = state
                    .store
                    .create_job(&write, &user.username, Utc::now())
                    .await?;
                state.store.link_ide_file(id, Some(job.id), None).await?;
                job
            }
        };
        defs::schedule(&state, &job).await?;
        job
    };
    let instance = trigger(
        &state,
        Input::Trigger {
            job: job.id,
            kind: TriggerKind::Manual,
            // Every run saved a new version of the run job; naming it makes each run its own
            // instance even within one second (equal triggers of a second are one instance).
            params: BTreeMap::from([("HERA_IDE_VERSION".to_owned(), job.version.to_string())]),
            at: None,
        },
    )
    .await?;
    let entry = AuditWrite {
        action: "ide.run".to_owned(),
        job_id: Some(job.id),
        instance_id: Some(instance.id),
        details: format!("{} on {}", record.file.name, job.host_group),
        ..AuditWrite::default()
    };
    audit::record(&state, &user, entry).await;
    Ok((StatusCode::CREATED, Json(instance)))
}

/// `GET /api/ide/files/{id}/runs` parameters.
#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct RunsQuery {
    /// How many (default 20, at most 200).
    limit: Option<i64>,
}

/// The file's runs, newest first, with their attempts.
#[utoipa::path(get, path = "/api/ide/files/{id}/runs", params(("id" = i64, Path), RunsQuery),
    responses((status = 200, body = Vec<Instance>), (status = 404, body = app::api::ErrorBody)), security(("bearer" = [])))]
pub async fn file_runs(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiPath(id): ApiPath<IdeFileId>,
    Query(query): Query<RunsQuery>,
) -> ApiResult<Json<Vec<Instance>>> {
    let record = visible(&state, &user, id).await?;
    let Some(job) = record.run_job_id else {
        return Ok(Json(Vec::new()));
    };
    let limit = query.limit.unwrap_or(20).clamp(1, 200);
    Ok(Json(
        state.store.job_instances(job, limit, None, None).await?,
    ))
}

/// Copies the file's text and type into a job: a new version of `job_id`, or a new job in
/// `folder_id` (no schedule yet, host group `default`).
#[utoipa::path(post, path = "/api/ide/files/{id}/publish", params(("id" = i64, Path)), request_body = IdePublish,
    responses((status = 200, body = Job), (status = 404, body = app::api::ErrorBody), (status = 422, body = app::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn publish_file(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiPath(id): ApiPath<IdeFileId>,
    ApiJson(body): ApiJson<IdePublish>,
) -> ApiResult<Json<Job>> {
    let record = visible(&state, &user, id).await?;
    if record.file.is_dir {
        return Err(ApiError::NotFound(format!("{id} is a folder, not a file")));
    }
    let script = record.file.content.clone().unwrap_or_default();
    let _guard = state.definitions.lock().await;
    let (job, action) = match (body.job_id, body.folder_id) {
        (Some(target), _) => {
            let current = job_or_404(&state, target).await?;
            if current.id == record.run_job_id.unwrap_or(app::ids::JobId(0)) {
                return Err(ApiError::field("job_id", "that is the file's own run job"));
            }
            let mut input = JobInput::from(current);
            input.script = script;
            input.job_type = record.file.job_type;
            let write = defs::validate(&state, Some(target), input).await?;
            (
                state.store.update_job(target, &write, Utc::now()).await?,
                "job.update",
            )
        }
        (None, Some(folder)) => {
            let name = body.name.unwrap_or_else(|| record.file.name.clone());
            let input = JobInput::minimal(name, folder, record.file.job_type, script);
            let write = defs::validate(&state, None, input).await?;
            (
                state
                    .store
                    .create_job(&write, &user.username, Utc::now())
                    .await?,
                "job.create",
            )
        }
        (None, None) => {
            return Err(ApiError::field(
                "job_id",
                "name the job to update (job_id) or the folder of a new job (folder_id)",
            ));
        }
    };
    defs::schedule(&state, &job).await?;
    state.store.link_ide_file(id, None, Some(job.id)).await?;
    let entry = AuditWrite {
        action: action.to_owned(),
        job_id: Some(job.id),
        details: format!(
            "{} (version {}, published from development-center file {})",
            job.name, job.version, record.file.name
        ),
        ..AuditWrite::default()
    };
    audit::record(&state, &user, entry).await;
    Ok(Json(job))
}

/// A file the user may see (their own or a shared one), else 404 — another user's personal
/// files are not revealed.
async fn visible(state: &AppState, user: &CurrentUser, id: IdeFileId) -> ApiResult<IdeFileRecord> {
    match state.store.ide_file(id).await {
        Ok(record) if record.owner.as_ref().is_none_or(|o| *o == user.username) => Ok(record),
        Ok(_) | Err(StoreError::NotFound) => {
            Err(ApiError::NotFound(format!("file {id} does not exist")))
        }
        Err(other) => Err(other.into()),
    }
}

/// A folder the user may see, for the request field `field`.
async fn folder_of(
    state: &AppState,
    user: &CurrentUser,
    id: IdeFileId,
    field: &str,
) -> ApiResult<IdeFileRecord> {
    let folder = visible(state, user, id)
        .await
        .map_err(|_| ApiError::field(field, format!("folder {id} does not exist")))?;
    if !folder.file.is_dir {
        return Err(ApiError::field(
            field,
            format!("{id} is a file, not a folder"),
        ));
    }
    Ok(folder)
}

fn file_name(name: &str) -> ApiResult<String> {
    let name = check_name(name)?;
    if name.contains('/') || name == "." || name == ".." {
        return Err(ApiError::field(
            "name",
            "must not contain `/` or be `.` or `..`",
        ));
    }
    Ok(name)
}

fn check_content(content: &str) -> ApiResult<()> {
    if content.len() > MAX_CONTENT {
        return Err(ApiError::field("content", "must be at most 1 MiB"));
    }
    Ok(())
}

fn name_taken(err: StoreError, name: &str) -> ApiError {
    match err {
        StoreError::Conflict(_) => {
            ApiError::Conflict(format!("this folder already holds a file named {name}"))
        }
        StoreError::NotFound => ApiError::NotFound("the file does not exist".to_owned()),
        other => other.into(),
    }
}

/// The folder whose configs an IDE run inherits by default: the first top-level folder.
async fn default_folder(state: &AppState) -> ApiResult<FolderId> {
    state
        .store
        .folders()
        .await?
        .into_iter()
        .filter(|f| f.parent_id.is_none())
        .map(|f| f.id)
        .min()
        .ok_or_else(|| ApiError::field("folder_id", "create a folder in the job tree first"))
}
