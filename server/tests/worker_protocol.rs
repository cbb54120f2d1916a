//! The worker protocol and the browser sockets over real WebSockets: hello checks with clear close
//! reasons, malformed messages, duplicate and foreign reports, log chunk resends, adoption of
//! running attempts after a reconnect, and the live log tail and events a browser sees.

mod common;

use std::time::Duration;

use app::{
    api::{Event, Instance, LogMessage},
    domain::{AttemptOutcome, AttemptState, InstanceState},
    ids::AttemptId,
    protocol::{AttemptSpec, PROTOCOL_VERSION, ServerMsg, WorkerMsg},
};
use chrono::Utc;
use common::TestServer;
use futures_util::{SinkExt as _, StreamExt as _};
use reqwest::Method;
use serde_json::json;
use server::auth;
use tokio::net::TcpStream;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async, tungstenite::Message};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

struct FakeWorker {
    socket: Socket,
}

impl FakeWorker {
    async fn connect(server: &TestServer) -> Socket {
        connect_async(format!("ws://{}/api/ws/worker", server.addr))
            .await
            .unwrap()
            .0
    }

    async fn hello(server: &TestServer, token: &str, known: Vec<AttemptId>) -> FakeWorker {
        let mut socket = Self::connect(server).await;
        let hello = WorkerMsg::Hello {
            protocol_version: PROTOCOL_VERSION,
            token: token.to_owned(),
            host_group: "fake".to_owned(),
            slots: 1,
            hostname: "test".to_owned(),
            known_attempts: known,
        };
        send(&mut socket, &hello).await;
        let mut worker = FakeWorker { socket };
        assert!(matches!(worker.recv().await, ServerMsg::Welcome { .. }));
        worker
    }

    async fn send(&mut self, msg: &WorkerMsg) {
        send(&mut self.socket, msg).await;
    }

    async fn recv(&mut self) -> ServerMsg {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(10), self.socket.next())
                .await
                .expect("a message in time");
            match msg.expect("open").expect("ok") {
                Message::Text(text) => return serde_json::from_str(&text).unwrap(),
                Message::Close(frame) => panic!("closed: {frame:?}"),
                _ => continue,
            }
        }
    }

    async fn dispatch(&mut self) -> AttemptSpec {
        match self.recv().await {
            ServerMsg::Dispatch(spec) => spec,
            other => panic!("expected a dispatch, got {other:?}"),
        }
    }
}

async fn send(socket: &mut Socket, msg: &WorkerMsg) {
    socket
        .send(Message::Text(serde_json::to_string(msg).unwrap().into()))
        .await
        .unwrap();
}

async fn close_reason(mut socket: Socket) -> (u16, String) {
    loop {
        match tokio::time::timeout(Duration::from_secs(15), socket.next())
            .await
            .expect("a close in time")
        {
            Some(Ok(Message::Close(Some(frame)))) => {
                return (u16::from(frame.code), frame.reason.to_string());
            }
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

async fn token(server: &TestServer, name: &str) -> String {
    let token = auth::random_secret(32);
    server
        .store
        .upsert_worker_token(name, &auth::hash_token(&token), Utc::now())
        .await
        .unwrap();
    token
}

async fn fake_job(server: &TestServer) -> i64 {
    let folder = server.folder("f").await;
    server
        .job(
            folder,
            "fake-job",
            "echo hi",
            json!({ "host_group": "fake" }),
        )
        .await
}

#[tokio::test]
async fn hello_is_checked_with_clear_close_reasons() {
    let server = TestServer::start(0).await;
    let good = token(&server, "w1").await;

    let mut socket = FakeWorker::connect(&server).await;
    let hello = json!({ "type": "hello", "protocol_version": 99, "token": good, "host_group": "g", "slots": 1, "hostname": "h" });
    socket
        .send(Message::Text(hello.to_string().into()))
        .await
        .unwrap();
    let (code, reason) = close_reason(socket).await;
    assert_eq!(code, 4001);
    assert!(
        reason.contains("version 99 is not supported") && reason.contains("version 1"),
        "{reason}"
    );

    let mut socket = FakeWorker::connect(&server).await;
    let hello = json!({ "type": "hello", "protocol_version": PROTOCOL_VERSION, "token": "nope", "host_group": "g", "slots": 1, "hostname": "h" });
    socket
        .send(Message::Text(hello.to_string().into()))
        .await
        .unwrap();
    assert_eq!(
        close_reason(socket).await,
        (4003, "unknown worker token".to_owned())
    );

    let mut socket = FakeWorker::connect(&server).await;
    socket
        .send(Message::Text("{\"type\":\"heartbeat\"".into()))
        .await
        .unwrap();
    assert_eq!(close_reason(socket).await.0, 4000);

    // After a good hello, garbage gets an error message and the connection stays usable.
    let mut worker = FakeWorker::hello(&server, &good, vec![]).await;
    worker
        .socket
        .send(Message::Text("not json".into()))
        .await
        .unwrap();
    assert!(
        matches!(worker.recv().await, ServerMsg::Error { message } if message.starts_with("malformed message"))
    );
    let finished = WorkerMsg::Finished {
        attempt: AttemptId(777),
        outcome: AttemptOutcome::Succeeded,
        exit_code: Some(0),
        at: Utc::now(),
    };
    worker.send(&finished).await;
    assert_eq!(
        worker.recv().await,
        ServerMsg::FinishedAck {
            attempt: AttemptId(777)
        }
    );
    worker
        .send(&WorkerMsg::Log {
            attempt: AttemptId(777),
            offset: 0,
            text: "x\n".to_owned(),
        })
        .await;
    assert!(matches!(worker.recv().await, ServerMsg::Error { .. }));
    server.stop().await;
}

#[tokio::test]
async fn reports_are_recorded_once_and_only_from_the_right_worker() {
    let server = TestServer::start(0).await;
    let mut worker = FakeWorker::hello(&server, &token(&server, "w1").await, vec![]).await;
    let mut intruder = FakeWorker::hello(&server, &token(&server, "w2").await, vec![]).await;
    let job = fake_job(&server).await;
    let (_, created) = server
        .post(&format!("/api/jobs/{job}/run"), json!({}))
        .await;
    let instance_id = created["id"].as_i64().unwrap();
    let spec = worker.dispatch().await;
    assert_eq!((spec.script.as_str(), spec.number), ("echo hi", 1));
    let attempt = spec.attempt;

    worker
        .send(&WorkerMsg::Started {
            attempt,
            at: Utc::now(),
        })
        .await;
    worker
        .send(&WorkerMsg::Log {
            attempt,
            offset: 0,
            text: "one\n".to_owned(),
        })
        .await;
    assert_eq!(
        worker.recv().await,
        ServerMsg::LogAck {
            attempt,
            next_offset: 4
        }
    );
    // A resend after a lost ack is stored once.
    worker
        .send(&WorkerMsg::Log {
            attempt,
            offset: 0,
            text: "one\n".to_owned(),
        })
        .await;
    assert_eq!(
        worker.recv().await,
        ServerMsg::LogAck {
            attempt,
            next_offset: 4
        }
    );
    worker
        .send(&WorkerMsg::Log {
            attempt,
            offset: 4,
            text: "two\n".to_owned(),
        })
        .await;
    assert_eq!(
        worker.recv().await,
        ServerMsg::LogAck {
            attempt,
            next_offset: 8
        }
    );

    // Another worker cannot write this attempt's log or finish it.
    intruder
        .send(&WorkerMsg::Log {
            attempt,
            offset: 8,
            text: "forged\n".to_owned(),
        })
        .await;
    assert!(matches!(intruder.recv().await, ServerMsg::Error { .. }));
    let forged = WorkerMsg::Finished {
        attempt,
        outcome: AttemptOutcome::Failed,
        exit_code: Some(1),
        at: Utc::now(),
    };
    intruder.send(&forged).await;
    assert_eq!(intruder.recv().await, ServerMsg::FinishedAck { attempt });
    let it: Instance = server
        .ok(Method::GET, &format!("/api/instances/{instance_id}"), None)
        .await;
    assert_eq!(it.state, InstanceState::Running);

    let done = WorkerMsg::Finished {
        attempt,
        outcome: AttemptOutcome::Succeeded,
        exit_code: Some(0),
        at: Utc::now(),
    };
    worker.send(&done).await;
    assert_eq!(worker.recv().await, ServerMsg::FinishedAck { attempt });
    // A late failure report for the same attempt is acknowledged and ignored.
    worker.send(&forged).await;
    assert_eq!(worker.recv().await, ServerMsg::FinishedAck { attempt });
    let it: Instance = server
        .ok(Method::GET, &format!("/api/instances/{instance_id}"), None)
        .await;
    assert_eq!(it.state, InstanceState::Success);
    assert_eq!(it.attempts.len(), 1);
    let (_, log) = server.get(&format!("/api/attempts/{attempt}/log")).await;
    assert_eq!(log["text"], "one\ntwo\n");
    assert_eq!(log["complete"], true);
    server.stop().await;
}

#[tokio::test]
async fn a_worker_that_reconnects_in_time_keeps_its_attempt_and_one_that_forgot_it_loses_it() {
    let server = TestServer::start(0).await;
    let token = token(&server, "w1").await;
    let mut worker = FakeWorker::hello(&server, &token, vec![]).await;
    let job = fake_job(&server).await;
    let (_, created) = server
        .post(&format!("/api/jobs/{job}/run"), json!({}))
        .await;
    let instance_id = created["id"].as_i64().unwrap();
    let attempt = worker.dispatch().await.attempt;
    worker
        .send(&WorkerMsg::Started {
            attempt,
            at: Utc::now(),
        })
        .await;
    drop(worker);

    // Back within the grace period, still running it: the attempt is adopted, not rerun.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut worker = FakeWorker::hello(&server, &token, vec![attempt]).await;
    let done = WorkerMsg::Finished {
        attempt,
        outcome: AttemptOutcome::Succeeded,
        exit_code: Some(0),
        at: Utc::now(),
    };
    worker.send(&done).await;
    assert_eq!(worker.recv().await, ServerMsg::FinishedAck { attempt });
    let it: Instance = server
        .ok(Method::GET, &format!("/api/instances/{instance_id}"), None)
        .await;
    assert_eq!((it.state, it.attempts.len()), (InstanceState::Success, 1));

    // A run whose worker comes back without knowing it: lost, and retried as attempt 2.
    // (Manual runs within one second name the same instance, so wait for the next second.)
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (_, created) = server
        .post(&format!("/api/jobs/{job}/run"), json!({}))
        .await;
    let second = created["id"].as_i64().unwrap();
    let lost = loop {
        match worker.recv().await {
            ServerMsg::Dispatch(spec) => break spec.attempt,
            _ => continue,
        }
    };
    drop(worker);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut worker = FakeWorker::hello(&server, &token, vec![]).await;
    let retry = worker.dispatch().await;
    let it: Instance = server
        .ok(Method::GET, &format!("/api/instances/{second}"), None)
        .await;
    assert_eq!(retry.number, 2, "{it:#?}");
    let it: Instance = server
        .ok(Method::GET, &format!("/api/instances/{second}"), None)
        .await;
    assert_eq!(it.attempts[0].id, lost);
    assert_eq!(it.attempts[0].state, AttemptState::Lost);
    server.stop().await;
}

#[tokio::test]
async fn a_browser_tails_a_live_log_and_sees_events() {
    let server = TestServer::start(1).await;
    let folder = server.folder("f").await;
    let script = "echo first; sleep 1; echo second; sleep 1; echo third";
    let job = server.job(folder, "tail", script, json!({})).await;
    let auth = format!("access_token={}", server.token);
    let (mut events, _) = connect_async(format!("ws://{}/api/ws/events?{auth}", server.addr))
        .await
        .unwrap();
    let (_, created) = server
        .post(&format!("/api/jobs/{job}/run"), json!({}))
        .await;
    let instance_id = created["id"].as_i64().unwrap();
    // The first attempt id comes from the events stream.
    let attempt = loop {
        let Some(Ok(Message::Text(text))) = events.next().await else {
            panic!("events closed")
        };
        if let Event::Attempt { id, .. } = serde_json::from_str::<Event>(&text).unwrap() {
            break id;
        }
    };
    let (mut tail, _) = connect_async(format!(
        "ws://{}/api/ws/attempts/{attempt}/log?offset=0&{auth}",
        server.addr
    ))
    .await
    .unwrap();
    let mut text = String::new();
    let mut saw_first_before_end = false;
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(15), tail.next())
            .await
            .unwrap();
        let Some(Ok(Message::Text(frame))) = msg else {
            break;
        };
        match serde_json::from_str::<LogMessage>(&frame).unwrap() {
            LogMessage::Chunk {
                offset,
                text: chunk,
            } => {
                assert_eq!(
                    offset,
                    text.len() as u64,
                    "chunks arrive in order without gaps"
                );
                text.push_str(&chunk);
                if text.contains("] first") && !text.contains("] third") {
                    saw_first_before_end = true;
                }
            }
            LogMessage::Complete { next_offset } => {
                assert_eq!(next_offset, text.len() as u64);
                break;
            }
        }
    }
    assert!(
        saw_first_before_end,
        "lines arrived live, before the attempt ended"
    );
    assert!(
        text.contains("] second\n")
            && text.contains("] third\n")
            && text.contains("hera: exit code 0"),
        "{text}"
    );
    let it = server.wait_terminal(instance_id).await;
    assert_eq!(it.state, InstanceState::Success);

    // Without a token, or from a foreign origin, the sockets are refused.
    let no_token = connect_async(format!("ws://{}/api/ws/events", server.addr)).await;
    assert!(no_token.is_err());
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(format!(
            "ws://{}/api/ws/events?{auth}",
            server.addr
        ))
        .unwrap();
    request
        .headers_mut()
        .insert("origin", "http://evil.example".parse().unwrap());
    assert!(connect_async(request).await.is_err());
    server.stop().await;
}
