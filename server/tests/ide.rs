//! The development center over HTTP with a real worker: personal and shared trees, autosave,
//! moves, runs of a file or a selection with their history and logs, publishing to a job, and what
//! stays hidden (run jobs in job lists and the dashboard; another user's personal files).

mod common;

use app::{
    api::{Dashboard, IdeFile, IdeScope, Instance, Job, LoginResponse, SearchHit},
    domain::{InstanceState, JobType},
};
use common::{TestServer, error_code};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn create(server: &TestServer, body: Value) -> IdeFile {
    let (status, file) = server.post("/api/ide/files", body).await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    serde_json::from_value(file).unwrap()
}

#[tokio::test]
async fn files_run_on_a_worker_keep_their_history_and_publish_to_jobs() {
    let server = TestServer::start(2).await;
    let folder = server.folder("etl").await;

    let dir = create(
        &server,
        json!({ "scope": "personal", "name": "reports", "is_dir": true }),
    )
    .await;
    let file = create(
        &server,
        json!({ "scope": "personal", "parent_id": dir.id, "name": "daily.sh",
                "content": "echo first line\necho second line\n" }),
    )
    .await;
    assert_eq!(
        (file.scope, file.job_type, file.parent_id),
        (IdeScope::Personal, JobType::Shell, Some(dir.id))
    );

    // A name is unique inside its folder; a file is not a folder.
    let (status, body) = server
        .post(
            "/api/ide/files",
            json!({ "scope": "personal", "parent_id": dir.id, "name": "daily.sh" }),
        )
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::CONFLICT, "conflict".into())
    );
    let (status, body) = server
        .post(
            "/api/ide/files",
            json!({ "scope": "personal", "parent_id": file.id, "name": "x" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body.to_string().contains("is a file, not a folder"),
        "{body}"
    );

    // Autosave, then read back.
    let saved: IdeFile = server
        .ok(
            Method::PUT,
            &format!("/api/ide/files/{}", file.id),
            Some(json!({ "content": "echo saved $((40 + 2))\necho never\n" })),
        )
        .await;
    let read: IdeFile = server
        .ok(Method::GET, &format!("/api/ide/files/{}", file.id), None)
        .await;
    assert_eq!(read, saved);
    assert_eq!(
        read.content.as_deref(),
        Some("echo saved $((40 + 2))\necho never\n")
    );

    // Run the saved file, then only a selection of it.
    let (status, run) = server
        .post(
            &format!("/api/ide/files/{}/run", file.id),
            json!({ "host_group": "default" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{run}");
    let first = server.wait_terminal(run["id"].as_i64().unwrap()).await;
    assert_eq!(first.state, InstanceState::Success);
    let log = server.log_page(first.attempts[0].id).await;
    assert!(log.text.contains("saved 42"), "{}", log.text);
    // At once: a second run within the same second is a run of its own.
    let (status, run) = server
        .post(
            &format!("/api/ide/files/{}/run", file.id),
            json!({ "host_group": "default", "script": "echo only the selection" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{run}");
    let second = server.wait_terminal(run["id"].as_i64().unwrap()).await;
    let log = server.log_page(second.attempts[0].id).await;
    assert!(log.text.contains("only the selection"), "{}", log.text);
    assert!(!log.text.contains("never"), "{}", log.text);

    let history: Vec<Instance> = server
        .ok(
            Method::GET,
            &format!("/api/ide/files/{}/runs", file.id),
            None,
        )
        .await;
    assert_eq!(
        history.iter().map(|i| i.id).collect::<Vec<_>>(),
        vec![second.id, first.id],
        "newest first"
    );
    let (status, body) = server
        .post(
            &format!("/api/ide/files/{}/run", file.id),
            json!({ "host_group": "default", "script": "  \n" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // Runs stay out of the job lists, search and the dashboard.
    let jobs: Vec<Job> = server.ok(Method::GET, "/api/jobs", None).await;
    assert!(jobs.is_empty(), "{jobs:?}");
    let hits: Vec<SearchHit> = server
        .ok(Method::GET, "/api/search?q=selection", None)
        .await;
    assert!(hits.is_empty(), "{hits:?}");
    let dashboard: Dashboard = server.ok(Method::GET, "/api/dashboard", None).await;
    assert_eq!(dashboard.counts.values().sum::<u32>(), 0, "{dashboard:?}");
    assert!(dashboard.running.is_empty() && dashboard.longest.is_empty());

    // Publish as a new job, then as a new version of it.
    let job: Job = server
        .ok(
            Method::POST,
            &format!("/api/ide/files/{}/publish", file.id),
            Some(json!({ "folder_id": folder, "name": "daily report" })),
        )
        .await;
    assert_eq!(
        (job.name.as_str(), job.version, job.cron.as_deref()),
        ("daily report", 1, None)
    );
    assert!(job.script.contains("saved"));
    server
        .put(
            &format!("/api/jobs/{}", job.id),
            json!({ "name": "daily report", "folder_id": folder, "job_type": "shell",
                    "script": "old", "cron": "0 0 2 * * ?", "retry_count": 2 }),
        )
        .await;
    server
        .put(
            &format!("/api/ide/files/{}", file.id),
            json!({ "content": "echo v3" }),
        )
        .await;
    let job: Job = server
        .ok(
            Method::POST,
            &format!("/api/ide/files/{}/publish", file.id),
            Some(json!({ "job_id": job.id })),
        )
        .await;
    assert_eq!(
        (
            job.version,
            job.script.as_str(),
            job.cron.as_deref(),
            job.retry_count
        ),
        (3, "echo v3", Some("0 0 2 * * ?"), 2),
        "only the script changes"
    );
    let listed: Vec<IdeFile> = server.ok(Method::GET, "/api/ide/files", None).await;
    let listed_file = listed.iter().find(|f| f.id == file.id).unwrap();
    assert_eq!(listed_file.published_job_id, Some(job.id));
    assert_eq!(listed_file.content, None, "listings carry no content");

    server.stop().await;
}

#[tokio::test]
async fn trees_move_rename_delete_and_stay_private() {
    let server = TestServer::start(0).await;
    let a = create(
        &server,
        json!({ "scope": "shared", "name": "a", "is_dir": true }),
    )
    .await;
    let b = create(
        &server,
        json!({ "scope": "shared", "parent_id": a.id, "name": "b", "is_dir": true }),
    )
    .await;
    let f = create(
        &server,
        json!({ "scope": "shared", "parent_id": b.id, "name": "q.sql", "job_type": "hive" }),
    )
    .await;
    let mine = create(
        &server,
        json!({ "scope": "personal", "name": "mine.py", "job_type": "python" }),
    )
    .await;

    // No folder moves into itself or below itself; files stay in their tree.
    for target in [a.id, b.id] {
        let (status, body) = server
            .post(
                &format!("/api/ide/files/{}/move", a.id),
                json!({ "parent_id": target }),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
    let (status, body) = server
        .post(
            &format!("/api/ide/files/{}/move", mine.id),
            json!({ "parent_id": a.id }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let moved: IdeFile = server
        .ok(
            Method::POST,
            &format!("/api/ide/files/{}/move", f.id),
            Some(json!({ "parent_id": null })),
        )
        .await;
    assert_eq!(moved.parent_id, None);
    let renamed: IdeFile = server
        .ok(
            Method::PUT,
            &format!("/api/ide/files/{}", b.id),
            Some(json!({ "name": "b2" })),
        )
        .await;
    assert_eq!(renamed.name, "b2");
    let (status, body) = server
        .put(
            &format!("/api/ide/files/{}", b.id),
            json!({ "name": "x/y" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // Another user sees the shared tree but not admin's personal files.
    let password = "correct horse battery";
    server
        .store
        .create_user(
            &server::store::NewUserRecord {
                username: "bob".into(),
                password_hash: server::auth::hash_password(password).unwrap(),
                is_admin: false,
                status: app::domain::AccountStatus::Active,
            },
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let login: LoginResponse = server
        .client
        .post(format!("{}/api/auth/login", server.base))
        .json(&json!({ "username": "bob", "password": password }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bob_sees: Vec<IdeFile> = server
        .client
        .get(format!("{}/api/ide/files", server.base))
        .bearer_auth(&login.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut names: Vec<&str> = bob_sees.iter().map(|f| f.name.as_str()).collect();
    names.sort();
    assert_eq!(names, vec!["a", "b2", "q.sql"]);
    let status = server
        .client
        .get(format!("{}/api/ide/files/{}", server.base, mine.id))
        .bearer_auth(&login.token)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Deleting a folder deletes what it holds.
    let status = server
        .client
        .delete(format!("{}/api/ide/files/{}", server.base, a.id))
        .bearer_auth(&server.token)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::NO_CONTENT);
    let left: Vec<IdeFile> = server.ok(Method::GET, "/api/ide/files", None).await;
    let mut names: Vec<&str> = left.iter().map(|f| f.name.as_str()).collect();
    names.sort();
    assert_eq!(names, vec!["mine.py", "q.sql"]);
    server.stop().await;
}
