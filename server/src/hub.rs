//! The WebSocket hub for workers at `/api/ws/worker`: hello (protocol version + worker token),
//! heartbeats, dispatch, log chunks (stored, acknowledged, fanned out), results (acknowledged once
//! persisted; duplicates and late reports acknowledged and ignored by the engine).
//!
//! Each connection has a reader (this handler) and a writer task fed by a bounded channel; the
//! registry maps a worker to the sender of its current connection.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use app::{
    api::{LOAD_HISTORY_LEN, LoadSample, WorkerLoad},
    engine::Input,
    ids::{AttemptId, WorkerId},
    protocol::{
        CLOSE_BAD_HELLO, CLOSE_BAD_TOKEN, CLOSE_BAD_VERSION, CLOSE_REPLACED, PROTOCOL_VERSION,
        ServerMsg, WorkerMsg,
    },
};
use axum::{
    extract::{
        State, WebSocketUpgrade,
        ws::{CloseFrame, Message, WebSocket},
    },
    response::Response,
};
use chrono::{DateTime, Utc};
use futures_util::{SinkExt as _, StreamExt as _, stream::SplitSink};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::{
    AppState,
    auth::hash_token,
    store::{LogChunkWrite, StoreError},
};

/// How often workers send heartbeats.
pub const HEARTBEAT_SECS: u32 = 5;
/// A connection silent for this long is closed (and the worker's grace period starts).
const SILENCE_LIMIT: Duration = Duration::from_secs(HEARTBEAT_SECS as u64 * 4);

/// What the hub knows about a connected worker.
#[derive(Clone, Debug)]
pub struct WorkerInfo {
    /// Host group.
    pub host_group: String,
    /// Slots.
    pub slots: u32,
    /// Host name.
    pub hostname: String,
    /// Last message time.
    pub last_seen: DateTime<Utc>,
    /// Last reported load.
    pub load: Option<WorkerLoad>,
    /// The last [`LOAD_HISTORY_LEN`] heartbeats' load, oldest first.
    pub history: VecDeque<LoadSample>,
}

struct Connection {
    id: u64,
    tx: mpsc::Sender<ServerMsg>,
    replaced: CancellationToken,
    info: WorkerInfo,
}

/// The registry of connected workers. Cheap to clone.
#[derive(Clone, Default)]
pub struct Hub {
    /// A std mutex: never held across an await.
    connections: Arc<Mutex<HashMap<WorkerId, Connection>>>,
    next_id: Arc<AtomicU64>,
}

impl Hub {
    /// Queues a message for a worker. False if the worker is not connected or its queue is full
    /// (a worker that does not read is treated as gone).
    pub fn send(&self, worker: WorkerId, msg: ServerMsg) -> bool {
        let connections = self.connections.lock().expect("hub lock poisoned");
        connections
            .get(&worker)
            .is_some_and(|conn| conn.tx.try_send(msg).is_ok())
    }

    /// Connected workers and what they reported.
    pub fn connected(&self) -> HashMap<WorkerId, WorkerInfo> {
        let connections = self.connections.lock().expect("hub lock poisoned");
        connections
            .iter()
            .map(|(id, conn)| (*id, conn.info.clone()))
            .collect()
    }

    fn register(
        &self,
        worker: WorkerId,
        tx: mpsc::Sender<ServerMsg>,
        info: WorkerInfo,
    ) -> (u64, CancellationToken) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let replaced = CancellationToken::new();
        let conn = Connection {
            id,
            tx,
            replaced: replaced.clone(),
            info,
        };
        let mut connections = self.connections.lock().expect("hub lock poisoned");
        if let Some(old) = connections.insert(worker, conn) {
            old.replaced.cancel();
        }
        (id, replaced)
    }

    /// Removes the registration if it is still this connection's. True if it was.
    fn unregister(&self, worker: WorkerId, conn_id: u64) -> bool {
        let mut connections = self.connections.lock().expect("hub lock poisoned");
        if connections
            .get(&worker)
            .is_some_and(|conn| conn.id == conn_id)
        {
            connections.remove(&worker);
            return true;
        }
        false
    }

    fn touch(&self, worker: WorkerId, load: Option<WorkerLoad>) {
        let mut connections = self.connections.lock().expect("hub lock poisoned");
        if let Some(conn) = connections.get_mut(&worker) {
            let now = Utc::now();
            conn.info.last_seen = now;
            if let Some(load) = load {
                let history = &mut conn.info.history;
                if history.len() == LOAD_HISTORY_LEN {
                    history.pop_front();
                }
                history.push_back(LoadSample {
                    at: now,
                    cpu_percent: load.cpu_percent,
                    memory_percent: load.memory_percent(),
                    load_one: load.load_one,
                });
                conn.info.load = Some(load);
            }
        }
    }
}

/// `GET /api/ws/worker`: upgrades and serves one worker connection.
pub async fn worker_socket(State(state): State<AppState>, upgrade: WebSocketUpgrade) -> Response {
    upgrade
        .max_message_size(8 << 20)
        .on_upgrade(move |socket| serve_worker(state, socket))
}

async fn close(sink: &mut SplitSink<WebSocket, Message>, code: u16, reason: &str) {
    tracing::warn!(code, reason, "closing worker connection");
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = sink.send(Message::Close(Some(frame))).await;
}

async fn serve_worker(state: AppState, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let first = tokio::time::timeout(Duration::from_secs(10), stream.next()).await;
    let hello = match first {
        Ok(Some(Ok(Message::Text(text)))) => serde_json::from_str::<WorkerMsg>(&text),
        _ => return close(&mut sink, CLOSE_BAD_HELLO, "expected a hello message first").await,
    };
    let Ok(WorkerMsg::Hello {
        protocol_version,
        token,
        host_group,
        slots,
        hostname,
        known_attempts,
    }) = hello
    else {
        return close(
            &mut sink,
            CLOSE_BAD_HELLO,
            "the first message must be a valid hello",
        )
        .await;
    };
    if protocol_version != PROTOCOL_VERSION {
        let reason = format!(
            "worker protocol version {protocol_version} is not supported; this server speaks version {PROTOCOL_VERSION}"
        );
        return close(&mut sink, CLOSE_BAD_VERSION, &reason).await;
    }
    let (worker, name) = match state.store.worker_by_token(&hash_token(&token)).await {
        Ok(found) => found,
        Err(StoreError::NotFound) => {
            return close(&mut sink, CLOSE_BAD_TOKEN, "unknown worker token").await;
        }
        Err(err) => {
            tracing::error!(error = %err, "cannot check a worker token");
            return close(&mut sink, 1011, "server error while checking the token").await;
        }
    };
    let slots = slots.clamp(1, 1024);
    let (tx, mut rx) = mpsc::channel::<ServerMsg>(4096);
    let info = WorkerInfo {
        host_group: host_group.clone(),
        slots,
        hostname,
        last_seen: Utc::now(),
        load: None,
        history: VecDeque::new(),
    };
    let (conn_id, replaced) = state.hub.register(worker, tx.clone(), info);
    tracing::info!(worker = %worker, %name, %host_group, slots, "worker connected");
    let welcome = ServerMsg::Welcome {
        worker_id: worker,
        name,
        heartbeat_secs: HEARTBEAT_SECS,
    };
    let _ = tx.try_send(welcome);
    state.live.publish(app::api::Event::Worker {
        id: worker,
        connected: true,
    });
    let connected = Input::WorkerConnected {
        worker,
        host_group,
        slots,
        known_attempts,
    };
    let _ = state.scheduler.call(connected).await;
    if state
        .store
        .draining_workers()
        .await
        .is_ok_and(|ids| ids.contains(&worker))
    {
        let draining = Input::WorkerDraining {
            worker,
            draining: true,
        };
        let _ = state.scheduler.call(draining).await;
    }

    // The attempts this connection dispatched and has not acknowledged the result of: the
    // writer adds each before sending it, so the reader can trust a worker's report on them
    // without asking the store (attempts from before a reconnect are still checked there).
    let owned: Arc<std::sync::Mutex<HashSet<AttemptId>>> = Arc::default();
    let writer = tokio::spawn({
        let replaced = replaced.clone();
        let owned = owned.clone();
        async move {
            loop {
                tokio::select! {
                    () = replaced.cancelled() => {
                        close(&mut sink, CLOSE_REPLACED, "another connection with this token took over").await;
                        break;
                    }
                    msg = rx.recv() => {
                        let Some(msg) = msg else { break };
                        // What else is queued goes in the same write (a burst of dispatches).
                        let mut batch = vec![msg];
                        while batch.len() < WRITE_BATCH {
                            match rx.try_recv() {
                                Ok(msg) => batch.push(msg),
                                Err(_) => break,
                            }
                        }
                        if write_batch(&mut sink, &owned, batch).await.is_err() {
                            break;
                        }
                    }
                }
            }
        }
    });

    let (reports, reports_rx) = mpsc::channel::<Report>(4096);
    let recorder = tokio::spawn(record(state.clone(), reports_rx, tx.clone()));
    loop {
        let next = tokio::select! {
            () = replaced.cancelled() => break,
            () = state.shutdown.cancelled() => break,
            next = tokio::time::timeout(SILENCE_LIMIT, stream.next()) => next,
        };
        let msg = match next {
            Err(_) => {
                tracing::warn!(worker = %worker, "worker silent for too long; closing");
                break;
            }
            Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => break,
            Ok(Some(Ok(Message::Text(text)))) => text,
            Ok(Some(Ok(Message::Binary(_)))) => {
                let _ = tx.try_send(ServerMsg::Error {
                    message: "binary frames are not part of the protocol".to_owned(),
                });
                continue;
            }
            Ok(Some(Ok(_))) => continue,
        };
        state.hub.touch(worker, None);
        let msg = match serde_json::from_str::<WorkerMsg>(&msg) {
            Ok(msg) => msg,
            Err(err) => {
                let _ = tx.try_send(ServerMsg::Error {
                    message: format!("malformed message: {err}"),
                });
                continue;
            }
        };
        if let Some(reply) = handle_message(&state, worker, &owned, msg, &reports).await
            && tx.send(reply).await.is_err()
        {
            break;
        }
    }
    // What was read is still recorded (logs stored, results persisted) before the writer stops.
    drop(reports);
    let _ = recorder.await;
    writer.abort();
    if state.hub.unregister(worker, conn_id) {
        tracing::info!(worker = %worker, "worker disconnected");
        state.live.publish(app::api::Event::Worker {
            id: worker,
            connected: false,
        });
        state
            .scheduler
            .notify(Input::WorkerDisconnected { worker })
            .await;
    }
}

/// Checks that an attempt was given to this worker (a worker cannot report for another's).
async fn owns(
    state: &AppState,
    worker: WorkerId,
    owned: &std::sync::Mutex<HashSet<AttemptId>>,
    attempt: AttemptId,
) -> bool {
    if owned
        .lock()
        .expect("owned lock poisoned")
        .contains(&attempt)
    {
        return true;
    }
    match state.store.attempt_owner(attempt).await {
        Ok((owner, _)) if owner == worker => {
            owned.lock().expect("owned lock poisoned").insert(attempt);
            true
        }
        _ => false,
    }
}

/// The most messages written to a worker together.
const WRITE_BATCH: usize = 256;

/// Writes `batch` to a worker with one flush, keeping `owned` in step: a dispatched attempt is
/// added before it is sent, an acknowledged result removes it.
async fn write_batch<S>(
    sink: &mut S,
    owned: &std::sync::Mutex<HashSet<AttemptId>>,
    batch: Vec<ServerMsg>,
) -> Result<(), S::Error>
where
    S: futures_util::Sink<Message> + Unpin,
{
    {
        let mut owned = owned.lock().expect("owned lock poisoned");
        for msg in &batch {
            match msg {
                ServerMsg::Dispatch(spec) => {
                    owned.insert(spec.attempt);
                }
                ServerMsg::FinishedAck { attempt } => {
                    owned.remove(attempt);
                }
                _ => {}
            }
        }
    }
    for msg in batch {
        let text = serde_json::to_string(&msg).expect("protocol messages serialise");
        sink.feed(Message::Text(text.into())).await?;
    }
    sink.flush().await
}

async fn handle_message(
    state: &AppState,
    worker: WorkerId,
    owned: &std::sync::Mutex<HashSet<AttemptId>>,
    msg: WorkerMsg,
    reports: &mpsc::Sender<Report>,
) -> Option<ServerMsg> {
    match msg {
        WorkerMsg::Hello { .. } => Some(ServerMsg::Error {
            message: "hello was already received".to_owned(),
        }),
        WorkerMsg::Heartbeat { load } => {
            let input = Input::WorkerLoad {
                worker,
                memory_percent: load.memory_percent(),
                load_per_core: (load.cores > 0).then(|| load.load_one / f64::from(load.cores)),
            };
            state.hub.touch(worker, Some(load));
            // The limits are the engine's to apply; the reader does not wait for it.
            let scheduler = state.scheduler.clone();
            tokio::spawn(async move {
                let _ = scheduler.call(input).await;
            });
            None
        }
        WorkerMsg::Started { attempt, at } => {
            let input = Input::AttemptStarted {
                worker,
                attempt,
                at,
            };
            let _ = reports.send(Report::Started(Box::new(input))).await;
            None
        }
        WorkerMsg::Log {
            attempt,
            offset,
            text,
        } => {
            if !owns(state, worker, owned, attempt).await {
                return Some(ServerMsg::Error {
                    message: format!("attempt {attempt} is not yours"),
                });
            }
            let chunk = LogChunkWrite {
                attempt,
                offset,
                text,
            };
            let _ = reports.send(Report::Log(chunk)).await;
            None
        }
        WorkerMsg::Finished {
            attempt,
            outcome,
            exit_code,
            at,
        } => {
            if !owns(state, worker, owned, attempt).await {
                // Unknown or not this worker's: acknowledge so the worker drops it; nothing changes.
                return Some(ServerMsg::FinishedAck { attempt });
            }
            let input = Input::AttemptFinished {
                worker,
                attempt,
                outcome,
                exit_code,
                at,
            };
            let _ = reports
                .send(Report::Finished(Box::new(input), attempt))
                .await;
            None
        }
    }
}

/// What the recorder of a connection stores, in the order the worker sent it.
enum Report {
    /// An attempt's start.
    Started(Box<Input>),
    /// A log chunk.
    Log(LogChunkWrite),
    /// A result.
    Finished(Box<Input>, AttemptId),
}

/// The most reports stored together.
const RECORD_BATCH: usize = 512;

/// Stores a connection's log chunks and hands its starts and results to the scheduler, batching
/// what has arrived meanwhile: the chunks of a batch go into one transaction (then are
/// acknowledged and fanned out to browsers), and the batch's starts and results go to the
/// scheduler after that, in order, so a finished attempt's log is complete and a short attempt's
/// start and end (which the worker sends together) are one scheduler step. Results are
/// acknowledged once persisted.
async fn record(state: AppState, mut reports: mpsc::Receiver<Report>, tx: mpsc::Sender<ServerMsg>) {
    let mut batch = Vec::new();
    let mut chunks = Vec::new();
    while let Some(first) = reports.recv().await {
        batch.push(first);
        while batch.len() < RECORD_BATCH {
            match reports.try_recv() {
                Ok(report) => batch.push(report),
                Err(_) => break,
            }
        }
        let mut steps = Vec::new();
        for report in batch.drain(..) {
            match report {
                Report::Log(chunk) => chunks.push(chunk),
                step => steps.push(step),
            }
        }
        store_chunks(&state, &mut chunks, &tx).await;
        for step in steps {
            match step {
                Report::Log(_) => {}
                Report::Started(input) => state.scheduler.notify(*input).await,
                Report::Finished(input, attempt) => {
                    let (scheduler, tx) = (state.scheduler.clone(), tx.clone());
                    tokio::spawn(async move {
                        match scheduler.call(*input).await {
                            // Acknowledged only once persisted (or known to be a duplicate).
                            Ok(_) | Err(crate::scheduler::CallError::Refused(_)) => {
                                let _ = tx.send(ServerMsg::FinishedAck { attempt }).await;
                            }
                            Err(crate::scheduler::CallError::Stopped) => {}
                        }
                    });
                }
            }
        }
    }
}

async fn store_chunks(
    state: &AppState,
    chunks: &mut Vec<LogChunkWrite>,
    tx: &mpsc::Sender<ServerMsg>,
) {
    if chunks.is_empty() {
        return;
    }
    let mut stored = state.store.append_logs(chunks, Utc::now()).await;
    for backoff in [50, 200, 1000] {
        if stored.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(backoff)).await;
        stored = state.store.append_logs(chunks, Utc::now()).await;
    }
    match stored {
        Ok(ends) => {
            for (chunk, next_offset) in chunks.iter().zip(ends) {
                state
                    .live
                    .publish_log(chunk.attempt, chunk.offset, &chunk.text);
                let ack = ServerMsg::LogAck {
                    attempt: chunk.attempt,
                    next_offset,
                };
                let _ = tx.send(ack).await;
            }
        }
        // No ack: the worker keeps the chunks and sends them again.
        Err(err) => tracing::error!(error = %err, "cannot store log chunks"),
    }
    chunks.clear();
}
