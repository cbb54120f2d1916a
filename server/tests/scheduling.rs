//! The scheduling controls through the REST API, on a real server with a real worker and real
//! bash processes: run-time parameters, pause and resume, business calendars, backfills and the
//! audit trail.

mod common;

use std::time::Duration;

use app::{
    api::{AuditEntry, Backfill, BackfillDetail, BackfillPlan, Calendar, Instance, Job, LogPage},
    domain::{BackfillState, InstanceState},
};
use common::{TestServer, error_code};
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn audit(server: &TestServer, query: &str) -> Vec<AuditEntry> {
    server
        .ok(Method::GET, &format!("/api/audit?{query}"), None)
        .await
}

async fn log_of(server: &TestServer, instance: &Instance) -> String {
    let attempt = instance.attempts.last().expect("an attempt");
    let page: LogPage = server.log_page(attempt.id).await;
    page.text
}

#[tokio::test]
async fn run_time_parameters_reach_the_process_for_that_run_only() {
    let server = TestServer::start(2).await;
    let folder = server.folder("params").await;
    let job = server
        .job(folder, "echo-day", "echo \"day=$DAY\"", json!({}))
        .await;
    let (status, created) = server
        .post(
            &format!("/api/jobs/{job}/run"),
            json!({ "params": { "DAY": "2026-11-20; rm -rf /" }, "reason": "replay the 20th" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["trigger"], "api");
    let instance = server.wait_terminal(created["id"].as_i64().unwrap()).await;
    assert_eq!(instance.state, InstanceState::Success);
    assert_eq!(instance.params["DAY"], "2026-11-20; rm -rf /");
    assert!(
        log_of(&server, &instance)
            .await
            .contains("day=2026-11-20; rm -rf /"),
        "the value arrives as data, not as code"
    );
    // The job itself never holds them.
    let stored: Job = server
        .ok(Method::GET, &format!("/api/jobs/{job}"), None)
        .await;
    assert_eq!((stored.version, stored.configs.len()), (1, 0));
    // A plain run has none.
    let (_, plain) = server
        .post(&format!("/api/jobs/{job}/run"), json!({}))
        .await;
    let plain = server.wait_terminal(plain["id"].as_i64().unwrap()).await;
    assert!(plain.params.is_empty());
    assert!(log_of(&server, &plain).await.contains("day=\n"));
    // Names must be variable names and not Hera's own.
    for bad in ["1DAY", "A-B", "HERA_JOB_ID", ""] {
        let (status, body) = server
            .post(
                &format!("/api/jobs/{job}/run"),
                json!({ "params": { bad: "x" } }),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
        assert!(body["error"]["fields"]["params"].is_string(), "{body}");
    }
    let entries = audit(&server, &format!("job_id={job}")).await;
    let run = entries
        .iter()
        .find(|e| e.instance_id == Some(instance.id))
        .expect("the run is audited");
    assert_eq!(
        (
            run.action.as_str(),
            run.actor.as_str(),
            run.reason.as_deref()
        ),
        ("job.run", "admin", Some("replay the 20th"))
    );
    assert!(run.details.contains("parameters DAY"), "{}", run.details);
    assert!(
        !run.details.contains("rm -rf"),
        "values are not written to the audit trail"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_paused_job_creates_nothing_until_resumed() {
    let server = TestServer::start(4).await;
    let folder = server.folder("pause").await;
    let job = server
        .job(
            folder,
            "every-second",
            "true",
            json!({ "cron": "* * * * * ?", "misfire_policy": "skip" }),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (status, paused) = server
        .post(
            &format!("/api/jobs/{job}/pause"),
            json!({ "reason": "upstream maintenance" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{paused}");
    assert_eq!(paused["paused"], true);
    let paused_at: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(paused["paused_at"].clone()).unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let instances: Vec<Instance> = server
        .ok(Method::GET, &format!("/api/jobs/{job}/instances"), None)
        .await;
    assert!(!instances.is_empty());
    assert!(
        instances
            .iter()
            .all(|i| i.scheduled_at <= paused_at + chrono::Duration::seconds(1)),
        "nothing after the pause: {instances:?}"
    );
    // Pausing twice is harmless; saving the job keeps it paused.
    let (status, _) = server
        .post(&format!("/api/jobs/{job}/pause"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, resumed) = server
        .post(&format!("/api/jobs/{job}/resume"), json!({}))
        .await;
    assert_eq!(resumed["paused"], false);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let instances: Vec<Instance> = server
        .ok(
            Method::GET,
            &format!("/api/jobs/{job}/instances?limit=1000"),
            None,
        )
        .await;
    let after: Vec<&Instance> = instances
        .iter()
        .filter(|i| i.scheduled_at > paused_at + chrono::Duration::seconds(1))
        .collect();
    assert!(
        after.iter().any(|i| i.state == InstanceState::Success),
        "it runs again after resume"
    );
    assert!(
        after.iter().any(|i| i.state == InstanceState::Skipped
            && i.reason
                .as_deref()
                .unwrap_or_default()
                .contains("misfire policy skip")),
        "the slots missed while paused are recorded as skipped: {after:?}"
    );
    let actions: Vec<(String, Option<String>)> = audit(&server, &format!("job_id={job}"))
        .await
        .into_iter()
        .map(|e| (e.action, e.reason))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("job.resume".to_owned(), None),
            (
                "job.pause".to_owned(),
                Some("upstream maintenance".to_owned())
            ),
            ("job.create".to_owned(), None),
        ]
    );
    server.stop().await;
}

#[tokio::test]
async fn calendars_are_edited_imported_and_protected_while_used() {
    let server = TestServer::start(1).await;
    let (status, created) = server
        .post("/api/calendars", json!({ "name": "cn-work" }))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let calendar: Calendar = serde_json::from_value(created).unwrap();
    assert_eq!(calendar.weekend, vec![6, 7]);
    let (status, body) = server
        .post("/api/calendars", json!({ "name": "cn-work" }))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let import = format!("/api/calendars/{}/import", calendar.id);
    let (status, body) = server
        .post(
            &import,
            json!({ "format": "csv", "text": "date,kind,note\n2026-10-01,holiday,National Day\n2026-10-11,workday,make-up\n" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["holidays"].as_u64(), body["workdays"].as_u64()),
        (Some(1), Some(1))
    );
    // A bad file changes nothing and says which lines are wrong.
    let (status, body) = server
        .post(
            &import,
            json!({ "format": "csv", "text": "2026-10-02,holiday\nnot-a-date,holiday\n", "replace": true }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]["fields"]["text"]
            .as_str()
            .unwrap()
            .contains("line 2: `not-a-date` is not a date"),
        "{body}"
    );
    let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART;VALUE=DATE:20261002\r\nDTEND;VALUE=DATE:20261004\r\nSUMMARY:Golden week\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let (status, body) = server
        .post(&import, json!({ "format": "ics", "text": ics }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let calendar: Calendar = server
        .ok(
            Method::GET,
            &format!("/api/calendars/{}", calendar.id),
            None,
        )
        .await;
    let days: Vec<String> = calendar
        .days
        .iter()
        .map(|d| format!("{} {} {}", d.date, d.kind, d.note))
        .collect();
    assert_eq!(
        days,
        [
            "2026-10-01 holiday National Day",
            "2026-10-02 holiday Golden week",
            "2026-10-03 holiday Golden week",
            "2026-10-11 workday make-up"
        ]
    );
    // A job uses it (working days by default); then it cannot be deleted.
    let folder = server.folder("cal").await;
    let job = server
        .job(
            folder,
            "workdays",
            "true",
            json!({ "cron": "0 0 1 * * ?", "calendar_id": calendar.id }),
        )
        .await;
    let stored: Job = server
        .ok(Method::GET, &format!("/api/jobs/{job}"), None)
        .await;
    assert_eq!(stored.calendar_mode, app::domain::CalendarMode::WorkingDays);
    let (status, body) = server
        .request::<()>(
            Method::DELETE,
            &format!("/api/calendars/{}", calendar.id),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("workdays"),
        "{body}"
    );
    for (extra, field) in [
        (json!({ "calendar_id": 999 }), "calendar_id"),
        (json!({ "calendar_mode": "working_days" }), "calendar_mode"),
    ] {
        let mut body =
            json!({ "name": "bad", "folder_id": folder, "job_type": "shell", "script": "true" });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (status, answer) = server.post("/api/jobs", body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert!(answer["error"]["fields"][field].is_string(), "{answer}");
    }
    let (status, body) = server
        .put(
            &format!("/api/calendars/{}", calendar.id),
            json!({ "name": "cn-work", "weekend": [8] }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_code(&body), "invalid");
    let actions: Vec<String> = audit(&server, &format!("calendar_id={}", calendar.id))
        .await
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        ["calendar.import", "calendar.import", "calendar.create"]
    );
    server.stop().await;
}

async fn wait_backfill(
    server: &TestServer,
    id: i64,
    done: impl Fn(&Backfill) -> bool,
) -> BackfillDetail {
    for _ in 0..600 {
        let detail: BackfillDetail = server
            .ok(Method::GET, &format!("/api/backfills/{id}"), None)
            .await;
        if done(&detail.backfill) {
            return detail;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("backfill {id} did not get there");
}

/// The backfill's instance of `job` whose business time starts with `prefix`.
async fn member(server: &TestServer, detail: &BackfillDetail, job: i64, prefix: &str) -> Instance {
    let id = detail
        .instances
        .iter()
        .find(|m| m.job_id.0 == job && m.business_time.to_rfc3339().starts_with(prefix))
        .unwrap()
        .instance_id;
    server
        .ok(Method::GET, &format!("/api/instances/{id}"), None)
        .await
}

#[tokio::test]
async fn a_backfill_runs_history_in_dependency_order_after_a_dry_run() {
    let server = TestServer::start(4).await;
    let folder = server.folder("bf").await;
    let up = server
        .job(folder, "up", "sleep 0.2", json!({ "cron": "0 0 1 * * ?" }))
        .await;
    let down = server
        .job(
            folder,
            "down",
            "true",
            json!({ "cron": "0 0 2 * * ?", "dependencies": [up] }),
        )
        .await;
    let request = json!({
        "job_id": up, "include_downstream": true,
        "start_date": "2026-11-01", "end_date": "2026-11-03",
        "parallelism": 2, "reason": "source fixed",
    });
    let plan: BackfillPlan = server
        .ok(
            Method::POST,
            "/api/backfills/dry-run",
            Some(request.clone()),
        )
        .await;
    let items: Vec<String> = plan
        .items
        .iter()
        .map(|i| {
            format!(
                "{}@{} {}",
                i.job_name,
                i.business_time.format("%d %H"),
                i.action
            )
        })
        .collect();
    assert_eq!(
        items,
        [
            "up@01 01 create",
            "up@02 01 create",
            "up@03 01 create",
            "down@01 02 create",
            "down@02 02 create",
            "down@03 02 create"
        ]
    );
    assert_eq!(plan.to_run, 6);
    // The dry run changed nothing.
    let none: Vec<Instance> = server
        .ok(Method::GET, &format!("/api/jobs/{up}/instances"), None)
        .await;
    assert!(none.is_empty());

    let (status, started) = server.post("/api/backfills", request.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    let id = started["id"].as_i64().unwrap();
    let detail = wait_backfill(&server, id, |b| b.state == BackfillState::Finished).await;
    assert_eq!(detail.backfill.total, 6);
    assert_eq!(detail.backfill.counts[&InstanceState::Success], 6);
    // Each downstream instance started after its day's upstream ended.
    for day in ["01", "02", "03"] {
        let (u, d) = (
            member(&server, &detail, up, &format!("2026-11-{day}T01")).await,
            member(&server, &detail, down, &format!("2026-11-{day}T02")).await,
        );
        assert_eq!(u.trigger, app::domain::TriggerKind::Backfill);
        assert!(
            d.started_at.unwrap() >= u.finished_at.unwrap(),
            "{day}: {u:?} {d:?}"
        );
    }
    // A second dry run reruns what exists.
    let plan: BackfillPlan = server
        .ok(Method::POST, "/api/backfills/dry-run", Some(request))
        .await;
    assert!(plan.items.iter().all(|i| i.action == "rerun"));
    // A finished backfill cannot be paused; nothing failed, so nothing to rerun.
    let (status, _) = server
        .post(&format!("/api/backfills/{id}/pause"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, body) = server
        .post(&format!("/api/backfills/{id}/rerun-failed"), json!({}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let list: Vec<Backfill> = server
        .ok(Method::GET, &format!("/api/backfills?job_id={up}"), None)
        .await;
    assert_eq!(list.len(), 1);
    let entries = audit(&server, &format!("backfill_id={id}")).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].action, "backfill.start");
    assert_eq!(entries[0].reason.as_deref(), Some("source fixed"));
    // Bad requests say what is wrong.
    for (body, field) in [
        (json!({ "job_id": up }), "start_date"),
        (
            json!({ "job_id": up, "start_date": "2026-11-01" }),
            "end_date",
        ),
        (
            json!({ "job_id": up, "business_times": [] }),
            "business_times",
        ),
        (
            json!({ "job_id": up, "start_date": "2026-11-01", "end_date": "2026-11-01", "parallelism": 0 }),
            "parallelism",
        ),
    ] {
        let (status, answer) = server.post("/api/backfills/dry-run", body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert!(answer["error"]["fields"][field].is_string(), "{answer}");
    }
    let (status, answer) = server
        .post(
            "/api/backfills/dry-run",
            json!({ "job_id": up, "start_date": "2026-11-03", "end_date": "2026-11-01" }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    let _ = down;
    server.stop().await;
}

#[tokio::test]
async fn a_backfill_pauses_resumes_cancels_and_reruns_its_failures() {
    let server = TestServer::start(4).await;
    let dir = tempfile::tempdir().unwrap();
    let mark = dir.path().join("fixed");
    let folder = server.folder("bf2").await;
    // The 2nd fails until the mark exists.
    let script = format!(
        "case \"$HERA_BUSINESS_TIME\" in 2026-11-02*) test -e '{}' || exit 3;; esac\nsleep 0.3",
        mark.display()
    );
    let job = server
        .job(folder, "flaky", &script, json!({ "cron": "0 0 1 * * ?" }))
        .await;
    let (status, started) = server
        .post(
            "/api/backfills",
            json!({ "job_id": job, "start_date": "2026-11-01", "end_date": "2026-11-05", "order": "oldest_first" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    let id = started["id"].as_i64().unwrap();
    let (_, paused) = server
        .post(
            &format!("/api/backfills/{id}/pause"),
            json!({ "reason": "hold on" }),
        )
        .await;
    assert_eq!(paused["state"], "paused", "{paused}");
    tokio::time::sleep(Duration::from_millis(800)).await;
    let detail: BackfillDetail = server
        .ok(Method::GET, &format!("/api/backfills/{id}"), None)
        .await;
    let waiting: Vec<_> = detail
        .instances
        .iter()
        .filter(|m| m.state == InstanceState::Waiting)
        .collect();
    assert!(waiting.len() >= 3, "{detail:?}");
    assert!(
        waiting
            .iter()
            .all(|m| m.reason.as_deref() == Some(&format!("backfill {id} is paused") as &str))
    );
    let (_, resumed) = server
        .post(&format!("/api/backfills/{id}/resume"), json!({}))
        .await;
    assert_eq!(resumed["state"], "running");
    let detail = wait_backfill(&server, id, |b| b.state == BackfillState::Finished).await;
    assert_eq!(detail.backfill.counts[&InstanceState::Failed], 1);
    assert_eq!(detail.backfill.counts[&InstanceState::Success], 4);
    std::fs::write(&mark, "").unwrap();
    let (status, body) = server
        .post(&format!("/api/backfills/{id}/rerun-failed"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let detail = wait_backfill(&server, id, |b| b.state == BackfillState::Finished).await;
    assert_eq!(detail.backfill.counts[&InstanceState::Success], 5);

    // Cancel: what has not run is cancelled.
    let (_, second) = server
        .post(
            "/api/backfills",
            json!({ "job_id": job, "start_date": "2026-10-01", "end_date": "2026-10-10" }),
        )
        .await;
    let second = second["id"].as_i64().unwrap();
    let (_, cancelled) = server
        .post(&format!("/api/backfills/{second}/cancel"), json!({}))
        .await;
    assert_eq!(cancelled["state"], "cancelled", "{cancelled}");
    let detail = wait_backfill(&server, second, |b| {
        b.counts.iter().all(|(state, _)| state.is_terminal())
    })
    .await;
    assert!(
        detail.backfill.counts[&InstanceState::Cancelled] >= 8,
        "{detail:?}"
    );
    let (status, _) = server
        .post(&format!("/api/backfills/{second}/resume"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = server
        .post(&format!("/api/backfills/{second}/explode"), json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let actions: Vec<String> = audit(&server, &format!("job_id={job}"))
        .await
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            "backfill.cancel",
            "backfill.start",
            "backfill.rerun_failed",
            "backfill.resume",
            "backfill.pause",
            "backfill.start",
            "job.create"
        ]
    );
    server.stop().await;
}
