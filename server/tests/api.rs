//! The REST contract, over real HTTP against a real server with a real worker running real
//! processes: auth on every route, the error shape, validation, and the run path from a manual
//! trigger to a finished attempt with its log.

mod common;

use app::{
    api::{Instance, LogPage},
    domain::{AttemptState, InstanceState},
};
use common::{TestServer, error_code};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn every_route_but_health_login_and_register_needs_a_token() {
    let server = TestServer::start(0).await;
    let health = server
        .client
        .get(format!("{}/api/health", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    // Walk every route of the OpenAPI document (it lists the whole REST API) plus the sockets.
    let (_, doc) = server.get("/api/openapi.json").await;
    let mut routes: Vec<(String, String)> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            routes.push((method.to_uppercase(), path.replace("{id}", "1")));
        }
    }
    for path in [
        "/api/openapi.json",
        "/api/ws/events",
        "/api/ws/attempts/1/log",
    ] {
        routes.push(("GET".to_owned(), path.to_owned()));
    }
    assert!(routes.len() >= 17, "{routes:?}");
    for (method, path) in routes {
        let public = matches!(
            path.as_str(),
            "/api/health" | "/api/auth/login" | "/api/auth/register"
        );
        let req = server.client.request(
            Method::from_bytes(method.as_bytes()).unwrap(),
            format!("{}{path}", server.base),
        );
        let res = req.json(&json!({})).send().await.unwrap();
        if public {
            assert_ne!(res.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
            continue;
        }
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(error_code(&body), "unauthorized", "{method} {path}");
        // A forged token is refused too.
        let res = server
            .client
            .request(
                Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{path}", server.base),
            )
            .bearer_auth("eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.")
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::UNAUTHORIZED,
            "forged token on {method} {path}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn login_refuses_a_wrong_password_and_the_token_works() {
    let server = TestServer::start(0).await;
    let res = server
        .client
        .post(format!("{}/api/auth/login", server.base))
        .json(&json!({ "username": "admin", "password": "wrong" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let (status, me) = server.get("/api/me").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me, json!({ "username": "admin", "is_admin": true }));
    // The stored hash uses argon2id with at least OWASP's parameters.
    let user = server.store.user("admin").await.unwrap();
    assert!(
        user.password_hash
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{}",
        user.password_hash
    );
    // The password file is private.
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(server.dir.path().join("data/initial-admin-password"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    server.stop().await;
}

#[tokio::test]
async fn bad_input_gets_clear_errors() {
    let server = TestServer::start(0).await;
    let folder = server.folder("etl").await;
    let (status, body) = server.post("/api/folders", json!({ "name": "etl" })).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (StatusCode::CONFLICT, "conflict")
    );

    let job = |extra: Value| {
        let mut body =
            json!({ "name": "j", "folder_id": folder, "job_type": "shell", "script": "true" });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let (status, body) = server
        .post("/api/jobs", job(json!({ "cron": "0 61 * * * ?" })))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["error"]["fields"]["cron"]
            .as_str()
            .unwrap()
            .contains("invalid cron"),
        "{body}"
    );
    let (status, body) = server
        .post("/api/jobs", job(json!({ "timezone": "Mars/Base" })))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["error"]["fields"]["timezone"]
            .as_str()
            .unwrap()
            .contains("Mars/Base")
    );
    let (status, body) = server
        .post("/api/jobs", job(json!({ "dependencies": [999] })))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["fields"]["dependencies"], "unknown job 999");
    let (status, body) = server
        .post("/api/jobs", job(json!({ "job_type": "cobol" })))
        .await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid")
    );

    let (status, body) = server
        .post(
            "/api/jobs",
            job(json!({ "dependency_windows": { "5": "previous_day" } })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["error"]["fields"]["dependency_windows"],
        "job 5 is not a dependency"
    );

    // A cycle is refused with its path, by name.
    let a = server.job(folder, "a", "true", json!({})).await;
    let b = server
        .job(folder, "b", "true", json!({ "dependencies": [a] }))
        .await;
    let windows = json!({ b.to_string(): "last_of_day" });
    let c = server
        .job(
            folder,
            "c",
            "true",
            json!({ "dependencies": [b], "dependency_windows": windows, "self_dependent": true }),
        )
        .await;
    let (_, saved) = server.get(&format!("/api/jobs/{c}")).await;
    assert_eq!(saved["dependency_windows"], windows);
    assert_eq!(saved["self_dependent"], json!(true));
    let (status, body) =
        server.put(&format!("/api/jobs/{a}"), json!({ "name": "a", "folder_id": folder, "job_type": "shell", "script": "true", "dependencies": [c] })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["error"]["fields"]["dependencies"],
        format!("this would create a dependency cycle: a ({a}) -> c ({c}) -> b ({b}) -> a ({a})")
    );

    // Unknown ids, malformed ids, malformed JSON, oversized bodies, unknown routes.
    let (status, body) = server.get("/api/jobs/424242").await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let (status, _) = server.get("/api/instances/424242").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = server.get("/api/attempts/424242/log").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = server.post("/api/jobs/424242/run", json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = server.get("/api/jobs/abc").await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (StatusCode::BAD_REQUEST, "bad_request")
    );
    let (status, body) = server.get("/api/nothing-here").await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let res = server
        .client
        .post(format!("{}/api/folders", server.base))
        .bearer_auth(&server.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let huge = "x".repeat(3 << 20);
    let (status, body) = server
        .post("/api/jobs", job(json!({ "script": huge })))
        .await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );
    server.stop().await;
}

#[tokio::test]
async fn a_manual_run_goes_to_the_worker_and_back_with_its_log() {
    let server = TestServer::start(2).await;
    let folder = server.folder("etl").await;
    let script =
        "echo \"hello from hera\"\nfor i in 1 2 3; do echo \"line $i\"; done\necho oops >&2";
    let job = server
        .job(
            folder,
            "hello",
            script,
            json!({ "cron": "0 0 3 * * ?", "timezone": "Asia/Shanghai", "configs": { "dw.table": "ods.orders" } }),
        )
        .await;
    let (_, saved) = server.get(&format!("/api/jobs/{job}")).await;
    assert_eq!(saved["configs"], json!({ "dw.table": "ods.orders" }));
    assert_eq!(saved["priority"], json!(3));
    assert_eq!(saved["overlap_policy"], json!("allow"));
    assert_eq!(saved["misfire_policy"], json!("fire_once_now"));
    let (status, created) = server
        .post(&format!("/api/jobs/{job}/run"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["trigger"], "manual");
    let instance = server.wait_terminal(created["id"].as_i64().unwrap()).await;
    assert_eq!(instance.state, InstanceState::Success, "{instance:?}");
    assert_eq!(instance.attempts.len(), 1);
    let attempt = &instance.attempts[0];
    assert_eq!(
        (attempt.state, attempt.exit_code),
        (AttemptState::Success, Some(0))
    );
    assert_eq!(attempt.worker_name.as_deref(), Some("local"));
    assert!(instance.started_at.is_some() && instance.finished_at.is_some());

    let log: LogPage = server
        .ok(
            Method::GET,
            &format!("/api/attempts/{}/log?offset=0", attempt.id),
            None,
        )
        .await;
    assert!(log.complete);
    assert!(
        log.text.contains("] hello from hera\n")
            && log.text.contains("] line 3\n")
            && log.text.contains("] oops\n")
    );
    assert_eq!(log.next_offset, log.text.len() as u64);
    let (status, one) = server.get(&format!("/api/attempts/{}", attempt.id)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["instance_id"], json!(instance.id));
    // Reading from an offset returns the rest.
    let rest: LogPage = server
        .ok(
            Method::GET,
            &format!("/api/attempts/{}/log?offset=10", attempt.id),
            None,
        )
        .await;
    assert_eq!(rest.text, log.text[10..]);

    let list: Vec<Instance> = server
        .ok(
            Method::GET,
            &format!("/api/jobs/{job}/instances?limit=5"),
            None,
        )
        .await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].id, instance.id);
    server.stop().await;
}

#[tokio::test]
async fn a_failing_script_is_a_failed_attempt_with_its_exit_code_and_retries_count() {
    let server = TestServer::start(1).await;
    let folder = server.folder("etl").await;
    let job = server
        .job(
            folder,
            "fails",
            "echo trying; exit 7",
            json!({ "retry_count": 1, "retry_delay_secs": 0 }),
        )
        .await;
    let (_, created) = server
        .post(&format!("/api/jobs/{job}/run"), json!({}))
        .await;
    let instance = server.wait_terminal(created["id"].as_i64().unwrap()).await;
    assert_eq!(instance.state, InstanceState::Failed);
    let states: Vec<_> = instance
        .attempts
        .iter()
        .map(|a| (a.number, a.state, a.exit_code))
        .collect();
    assert_eq!(
        states,
        vec![
            (1, AttemptState::Failed, Some(7)),
            (2, AttemptState::Failed, Some(7))
        ]
    );
    assert_eq!(
        instance.attempts[1].trigger,
        app::domain::TriggerKind::Retry
    );
    assert_eq!(
        instance.reason.as_deref(),
        Some("attempt 2 failed (exit code 7)")
    );
    // A rerun is a new attempt of the same instance, with its trigger kind (the job's retries
    // apply again: attempt 3 fails, attempt 4 is its retry).
    let rerun = format!("/api/instances/{}/rerun", instance.id);
    let (status, body) = server.post(&rerun, json!({ "mode": "scheduled" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["error"]["fields"]["mode"],
        "must be manual, recover or cascade"
    );
    let (status, body) = server.post(&rerun, json!({ "mode": "recover" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let instance = server.wait_terminal(instance.id.0).await;
    let triggers: Vec<_> = instance
        .attempts
        .iter()
        .map(|a| a.trigger.as_str())
        .collect();
    assert_eq!(triggers, ["manual", "retry", "recover", "retry"]);
    assert_eq!(instance.trigger, app::domain::TriggerKind::Recover);
    server.stop().await;
}

#[tokio::test]
async fn cancel_kills_a_running_attempt() {
    let server = TestServer::start(1).await;
    let folder = server.folder("etl").await;
    let job = server
        .job(folder, "slow", "echo start; sleep 60", json!({}))
        .await;
    let (_, created) = server
        .post(&format!("/api/jobs/{job}/run"), json!({}))
        .await;
    let id = created["id"].as_i64().unwrap();
    // Wait until the process runs (the worker reports a start within its 100 ms flush).
    let mut running = false;
    for _ in 0..200 {
        let it: Instance = server
            .ok(Method::GET, &format!("/api/instances/{id}"), None)
            .await;
        if it
            .attempts
            .first()
            .is_some_and(|a| a.state == AttemptState::Running && a.started_at.is_some())
        {
            running = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(running, "a long attempt is reported running while it runs");
    let (status, _) = server
        .post(&format!("/api/instances/{id}/cancel"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let instance = server.wait_terminal(id).await;
    assert_eq!(instance.state, InstanceState::Cancelled);
    assert_eq!(instance.attempts[0].state, AttemptState::Cancelled);
    let (status, body) = server
        .post(&format!("/api/instances/{id}/cancel"), json!({}))
        .await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (StatusCode::CONFLICT, "conflict")
    );
    server.stop().await;
}

#[tokio::test]
async fn a_cron_job_runs_at_its_second_and_its_downstream_follows() {
    let server = TestServer::start(2).await;
    let folder = server.folder("etl").await;
    // The upstream fires once a day, three seconds from now; the dependency-only downstream gets
    // its instance for that day once the upstream's (only) run of the day is done.
    use chrono::Timelike as _;
    let at = chrono::Utc::now() + chrono::Duration::seconds(3);
    let cron = format!("{} {} {} * * ?", at.second(), at.minute(), at.hour());
    let up = server
        .job(folder, "up", "echo up", json!({ "cron": cron }))
        .await;
    let down = server
        .job(folder, "down", "echo down", json!({ "dependencies": [up] }))
        .await;
    let mut found = None;
    for _ in 0..100 {
        let list: Vec<Instance> = server
            .ok(Method::GET, &format!("/api/jobs/{down}/instances"), None)
            .await;
        if let Some(it) = list.into_iter().find(|i| i.state == InstanceState::Success) {
            found = Some(it);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let down_instance = found.expect("the downstream ran");
    let ups: Vec<Instance> = server
        .ok(Method::GET, &format!("/api/jobs/{up}/instances"), None)
        .await;
    let first = ups.iter().min_by_key(|i| i.scheduled_at).unwrap();
    assert_eq!(first.scheduled_at.timestamp_subsec_nanos(), 0);
    assert_eq!(first.trigger, app::domain::TriggerKind::Scheduled);
    assert!(down_instance.started_at.unwrap() >= first.finished_at.unwrap());
    let (_, dag) = server.get(&format!("/api/jobs/{down}/dag")).await;
    assert_eq!(dag["edges"], json!([{ "from": up, "to": down }]));
    server.stop().await;
}

#[tokio::test]
async fn the_ui_is_served_for_client_routes_and_compressed() {
    let server = TestServer::start(0).await;
    for path in ["/", "/jobs/12", "/attempts/3/log"] {
        let res = server
            .client
            .get(format!("{}{path}", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert!(res.text().await.unwrap().contains("<title>Hera</title>"));
    }
    let index = server
        .client
        .get(format!("{}/", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // With the UI built (scripts/test.sh builds it first), its wasm goes out gzipped.
    let wasm = index.split('"').find(|part| part.ends_with("_bg.wasm"));
    match wasm {
        Some(wasm) => {
            let raw = reqwest::Client::builder().no_gzip().build().unwrap();
            let url = format!("{}/{}", server.base, wasm.trim_start_matches('/'));
            let res = raw
                .get(url)
                .header("accept-encoding", "gzip")
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            assert_eq!(res.headers()["content-type"], "application/wasm");
            assert_eq!(res.headers()["content-encoding"], "gzip");
        }
        None => assert!(index.contains("was not built into this binary"), "{index}"),
    }
    server.stop().await;
}

#[tokio::test]
async fn why_has_this_not_started() {
    let server = TestServer::start(0).await;
    let folder = server.folder("etl").await;
    let up = server
        .job(folder, "up", "true", json!({ "cron": "0 0 23 * * ?" }))
        .await;
    // No worker is connected: a manual run of `up` stays queued, and says why.
    let (_, created) = server.post(&format!("/api/jobs/{up}/run"), json!({})).await;
    let (status, why) = server
        .get(&format!("/api/instances/{}/why", created["id"]))
        .await;
    assert_eq!(status, StatusCode::OK, "{why}");
    assert_eq!(why["state"], "queued");
    assert_eq!(
        why["summary"],
        "queued: no worker of host group `default` is connected"
    );
    assert_eq!(
        (
            why["queue_position"].clone(),
            why["workers_in_group"].clone()
        ),
        (json!(1), json!(0))
    );
    let (status, _) = server.get("/api/instances/999/why").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Forcing its status needs a reason; then it is recorded with who did it.
    let force = format!("/api/instances/{}/force", created["id"]);
    let (status, body) = server
        .post(&force, json!({ "state": "success", "reason": " " }))
        .await;
    assert_eq!(
        (status, body["error"]["fields"]["reason"].clone()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!("say why the status is forced")
        )
    );
    let (status, body) = server
        .post(&force, json!({ "state": "running", "reason": "x" }))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = server
        .post(
            &force,
            json!({ "state": "success", "reason": "loaded by hand" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["state"].clone(), body["reason"].clone()),
        (
            json!("success"),
            json!("forced to success by admin: loaded by hand")
        )
    );
    server.stop().await;
}

#[tokio::test]
async fn recover_releases_downstream_and_cascade_reruns_it() {
    let server = TestServer::start(2).await;
    let folder = server.folder("etl").await;
    let up = server.job(folder, "up", "echo up", json!({})).await;
    let down = server
        .job(folder, "down", "echo down", json!({ "dependencies": [up] }))
        .await;
    // A manual run releases nothing; recovering it releases the downstream.
    let (_, created) = server.post(&format!("/api/jobs/{up}/run"), json!({})).await;
    let id = created["id"].as_i64().unwrap();
    server.wait_terminal(id).await;
    let list: Vec<Instance> = server
        .ok(Method::GET, &format!("/api/jobs/{down}/instances"), None)
        .await;
    assert!(list.is_empty());
    let rerun = format!("/api/instances/{id}/rerun");
    let (status, _) = server.post(&rerun, json!({ "mode": "recover" })).await;
    assert_eq!(status, StatusCode::OK);
    server.wait_terminal(id).await;
    let mut downstream = None;
    for _ in 0..100 {
        let list: Vec<Instance> = server
            .ok(Method::GET, &format!("/api/jobs/{down}/instances"), None)
            .await;
        if let Some(it) = list.into_iter().find(|i| i.state == InstanceState::Success) {
            downstream = Some(it);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let downstream = downstream.expect("the downstream ran after the recovery");
    // A cascade reruns both, the downstream after the upstream.
    let (status, body) = server.post(&rerun, json!({ "mode": "cascade" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let up_instance = server.wait_terminal(id).await;
    let mut rerun_down = None;
    for _ in 0..100 {
        let it: Instance = server
            .ok(
                Method::GET,
                &format!("/api/instances/{}", downstream.id),
                None,
            )
            .await;
        if it.attempts.len() == 2 && it.state.is_terminal() {
            rerun_down = Some(it);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let rerun_down = rerun_down.expect("the downstream reran once");
    assert_eq!(rerun_down.state, InstanceState::Success);
    assert_eq!(
        rerun_down.attempts[1].trigger,
        app::domain::TriggerKind::Cascade
    );
    let up_end = up_instance.attempts.last().unwrap().finished_at.unwrap();
    assert!(rerun_down.attempts[1].started_at.unwrap() >= up_end);
    server.stop().await;
}

#[tokio::test]
async fn a_job_others_depend_on_cannot_be_deleted() {
    let server = TestServer::start(0).await;
    let folder = server.folder("etl").await;
    let up = server
        .job(folder, "up", "true", json!({ "cron": "0 0 3 * * ?" }))
        .await;
    let down = server
        .job(folder, "down", "true", json!({ "dependencies": [up] }))
        .await;
    let (status, body) = server
        .request::<()>(Method::DELETE, &format!("/api/jobs/{up}"), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        body["error"]["message"],
        format!(
            "job {up} cannot be deleted: down ({down}) depend on it; remove those dependencies first"
        )
    );
    // A queued manual run of the downstream is cancelled when it is deleted.
    let (_, created) = server
        .post(&format!("/api/jobs/{down}/run"), json!({}))
        .await;
    let res = server
        .client
        .delete(format!("{}/api/jobs/{down}", server.base))
        .bearer_auth(&server.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (_, it) = server
        .get(&format!("/api/instances/{}", created["id"]))
        .await;
    assert_eq!(
        (it["state"].clone(), it["reason"].clone()),
        (json!("cancelled"), json!("the job was deleted"))
    );
    let (status, _) = server.get(&format!("/api/jobs/{down}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let res = server
        .client
        .delete(format!("{}/api/jobs/{up}", server.base))
        .bearer_auth(&server.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (_, jobs) = server.get("/api/jobs").await;
    assert_eq!(jobs, json!([]));
    server.stop().await;
}
