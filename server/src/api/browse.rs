//! Finding things: full-text search over job definitions, and the timeline of a folder's
//! instances for one business date.

use app::{
    api::{Instance, SearchHit},
    cron::{local_midnight, parse_zone},
    ids::FolderId,
};
use axum::{
    Json,
    extract::{Query, State},
};
use chrono::NaiveDate;
use serde::Deserialize;

use crate::{
    AppState,
    error::{ApiError, ApiResult},
};

/// `GET /api/search` parameters.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct SearchQuery {
    /// The text (any case; at least 2 characters).
    q: String,
    /// How many jobs (default 50, at most 500).
    limit: Option<i64>,
}

/// The line of `text` holding `needle` (lower-cased), trimmed to about 200 characters.
fn snippet(text: &str, needle: &str) -> Option<String> {
    let line = text.lines().find(|l| l.to_lowercase().contains(needle))?;
    let line = line.trim();
    Some(if line.chars().count() > 200 {
        let cut: String = line.chars().take(200).collect();
        format!("{cut}…")
    } else {
        line.to_owned()
    })
}

/// Jobs whose name, description, script or configs contain the text, with where and the line.
#[utoipa::path(get, path = "/api/search", params(SearchQuery),
    responses((status = 200, body = Vec<SearchHit>), (status = 422, body = app::api::ErrorBody)), security(("bearer" = [])))]
pub async fn search(
    State(state): State<AppState>,
    Query(query): Query<SearchQuery>,
) -> ApiResult<Json<Vec<SearchHit>>> {
    let text = query.q.trim();
    if text.chars().count() < 2 {
        return Err(ApiError::field("q", "search for at least 2 characters"));
    }
    let limit = query.limit.unwrap_or(50).clamp(1, 500);
    let needle = text.to_lowercase();
    let rows = state.store.search_definitions(text, limit).await?;
    let hits = rows
        .into_iter()
        .filter_map(
            |(job_id, job_name, folder_id, description, script, configs)| {
                let (matched, snippet) = [
                    ("name", job_name.as_str()),
                    ("description", description.as_str()),
                    ("script", script.as_str()),
                    ("config", configs.as_str()),
                ]
                .into_iter()
                .find_map(|(field, text)| snippet(text, &needle).map(|s| (field, s)))?;
                Some(SearchHit {
                    job_id,
                    job_name,
                    folder_id,
                    matched: matched.to_owned(),
                    snippet,
                })
            },
        )
        .collect();
    Ok(Json(hits))
}

/// `GET /api/timeline` parameters.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct TimelineQuery {
    /// The folder whose jobs are shown.
    folder_id: FolderId,
    /// The business date.
    date: NaiveDate,
    /// The zone of the date (default UTC).
    timezone: Option<String>,
}

/// A folder's instances of one business date with their attempts (start and end), for a Gantt
/// view; at most 5,000.
#[utoipa::path(get, path = "/api/timeline", params(TimelineQuery),
    responses((status = 200, body = Vec<Instance>), (status = 422, body = app::api::ErrorBody)), security(("bearer" = [])))]
pub async fn timeline(
    State(state): State<AppState>,
    Query(query): Query<TimelineQuery>,
) -> ApiResult<Json<Vec<Instance>>> {
    let zone = parse_zone(query.timezone.as_deref().unwrap_or("UTC"))
        .map_err(|err| ApiError::field("timezone", err.to_string()))?;
    let from = local_midnight(zone, query.date);
    let to = local_midnight(zone, query.date.succ_opt().unwrap_or(query.date));
    Ok(Json(
        state
            .store
            .folder_instances(query.folder_id, from, to)
            .await?,
    ))
}
