//! The REST API under `/api` and its OpenAPI document. One `router()` wires every route; the
//! auth layer wraps every route but health, login, registration and the worker socket (which
//! authenticates with its worker token in the hello).

mod audit;
mod backfills;
mod browse;
mod calendars;
mod cluster;
mod dashboard;
mod defs;
mod ide;
mod resources;
mod runs;
mod secrets;
mod session;
mod sockets;
mod users;

use axum::{
    Json, Router,
    body::Bytes,
    extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request},
    http::{Method, StatusCode},
    middleware,
    routing::{get, post},
};
use serde::de::DeserializeOwned;
use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

use crate::{AppState, error::ApiError, hub};

/// JSON bodies whose rejections are API errors (400/413/422 with the JSON error shape).
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// Path parameters whose rejections are API errors.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// An optional JSON body: an empty body is `T::default()`; anything else must be valid JSON.
pub struct MaybeJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for MaybeJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            match rejection.status() {
                StatusCode::PAYLOAD_TOO_LARGE => ApiError::body_too_large(),
                _ => ApiError::BadRequest(rejection.body_text()),
            }
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(MaybeJson(T::default()));
        }
        serde_json::from_slice(&bytes)
            .map(MaybeJson)
            .map_err(|err| ApiError::field("body", err.to_string()))
    }
}

/// Why `name` cannot be an environment variable a user sets (run-time parameters, secrets):
/// letters, digits and `_`, not starting with a digit, and not Hera's own `HERA_…`.
pub(crate) fn env_name_problem(name: &str) -> Option<String> {
    let mut chars = name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 128;
    if !valid {
        return Some(format!(
            "`{name}` is not a variable name: use letters, digits and `_`, not starting with a digit"
        ));
    }
    name.to_ascii_uppercase()
        .starts_with("HERA_")
        .then(|| format!("`{name}`: names starting with HERA_ are reserved"))
}

/// The largest request body accepted.
pub const BODY_LIMIT: usize = 2 << 20;

/// All routes under `/api`.
pub fn router(state: AppState) -> Router {
    let protected = Router::new()
        .route("/api/me", get(session::me))
        .route(
            "/api/me/password",
            axum::routing::put(users::change_password),
        )
        .route(
            "/api/me/sessions/end-others",
            post(users::end_other_sessions),
        )
        .route(
            "/api/users",
            get(users::list_users).post(users::create_user),
        )
        .route("/api/users/{id}", axum::routing::put(users::update_user))
        .route(
            "/api/folders",
            get(defs::list_folders).post(defs::create_folder),
        )
        .route("/api/folders/{id}", axum::routing::put(defs::update_folder))
        .route("/api/folders/{id}/configs", get(defs::folder_configs))
        .route("/api/jobs", get(defs::list_jobs).post(defs::create_job))
        .route("/api/jobs/{id}/configs", get(defs::job_configs))
        .route("/api/jobs/{id}/secrets", get(secrets::job_secrets))
        .route(
            "/api/jobs/{id}/secrets/{name}",
            axum::routing::put(secrets::set_job_secret).delete(secrets::delete_job_secret),
        )
        .route("/api/folders/{id}/secrets", get(secrets::folder_secrets))
        .route(
            "/api/folders/{id}/secrets/{name}",
            axum::routing::put(secrets::set_folder_secret).delete(secrets::delete_folder_secret),
        )
        .route("/api/render", post(defs::render_preview))
        .route(
            "/api/jobs/{id}",
            get(defs::get_job)
                .put(defs::update_job)
                .delete(defs::delete_job),
        )
        .route("/api/jobs/{id}/run", post(runs::run_job))
        .route("/api/jobs/{id}/pause", post(defs::pause_job))
        .route("/api/jobs/{id}/resume", post(defs::resume_job))
        .route("/api/jobs/{id}/instances", get(runs::job_instances))
        .route("/api/jobs/{id}/dag", get(defs::job_dag))
        .route("/api/instances/{id}", get(runs::get_instance))
        .route("/api/instances/{id}/cancel", post(runs::cancel_instance))
        .route("/api/instances/{id}/why", get(runs::why_instance))
        .route("/api/instances/{id}/force", post(runs::force_instance))
        .route("/api/instances/{id}/rerun", post(runs::rerun_instance))
        .route("/api/attempts/{id}", get(runs::get_attempt))
        .route("/api/attempts/{id}/log", get(runs::attempt_log))
        .route("/api/audit", get(audit::list_audit))
        .route("/api/dashboard", get(dashboard::dashboard))
        .route(
            "/api/calendars",
            get(calendars::list_calendars).post(calendars::create_calendar),
        )
        .route(
            "/api/calendars/{id}",
            get(calendars::get_calendar)
                .put(calendars::update_calendar)
                .delete(calendars::delete_calendar),
        )
        .route(
            "/api/calendars/{id}/import",
            post(calendars::import_calendar),
        )
        .route(
            "/api/backfills",
            get(backfills::list_backfills).post(backfills::start_backfill),
        )
        .route("/api/backfills/dry-run", post(backfills::dry_run))
        .route("/api/backfills/{id}", get(backfills::get_backfill))
        .route(
            "/api/backfills/{id}/{action}",
            post(backfills::control_backfill),
        )
        .route(
            "/api/ide/files",
            get(ide::list_files).post(ide::create_file),
        )
        .route(
            "/api/ide/files/{id}",
            get(ide::get_file)
                .put(ide::update_file)
                .delete(ide::delete_file),
        )
        .route("/api/ide/files/{id}/move", post(ide::move_file))
        .route("/api/ide/files/{id}/run", post(ide::run_file))
        .route("/api/ide/files/{id}/runs", get(ide::file_runs))
        .route("/api/ide/files/{id}/publish", post(ide::publish_file))
        .route(
            "/api/resources",
            get(resources::list_resources)
                .post(resources::upload_resource)
                .layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/api/resources/{id}",
            get(resources::get_resource).delete(resources::delete_resource),
        )
        .route(
            "/api/resources/{id}/content",
            get(resources::download_resource),
        )
        .route("/api/workers", get(cluster::list_workers))
        .route("/api/workers/{id}/drain", post(cluster::drain_worker))
        .route("/api/queue", get(cluster::queue))
        .route("/api/search", get(browse::search))
        .route("/api/timeline", get(browse::timeline))
        .route("/api/worker-tokens", post(cluster::issue_worker_token))
        .route("/api/openapi.json", get(openapi_json))
        .route("/api/ws/events", get(sockets::events))
        .route("/api/ws/attempts/{id}/log", get(sockets::log_tail))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            crate::auth::require_auth,
        ));
    let public = Router::new()
        .route("/api/health", get(session::health))
        .route("/api/auth/login", post(session::login))
        .route("/api/auth/register", post(users::register))
        .route("/api/ws/worker", get(hub::worker_socket))
        // Authenticated by the worker token, like the worker socket.
        .route("/api/worker/files/{sha256}", get(resources::worker_file));
    Router::new()
        .merge(protected)
        .merge(public)
        .route("/api", axum::routing::any(not_found))
        .route("/api/{*rest}", axum::routing::any(not_found))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

async fn not_found(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("no route for {method} {}", uri.path()))
}

async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The OpenAPI document of the REST API (WebSockets are described in their handlers' docs).
#[derive(OpenApi)]
#[openapi(
    info(title = "Hera", description = "Hera job scheduler REST API"),
    modifiers(&BearerAuth),
    paths(
        session::health, session::login, session::me,
        users::register, users::list_users, users::create_user, users::update_user,
        users::change_password,
        users::end_other_sessions,
        defs::list_folders, defs::create_folder, defs::update_folder, defs::folder_configs, defs::job_configs,
        defs::render_preview, defs::list_jobs, defs::create_job, defs::get_job,
        defs::update_job, defs::delete_job, defs::job_dag, defs::pause_job, defs::resume_job,
        audit::list_audit, dashboard::dashboard, browse::search, browse::timeline,
        secrets::job_secrets, secrets::folder_secrets, secrets::set_job_secret,
        secrets::set_folder_secret, secrets::delete_job_secret, secrets::delete_folder_secret,
        calendars::list_calendars, calendars::create_calendar, calendars::get_calendar,
        calendars::update_calendar, calendars::delete_calendar, calendars::import_calendar,
        backfills::dry_run, backfills::start_backfill, backfills::list_backfills,
        backfills::get_backfill, backfills::control_backfill,
        runs::run_job, runs::job_instances, runs::get_instance, runs::cancel_instance, runs::why_instance, runs::force_instance, runs::rerun_instance, runs::get_attempt, runs::attempt_log,
        cluster::list_workers, cluster::drain_worker, cluster::queue, cluster::issue_worker_token,
        ide::list_files, ide::create_file, ide::get_file, ide::update_file, ide::move_file,
        ide::delete_file, ide::run_file, ide::file_runs, ide::publish_file,
        resources::list_resources, resources::upload_resource, resources::get_resource,
        resources::download_resource, resources::delete_resource,
    ),
    components(schemas(app::api::ErrorBody, app::api::Event, app::api::LogMessage))
)]
pub struct ApiDoc;
