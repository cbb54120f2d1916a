//! The resource center over HTTP with a real worker: streamed uploads with versions, downloads,
//! deletion, and jobs that get resources (by name and version), web downloads and fetch-command
//! files into their work directory — from `hera.resources` and `download[…]` directives —
//! with the worker's checksum cache.

mod common;

use app::{
    api::{Resource, ResourceVersion},
    domain::InstanceState,
};
use common::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn upload(server: &TestServer, name: &str, body: &'static [u8]) -> ResourceVersion {
    let res = server
        .client
        .post(format!("{}/api/resources?name={name}", server.base))
        .bearer_auth(&server.token)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json().await.unwrap()
}

#[tokio::test]
async fn uploads_have_versions_and_jobs_get_their_files() {
    let server = TestServer::start(0).await;
    let sources = tempfile::tempdir().unwrap();
    let copied = sources.path().join("from-hdfs.txt");
    std::fs::write(&copied, "fetched by the command\n").unwrap();
    server
        .add_worker_with(
            "fetcher",
            "default",
            2,
            worker::jobtypes::Tools {
                fetch: "cp {uri} {file}".to_owned(),
                ..Default::default()
            },
        )
        .await;

    let v1 = upload(&server, "lib/tool.sh", b"echo tool version 1\n").await;
    let v2 = upload(&server, "lib/tool.sh", b"echo tool version 2\n").await;
    let data = upload(&server, "data.csv", b"a,b\n1,2\n").await;
    assert_eq!(
        (v1.version, v2.version, v1.resource_id),
        (1, 2, v2.resource_id)
    );
    assert_eq!(v1.size, 20);
    assert_eq!(v1.sha256.len(), 64);
    let listed: Vec<Resource> = server.ok(Method::GET, "/api/resources", None).await;
    assert_eq!(
        listed
            .iter()
            .map(|r| (r.name.as_str(), r.latest.version))
            .collect::<Vec<_>>(),
        [("data.csv", 1), ("lib/tool.sh", 2)]
    );
    let one: Resource = server
        .ok(
            Method::GET,
            &format!("/api/resources/{}", v1.resource_id),
            None,
        )
        .await;
    assert_eq!(
        one.versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        [2, 1]
    );
    let old = server
        .client
        .get(format!(
            "{}/api/resources/{}/content?version=1",
            server.base, v1.resource_id
        ))
        .bearer_auth(&server.token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        old.headers()["content-disposition"],
        "attachment; filename=\"tool.sh\""
    );
    assert_eq!(old.text().await.unwrap(), "echo tool version 1\n");

    // A bad name is refused before anything is stored; workers' route needs a worker token.
    let res = server
        .client
        .post(format!("{}/api/resources?name=../x", server.base))
        .bearer_auth(&server.token)
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = server
        .client
        .get(format!("{}/api/worker/files/{}", server.base, v1.sha256))
        .bearer_auth(&server.token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "a user's token is not a worker's"
    );

    // A web address to download from.
    let app = axum::Router::new().route(
        "/web.txt",
        axum::routing::get(|| async { "from the web\n" }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let folder = server.folder("res").await;
    server
        .put(
            &format!("/api/folders/{folder}"),
            json!({ "name": "res", "configs": { "hera.resources": "hera:lib/tool.sh@1 bin/tool.sh" } }),
        )
        .await;
    let script = format!(
        "download[hera:data.csv]\n\
         download[http://127.0.0.1:{port}/web.txt]\n\
         download[{} copied.txt]\n\
         bash bin/tool.sh; cat data.csv web.txt copied.txt\n",
        copied.display()
    );
    let job = server.job(folder, "uses-files", &script, json!({})).await;
    let first = server.run_to_end(job).await;
    let log = server.log_page(first.attempts[0].id).await.text;
    assert_eq!(first.state, InstanceState::Success, "{log}");
    for expected in [
        "hera: fetched hera:lib/tool.sh@1 as bin/tool.sh (20 bytes, downloaded)",
        "hera: fetched hera:data.csv@1 as data.csv (8 bytes, downloaded)",
        &format!("hera: downloaded http://127.0.0.1:{port}/web.txt as web.txt (13 bytes)"),
        "as copied.txt",
        "tool version 1\n",
        "1,2\n",
        "from the web\n",
        "fetched by the command\n",
    ] {
        assert!(log.contains(expected), "missing {expected:?} in:\n{log}");
    }
    assert!(
        !log.contains("download["),
        "directives leave the script:\n{log}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let second = server.run_to_end(job).await;
    let log = server.log_page(second.attempts[0].id).await.text;
    assert!(
        log.contains("as bin/tool.sh (20 bytes, from the cache)"),
        "{log}"
    );

    // A job naming a resource that does not exist fails before it starts, saying which.
    let missing = server
        .job(
            folder,
            "missing",
            "download[hera:nope.jar]\ntrue",
            json!({}),
        )
        .await;
    let failed = server.run_to_end(missing).await;
    let log = server.log_page(failed.attempts[0].id).await.text;
    assert!(
        log.contains("hera:nope.jar: the resource center has no file named nope.jar"),
        "{log}"
    );

    // Deleting a resource removes every version and its content.
    let res = server
        .client
        .delete(format!(
            "{}/api/resources/{}",
            server.base, data.resource_id
        ))
        .bearer_auth(&server.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (status, _) = server
        .get(&format!("/api/resources/{}", data.resource_id))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let stored = server
        .dir
        .path()
        .join("data/resources/sha256")
        .join(&data.sha256);
    assert!(!stored.exists(), "{}", stored.display());
    server.stop().await;
}
