//! Business calendars: named, shared sets of holidays and make-up working days on top of a weekly
//! rule. Jobs filter their cron slots by one. Every change is told to the scheduler at once.
//! Import reads CSV (`date,kind[,note]`) or iCalendar (all-day events).

use std::collections::BTreeMap;

use app::{
    api::{Calendar, CalendarDay, CalendarImport, CalendarImported, CalendarInput},
    domain::DayKind,
    engine::{CalendarSpec, Input},
    ids::CalendarId,
};
use axum::{Extension, Json, extract::State, http::StatusCode};
use chrono::{Duration, NaiveDate, Utc};

use super::{ApiJson, ApiPath, audit, defs::check_name};
use crate::{
    AppState,
    auth::CurrentUser,
    error::{ApiError, ApiResult},
    store::{AuditWrite, CalendarWrite, StoreError},
};

/// The most exceptions one calendar holds (decades of holidays).
const MAX_DAYS: usize = 10_000;

/// Every calendar, by name, with its exceptions and the jobs that use it.
#[utoipa::path(get, path = "/api/calendars", responses((status = 200, body = Vec<Calendar>)), security(("bearer" = [])))]
pub async fn list_calendars(State(state): State<AppState>) -> ApiResult<Json<Vec<Calendar>>> {
    Ok(Json(state.store.calendars().await?))
}

async fn calendar_or_404(state: &AppState, id: CalendarId) -> ApiResult<Calendar> {
    state.store.calendar(id).await.map_err(|err| match err {
        StoreError::NotFound => ApiError::NotFound(format!("calendar {id} does not exist")),
        other => other.into(),
    })
}

/// One calendar.
#[utoipa::path(get, path = "/api/calendars/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = Calendar), (status = 404, body = app::api::ErrorBody)), security(("bearer" = [])))]
pub async fn get_calendar(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<CalendarId>,
) -> ApiResult<Json<Calendar>> {
    Ok(Json(calendar_or_404(&state, id).await?))
}

/// Creates a calendar (weekend default Saturday and Sunday).
#[utoipa::path(post, path = "/api/calendars", request_body = CalendarInput,
    responses((status = 201, body = Calendar), (status = 409, body = app::api::ErrorBody), (status = 422, body = app::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_calendar(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiJson(body): ApiJson<CalendarInput>,
) -> ApiResult<(StatusCode, Json<Calendar>)> {
    let write = validate(body)?;
    let calendar = save(&state, None, &write).await?;
    record(&state, &user, "calendar.create", &calendar, String::new()).await;
    Ok((StatusCode::CREATED, Json(calendar)))
}

/// Replaces a calendar's name, weekend and exceptions; jobs using it reschedule at once.
#[utoipa::path(put, path = "/api/calendars/{id}", params(("id" = i64, Path)), request_body = CalendarInput,
    responses((status = 200, body = Calendar), (status = 404, body = app::api::ErrorBody),
        (status = 409, body = app::api::ErrorBody), (status = 422, body = app::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn update_calendar(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiPath(id): ApiPath<CalendarId>,
    ApiJson(body): ApiJson<CalendarInput>,
) -> ApiResult<Json<Calendar>> {
    calendar_or_404(&state, id).await?;
    let write = validate(body)?;
    let calendar = save(&state, Some(id), &write).await?;
    record(&state, &user, "calendar.update", &calendar, String::new()).await;
    Ok(Json(calendar))
}

/// Deletes a calendar; refused (409, naming them) while jobs use it.
#[utoipa::path(delete, path = "/api/calendars/{id}", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = app::api::ErrorBody), (status = 409, body = app::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete_calendar(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiPath(id): ApiPath<CalendarId>,
) -> ApiResult<StatusCode> {
    let calendar = calendar_or_404(&state, id).await?;
    state.store.delete_calendar(id).await?;
    tell_scheduler(&state, Input::CalendarRemoved(id)).await?;
    record(&state, &user, "calendar.delete", &calendar, String::new()).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds the exceptions read from a CSV or iCalendar text (or replaces them all with `replace`).
/// A file with any bad line imports nothing; the error names the lines.
#[utoipa::path(post, path = "/api/calendars/{id}/import", params(("id" = i64, Path)), request_body = CalendarImport,
    responses((status = 200, body = CalendarImported), (status = 404, body = app::api::ErrorBody), (status = 422, body = app::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn import_calendar(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiPath(id): ApiPath<CalendarId>,
    ApiJson(body): ApiJson<CalendarImport>,
) -> ApiResult<Json<CalendarImported>> {
    let calendar = calendar_or_404(&state, id).await?;
    let imported = match body.format.as_str() {
        "csv" => parse_csv(&body.text),
        "ics" | "ical" | "icalendar" => parse_ics(&body.text),
        other => Err(format!("unknown format `{other}`: use csv or ics")),
    }
    .map_err(|reason| ApiError::field("text", reason))?;
    let holidays = imported
        .iter()
        .filter(|d| d.kind == DayKind::Holiday)
        .count() as u32;
    let workdays = imported.len() as u32 - holidays;
    let mut days: BTreeMap<NaiveDate, CalendarDay> = if body.replace {
        BTreeMap::new()
    } else {
        calendar.days.iter().map(|d| (d.date, d.clone())).collect()
    };
    days.extend(imported.into_iter().map(|d| (d.date, d)));
    let write = validate(CalendarInput {
        name: calendar.name,
        description: Some(calendar.description),
        weekend: Some(calendar.weekend),
        days: Some(days.into_values().collect()),
    })?;
    let calendar = save(&state, Some(id), &write).await?;
    let details = format!(
        "{holidays} holidays, {workdays} workdays from {}{}",
        body.format,
        if body.replace { ", replacing" } else { "" }
    );
    record(&state, &user, "calendar.import", &calendar, details).await;
    Ok(Json(CalendarImported {
        holidays,
        workdays,
        calendar,
    }))
}

async fn save(
    state: &AppState,
    id: Option<CalendarId>,
    write: &CalendarWrite,
) -> ApiResult<Calendar> {
    let calendar = state
        .store
        .save_calendar(id, write, Utc::now())
        .await
        .map_err(|err| match err {
            StoreError::Conflict(_) => {
                ApiError::Conflict(format!("a calendar named `{}` already exists", write.name))
            }
            other => other.into(),
        })?;
    tell_scheduler(
        state,
        Input::CalendarUpserted(CalendarSpec::from_calendar(&calendar)),
    )
    .await?;
    Ok(calendar)
}

async fn tell_scheduler(state: &AppState, input: Input) -> ApiResult<()> {
    state.scheduler.call(input).await.map_err(|err| {
        ApiError::Internal(anyhow::anyhow!(
            "the scheduler did not take the calendar: {err}"
        ))
    })?;
    Ok(())
}

async fn record(
    state: &AppState,
    user: &CurrentUser,
    action: &str,
    calendar: &Calendar,
    details: String,
) {
    let entry = AuditWrite {
        action: action.to_owned(),
        calendar_id: Some(calendar.id),
        details: if details.is_empty() {
            calendar.name.clone()
        } else {
            format!("{}: {details}", calendar.name)
        },
        ..AuditWrite::default()
    };
    audit::record(state, user, entry).await;
}

fn validate(body: CalendarInput) -> ApiResult<CalendarWrite> {
    let mut errors = BTreeMap::new();
    let name = check_name(&body.name).map_err(|err| match err {
        ApiError::Invalid(fields) => fields.into_values().next().unwrap_or_default(),
        other => other.to_string(),
    });
    if let Err(reason) = &name {
        errors.insert("name".to_owned(), reason.clone());
    }
    let description = body.description.unwrap_or_default();
    if description.chars().count() > 2000 {
        errors.insert(
            "description".to_owned(),
            "must be at most 2000 characters".to_owned(),
        );
    }
    let mut weekend = body.weekend.unwrap_or_else(|| vec![6, 7]);
    weekend.sort_unstable();
    weekend.dedup();
    if weekend.iter().any(|d| !(1..=7).contains(d)) {
        errors.insert(
            "weekend".to_owned(),
            "use ISO weekday numbers 1 (Monday) to 7 (Sunday)".to_owned(),
        );
    }
    // The last entry for a date wins.
    let days: BTreeMap<NaiveDate, CalendarDay> = body
        .days
        .unwrap_or_default()
        .into_iter()
        .map(|d| (d.date, d))
        .collect();
    if days.len() > MAX_DAYS {
        errors.insert("days".to_owned(), format!("at most {MAX_DAYS} exceptions"));
    }
    if let Some(day) = days.values().find(|d| d.note.chars().count() > 200) {
        errors.insert(
            "days".to_owned(),
            format!("the note of {} is longer than 200 characters", day.date),
        );
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    Ok(CalendarWrite {
        name: name.unwrap_or_default(),
        description,
        weekend,
        days: days
            .into_values()
            .map(|d| CalendarDay {
                note: d.note.trim().to_owned(),
                ..d
            })
            .collect(),
    })
}

/// At most this many bad lines are listed in an import error.
const MAX_REPORTED: usize = 10;

fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    ["%Y-%m-%d", "%Y%m%d", "%Y/%m/%d"]
        .iter()
        .find_map(|format| NaiveDate::parse_from_str(text, format).ok())
}

fn parse_kind(text: &str) -> Option<DayKind> {
    match text.trim().to_lowercase().as_str() {
        "holiday" | "off" | "休" | "休息" | "假" => Some(DayKind::Holiday),
        "workday" | "work" | "working" | "班" | "补班" | "上班" => Some(DayKind::Workday),
        _ => None,
    }
}

/// Lines `date,kind[,note]` (date `YYYY-MM-DD`, `YYYYMMDD` or `YYYY/MM/DD`; kind `holiday` or
/// `workday`); blank lines, `#` comments and a `date,…` header are skipped.
fn parse_csv(text: &str) -> Result<Vec<CalendarDay>, String> {
    let mut days = Vec::new();
    let mut errors = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim().trim_start_matches('\u{feff}');
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.splitn(3, ',');
        let date = fields.next().unwrap_or_default();
        if number == 0 && date.trim().eq_ignore_ascii_case("date") {
            continue;
        }
        let kind = fields.next().unwrap_or_default();
        let note = fields.next().unwrap_or_default().trim().trim_matches('"');
        match (parse_date(date), parse_kind(kind)) {
            (Some(date), Some(kind)) => days.push(CalendarDay {
                date,
                kind,
                note: note.to_owned(),
            }),
            (None, _) => errors.push(format!(
                "line {}: `{}` is not a date",
                number + 1,
                date.trim()
            )),
            (_, None) => errors.push(format!(
                "line {}: `{}` is not holiday or workday",
                number + 1,
                kind.trim()
            )),
        }
    }
    finish(days, errors)
}

/// All-day events (`DTSTART;VALUE=DATE`, with an exclusive `DTEND` for several days) are
/// holidays; an event whose summary or categories say workday (`workday`, `working day`, `班`) is
/// a make-up working day. Timed events count for the date they start on.
fn parse_ics(text: &str) -> Result<Vec<CalendarDay>, String> {
    let mut days = Vec::new();
    let mut errors = Vec::new();
    let mut calendars = 0;
    for calendar in ical::IcalParser::new(text.as_bytes()) {
        let calendar = calendar.map_err(|err| format!("not an iCalendar file: {err}"))?;
        calendars += 1;
        for (index, event) in calendar.events.iter().enumerate() {
            let property = |name: &str| {
                event
                    .properties
                    .iter()
                    .find(|p| p.name.eq_ignore_ascii_case(name))
                    .and_then(|p| p.value.clone())
            };
            let summary = property("SUMMARY").unwrap_or_default();
            let categories = property("CATEGORIES").unwrap_or_default();
            let date_of =
                |value: Option<String>| value.and_then(|v| parse_date(v.get(..8).unwrap_or(&v)));
            let Some(start) = date_of(property("DTSTART")) else {
                errors.push(format!(
                    "event {} ({summary}): no readable DTSTART",
                    index + 1
                ));
                continue;
            };
            let end = date_of(property("DTEND"))
                .filter(|end| *end > start)
                .unwrap_or(start + Duration::days(1));
            if end - start > Duration::days(366) {
                errors.push(format!(
                    "event {} ({summary}): longer than a year",
                    index + 1
                ));
                continue;
            }
            let label = format!("{summary} {categories}").to_lowercase();
            let kind = if label.contains("workday")
                || label.contains("working day")
                || label.contains('班')
            {
                DayKind::Workday
            } else {
                DayKind::Holiday
            };
            let mut date = start;
            while date < end {
                days.push(CalendarDay {
                    date,
                    kind,
                    note: summary.trim().to_owned(),
                });
                date += Duration::days(1);
            }
        }
    }
    if calendars == 0 {
        return Err("not an iCalendar file: no BEGIN:VCALENDAR".to_owned());
    }
    finish(days, errors)
}

fn finish(days: Vec<CalendarDay>, errors: Vec<String>) -> Result<Vec<CalendarDay>, String> {
    if !errors.is_empty() {
        let more = errors.len().saturating_sub(MAX_REPORTED);
        let mut message = errors
            .into_iter()
            .take(MAX_REPORTED)
            .collect::<Vec<_>>()
            .join("; ");
        if more > 0 {
            message.push_str(&format!("; and {more} more"));
        }
        return Err(format!("nothing was imported: {message}"));
    }
    if days.is_empty() {
        return Err("the file holds no day".to_owned());
    }
    Ok(days)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        parse_date(text).unwrap()
    }

    #[test]
    fn csv_lines_with_header_comments_and_notes() {
        let text = "date,kind,note\n# 2026\n2026-10-01,holiday,National Day, first day\n\n20261010,workday,make-up\n2026/10/02,休\n";
        let days = parse_csv(text).unwrap();
        assert_eq!(
            days,
            vec![
                CalendarDay {
                    date: date("2026-10-01"),
                    kind: DayKind::Holiday,
                    note: "National Day, first day".to_owned()
                },
                CalendarDay {
                    date: date("2026-10-10"),
                    kind: DayKind::Workday,
                    note: "make-up".to_owned()
                },
                CalendarDay {
                    date: date("2026-10-02"),
                    kind: DayKind::Holiday,
                    note: String::new()
                },
            ]
        );
    }

    #[test]
    fn a_bad_csv_line_imports_nothing_and_says_where() {
        let err =
            parse_csv("2026-10-01,holiday\n2026-13-01,holiday\n2026-10-03,party\n").unwrap_err();
        assert_eq!(
            err,
            "nothing was imported: line 2: `2026-13-01` is not a date; line 3: `party` is not holiday or workday"
        );
        assert_eq!(
            parse_csv("\n# nothing\n").unwrap_err(),
            "the file holds no day"
        );
    }

    #[test]
    fn ics_all_day_events_span_their_days_and_workdays_are_recognised() {
        let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n\
BEGIN:VEVENT\r\nUID:1\r\nDTSTART;VALUE=DATE:20261001\r\nDTEND;VALUE=DATE:20261004\r\nSUMMARY:National\r\n  Day\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:2\r\nDTSTART;VALUE=DATE:20261010\r\nSUMMARY:补班\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:3\r\nDTSTART:20261225T000000Z\r\nSUMMARY:Christmas\r\nCATEGORIES:Holidays\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n";
        let days = parse_ics(text).unwrap();
        let summary: Vec<(String, DayKind, String)> = days
            .into_iter()
            .map(|d| (d.date.to_string(), d.kind, d.note))
            .collect();
        assert_eq!(
            summary,
            vec![
                (
                    "2026-10-01".to_owned(),
                    DayKind::Holiday,
                    "National Day".to_owned()
                ),
                (
                    "2026-10-02".to_owned(),
                    DayKind::Holiday,
                    "National Day".to_owned()
                ),
                (
                    "2026-10-03".to_owned(),
                    DayKind::Holiday,
                    "National Day".to_owned()
                ),
                ("2026-10-10".to_owned(), DayKind::Workday, "补班".to_owned()),
                (
                    "2026-12-25".to_owned(),
                    DayKind::Holiday,
                    "Christmas".to_owned()
                ),
            ]
        );
        assert!(
            parse_ics("date,kind\n")
                .unwrap_err()
                .starts_with("not an iCalendar file")
        );
    }
}
