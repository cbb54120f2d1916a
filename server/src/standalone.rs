//! The worker that runs inside `hera standalone` (and `hera bench`): the only place besides
//! `main.rs` that uses the worker crate.

use std::path::PathBuf;

/// The commands of the job types' tools on the local worker.
pub use worker::jobtypes::Tools;

use chrono::Utc;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

/// Starts the worker that runs inside a standalone server. It gets a fresh token at every start
/// (only its hash is stored) and stops when `shutdown` is cancelled (or cancels it if it fails).
pub async fn start_local_worker(
    running: &crate::RunningServer,
    work_dir: PathBuf,
    slots: u32,
    yarn_kill_command: Option<String>,
    tools: Tools,
    shutdown: CancellationToken,
    tracker: &TaskTracker,
) -> anyhow::Result<()> {
    let token = crate::auth::random_secret(32);
    running
        .store
        .upsert_worker_token("local", &crate::auth::hash_token(&token), Utc::now())
        .await?;
    let config = worker::WorkerConfig {
        server: format!("http://{}", running.addr),
        token,
        host_group: "default".to_owned(),
        slots: slots.max(1),
        work_dir,
        kill_grace: std::time::Duration::from_secs(10),
        yarn_kill_command,
        tools,
        fence_after: std::time::Duration::from_secs(45),
    };
    tracker.spawn(async move {
        if let Err(err) = worker::run(config, shutdown.clone()).await {
            tracing::error!(error = %err, "the local worker stopped");
            shutdown.cancel();
        }
    });
    Ok(())
}
