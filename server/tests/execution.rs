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
    let log: LogPage = server.log_page(attempt.id).await;
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
    let instance = server.run_to_end(overrun).await;
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

#[tokio::test]
async fn the_dashboard_counts_the_day_and_lists_failures_and_long_runs() {
    let server = TestServer::start(2).await;
    let folder = server.folder("dash").await;
    let good = server.job(folder, "good", "sleep 0.3", json!({})).await;
    let bad = server.job(folder, "bad", "exit 4", json!({})).await;
    for job in [good, bad] {
        let (_, created) = server
            .post(&format!("/api/jobs/{job}/run"), json!({}))
            .await;
        server.wait_terminal(created["id"].as_i64().unwrap()).await;
    }
    let dash: app::api::Dashboard = server.ok(Method::GET, "/api/dashboard", None).await;
    assert_eq!(dash.timezone, "UTC");
    assert_eq!(dash.counts[&InstanceState::Success], 1);
    assert_eq!(dash.counts[&InstanceState::Failed], 1);
    assert_eq!(dash.failures.len(), 1);
    assert_eq!(dash.failures[0].job_name, "bad");
    assert_eq!(dash.trend.len(), 7);
    let today = dash.trend.last().unwrap();
    assert_eq!((today.date, today.success, today.failed), (dash.date, 1, 1));
    assert_eq!(dash.longest[0].job_name, "good");
    assert!(dash.longest[0].seconds >= 0.3, "{:?}", dash.longest);
    assert!(dash.running.is_empty());
    let (status, body) = server.get("/api/dashboard?timezone=Mars/Base").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _) = server
        .get("/api/dashboard?timezone=Asia/Shanghai&date=2026-01-01")
        .await;
    assert_eq!(status, StatusCode::OK);
    server.stop().await;
}

#[tokio::test]
async fn scripts_render_inherited_configs_date_macros_and_quoted_parameters() {
    let server = TestServer::start(2).await;
    let outer = server.folder("dw").await;
    let (status, inner) = server
        .post(
            "/api/folders",
            json!({ "name": "daily", "parent_id": outer }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{inner}");
    let inner = inner["id"].as_i64().unwrap();
    for (folder, name, configs) in [
        (outer, "dw", json!({ "table": "dw.orders", "env": "prod" })),
        (inner, "daily", json!({ "env": "test" })),
    ] {
        let (status, body) = server
            .put(
                &format!("/api/folders/{folder}"),
                json!({ "name": name, "configs": configs }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let script =
        "echo \"${table} ${env} ${zdt.addDay(-1).format('yyyyMMdd')} $[yyyyMMdd] [${unknown}]\"";
    let job = server
        .job(
            inner,
            "render",
            script,
            json!({ "timezone": "Asia/Shanghai", "configs": { "table": "dw.items" } }),
        )
        .await;
    let view: app::api::ConfigView = server
        .ok(Method::GET, &format!("/api/jobs/{job}/configs"), None)
        .await;
    assert_eq!(view.effective["table"], "dw.items");
    assert_eq!(view.effective["env"], "test");
    let inherited: Vec<(String, String, bool)> = view
        .inherited
        .iter()
        .map(|c| (c.key.clone(), c.folder_name.clone(), c.overridden))
        .collect();
    assert_eq!(
        inherited,
        [
            ("env".to_owned(), "dw".to_owned(), true),
            ("table".to_owned(), "dw".to_owned(), true),
            ("env".to_owned(), "daily".to_owned(), false),
        ]
    );
    // The inner folder's own view: its `env` over the outer folder's, which shows as overridden.
    let view: app::api::ConfigView = server
        .ok(Method::GET, &format!("/api/folders/{inner}/configs"), None)
        .await;
    assert_eq!(view.own.get("env").map(String::as_str), Some("test"));
    assert_eq!(view.effective["table"], "dw.orders");
    assert_eq!(view.effective["env"], "test");
    assert!(view.inherited.iter().all(|c| c.folder_name == "dw"));
    assert!(
        view.inherited
            .iter()
            .any(|c| c.key == "env" && c.overridden)
    );
    let (status, _) = server.get("/api/folders/999999/configs").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // 01:00 UTC is 09:00 on the 24th in Shanghai.
    let (status, created) = server
        .post(
            &format!("/api/jobs/{job}/run"),
            json!({ "business_time": "2026-11-24T01:00:00Z" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let instance = server.wait_terminal(created["id"].as_i64().unwrap()).await;
    assert_eq!(instance.state, InstanceState::Success, "{instance:?}");
    let log: LogPage = server.log_page(instance.attempts[0].id).await;
    assert!(
        log.text.contains("] dw.items test 20261123 20261124 []\n"),
        "{}",
        log.text
    );
    // The preview renders the same; a bad macro is a 422 saying where.
    let (status, preview) = server
        .post(
            "/api/render",
            json!({ "script": script, "business_time": "2026-11-24T01:00:00Z",
                    "timezone": "Asia/Shanghai", "folder_id": inner, "configs": { "table": "dw.items" } }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(
        preview["rendered"],
        "echo \"dw.items test 20261123 20261124 [${unknown}]\""
    );
    let (status, bad) = server
        .post(
            "/api/render",
            json!({ "script": "echo ok\necho $[yyyyMMdd+x]", "business_time": "2026-11-24T01:00:00Z", "timezone": "UTC" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    assert!(
        bad["error"]["fields"]["script"]
            .as_str()
            .unwrap()
            .starts_with("line 2"),
        "{bad}"
    );
    // A script that cannot be rendered fails before it starts, with the reason.
    let broken = server
        .job(inner, "broken", "echo $[yyyyMMdd+x]", json!({}))
        .await;
    let instance = server.run_to_end(broken).await;
    assert_eq!(instance.state, InstanceState::Failed);
    assert!(
        instance
            .reason
            .as_deref()
            .unwrap()
            .starts_with("attempt 1 failed (the script cannot be rendered: line 1"),
        "{instance:?}"
    );
    // Run-time parameters are data: nothing injected runs.
    let dir = tempfile::tempdir().unwrap();
    let pwned = dir.path().join("pwned");
    let echo = server.job(inner, "echo-p", "echo [${P}]", json!({})).await;
    let value = format!(
        "$(touch {}); `touch {}`\nrm -rf /",
        pwned.display(),
        pwned.display()
    );
    let (_, created) = server
        .post(
            &format!("/api/jobs/{echo}/run"),
            json!({ "params": { "P": value } }),
        )
        .await;
    let instance = server.wait_terminal(created["id"].as_i64().unwrap()).await;
    assert_eq!(instance.state, InstanceState::Success);
    assert!(!pwned.exists(), "an injected command ran");
    let log: LogPage = server.log_page(instance.attempts[0].id).await;
    assert!(
        log.text
            .contains(&format!("] [$(touch {});", pwned.display())),
        "{}",
        log.text
    );
    server.stop().await;
}

/// A stand-in for a tool: prints its name and arguments, then the script file it was given.
fn stand_in(dir: &std::path::Path, name: &str) -> String {
    use std::os::unix::fs::PermissionsExt as _;
    let path = dir.join(name);
    let script = format!(
        "#!/bin/sh\necho \"{name} $*\"\nfor a in \"$@\"; do if [ -f \"$a\" ]; then cat \"$a\"; fi; done\n"
    );
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.display().to_string()
}

async fn run_and_log(server: &TestServer, job: i64) -> (Instance, String) {
    let instance = server.run_to_end(job).await;
    let log: LogPage = server.log_page(instance.attempts[0].id).await;
    (instance, log.text)
}

#[tokio::test]
async fn each_job_type_runs_its_tool_or_request() {
    let server = TestServer::start(0).await;
    let tools_dir = tempfile::tempdir().unwrap();
    let tools = worker::jobtypes::Tools {
        python: "python3 {file}".to_owned(),
        hive: format!("{} -f {{file}}", stand_in(tools_dir.path(), "hive")),
        spark_sql: format!(
            "{} {{conf}} -f {{file}}",
            stand_in(tools_dir.path(), "spark-sql")
        ),
        spark_submit: format!(
            "{} {{conf}} {{args}}",
            stand_in(tools_dir.path(), "spark-submit")
        ),
        ..Default::default()
    };
    server.add_worker_with("tools", "default", 4, tools).await;
    let folder = server.folder("types").await;
    let spark_conf = json!({ "configs": { "hera.spark.conf": "--master yarn --num-executors 2" } });
    let cases = [
        ("python", "print('py', 6 * 7)", json!({}), "] py 42\n"),
        (
            "hive",
            "select count(*) from dw.orders where dt = '$[yyyyMMdd]';",
            json!({}),
            "] hive -f job.hql\n",
        ),
        (
            "spark_sql",
            "insert overwrite table t select 1;",
            spark_conf.clone(),
            "] spark-sql --master yarn --num-executors 2 -f job.sql\n",
        ),
        (
            "spark_submit",
            "--class org.example.Load \\\n  app.jar 2026",
            spark_conf,
            "] spark-submit --master yarn --num-executors 2 --class org.example.Load app.jar 2026\n",
        ),
    ];
    for (kind, script, extra, expected) in cases {
        let mut fields = extra;
        fields["job_type"] = json!(kind);
        let job = server.job(folder, kind, script, fields).await;
        let (instance, log) = run_and_log(&server, job).await;
        assert_eq!(instance.state, InstanceState::Success, "{kind}: {log}");
        assert!(log.contains(expected), "{kind}: {log}");
    }
    // The Hive script was rendered before it ran.
    let hive = server
        .job(
            folder,
            "hive-render",
            "select '$[yyyy]';",
            json!({ "job_type": "hive" }),
        )
        .await;
    let (_, log) = run_and_log(&server, hive).await;
    assert!(
        !log.contains("$[yyyy]") && log.contains("select '20"),
        "{log}"
    );

    // HTTP: a local endpoint answers 201 with a body.
    let app = axum::Router::new().route(
        "/load",
        axum::routing::post(|body: String| async move {
            (axum::http::StatusCode::CREATED, format!("loaded {body}"))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let request =
        format!("POST http://127.0.0.1:{port}/load\nContent-Type: text/plain\n\nday $[yyyyMMdd]");
    let http = server
        .job(folder, "http", &request, json!({ "job_type": "http" }))
        .await;
    let (instance, log) = run_and_log(&server, http).await;
    assert_eq!(instance.state, InstanceState::Success, "{log}");
    assert!(log.contains("] loaded day 20"), "{log}");
    assert!(log.contains("hera: HTTP 201 Created; succeeded"), "{log}");
    let strict = server
        .job(
            folder,
            "http-strict",
            &request,
            json!({ "job_type": "http", "configs": { "hera.http.expect_status": "200" } }),
        )
        .await;
    let (instance, log) = run_and_log(&server, strict).await;
    assert_eq!(instance.state, InstanceState::Failed, "{log}");
    assert!(log.contains("hera: HTTP 201 Created; failed"), "{log}");
    let broken = server
        .job(
            folder,
            "http-bad",
            "FETCH nowhere",
            json!({ "job_type": "http" }),
        )
        .await;
    let (instance, log) = run_and_log(&server, broken).await;
    assert_eq!(instance.state, InstanceState::Failed);
    assert!(
        log.contains("hera: cannot run this http job: `FETCH` is not an HTTP method"),
        "{log}"
    );
    server.stop().await;
}

#[tokio::test]
async fn secrets_are_write_only_reach_the_process_and_never_the_log() {
    let server = TestServer::start(1).await;
    let folder = server.folder("sec").await;
    let job = server
        .job(
            folder,
            "uses-secret",
            "echo \"token=$API_TOKEN db=$DB_URL\"; echo \"$DB_URL\" | wc -c",
            json!({}),
        )
        .await;
    for (path, value) in [
        (
            format!("/api/folders/{folder}/secrets/API_TOKEN"),
            "folder-token-1",
        ),
        (format!("/api/jobs/{job}/secrets/API_TOKEN"), "job-token-2"),
        (
            format!("/api/jobs/{job}/secrets/DB_URL"),
            "postgres://etl:p@ss w0rd@db/dw",
        ),
    ] {
        let res = server
            .client
            .put(format!("{}{path}", server.base))
            .bearer_auth(&server.token)
            .json(&json!({ "value": value }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT, "{path}");
    }
    // Reads say what is set and where, never the value.
    let (status, infos) = server.get(&format!("/api/jobs/{job}/secrets")).await;
    assert_eq!(status, StatusCode::OK);
    let text = infos.to_string();
    assert!(!text.contains("token-") && !text.contains("w0rd"), "{text}");
    let listed: Vec<(String, bool, bool)> = infos
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["name"].as_str().unwrap().to_owned(),
                i["folder_id"].is_null(),
                i["overridden"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("API_TOKEN".to_owned(), false, true),
            ("API_TOKEN".to_owned(), true, false),
            ("DB_URL".to_owned(), true, false),
        ]
    );
    // Stored encrypted: the plain value is nowhere in the database file.
    let db = std::fs::read(server.dir.path().join("data/hera.db")).unwrap_or_default();
    assert!(!db.windows(11).any(|w| w == b"job-token-2"));
    // The process gets them; the log masks them.
    let instance = server.run_to_end(job).await;
    assert_eq!(instance.state, InstanceState::Success);
    let log: LogPage = server.log_page(instance.attempts[0].id).await;
    assert!(
        log.text.contains("] token=****** db=******\n"),
        "{}",
        log.text
    );
    assert!(!log.text.contains("job-token-2") && !log.text.contains("w0rd"));
    // `wc -c` saw the whole value (30 bytes and a newline).
    assert!(log.text.contains("] 31\n"), "{}", log.text);
    // Bad names are refused; deleting twice is a 404.
    let res = server
        .client
        .put(format!("{}/api/jobs/{job}/secrets/HERA_X", server.base))
        .bearer_auth(&server.token)
        .json(&json!({ "value": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    for expected in [StatusCode::NO_CONTENT, StatusCode::NOT_FOUND] {
        let res = server
            .client
            .delete(format!("{}/api/jobs/{job}/secrets/DB_URL", server.base))
            .bearer_auth(&server.token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), expected);
    }
    // The next run sees the change at once (the scheduler does not keep a stale copy).
    let instance = server.run_to_end(job).await;
    let latest = instance.attempts.last().unwrap();
    let log: LogPage = server.log_page(latest.id).await;
    assert!(log.text.contains("] token=****** db=\n"), "{}", log.text);
    let actions: Vec<String> = server
        .ok::<Vec<app::api::AuditEntry>>(Method::GET, &format!("/api/audit?job_id={job}"), None)
        .await
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            "job.run",
            "secret.delete",
            "job.run",
            "secret.set",
            "secret.set",
            "job.create"
        ]
    );
    server.stop().await;
}

#[tokio::test]
async fn a_drained_worker_runs_nothing_new_until_taken_back() {
    let server = TestServer::start(2).await;
    let folder = server.folder("drain").await;
    let job = server.job(folder, "j", "true", json!({})).await;
    let workers: Vec<app::api::Worker> = server.ok(Method::GET, "/api/workers", None).await;
    let local = workers[0].id;
    let drained: app::api::Worker = server
        .ok(
            Method::POST,
            &format!("/api/workers/{local}/drain"),
            Some(json!({ "draining": true })),
        )
        .await;
    assert!(drained.draining);
    let (_, created) = server
        .post(&format!("/api/jobs/{job}/run"), json!({}))
        .await;
    let id = created["id"].as_i64().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let (_, waiting) = server.get(&format!("/api/instances/{id}")).await;
    assert_eq!(waiting["state"], "queued", "{waiting}");
    let queue: app::api::QueueView = server.ok(Method::GET, "/api/queue", None).await;
    assert_eq!(queue.queue_length, 1);
    assert_eq!(
        (
            queue.queued[0].position,
            queue.queued[0].instance.instance_id.0,
            queue.queued[0].waiting_for.as_str()
        ),
        (
            1,
            id,
            "queued: every worker of host group `default` is being drained"
        )
    );
    let back: app::api::Worker = server
        .ok(
            Method::POST,
            &format!("/api/workers/{local}/drain"),
            Some(json!({ "draining": false })),
        )
        .await;
    assert!(!back.draining);
    assert_eq!(server.wait_terminal(id).await.state, InstanceState::Success);
    let (status, _) = server
        .post("/api/workers/9999/drain", json!({ "draining": true }))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    server.stop().await;
}

#[tokio::test]
async fn search_finds_jobs_by_script_or_config_and_the_timeline_shows_a_day() {
    let server = TestServer::start(1).await;
    let folder = server.folder("find").await;
    let loader = server
        .job(
            folder,
            "load_orders",
            "# nightly\ninsert into dw.fact_orders select * from ods.orders;",
            json!({ "configs": { "target": "dw.fact_payments" } }),
        )
        .await;
    server.job(folder, "other", "true", json!({})).await;
    let hits: Vec<app::api::SearchHit> = server
        .ok(Method::GET, "/api/search?q=FACT_ORDERS", None)
        .await;
    assert_eq!(hits.len(), 1);
    assert_eq!(
        (
            hits[0].job_id.0,
            hits[0].matched.as_str(),
            hits[0].snippet.as_str()
        ),
        (
            loader,
            "script",
            "insert into dw.fact_orders select * from ods.orders;"
        )
    );
    let hits: Vec<app::api::SearchHit> = server
        .ok(Method::GET, "/api/search?q=fact_payments", None)
        .await;
    assert_eq!(hits[0].matched, "config");
    // `_` and `%` are literal, not wildcards.
    let hits: Vec<app::api::SearchHit> = server.ok(Method::GET, "/api/search?q=%25%25", None).await;
    assert!(hits.is_empty());
    let (status, _) = server.get("/api/search?q=x").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // The timeline of today holds the run with its attempt's start and end.
    let instance = server.run_to_end(loader).await;
    let today = instance.scheduled_at.date_naive();
    let timeline: Vec<Instance> = server
        .ok(
            Method::GET,
            &format!("/api/timeline?folder_id={folder}&date={today}"),
            None,
        )
        .await;
    assert_eq!(timeline.len(), 1);
    assert!(timeline[0].attempts[0].finished_at.is_some());
    let empty: Vec<Instance> = server
        .ok(
            Method::GET,
            &format!("/api/timeline?folder_id={folder}&date=2020-01-01"),
            None,
        )
        .await;
    assert!(empty.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn the_cluster_lists_what_each_worker_runs_and_its_recent_load() {
    let server = TestServer::start(2).await;
    let folder = server.folder("cluster").await;
    let job = server
        .job(folder, "sleeper", "sleep 20", json!({ "slot_weight": 2 }))
        .await;
    let stored: Job = server
        .ok(Method::GET, &format!("/api/jobs/{job}"), None)
        .await;
    assert_eq!(stored.slot_weight, 2);
    let (status, body) = server
        .post(
            "/api/jobs",
            json!({ "name": "x", "folder_id": folder, "job_type": "shell", "script": "true",
                    "slot_weight": 0 }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["error"]["fields"]["slot_weight"],
        "must be from 1 to 64 worker slots"
    );
    let (_, created) = server
        .post(&format!("/api/jobs/{job}/run"), json!({}))
        .await;
    let mut seen = None;
    for _ in 0..160 {
        let workers: Vec<app::api::Worker> = server.ok(Method::GET, "/api/workers", None).await;
        let local = &workers[0];
        if !local.attempts.is_empty() && !local.history.is_empty() {
            seen = Some(local.clone());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let local = seen.expect("a running attempt and a heartbeat sample within 8 s");
    assert_eq!(local.running, 1);
    let running = &local.attempts[0];
    assert_eq!(
        (
            running.job_id.0,
            running.job_name.as_str(),
            running.instance_id.0
        ),
        (job, "sleeper", created["id"].as_i64().unwrap())
    );
    let sample = local.history.last().unwrap();
    assert!((0.0..=100.0).contains(&sample.memory_percent), "{sample:?}");
    server
        .post(
            &format!("/api/instances/{}/cancel", created["id"]),
            json!({}),
        )
        .await;
    server.wait_terminal(created["id"].as_i64().unwrap()).await;
    server.stop().await;
}

#[tokio::test]
async fn jobs_run_as_the_os_users_their_host_group_allows() {
    if !nix_is_root() {
        eprintln!("not root: switching users cannot be tested here");
        return;
    }
    let server = TestServer::start_configured(0, |config| {
        config
            .run_as_users
            .insert("default".to_owned(), ["nobody".to_owned()].into());
    })
    .await;
    // The work directory's parents must let the user through, as a real worker's would.
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(server.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    server.add_worker("local", "default", 2).await;
    let folder = server.folder("runas").await;
    let allowed = server
        .job(
            folder,
            "as-nobody",
            "echo \"user=$(id -un) home=$HOME\"; touch mine && stat -c %U mine; \
             grep -q '^0::.*/attempt-' /proc/self/cgroup && echo in-its-cgroup",
            json!({ "configs": { "hera.run_as": "nobody" } }),
        )
        .await;
    let refused = server
        .job(
            folder,
            "as-root",
            "true",
            json!({ "configs": { "hera.run_as": "root" } }),
        )
        .await;
    for (job, state, expected) in [
        (allowed, InstanceState::Success, "user=nobody home="),
        (
            refused,
            InstanceState::Failed,
            "hera.run_as: host group `default` may not run jobs as OS user `root`",
        ),
    ] {
        let instance = server.run_to_end(job).await;
        let log = server.log_page(instance.attempts[0].id).await.text;
        assert_eq!(instance.state, state, "{log}");
        assert!(log.contains(expected), "{log}");
        if state == InstanceState::Success {
            assert!(log.contains("] nobody\n"), "the file is the user's: {log}");
            // The worker moves it into the attempt's cgroup whatever its user.
            if worker::cgroup::Cgroups::detect().is_ok() {
                assert!(log.contains("] in-its-cgroup\n"), "{log}");
            }
        }
    }
    server.stop().await;
}

fn nix_is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

#[tokio::test]
async fn a_broadcast_job_runs_on_every_worker_of_its_group() {
    let server = TestServer::start(0).await;
    server.add_worker("w1", "etl", 2).await;
    server.add_worker("w2", "etl", 2).await;
    server.add_worker("other", "default", 2).await;
    let folder = server.folder("bc").await;
    let job = server
        .job(
            folder,
            "everywhere",
            "echo on $(hostname) attempt $HERA_ATTEMPT_ID",
            json!({ "host_group": "etl", "configs": { "hera.broadcast": "true" } }),
        )
        .await;
    let instance = server.run_to_end(job).await;
    assert_eq!(instance.state, InstanceState::Success);
    let mut workers: Vec<String> = instance
        .attempts
        .iter()
        .map(|a| a.worker_name.clone().unwrap_or_default())
        .collect();
    workers.sort();
    assert_eq!(workers, ["w1", "w2"]);
    server.stop().await;
}
