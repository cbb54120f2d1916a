//! A standalone Hera started inside the benchmark process, and a small client of its REST API.

use std::{
    collections::BTreeSet,
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context as _, bail};
use app::ids::JobId;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::{
    ServerConfig,
    store::{AttemptTiming, Store},
};

/// How the benchmark's standalone is set up.
#[derive(Clone, Debug)]
pub struct Settings {
    /// PostgreSQL instead of SQLite.
    pub database: Option<String>,
    /// The local worker's slots.
    pub slots: u32,
    /// Whether the local worker puts attempts in cgroups (where the host allows it).
    pub cgroups: bool,
}

/// A running standalone (server + local worker) with a logged-in client.
pub struct Harness {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The session token.
    pub token: String,
    /// The server's store (the figures come from its timestamps).
    pub store: Arc<dyn Store>,
    live: crate::live::Live,
    http: reqwest::Client,
    shutdown: CancellationToken,
    tracker: TaskTracker,
}

impl Harness {
    /// Starts a standalone on `data_dir` and logs in as admin; returns once the local worker is
    /// connected.
    pub async fn start(data_dir: &Path, settings: &Settings) -> anyhow::Result<Harness> {
        let shutdown = CancellationToken::new();
        let tracker = TaskTracker::new();
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let config = ServerConfig {
            database_url: settings.database.clone(),
            ..ServerConfig::new(data_dir.to_owned())
        };
        let running = crate::start(config, listener, shutdown.clone(), &tracker).await?;
        crate::standalone::start_local_worker(
            &running,
            data_dir.join("work"),
            settings.slots,
            None,
            crate::standalone::Tools {
                cgroups: settings.cgroups,
                ..Default::default()
            },
            shutdown.clone(),
            &tracker,
        )
        .await?;
        let base = format!("http://{}", running.addr);
        let password = std::fs::read_to_string(data_dir.join("initial-admin-password"))
            .context("the admin password file is missing")?;
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(16)
            .build()?;
        let login: Value = http
            .post(format!("{base}/api/auth/login"))
            .json(&json!({ "username": "admin", "password": password.trim() }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let token = login["token"]
            .as_str()
            .context("no token in the login answer")?
            .to_owned();
        let harness = Harness {
            base,
            token,
            store: running.store,
            live: running.live,
            http,
            shutdown,
            tracker,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let workers = harness.get("/api/workers").await?;
            let connected = workers
                .as_array()
                .is_some_and(|list| list.iter().any(|w| w["connected"] == true));
            if connected {
                return Ok(harness);
            }
            if Instant::now() > deadline {
                bail!("the local worker did not connect within 30 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the server and the worker and waits for their tasks.
    pub async fn stop(self) {
        self.shutdown.cancel();
        self.tracker.close();
        let _ = tokio::time::timeout(Duration::from_secs(30), self.tracker.wait()).await;
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> anyhow::Result<Value> {
        let response = request.bearer_auth(&self.token).send().await?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("{status}: {body}");
        }
        Ok(body)
    }

    /// `GET path` → JSON.
    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    /// `POST path body` → JSON.
    pub async fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        self.send(self.http.post(format!("{}{path}", self.base)).json(body))
            .await
    }

    /// Creates a folder named `name` (unique per run) and returns its id.
    pub async fn folder(&self, name: &str) -> anyhow::Result<i64> {
        let unique = format!("{name}-{}", Utc::now().timestamp_millis());
        let folder = self
            .post("/api/folders", &json!({ "name": unique }))
            .await?;
        folder["id"].as_i64().context("no folder id")
    }

    /// Creates a shell job from `fields` (merged into a minimal body) and returns its id.
    pub async fn job(&self, folder: i64, name: &str, fields: Value) -> anyhow::Result<JobId> {
        let mut body = json!({
            "name": name, "folder_id": folder, "job_type": "shell", "script": "true",
            "timezone": "UTC",
        });
        for (key, value) in fields.as_object().into_iter().flatten() {
            body[key] = value.clone();
        }
        let job = self.post("/api/jobs", &body).await?;
        Ok(JobId(job["id"].as_i64().context("no job id")?))
    }

    /// Waits until every job of `jobs` has an ended attempt created since `since` (one per job)
    /// and returns those attempts.
    pub async fn wait_attempts(
        &self,
        jobs: &BTreeSet<JobId>,
        since: DateTime<Utc>,
        timeout: Duration,
    ) -> anyhow::Result<Vec<AttemptTiming>> {
        // Waits on the events bus and reads the store only to start, after missing events, and
        // at the end: polling the store would spend the measured process's CPU.
        let deadline = Instant::now() + timeout;
        let mut events = self.live.events();
        let mut done: BTreeSet<JobId> = BTreeSet::new();
        let mut read_store = true;
        loop {
            if read_store || done.len() == jobs.len() {
                let ended: Vec<AttemptTiming> = self
                    .store
                    .attempt_times(since)
                    .await?
                    .into_iter()
                    .filter(|a| jobs.contains(&a.job) && a.state.is_terminal())
                    .collect();
                done = ended.iter().map(|a| a.job).collect();
                if done.len() == jobs.len() {
                    return Ok(ended);
                }
                read_store = false;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                bail!(
                    "only {} of {} jobs ran within {timeout:?}",
                    done.len(),
                    jobs.len()
                );
            }
            match tokio::time::timeout(left.min(Duration::from_secs(5)), events.recv()).await {
                Ok(Ok(app::api::Event::Attempt { job_id, state, .. })) => {
                    if state.is_terminal() && jobs.contains(&job_id) {
                        done.insert(job_id);
                    }
                }
                Ok(Ok(_)) => {}
                Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) | Err(_) => {
                    read_store = true;
                }
                Ok(Err(tokio::sync::broadcast::error::RecvError::Closed)) => {
                    bail!("the server stopped")
                }
            }
        }
    }
}

/// A Quartz expression that fires exactly at `at` (UTC, whole second).
pub fn cron_at(at: DateTime<Utc>) -> String {
    format!(
        "{} {} {} {} {} ?",
        at.format("%-S"),
        at.format("%-M"),
        at.format("%-H"),
        at.format("%-d"),
        at.format("%-m")
    )
}

/// The first whole second at least `lead` from now.
pub fn due_in(lead: Duration) -> DateTime<Utc> {
    let at = Utc::now() + chrono::Duration::from_std(lead).unwrap_or_default();
    let next = at.timestamp() + 1;
    DateTime::from_timestamp(next, 0).unwrap_or(at)
}
