//! The server <-> worker protocol: JSON text frames over the WebSocket at `/api/ws/worker`.
//! This module is the only contract between `server` and `worker`.
//!
//! Session:
//!
//! ```text
//! worker                                   server
//!   │ Hello{version, token, slots, known}    │   wrong version/token → close 4001/4003 + reason
//!   │ ─────────────────────────────────────► │
//!   │ ◄───────────────────────────── Welcome │
//!   │ Heartbeat{load} every N s              │
//!   │ ◄─────────────────────── Dispatch{spec}│
//!   │ Started{attempt}                       │
//!   │ Log{attempt, offset, text} ──► LogAck{attempt, next_offset}
//!   │ Finished{attempt, outcome} ──► FinishedAck{attempt}
//!   │ ◄──────────────────── Cancel{attempt}  │
//! ```
//!
//! Every message names its attempt, so late or duplicate reports are recognised: the server
//! acknowledges them and ignores them. The worker keeps unacknowledged log chunks and results in
//! its spool and resends them after a reconnect.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    api::WorkerLoad,
    domain::{AttemptOutcome, JobType, TriggerKind},
    ids::{AttemptId, InstanceId, JobId, WorkerId},
};

/// The protocol version this build speaks. A worker with another version is refused at hello.
pub const PROTOCOL_VERSION: u32 = 1;

/// WebSocket close code: the worker speaks another protocol version.
pub const CLOSE_BAD_VERSION: u16 = 4001;
/// WebSocket close code: the worker token is unknown.
pub const CLOSE_BAD_TOKEN: u16 = 4003;
/// WebSocket close code: the first message was not a valid hello.
pub const CLOSE_BAD_HELLO: u16 = 4000;
/// WebSocket close code: another connection with the same token replaced this one.
pub const CLOSE_REPLACED: u16 = 4009;

/// Messages from a worker to the server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WorkerMsg {
    /// The first message of every connection.
    Hello {
        /// Must equal the server's [`PROTOCOL_VERSION`].
        protocol_version: u32,
        /// The worker token issued by the server.
        token: String,
        /// The host group the worker serves.
        host_group: String,
        /// How many attempts it runs at once.
        slots: u32,
        /// The machine's host name.
        hostname: String,
        /// Attempts this worker still runs or holds unacknowledged results for: the server keeps
        /// them (adoption) instead of declaring them lost.
        #[serde(default)]
        known_attempts: Vec<AttemptId>,
    },
    /// Liveness and load, every few seconds.
    Heartbeat {
        /// Current load.
        load: WorkerLoad,
    },
    /// The attempt's process started.
    Started {
        /// The attempt.
        attempt: AttemptId,
        /// When the process started.
        at: DateTime<Utc>,
    },
    /// A chunk of the attempt's log, starting at byte `offset`.
    Log {
        /// The attempt.
        attempt: AttemptId,
        /// Byte offset of `text` in the attempt's log.
        offset: u64,
        /// Whole lines of UTF-8 text.
        text: String,
    },
    /// The attempt ended. Sent after every log chunk of the attempt.
    Finished {
        /// The attempt.
        attempt: AttemptId,
        /// How it ended.
        outcome: AttemptOutcome,
        /// The exit code, if the process exited normally.
        exit_code: Option<i32>,
        /// When it ended.
        at: DateTime<Utc>,
    },
}

/// Messages from the server to a worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    /// The hello was accepted.
    Welcome {
        /// The worker's id.
        worker_id: WorkerId,
        /// The worker's name.
        name: String,
        /// How often to send heartbeats.
        heartbeat_secs: u32,
    },
    /// Run this attempt.
    Dispatch(AttemptSpec),
    /// Kill this attempt's process tree.
    Cancel {
        /// The attempt.
        attempt: AttemptId,
        /// Why, for the attempt's log (e.g. `timed out after 30 s`).
        #[serde(default)]
        reason: String,
    },
    /// Log bytes up to `next_offset` are stored.
    LogAck {
        /// The attempt.
        attempt: AttemptId,
        /// The end of the stored log.
        next_offset: u64,
    },
    /// The result of the attempt is recorded (or was already recorded).
    FinishedAck {
        /// The attempt.
        attempt: AttemptId,
    },
    /// A message could not be understood; the connection stays open.
    Error {
        /// Why.
        message: String,
    },
}

/// Everything a worker needs to run one attempt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttemptSpec {
    /// The attempt.
    pub attempt: AttemptId,
    /// Its number within the instance (1, 2, …).
    pub number: u32,
    /// Its instance.
    pub instance: InstanceId,
    /// The job.
    pub job_id: JobId,
    /// The job's name.
    pub job_name: String,
    /// The pinned job version.
    pub job_version: i64,
    /// What to run.
    pub job_type: JobType,
    /// The script, as stored.
    pub script: String,
    /// The instance's business time.
    pub scheduled_at: DateTime<Utc>,
    /// How the attempt was started.
    pub trigger: TriggerKind,
    /// Extra environment variables for the process.
    #[serde(default)]
    pub env: Vec<(String, String)>,
    /// The job's effective `hera.*` configs (e.g. `hera.spark.conf`, `hera.http.timeout_secs`).
    #[serde(default)]
    pub settings: std::collections::BTreeMap<String, String>,
    /// Values the log must not show (the job's secrets): the worker replaces them, raw and
    /// URL-encoded, with `******`.
    #[serde(default)]
    pub masks: Vec<String>,
    /// Files to put into the work directory before the script runs.
    #[serde(default)]
    pub files: Vec<FileFetch>,
    /// The OS user the script runs as (the job's `hera.run_as`, allowed for its host group by
    /// the server's settings); none: the worker's own user.
    #[serde(default)]
    pub run_as: Option<String>,
}

/// A file an attempt needs, resolved by the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileFetch {
    /// Its name in the work directory (relative, checked by the server).
    pub name: String,
    /// Where the worker gets it.
    pub source: FetchSource,
}

/// Where the worker gets a file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FetchSource {
    /// A resource-center file, downloaded from the server by its checksum
    /// (`GET /api/worker/files/{sha256}`) and cached by it.
    Resource {
        /// What the user wrote (`hera:name@version`), for the log.
        label: String,
        /// Lower-case hex SHA-256 of the content.
        sha256: String,
        /// Its size in bytes.
        size: u64,
    },
    /// An `http://` or `https://` address.
    Web {
        /// The address.
        url: String,
    },
    /// Anything else, fetched by the worker's fetch command.
    Command {
        /// The URI.
        uri: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_tagged_json() {
        let msg = WorkerMsg::Started {
            attempt: AttemptId(7),
            at: DateTime::parse_from_rfc3339("2026-11-24T10:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
        };
        let text = serde_json::to_string(&msg).unwrap();
        assert_eq!(
            text,
            r#"{"type":"started","attempt":7,"at":"2026-11-24T10:00:00Z"}"#
        );
        assert_eq!(serde_json::from_str::<WorkerMsg>(&text).unwrap(), msg);
        // A hello from an older worker without `known_attempts` still parses.
        let hello = r#"{"type":"hello","protocol_version":1,"token":"t","host_group":"default",
            "slots":2,"hostname":"h"}"#;
        assert!(matches!(
            serde_json::from_str(hello).unwrap(),
            WorkerMsg::Hello { .. }
        ));
    }
}
