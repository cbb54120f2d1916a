//! The worker's session loop: connect, hello, replay the outbox, then serve dispatches and cancel
//! requests while forwarding runner events, heartbeats and log chunks. On a dropped connection it
//! reconnects with exponential backoff (1 s to 30 s) while attempts keep running and their output
//! accumulates in the outbox. A refused version or token stops the worker with the server's reason.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use anyhow::{Context as _, bail};
use app::{
    api::WorkerLoad,
    ids::AttemptId,
    protocol::{CLOSE_BAD_TOKEN, CLOSE_BAD_VERSION, PROTOCOL_VERSION, ServerMsg, WorkerMsg},
};
use chrono::{DateTime, Utc};
use futures_util::{SinkExt as _, StreamExt as _};
use sysinfo::System;
use tokio::{net::TcpStream, sync::mpsc};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async_with_config, tungstenite::Message,
};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::{
    WorkerConfig,
    cgroup::Cgroups,
    fetch::Fetcher,
    outbox::Outbox,
    runner::{RunSettings, RunnerEvent, Stop, run_attempt},
};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How a session ended.
enum SessionEnd {
    /// The connection dropped: reconnect.
    Dropped(String),
    /// Shutdown was requested.
    Shutdown,
}

struct Worker {
    config: WorkerConfig,
    outbox: Outbox,
    running: HashMap<AttemptId, Stop>,
    /// Per running attempt: the texts its log must not show (secrets, raw and URL-encoded).
    masks: HashMap<AttemptId, Vec<String>>,
    /// Starts not reported yet: they go with the next flush (within 100 ms), or just before
    /// the attempt's result if it ends first, so a short attempt's start and end reach the
    /// server together and cost it one write instead of two.
    unsent_starts: Vec<(AttemptId, DateTime<Utc>)>,
    tracker: TaskTracker,
    events_tx: mpsc::Sender<RunnerEvent>,
    system: System,
    heartbeat: Duration,
    /// Fetches attempts' files.
    fetcher: Fetcher,
    /// When old work directories were last swept away.
    last_sweep: Option<std::time::Instant>,
    /// Where attempts get their cgroups, if this host gives the worker a cgroup v2 tree.
    cgroups: Option<Cgroups>,
}

/// The WebSocket URL of the worker endpoint for a server base URL.
pub fn socket_url(server: &str) -> anyhow::Result<url::Url> {
    let mut url = url::Url::parse(server).with_context(|| format!("bad server URL `{server}`"))?;
    let scheme = match url.scheme() {
        "http" | "ws" => "ws",
        "https" | "wss" => "wss",
        other => bail!("unsupported scheme `{other}` in server URL `{server}`"),
    };
    url.set_scheme(scheme)
        .map_err(|()| anyhow::anyhow!("cannot use `{server}`"))?;
    url.set_path("/api/ws/worker");
    Ok(url)
}

/// Runs the worker until `shutdown`; on shutdown running attempts are cancelled (their process
/// groups killed) and their results are sent if the server is reachable.
pub async fn run(config: WorkerConfig, shutdown: CancellationToken) -> anyhow::Result<()> {
    let url = socket_url(&config.server)?;
    std::fs::create_dir_all(&config.work_dir).with_context(|| {
        format!(
            "cannot create the work directory {}",
            config.work_dir.display()
        )
    })?;
    // Scripts are run by absolute path from inside their work directory.
    let mut config = config;
    config.work_dir = std::fs::canonicalize(&config.work_dir)?;
    let (events_tx, mut events_rx) = mpsc::channel(4096);
    let mut http_base = url.clone();
    http_base
        .set_scheme(if url.scheme() == "wss" {
            "https"
        } else {
            "http"
        })
        .map_err(|()| anyhow::anyhow!("cannot use `{}`", config.server))?;
    http_base.set_path("");
    let fetcher = Fetcher {
        server: http_base.as_str().trim_end_matches('/').to_owned(),
        token: config.token.clone(),
        cache: config.work_dir.join("cache"),
        command: config.tools.fetch.clone(),
        client: reqwest::Client::new(),
    };
    let detected = if config.tools.cgroups {
        Cgroups::detect()
    } else {
        Err("turned off (--no-cgroups)".to_owned())
    };
    let cgroups = match detected {
        Ok(cgroups) => {
            tracing::info!(cgroup = %cgroups.base().display(), "attempts run in cgroups");
            Some(cgroups)
        }
        Err(why) => {
            tracing::info!(%why, "attempts run without cgroups (process group and token scan)");
            None
        }
    };
    let mut worker = Worker {
        fetcher,
        cgroups,
        last_sweep: None,
        config,
        outbox: Outbox::default(),
        running: HashMap::new(),
        masks: HashMap::new(),
        unsent_starts: Vec::new(),
        tracker: TaskTracker::new(),
        events_tx,
        system: System::new(),
        heartbeat: Duration::from_secs(5),
    };
    let mut backoff = Duration::from_secs(1);
    let mut cut_off_since = Instant::now();
    loop {
        if shutdown.is_cancelled() {
            break;
        }
        let connected = tokio::time::timeout(
            Duration::from_secs(10),
            // TCP_NODELAY: results and log chunks go out at once, not after a delayed ACK.
            connect_async_with_config(url.as_str(), None, true),
        )
        .await;
        match connected {
            Err(_) => tracing::warn!(server = %url, "timed out connecting to the server"),
            Ok(Err(err)) => tracing::warn!(error = %err, server = %url, "cannot reach the server"),
            Ok(Ok((socket, _))) => match worker.session(socket, &mut events_rx, &shutdown).await? {
                SessionEnd::Shutdown => break,
                SessionEnd::Dropped(reason) => {
                    tracing::warn!(%reason, "connection to the server lost; reconnecting");
                    backoff = Duration::from_secs(1);
                    cut_off_since = Instant::now();
                }
            },
        }
        // Keep absorbing runner output while disconnected so running attempts never block, and
        // fence: past `fence_after` without the server, stop the attempts.
        let sleep = tokio::time::sleep(backoff);
        tokio::pin!(sleep);
        let fence_at = tokio::time::Instant::from_std(cut_off_since + worker.config.fence_after);
        loop {
            let must_fence = !worker.running.values().all(Stop::is_requested);
            tokio::select! {
                () = &mut sleep => break,
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep_until(fence_at), if must_fence => {
                    tracing::warn!(
                        attempts = worker.running.len(),
                        "cut off from the server for {:?}: stopping running attempts",
                        worker.config.fence_after
                    );
                    for stop in worker.running.values() {
                        stop.request("the worker was cut off from the server");
                    }
                }
                event = events_rx.recv() => {
                    if let Some(event) = event {
                        worker.absorb(event);
                    }
                }
            }
        }
        backoff = (backoff * 2).min(Duration::from_secs(30));
    }
    let cgroups = worker.cgroups.clone();
    worker.stop(&mut events_rx).await;
    if let Some(cgroups) = cgroups {
        cgroups.remove();
    }
    Ok(())
}

impl Worker {
    async fn session(
        &mut self,
        mut socket: Socket,
        events_rx: &mut mpsc::Receiver<RunnerEvent>,
        shutdown: &CancellationToken,
    ) -> anyhow::Result<SessionEnd> {
        let mut known: Vec<AttemptId> = self.running.keys().copied().collect();
        known.extend(self.outbox.attempts());
        known.sort();
        known.dedup();
        let hello = WorkerMsg::Hello {
            protocol_version: PROTOCOL_VERSION,
            token: self.config.token.clone(),
            host_group: self.config.host_group.clone(),
            slots: self.config.slots,
            hostname: System::host_name().unwrap_or_default(),
            known_attempts: known,
        };
        if let Err(err) = send(&mut socket, &hello).await {
            return Ok(SessionEnd::Dropped(err.to_string()));
        }
        // The first answer is a welcome or a close frame with the reason.
        match tokio::time::timeout(Duration::from_secs(15), socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => match serde_json::from_str::<ServerMsg>(&text) {
                Ok(ServerMsg::Welcome {
                    worker_id,
                    name,
                    heartbeat_secs,
                }) => {
                    tracing::info!(%worker_id, %name, "connected to the server");
                    self.heartbeat = Duration::from_secs(u64::from(heartbeat_secs.max(1)));
                }
                other => {
                    return Ok(SessionEnd::Dropped(format!(
                        "unexpected first message: {other:?}"
                    )));
                }
            },
            Ok(Some(Ok(Message::Close(Some(frame))))) => {
                let code = u16::from(frame.code);
                if code == CLOSE_BAD_TOKEN || code == CLOSE_BAD_VERSION {
                    bail!("the server refused this worker: {}", frame.reason);
                }
                return Ok(SessionEnd::Dropped(format!(
                    "closed by the server: {}",
                    frame.reason
                )));
            }
            other => {
                return Ok(SessionEnd::Dropped(format!(
                    "no welcome from the server: {other:?}"
                )));
            }
        }
        let replay = self.outbox.replay();
        if let Err(err) = send_all(&mut socket, &replay).await {
            return Ok(SessionEnd::Dropped(err.to_string()));
        }
        let mut heartbeat = tokio::time::interval(self.heartbeat);
        let mut flush = tokio::time::interval(Duration::from_millis(100));
        loop {
            let outgoing: Vec<WorkerMsg> = tokio::select! {
                () = shutdown.cancelled() => {
                    let _ = socket.close(None).await;
                    return Ok(SessionEnd::Shutdown);
                }
                incoming = socket.next() => match incoming {
                    Some(Ok(Message::Text(text))) => match serde_json::from_str::<ServerMsg>(&text) {
                        Ok(msg) => self.handle(msg),
                        Err(err) => {
                            tracing::warn!(error = %err, "malformed message from the server");
                            Vec::new()
                        }
                    },
                    Some(Ok(Message::Close(frame))) => {
                        let reason = frame.map(|f| f.reason.to_string()).unwrap_or_default();
                        return Ok(SessionEnd::Dropped(format!("closed by the server: {reason}")));
                    }
                    Some(Ok(_)) => Vec::new(),
                    Some(Err(err)) => return Ok(SessionEnd::Dropped(err.to_string())),
                    None => return Ok(SessionEnd::Dropped("connection closed".to_owned())),
                },
                event = events_rx.recv() => match event {
                    Some(event) => self.absorb(event),
                    None => Vec::new(),
                },
                _ = heartbeat.tick() => {
                    self.sweep();
                    vec![WorkerMsg::Heartbeat { load: self.load() }]
                }
                _ = flush.tick() => {
                    let mut due = self.report_starts();
                    due.extend(self.outbox.flush_all());
                    due
                }
            };
            // What the attempts reported meanwhile goes in the same write: under load a result,
            // the log before it and the next attempt's start share one system call, and the
            // server reads them together.
            let mut outgoing = outgoing;
            while outgoing.len() < SEND_BATCH {
                match events_rx.try_recv() {
                    Ok(event) => outgoing.extend(self.absorb(event)),
                    Err(_) => break,
                }
            }
            if let Err(err) = send_all(&mut socket, &outgoing).await {
                return Ok(SessionEnd::Dropped(err.to_string()));
            }
        }
    }

    fn handle(&mut self, msg: ServerMsg) -> Vec<WorkerMsg> {
        match msg {
            ServerMsg::Dispatch(spec) => {
                let attempt = spec.attempt;
                if self.running.contains_key(&attempt) {
                    return Vec::new();
                }
                tracing::info!(%attempt, job = %spec.job_id, "running attempt");
                let stop = Stop::default();
                self.running.insert(attempt, stop.clone());
                if !spec.masks.is_empty() {
                    self.masks.insert(attempt, masks_of(&spec.masks));
                }
                let settings = RunSettings {
                    root: self.config.work_dir.clone(),
                    kill_grace: self.config.kill_grace,
                    yarn_kill: self.config.yarn_kill_command.clone(),
                    tools: self.config.tools.clone(),
                    fetcher: self.fetcher.clone(),
                    cgroups: self.cgroups.clone(),
                };
                self.tracker
                    .spawn(run_attempt(spec, settings, self.events_tx.clone(), stop));
            }
            ServerMsg::Cancel { attempt, reason } => {
                if let Some(stop) = self.running.get(&attempt) {
                    tracing::info!(%attempt, %reason, "cancelling attempt");
                    stop.request(&reason);
                }
            }
            ServerMsg::LogAck {
                attempt,
                next_offset,
            } => self.outbox.ack_log(attempt, next_offset),
            ServerMsg::FinishedAck { attempt } => self.outbox.ack_finished(attempt),
            ServerMsg::Error { message } => {
                tracing::warn!(%message, "the server reported an error")
            }
            ServerMsg::Welcome { .. } => {}
        }
        Vec::new()
    }

    /// Turns a runner event into messages to send now (the outbox keeps them until acknowledged).
    fn absorb(&mut self, event: RunnerEvent) -> Vec<WorkerMsg> {
        match event {
            RunnerEvent::Started { attempt, at } => {
                self.unsent_starts.push((attempt, at));
                Vec::new()
            }
            RunnerEvent::Log { attempt, text } => match self.masks.get(&attempt) {
                Some(masks) => self.outbox.push_log(attempt, &mask(&text, masks)),
                None => self.outbox.push_log(attempt, &text),
            },
            RunnerEvent::Finished {
                attempt,
                outcome,
                exit_code,
                at,
            } => {
                self.running.remove(&attempt);
                self.masks.remove(&attempt);
                let mut out = Vec::new();
                if let Some(i) = self.unsent_starts.iter().position(|s| s.0 == attempt) {
                    let (attempt, at) = self.unsent_starts.remove(i);
                    out.push(WorkerMsg::Started { attempt, at });
                }
                let msg = WorkerMsg::Finished {
                    attempt,
                    outcome,
                    exit_code,
                    at,
                };
                out.extend(self.outbox.push_finished(attempt, msg));
                out
            }
        }
    }

    /// The starts held back since the last flush.
    fn report_starts(&mut self) -> Vec<WorkerMsg> {
        self.unsent_starts
            .drain(..)
            .map(|(attempt, at)| WorkerMsg::Started { attempt, at })
            .collect()
    }

    fn load(&mut self) -> WorkerLoad {
        self.system.refresh_cpu_usage();
        self.system.refresh_memory();
        WorkerLoad {
            cpu_percent: self.system.global_cpu_usage(),
            memory_used: self.system.used_memory(),
            memory_total: self.system.total_memory(),
            load_one: System::load_average().one,
            cores: self.system.cpus().len() as u32,
        }
    }

    /// At most hourly, removes the work directories kept longer than the retention (in the
    /// background).
    fn sweep(&mut self) {
        if self
            .last_sweep
            .is_some_and(|at| at.elapsed() < Duration::from_secs(3600))
        {
            return;
        }
        self.last_sweep = Some(std::time::Instant::now());
        let root = self.config.work_dir.clone();
        let keep = Duration::from_secs(u64::from(self.config.tools.keep_work_days) * 86_400);
        let running = self.running.keys().copied().collect();
        tokio::task::spawn_blocking(move || {
            let removed = crate::runner::sweep_work_dirs(&root, keep, &running);
            if removed > 0 {
                tracing::info!(removed, "removed old work directories");
            }
        });
    }

    /// Cancels every running attempt and waits for their processes to end.
    async fn stop(mut self, events_rx: &mut mpsc::Receiver<RunnerEvent>) {
        for stop in self.running.values() {
            stop.request("the worker is shutting down");
        }
        self.tracker.close();
        let tracker = self.tracker.clone();
        let wait = tracker.wait();
        tokio::pin!(wait);
        loop {
            tokio::select! {
                () = &mut wait => break,
                event = events_rx.recv() => {
                    if let Some(event) = event {
                        self.absorb(event);
                    }
                }
            }
        }
        tracing::info!("worker stopped");
    }
}

async fn send(
    socket: &mut Socket,
    msg: &WorkerMsg,
) -> Result<(), tokio_tungstenite::tungstenite::Error> {
    send_all(socket, std::slice::from_ref(msg)).await
}

/// The most messages written together.
const SEND_BATCH: usize = 256;

/// Writes `msgs` as one frame each and flushes once.
async fn send_all(
    socket: &mut Socket,
    msgs: &[WorkerMsg],
) -> Result<(), tokio_tungstenite::tungstenite::Error> {
    if msgs.is_empty() {
        return Ok(());
    }
    for msg in msgs {
        let text = serde_json::to_string(msg).expect("protocol messages serialise");
        socket.feed(Message::Text(text.into())).await?;
    }
    socket.flush().await
}

/// What a log shows instead of a secret.
const MASK: &str = "******";

/// The texts to hide for these secret values: each raw and URL-encoded, longest first (so a
/// value that contains another is hidden whole).
fn masks_of(values: &[String]) -> Vec<String> {
    let mut out: Vec<String> = values
        .iter()
        .flat_map(|v| [v.clone(), url_encoded(v)])
        .collect();
    out.sort_by_key(|m| std::cmp::Reverse(m.len()));
    out.dedup();
    out
}

/// Percent-encoding of everything but RFC 3986's unreserved characters.
fn url_encoded(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `text` with every mask replaced.
fn mask(text: &str, masks: &[String]) -> String {
    masks.iter().fold(text.to_owned(), |text, secret| {
        text.replace(secret.as_str(), MASK)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_urls() {
        assert_eq!(
            socket_url("http://127.0.0.1:8080").unwrap().as_str(),
            "ws://127.0.0.1:8080/api/ws/worker"
        );
        assert_eq!(
            socket_url("https://hera.example.com/").unwrap().as_str(),
            "wss://hera.example.com/api/ws/worker"
        );
        assert!(socket_url("ftp://x").is_err());
    }

    #[test]
    fn secrets_are_masked_raw_and_url_encoded() {
        let masks = masks_of(&["p@ss w0rd".to_owned(), "p@ss".to_owned()]);
        assert_eq!(
            mask(
                "[t] url=https://u:p%40ss%20w0rd@h/ pw=p@ss w0rd short=p@ss\n",
                &masks
            ),
            "[t] url=https://u:******@h/ pw=****** short=******\n"
        );
    }
}
