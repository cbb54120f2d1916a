//! The home dashboard: one day's instances by state, what runs now, the day's failures, a
//! seven-day trend and the day's longest runs against the day before.

use std::collections::BTreeMap;

use app::{
    api::{Dashboard, DayCounts, LongRun},
    cron::{local_midnight, parse_zone},
    domain::InstanceState,
    ids::JobId,
};
use axum::{
    Json,
    extract::{Query, State},
};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

use crate::{
    AppState,
    error::{ApiError, ApiResult},
};

/// `GET /api/dashboard` parameters.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct DashboardQuery {
    /// The day (default: today in the zone).
    date: Option<NaiveDate>,
    /// An IANA zone (default UTC).
    timezone: Option<String>,
}

/// The UTC bounds `[start, end)` of a local day.
fn day_bounds(zone: Tz, date: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let next = date.succ_opt().unwrap_or(date);
    (local_midnight(zone, date), local_midnight(zone, next))
}

/// One day's figures for the home page.
#[utoipa::path(get, path = "/api/dashboard", params(DashboardQuery),
    responses((status = 200, body = Dashboard), (status = 422, body = app::api::ErrorBody)), security(("bearer" = [])))]
pub async fn dashboard(
    State(state): State<AppState>,
    Query(query): Query<DashboardQuery>,
) -> ApiResult<Json<Dashboard>> {
    let timezone = query.timezone.unwrap_or_else(|| "UTC".to_owned());
    let zone = parse_zone(&timezone).map_err(|err| ApiError::field("timezone", err.to_string()))?;
    let date = query
        .date
        .unwrap_or_else(|| Utc::now().with_timezone(&zone).date_naive());
    let (from, to) = day_bounds(zone, date);
    let counts = state.store.state_counts(from, to).await?;
    let running = state
        .store
        .instances_in_state(InstanceState::Running, None, 50)
        .await?;
    let failures = state
        .store
        .instances_in_state(InstanceState::Failed, Some((from, to)), 50)
        .await?;
    let mut trend = Vec::with_capacity(7);
    for back in (0..7).rev() {
        let day = date - Duration::days(back);
        let (start, end) = day_bounds(zone, day);
        let counts = state.store.state_counts(start, end).await?;
        let get = |s: InstanceState| counts.get(&s).copied().unwrap_or(0);
        trend.push(DayCounts {
            date: day,
            success: get(InstanceState::Success),
            failed: get(InstanceState::Failed),
        });
    }
    let mut runs = state.store.attempt_durations(from, to).await?;
    runs.sort_by(|a, b| b.3.total_cmp(&a.3));
    runs.truncate(10);
    let (yesterday_from, _) = day_bounds(zone, date - Duration::days(1));
    let mut yesterday: BTreeMap<JobId, f64> = BTreeMap::new();
    for (_, job, _, seconds) in state.store.attempt_durations(yesterday_from, from).await? {
        let longest = yesterday.entry(job).or_insert(seconds);
        *longest = longest.max(seconds);
    }
    let longest = runs
        .into_iter()
        .map(|(instance_id, job_id, job_name, seconds)| LongRun {
            instance_id,
            job_id,
            job_name,
            seconds,
            yesterday_seconds: yesterday.get(&job_id).copied(),
        })
        .collect();
    Ok(Json(Dashboard {
        date,
        timezone,
        counts,
        running,
        failures,
        trend,
        longest,
    }))
}
