//! Execution controls through the REST API with a real worker and real processes: hard timeouts,
//! expected durations and retry backoff settings.

mod common;

use app::{
    api::{AuditEntry, Instance, Job, LogPage},
    domain::{AttemptState, InstanceState, RetryBackoff},
};
use common::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn a_timeout_kills_the_attempt_and_an_overrun_is_noticed() {
    let server = TestServer::start(2).await;
    let folder = server.folder("exec").await;
    let slow = server
        .job(
            folder,
            "slow",
            "echo start; sleep 30",
            json!({ "timeout_secs": 1, "retry_backoff": "exponential", "retry_max_delay_secs": 120 }),
        )
        .await;
    let stored: Job = server
        .ok(Method::GET, &format!("/api/jobs/{slow}"), None)
        .await;
    assert_eq!(
        (
            stored.timeout_secs,
            stored.retry_backoff,
            stored.retry_max_delay_secs
        ),
        (Some(1), RetryBackoff::Exponential, 120)
    );
    let (_, created) = server
        .post(&format!("/api/jobs/{slow}/run"), json!({}))
        .await;
    let started = std::time::Instant::now();
    let instance = server.wait_terminal(created["id"].as_i64().unwrap()).await;
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(instance.state, InstanceState::Failed);
    assert_eq!(
        instance.reason.as_deref(),
        Some("attempt 1 failed (timed out after 1 s)")
    );
    let attempt = &instance.attempts[0];
    assert_eq!(attempt.state, AttemptState::TimedOut);
    let log: LogPage = server
        .ok(
            Method::GET,
            &format!("/api/attempts/{}/log?offset=0", attempt.id),
            None,
        )
        .await;
    assert!(
        log.text
            .contains("hera: timed out after 1 s: sending SIGTERM to the attempt's processes"),
        "{}",
        log.text
    );

    let overrun = server
        .job(
            folder,
            "overrun",
            "sleep 1.5",
            json!({ "expected_duration_secs": 1 }),
        )
        .await;
    let (_, created) = server
        .post(&format!("/api/jobs/{overrun}/run"), json!({}))
        .await;
    let instance: Instance = server.wait_terminal(created["id"].as_i64().unwrap()).await;
    assert_eq!(instance.state, InstanceState::Success, "it goes on");
    let notices: Vec<AuditEntry> = server
        .ok(
            Method::GET,
            &format!("/api/audit?instance_id={}", instance.id),
            None,
        )
        .await;
    assert!(
        notices.iter().any(|n| n.action == "attempt.overdue"
            && n.actor == "hera"
            && n.details.contains("longer than the expected 1 s")),
        "{notices:?}"
    );
    for (body, field) in [
        (json!({ "timeout_secs": 0 }), "timeout_secs"),
        (
            json!({ "retry_max_delay_secs": 9_999_999 }),
            "retry_max_delay_secs",
        ),
    ] {
        let mut job =
            json!({ "name": "bad", "folder_id": folder, "job_type": "shell", "script": "true" });
        for (k, v) in body.as_object().unwrap() {
            job[k] = v.clone();
        }
        let (status, answer) = server.post("/api/jobs", job).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert!(answer["error"]["fields"][field].is_string(), "{answer}");
    }
    server.stop().await;
}
