//! Hera's worker. It connects out to the server (`/api/ws/worker`), says hello with its token,
//! host group and slots, sends heartbeats with its load, runs dispatched attempts as OS processes
//! and streams their logs and results back.
//!
//! Layout:
//! - [`cgroup`]: an attempt's cgroup (v2), when the host gives the worker one.
//! - [`connection`]: the session loop (connect, hello, reconnect with backoff, heartbeats).
//! - [`fetch`]: an attempt's files (resources cached by checksum, web downloads, fetch command).
//! - [`jobtypes`]: how each job type runs (bash wrappers around the tools, HTTP requests).
//! - [`outbox`]: the spool of unacknowledged log chunks and results, resent after a reconnect.
//! - [`runner`]: one attempt: work directory, script file, process group, output capture, kill.
//! - [`reaper`]: finding every process of an attempt (group and token) and YARN application ids.
//! - [`sql`]: SQL jobs on PostgreSQL and MySQL (statements, result tables, cancel on the server).

pub mod cgroup;
pub mod connection;
pub mod fetch;
pub mod jobtypes;
pub mod outbox;
pub mod reaper;
pub mod runner;
pub mod sql;

use std::{path::PathBuf, time::Duration};

/// Worker settings.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// The server's base URL, e.g. `http://127.0.0.1:8080`.
    pub server: String,
    /// The worker token issued by the server.
    pub token: String,
    /// The host group this worker serves.
    pub host_group: String,
    /// How many attempts run at once.
    pub slots: u32,
    /// Where attempts get their private work directories.
    pub work_dir: PathBuf,
    /// Between SIGTERM and SIGKILL when an attempt is cancelled.
    pub kill_grace: Duration,
    /// Kills a YARN application named in a cancelled attempt's log (`{}` is its id).
    pub yarn_kill_command: Option<String>,
    /// The commands of the job types' tools on this worker.
    pub tools: jobtypes::Tools,
    /// A worker cut off from the server this long stops its attempts (the server gives them to
    /// another worker after its own, longer, grace period), so no attempt runs twice at once.
    pub fence_after: Duration,
}

pub use connection::run;
