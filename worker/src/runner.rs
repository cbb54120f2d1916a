//! Runs one attempt: writes the script into a private work directory (0700), starts `bash` in its
//! own process group, captures stdout and stderr line by line with timestamps (invalid UTF-8
//! replaced, very long lines split, nothing else lost), and reports the outcome. Cancel sends
//! SIGTERM to the whole group, then SIGKILL after the grace period; when the main process ends,
//! whatever it left running in its group is killed too.

use std::{
    os::unix::fs::PermissionsExt as _,
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use app::{domain::AttemptOutcome, ids::AttemptId, protocol::AttemptSpec};
use chrono::{DateTime, Utc};
use nix::{
    sys::signal::{Signal, killpg},
    unistd::Pid,
};
use tokio::{
    io::{AsyncBufReadExt as _, AsyncRead, BufReader},
    process::Command,
    sync::mpsc,
};
use tokio_util::sync::CancellationToken;

/// The longest line kept whole; longer lines are split.
pub const MAX_LINE_BYTES: usize = 64 << 10;

/// What a running attempt reports to the connection.
#[derive(Debug, Clone, PartialEq)]
pub enum RunnerEvent {
    /// The process started.
    Started {
        /// The attempt.
        attempt: AttemptId,
        /// When.
        at: DateTime<Utc>,
    },
    /// Log text (whole lines).
    Log {
        /// The attempt.
        attempt: AttemptId,
        /// The text.
        text: String,
    },
    /// The attempt ended.
    Finished {
        /// The attempt.
        attempt: AttemptId,
        /// How.
        outcome: AttemptOutcome,
        /// The exit code, if it exited normally.
        exit_code: Option<i32>,
        /// When.
        at: DateTime<Utc>,
    },
}

fn stamp() -> String {
    Utc::now().format("[%Y-%m-%d %H:%M:%S%.3f] ").to_string()
}

async fn say(events: &mpsc::Sender<RunnerEvent>, attempt: AttemptId, line: &str) {
    let text = format!("{}hera: {line}\n", stamp());
    let _ = events.send(RunnerEvent::Log { attempt, text }).await;
}

/// The attempt's work directory under `root`.
pub fn work_dir(root: &Path, attempt: AttemptId) -> PathBuf {
    root.join("attempts").join(attempt.to_string())
}

fn prepare(root: &Path, spec: &AttemptSpec) -> std::io::Result<PathBuf> {
    let dir = work_dir(root, spec.attempt);
    std::fs::create_dir_all(&dir)?;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
    let script = dir.join("script.sh");
    // Scripts pasted from Windows editors run as the user meant them.
    std::fs::write(&script, spec.script.replace("\r\n", "\n"))?;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700))?;
    Ok(script)
}

/// Runs the attempt to its end, reporting through `events`.
pub async fn run_attempt(
    spec: AttemptSpec,
    root: PathBuf,
    events: mpsc::Sender<RunnerEvent>,
    cancel: CancellationToken,
    kill_grace: Duration,
) {
    let attempt = spec.attempt;
    let finish = |outcome, exit_code| RunnerEvent::Finished {
        attempt,
        outcome,
        exit_code,
        at: Utc::now(),
    };
    let script = match prepare(&root, &spec) {
        Ok(script) => script,
        Err(err) => {
            say(
                &events,
                attempt,
                &format!("cannot prepare the work directory: {err}"),
            )
            .await;
            let _ = events.send(finish(AttemptOutcome::Failed, None)).await;
            return;
        }
    };
    let mut command = Command::new("bash");
    command
        .arg(&script)
        .current_dir(script.parent().unwrap_or(&root))
        .env("HERA_ATTEMPT_ID", attempt.to_string())
        .env("HERA_INSTANCE_ID", spec.instance.to_string())
        .env("HERA_JOB_ID", spec.job_id.to_string())
        .env("HERA_JOB_NAME", &spec.job_name)
        .env("HERA_BUSINESS_TIME", spec.scheduled_at.to_rfc3339())
        .env("HERA_TRIGGER", spec.trigger.as_str())
        .envs(spec.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(err) => {
            say(&events, attempt, &format!("cannot start bash: {err}")).await;
            let _ = events.send(finish(AttemptOutcome::Failed, None)).await;
            return;
        }
    };
    let started = Instant::now();
    let _ = events
        .send(RunnerEvent::Started {
            attempt,
            at: Utc::now(),
        })
        .await;
    say(
        &events,
        attempt,
        &format!(
            "attempt {attempt} (#{} {}) of job `{}` ({}, version {}), business time {}",
            spec.number,
            spec.trigger,
            spec.job_name,
            spec.job_id,
            spec.job_version,
            spec.scheduled_at.to_rfc3339()
        ),
    )
    .await;
    let group = child
        .id()
        .and_then(|pid| i32::try_from(pid).ok())
        .map(Pid::from_raw);
    let stdout = child
        .stdout
        .take()
        .map(|out| tokio::spawn(pump(out, attempt, events.clone())));
    let stderr = child
        .stderr
        .take()
        .map(|err| tokio::spawn(pump(err, attempt, events.clone())));

    let mut cancelled = false;
    let status = tokio::select! {
        status = child.wait() => status,
        () = cancel.cancelled() => {
            cancelled = true;
            say(&events, attempt, "cancel requested: sending SIGTERM to the process group").await;
            signal(group, Signal::SIGTERM);
            match tokio::time::timeout(kill_grace, child.wait()).await {
                Ok(status) => status,
                Err(_) => {
                    say(&events, attempt, &format!("still running after {kill_grace:?}: sending SIGKILL")).await;
                    signal(group, Signal::SIGKILL);
                    child.wait().await
                }
            }
        }
    };
    // The main process is gone; anything it left in its group is killed so the pipes close.
    for pump in [stdout, stderr].into_iter().flatten() {
        if tokio::time::timeout(Duration::from_secs(2), pump)
            .await
            .is_err()
        {
            signal(group, Signal::SIGKILL);
        }
    }
    signal(group, Signal::SIGKILL);
    let elapsed = started.elapsed().as_secs_f64();
    let (outcome, exit_code, summary) = match status {
        Ok(status) => {
            let code = status.code();
            let outcome = if cancelled {
                AttemptOutcome::Cancelled
            } else if status.success() {
                AttemptOutcome::Succeeded
            } else {
                AttemptOutcome::Failed
            };
            let how = match code {
                Some(code) => format!("exit code {code}"),
                None => format!("killed by signal ({status})"),
            };
            (outcome, code, how)
        }
        Err(err) => (
            AttemptOutcome::Failed,
            None,
            format!("cannot wait for the process: {err}"),
        ),
    };
    say(
        &events,
        attempt,
        &format!("{summary}; {} after {elapsed:.1} s", outcome_word(outcome)),
    )
    .await;
    let _ = events.send(finish(outcome, exit_code)).await;
}

fn outcome_word(outcome: AttemptOutcome) -> &'static str {
    match outcome {
        AttemptOutcome::Succeeded => "succeeded",
        AttemptOutcome::Failed => "failed",
        AttemptOutcome::Cancelled => "cancelled",
    }
}

fn signal(group: Option<Pid>, signal: Signal) {
    if let Some(group) = group {
        // ESRCH (the group is already gone) is the expected case after a normal exit.
        let _ = killpg(group, signal);
    }
}

/// Reads a pipe line by line; each line gets a timestamp. Invalid UTF-8 is replaced, a line
/// longer than [`MAX_LINE_BYTES`] is split at a character boundary, and the rest goes on.
async fn pump(pipe: impl AsyncRead + Unpin, attempt: AttemptId, events: mpsc::Sender<RunnerEvent>) {
    let mut reader = BufReader::with_capacity(MAX_LINE_BYTES, pipe);
    let mut line: Vec<u8> = Vec::new();
    while let Ok(buf) = reader.fill_buf().await {
        if buf.is_empty() {
            break;
        }
        let room = MAX_LINE_BYTES - line.len();
        let (take, complete) = match buf.iter().take(room).position(|b| *b == b'\n') {
            Some(idx) => (idx + 1, true),
            None => (
                buf.len().min(room),
                line.len() + buf.len().min(room) >= MAX_LINE_BYTES,
            ),
        };
        line.extend_from_slice(&buf[..take]);
        reader.consume(take);
        if complete {
            let rest = emit(&mut line, attempt, &events).await;
            line = rest;
        }
    }
    if !line.is_empty() {
        emit(&mut line, attempt, &events).await;
    }
}

/// Sends `line` (without a trailing newline, one is added) and returns bytes held back because
/// they are the start of a character split by the length cap.
async fn emit(
    line: &mut Vec<u8>,
    attempt: AttemptId,
    events: &mpsc::Sender<RunnerEvent>,
) -> Vec<u8> {
    let mut carry = Vec::new();
    if line.last() != Some(&b'\n')
        && let Err(err) = std::str::from_utf8(line)
        && err.error_len().is_none()
    {
        carry = line.split_off(err.valid_up_to());
    }
    while matches!(line.last(), Some(b'\n' | b'\r')) {
        line.pop();
    }
    let text = format!("{}{}\n", stamp(), String::from_utf8_lossy(line));
    line.clear();
    let _ = events.send(RunnerEvent::Log { attempt, text }).await;
    carry
}

#[cfg(test)]
mod tests {
    use app::{
        domain::{JobType, TriggerKind},
        ids::{InstanceId, JobId},
    };

    use super::*;

    fn spec(script: &str) -> AttemptSpec {
        AttemptSpec {
            attempt: AttemptId(1),
            number: 1,
            instance: InstanceId(1),
            job_id: JobId(1),
            job_name: "test".to_owned(),
            job_version: 1,
            job_type: JobType::Shell,
            script: script.to_owned(),
            scheduled_at: Utc::now(),
            trigger: TriggerKind::Manual,
            env: vec![],
        }
    }

    async fn run(
        script: &str,
        cancel_after: Option<Duration>,
    ) -> (String, AttemptOutcome, Option<i32>) {
        let root = tempfile::tempdir().unwrap();
        let (tx, mut rx) = mpsc::channel(1024);
        let cancel = CancellationToken::new();
        if let Some(after) = cancel_after {
            let cancel = cancel.clone();
            tokio::spawn(async move {
                tokio::time::sleep(after).await;
                cancel.cancel();
            });
        }
        let task = tokio::spawn(run_attempt(
            spec(script),
            root.path().to_owned(),
            tx,
            cancel,
            Duration::from_secs(2),
        ));
        let mut log = String::new();
        let mut result = None;
        while let Some(event) = rx.recv().await {
            match event {
                RunnerEvent::Log { text, .. } => log.push_str(&text),
                RunnerEvent::Finished {
                    outcome, exit_code, ..
                } => result = Some((outcome, exit_code)),
                RunnerEvent::Started { .. } => {}
            }
        }
        task.await.unwrap();
        let (outcome, code) = result.expect("a finished event");
        (log, outcome, code)
    }

    #[tokio::test]
    async fn captures_output_and_exit_codes() {
        let (log, outcome, code) = run("echo out; echo err >&2; exit 3", None).await;
        assert_eq!((outcome, code), (AttemptOutcome::Failed, Some(3)));
        assert!(log.contains("] out\n") && log.contains("] err\n"), "{log}");
        assert!(log.contains("hera: exit code 3; failed"), "{log}");
        let (_, outcome, code) = run("true", None).await;
        assert_eq!((outcome, code), (AttemptOutcome::Succeeded, Some(0)));
    }

    #[tokio::test]
    async fn invalid_utf8_and_long_lines_lose_nothing_else() {
        let script = "printf 'a\\377b\\n'; head -c 200000 /dev/zero | tr '\\0' x; echo; echo after";
        let (log, outcome, _) = run(script, None).await;
        assert_eq!(outcome, AttemptOutcome::Succeeded);
        assert!(log.contains("] a\u{FFFD}b\n"), "{}", &log[..200]);
        let xs: usize = log
            .lines()
            .filter(|l| !l.contains("hera:"))
            .map(|l| l.matches('x').count())
            .sum();
        assert_eq!(xs, 200_000);
        assert!(log.contains("] after\n"));
    }

    #[tokio::test]
    async fn cancel_kills_the_whole_process_group() {
        let marker = tempfile::NamedTempFile::new().unwrap();
        let path = marker.path().display().to_string();
        // A background child that would write the marker after 3 s; cancel comes after 0.5 s.
        let script = format!("(sleep 3; echo leaked > {path}) & sleep 30");
        let started = Instant::now();
        let (log, outcome, _) = run(&script, Some(Duration::from_millis(500))).await;
        assert_eq!(outcome, AttemptOutcome::Cancelled, "{log}");
        assert!(started.elapsed() < Duration::from_secs(5));
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(std::fs::read_to_string(marker.path()).unwrap(), "");
    }
}
