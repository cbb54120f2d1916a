//! A worker cut off from its server stops its attempts after `fence_after`, so the server can
//! hand them to another worker without two copies running; and it refuses to go on when the
//! server rejects its token. Driven by a minimal fake server on 127.0.0.1:0.

use std::time::Duration;

use app::{
    domain::{JobType, TriggerKind},
    ids::{AttemptId, InstanceId, JobId, WorkerId},
    protocol::{AttemptSpec, ServerMsg, WorkerMsg},
};
use chrono::Utc;
use futures_util::{SinkExt as _, StreamExt as _};
use tokio::net::TcpListener;
use tokio_tungstenite::{
    accept_async,
    tungstenite::{
        Message,
        protocol::{CloseFrame, frame::coding::CloseCode},
    },
};
use tokio_util::sync::CancellationToken;
use worker::WorkerConfig;

fn config(port: u16, dir: &std::path::Path) -> WorkerConfig {
    WorkerConfig {
        server: format!("http://127.0.0.1:{port}"),
        token: "t".to_owned(),
        host_group: "default".to_owned(),
        slots: 1,
        work_dir: dir.to_owned(),
        kill_grace: Duration::from_secs(1),
        yarn_kill_command: None,
        tools: Default::default(),
        fence_after: Duration::from_secs(1),
    }
}

#[tokio::test]
async fn a_cut_off_worker_stops_its_attempts() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("still-running");
    let shutdown = CancellationToken::new();
    let worker = tokio::spawn(worker::run(config(port, dir.path()), shutdown.clone()));

    // Accept the hello, dispatch a long attempt, then vanish (and refuse reconnects).
    let (tcp, _) = listener.accept().await.unwrap();
    drop(listener);
    let mut socket = accept_async(tcp).await.unwrap();
    let Some(Ok(Message::Text(hello))) = socket.next().await else {
        panic!("no hello")
    };
    assert!(matches!(
        serde_json::from_str(&hello).unwrap(),
        WorkerMsg::Hello { .. }
    ));
    let welcome = ServerMsg::Welcome {
        worker_id: WorkerId(1),
        name: "w".to_owned(),
        heartbeat_secs: 5,
    };
    socket
        .send(Message::Text(
            serde_json::to_string(&welcome).unwrap().into(),
        ))
        .await
        .unwrap();
    let spec = AttemptSpec {
        attempt: AttemptId(1),
        number: 1,
        instance: InstanceId(1),
        job_id: JobId(1),
        job_name: "long".to_owned(),
        job_version: 1,
        job_type: JobType::Shell,
        script: format!(
            "while true; do date > {}; sleep 0.2; done",
            marker.display()
        ),
        scheduled_at: Utc::now(),
        trigger: TriggerKind::Manual,
        env: vec![],
        settings: Default::default(),
        masks: Vec::new(),
        files: Vec::new(),
        run_as: None,
    };
    socket
        .send(Message::Text(
            serde_json::to_string(&ServerMsg::Dispatch(spec))
                .unwrap()
                .into(),
        ))
        .await
        .unwrap();
    // Wait until the attempt runs, then cut the connection.
    for _ in 0..50 {
        if marker.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(marker.exists(), "the attempt started");
    drop(socket);

    // After fence_after (1 s) + kill grace, the process group is gone: the marker stops changing.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let before = std::fs::read_to_string(&marker).unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        std::fs::read_to_string(&marker).unwrap(),
        before,
        "the attempt still runs"
    );
    shutdown.cancel();
    worker.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_refused_token_stops_the_worker_with_the_reason() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let worker = tokio::spawn(worker::run(
        config(port, dir.path()),
        CancellationToken::new(),
    ));
    let (tcp, _) = listener.accept().await.unwrap();
    let mut socket = accept_async(tcp).await.unwrap();
    let _hello = socket.next().await;
    let frame = CloseFrame {
        code: CloseCode::from(4003),
        reason: "unknown worker token".into(),
    };
    socket.send(Message::Close(Some(frame))).await.unwrap();
    let err = tokio::time::timeout(Duration::from_secs(10), worker)
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert!(err.to_string().contains("unknown worker token"), "{err}");
}
