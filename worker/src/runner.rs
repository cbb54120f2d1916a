//! Runs one attempt: writes the script into a private work directory (0700), starts `bash` in its
//! own process group, captures stdout and stderr line by line with timestamps (invalid UTF-8
//! replaced, very long lines split, nothing else lost), and reports the outcome. Cancel sends
//! SIGTERM to every process of the attempt (its cgroup when the host has cgroup v2, its group, and
//! whatever left the group but carries its token: see [`crate::cgroup`] and [`crate::reaper`]), then SIGKILL after the grace period, then kills the YARN
//! applications its log named with the configured command; when the main process ends, whatever
//! it left running is killed too.

use std::{
    collections::BTreeSet,
    os::unix::fs::DirBuilderExt as _,
    path::{Path, PathBuf},
    process::Stdio,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use app::{domain::AttemptOutcome, ids::AttemptId, protocol::AttemptSpec};
use chrono::{DateTime, Utc};
use nix::{sys::signal::Signal, unistd::Pid};
use tokio::{
    io::{AsyncBufReadExt as _, AsyncRead, BufReader},
    process::Command,
    sync::mpsc,
};
use tokio_util::sync::CancellationToken;

use crate::{
    cgroup::{AttemptCgroup, Cgroups},
    fetch::Fetcher,
    jobtypes::{self, HttpCall, Launch, Tools},
    reaper, sql,
};

/// How attempts are run on this worker.
#[derive(Clone, Debug)]
pub struct RunSettings {
    /// Where attempts get their work directories.
    pub root: PathBuf,
    /// Between SIGTERM and SIGKILL on cancel.
    pub kill_grace: Duration,
    /// The command that kills a YARN application named in a cancelled attempt's log (`{}` is the
    /// application id), e.g. `yarn application -kill {}`.
    pub yarn_kill: Option<String>,
    /// The commands of the job types' tools.
    pub tools: Tools,
    /// Fetches the attempt's files.
    pub fetcher: Fetcher,
    /// Where attempts get their cgroups, when the host gives the worker a cgroup v2 tree.
    pub cgroups: Option<Cgroups>,
}

/// A request to stop a running attempt, with the reason for its log.
#[derive(Clone, Debug, Default)]
pub struct Stop {
    token: CancellationToken,
    reason: Arc<Mutex<String>>,
}

impl Stop {
    /// Asks the attempt to stop; the first reason given is the one logged.
    pub fn request(&self, reason: &str) {
        if let Ok(mut slot) = self.reason.lock()
            && slot.is_empty()
        {
            reason.clone_into(&mut slot);
        }
        self.token.cancel();
    }

    /// Whether a stop was requested.
    pub fn is_requested(&self) -> bool {
        self.token.is_cancelled()
    }

    fn reason(&self) -> String {
        self.reason.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Waits until a stop is requested.
    pub(crate) async fn cancelled(&self) {
        self.token.cancelled().await;
    }

    /// The reason given, for the log.
    pub(crate) fn why(&self) -> String {
        let reason = self.reason();
        if reason.is_empty() {
            "cancel requested".to_owned()
        } else {
            reason
        }
    }
}

/// YARN application ids seen in an attempt's output.
type Applications = Arc<Mutex<BTreeSet<String>>>;

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

pub(crate) fn stamp() -> String {
    Utc::now().format("[%Y-%m-%d %H:%M:%S%.3f] ").to_string()
}

pub(crate) async fn say(events: &mpsc::Sender<RunnerEvent>, attempt: AttemptId, line: &str) {
    let text = format!("{}hera: {line}\n", stamp());
    let _ = events.send(RunnerEvent::Log { attempt, text }).await;
}

/// The attempt's work directory under `root`.
pub fn work_dir(root: &Path, attempt: AttemptId) -> PathBuf {
    root.join("attempts").join(attempt.to_string())
}

/// Prepares an attempt to run as another OS user: the worker must run as root (it switches
/// user the way `sudo -u` would, without handing the environment through a command line); the
/// work directory becomes the user's.
fn switch_user(name: &str, dir: &Path) -> Result<nix::unistd::User, String> {
    if !nix::unistd::geteuid().is_root() {
        return Err("the worker must run as root to switch users".to_owned());
    }
    let user = nix::unistd::User::from_name(name)
        .map_err(|err| err.to_string())?
        .ok_or_else(|| "no such user on this worker".to_owned())?;
    chown_tree(dir, &user).map_err(|err| format!("cannot hand the work directory over: {err}"))?;
    Ok(user)
}

fn chown_tree(path: &Path, user: &nix::unistd::User) -> std::io::Result<()> {
    nix::unistd::chown(path, Some(user.uid), Some(user.gid)).map_err(std::io::Error::from)?;
    if path.is_dir() {
        for entry in std::fs::read_dir(path)? {
            chown_tree(&entry?.path(), user)?;
        }
    }
    Ok(())
}

/// The absolute path of `bash` on the worker's `PATH`. Spawning by absolute path matters: with
/// a `PATH` in the child's (cleared) environment and a bare program name, the standard library
/// cannot use `posix_spawn` and forks the whole worker instead — page tables and all, about a
/// millisecond per attempt in a big process.
pub fn bash() -> &'static Path {
    static BASH: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BASH.get_or_init(|| {
        std::env::var_os("PATH")
            .iter()
            .flat_map(std::env::split_paths)
            .map(|dir| dir.join("bash"))
            .find(|path| path.is_file())
            .unwrap_or_else(|| PathBuf::from("/bin/bash"))
    })
}

/// Removes the work directories under `root` not changed for `keep`, except those of `running`
/// attempts; returns how many went.
pub fn sweep_work_dirs(root: &Path, keep: Duration, running: &BTreeSet<AttemptId>) -> usize {
    let Ok(entries) = std::fs::read_dir(root.join("attempts")) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let id = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse().ok())
            .map(AttemptId);
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|at| at.elapsed().is_ok_and(|age| age > keep));
        if id.is_some_and(|id| !running.contains(&id))
            && old
            && std::fs::remove_dir_all(entry.path()).is_ok()
        {
            removed += 1;
        }
    }
    removed
}

/// Creates the attempt's private work directory and its files (see [`jobtypes::prepare`]).
fn prepare(
    root: &Path,
    spec: &AttemptSpec,
    tools: &Tools,
) -> std::io::Result<Result<Launch, String>> {
    let dir = work_dir(root, spec.attempt);
    // Private to the attempt's user (a run-as user must still get through the parents).
    let mut private = std::fs::DirBuilder::new();
    private.mode(0o700);
    match private.create(&dir) {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(root.join("attempts"))?;
            private.create(&dir)?;
        }
        Err(err) if err.kind() != std::io::ErrorKind::AlreadyExists => return Err(err),
        _ => {}
    }
    jobtypes::prepare(&dir, spec, tools)
}

/// Runs the attempt to its end, reporting through `events`.
pub async fn run_attempt(
    spec: AttemptSpec,
    settings: RunSettings,
    events: mpsc::Sender<RunnerEvent>,
    stop: Stop,
) {
    let RunSettings {
        root,
        kill_grace,
        yarn_kill,
        tools,
        fetcher,
        cgroups,
    } = settings;
    let attempt = spec.attempt;
    let token = reaper::token(attempt);
    let finish = |outcome, exit_code| RunnerEvent::Finished {
        attempt,
        outcome,
        exit_code,
        at: Utc::now(),
    };
    let script = match prepare(&root, &spec, &tools) {
        Ok(Ok(Launch::Bash(script))) => script,
        Ok(Ok(Launch::Http(call))) => {
            let (outcome, code) = run_http(&spec, call, &events, &stop).await;
            let _ = events.send(finish(outcome, code)).await;
            return;
        }
        Ok(Ok(Launch::Sql(call))) => {
            let (outcome, code) = sql::run(&spec, call, &events, &stop).await;
            let _ = events.send(finish(outcome, code)).await;
            return;
        }
        Ok(Err(reason)) => {
            say(
                &events,
                attempt,
                &format!("cannot run this {} job: {reason}", spec.job_type),
            )
            .await;
            let _ = events.send(finish(AttemptOutcome::Failed, None)).await;
            return;
        }
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
    if !spec.files.is_empty() {
        let dir = script.parent().unwrap_or(&root);
        let fetched = tokio::select! {
            fetched = fetcher.fetch_all(dir, &spec.files) => fetched,
            () = stop.token.cancelled() => Err(format!("{} while fetching files", stop.why())),
        };
        match fetched {
            Ok(lines) => {
                for line in lines {
                    say(&events, attempt, &line).await;
                }
            }
            Err(reason) => {
                say(
                    &events,
                    attempt,
                    &format!("cannot fetch the job's files: {reason}"),
                )
                .await;
                let outcome = if stop.is_requested() {
                    AttemptOutcome::Cancelled
                } else {
                    AttemptOutcome::Failed
                };
                let _ = events.send(finish(outcome, None)).await;
                return;
            }
        }
    }
    let user = match &spec.run_as {
        None => None,
        Some(name) => match switch_user(name, script.parent().unwrap_or(&root)) {
            Ok(user) => Some(user),
            Err(reason) => {
                say(
                    &events,
                    attempt,
                    &format!("cannot run as OS user `{name}`: {reason}"),
                )
                .await;
                let _ = events.send(finish(AttemptOutcome::Failed, None)).await;
                return;
            }
        },
    };
    let cgroup = match cgroups.as_ref().map(|c| c.for_attempt()) {
        None => None,
        Some(Ok(cgroup)) => Some(cgroup),
        Some(Err(err)) => {
            tracing::warn!(%attempt, error = %err, "cannot create the attempt's cgroup");
            None
        }
    };
    let mut command = Command::new(bash());
    match (&cgroup, &user) {
        (Some(cgroup), None) => {
            command.arg("-c").arg(cgroup.bash_command());
        }
        (Some(cgroup), Some(_)) => {
            if let Err(err) = cgroup.join_on_exec(&mut command) {
                tracing::warn!(%attempt, error = %err, "cannot open the attempt's cgroup");
            }
        }
        (None, _) => {}
    }
    command
        .env_clear()
        .envs(
            tools
                .pass_env
                .iter()
                .filter_map(|name| std::env::var_os(name).map(|value| (name, value))),
        )
        .arg(&script)
        .current_dir(script.parent().unwrap_or(&root))
        .env("HERA_ATTEMPT_ID", attempt.to_string())
        .env("HERA_INSTANCE_ID", spec.instance.to_string())
        .env("HERA_JOB_ID", spec.job_id.to_string())
        .env("HERA_JOB_NAME", &spec.job_name)
        .env("HERA_BUSINESS_TIME", spec.scheduled_at.to_rfc3339())
        .env("HERA_TRIGGER", spec.trigger.as_str())
        .envs(spec.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env(reaper::TOKEN_VAR, &token)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    if let Some(user) = &user {
        command
            .uid(user.uid.as_raw())
            .gid(user.gid.as_raw())
            .env("HOME", &user.dir)
            .env("USER", &user.name)
            .env("LOGNAME", &user.name);
    }
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(err) => {
            if let Some(cgroup) = cgroup {
                cgroup.release(Duration::from_secs(1)).await;
            }
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
    let applications = Applications::default();
    let stdout = child
        .stdout
        .take()
        .map(|out| tokio::spawn(pump(out, attempt, events.clone(), applications.clone())));
    let stderr = child
        .stderr
        .take()
        .map(|err| tokio::spawn(pump(err, attempt, events.clone(), applications.clone())));

    let mut cancelled = false;
    let status = tokio::select! {
        status = child.wait() => status,
        () = stop.token.cancelled() => {
            cancelled = true;
            let why = stop.why();
            say(&events, attempt, &format!("{why}: sending SIGTERM to the attempt's processes")).await;
            signal_all(&token, group, cgroup.as_ref(), Signal::SIGTERM);
            let status = match tokio::time::timeout(kill_grace, child.wait()).await {
                Ok(status) => status,
                Err(_) => {
                    say(&events, attempt, &format!("still running after {kill_grace:?}: sending SIGKILL")).await;
                    signal_all(&token, group, cgroup.as_ref(), Signal::SIGKILL);
                    child.wait().await
                }
            };
            kill_applications(yarn_kill.as_deref(), &applications, attempt, &events).await;
            status
        }
    };
    // The main process is gone; what it left in its group and its cgroup is killed. Something
    // that left the group and still holds the output pipes is found by its token (a scan of
    // /proc, so only then, or after a cancel).
    let mut strays = if cancelled {
        signal_all(&token, group, cgroup.as_ref(), Signal::SIGKILL)
    } else {
        reaper::signal_group(group, Signal::SIGKILL);
        cgroup.as_ref().map_or(0, |c| c.signal(Signal::SIGKILL))
    };
    for pump in [stdout, stderr].into_iter().flatten() {
        if tokio::time::timeout(Duration::from_secs(2), pump)
            .await
            .is_err()
        {
            strays += signal_all(&token, group, cgroup.as_ref(), Signal::SIGKILL);
        }
    }
    if let Some(cgroup) = cgroup {
        cgroup.release(Duration::from_secs(2)).await;
    }
    if strays > 0 {
        say(
            &events,
            attempt,
            &format!("killed {strays} process(es) the script left running"),
        )
        .await;
    }
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

/// Sends `signal` to every process of the attempt: its cgroup's, its group's and those carrying
/// its token; returns how many the cgroup and the scan found.
fn signal_all(
    token: &str,
    group: Option<Pid>,
    cgroup: Option<&AttemptCgroup>,
    signal: Signal,
) -> usize {
    let in_cgroup = cgroup.map_or(0, |c| c.signal(signal));
    in_cgroup.max(reaper::signal_all(token, group, signal))
}

pub(crate) fn outcome_word(outcome: AttemptOutcome) -> &'static str {
    match outcome {
        AttemptOutcome::Succeeded => "succeeded",
        AttemptOutcome::Failed => "failed",
        AttemptOutcome::Cancelled => "cancelled",
    }
}

/// The most response body an HTTP job prints.
const HTTP_BODY_SHOWN: usize = 64 << 10;

/// Makes an HTTP job's request: logs the request line, the status and (the start of) the body;
/// succeeds when the status is an expected one (any 2xx by default).
async fn run_http(
    spec: &AttemptSpec,
    call: HttpCall,
    events: &mpsc::Sender<RunnerEvent>,
    stop: &Stop,
) -> (AttemptOutcome, Option<i32>) {
    let attempt = spec.attempt;
    let _ = events
        .send(RunnerEvent::Started {
            attempt,
            at: Utc::now(),
        })
        .await;
    say(events, attempt, &format!("{} {}", call.method, call.url)).await;
    let started = Instant::now();
    let client = match reqwest::Client::builder().timeout(call.timeout).build() {
        Ok(client) => client,
        Err(err) => {
            say(
                events,
                attempt,
                &format!("cannot make an HTTP client: {err}"),
            )
            .await;
            return (AttemptOutcome::Failed, None);
        }
    };
    let method =
        reqwest::Method::from_bytes(call.method.as_bytes()).unwrap_or(reqwest::Method::GET);
    let mut request = client.request(method, &call.url);
    for (name, value) in &call.headers {
        request = request.header(name, value);
    }
    if !call.body.is_empty() {
        request = request.body(call.body.clone());
    }
    let response = tokio::select! {
        response = request.send() => response,
        () = stop.token.cancelled() => {
            say(events, attempt, &format!("{}: the request was abandoned", stop.reason())).await;
            return (AttemptOutcome::Cancelled, None);
        }
    };
    let response = match response {
        Ok(response) => response,
        Err(err) => {
            say(events, attempt, &format!("request failed: {err}")).await;
            return (AttemptOutcome::Failed, None);
        }
    };
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    let shown: String = body.chars().take(HTTP_BODY_SHOWN).collect();
    for line in shown.lines() {
        let text = format!("{}{line}\n", stamp());
        let _ = events.send(RunnerEvent::Log { attempt, text }).await;
    }
    if shown.len() < body.len() {
        say(
            events,
            attempt,
            &format!("(body cut at {HTTP_BODY_SHOWN} of {} bytes)", body.len()),
        )
        .await;
    }
    let ok = if call.expect.is_empty() {
        status.is_success()
    } else {
        call.expect.contains(&status.as_u16())
    };
    let outcome = if ok {
        AttemptOutcome::Succeeded
    } else {
        AttemptOutcome::Failed
    };
    say(
        events,
        attempt,
        &format!(
            "HTTP {status}; {} after {:.1} s",
            outcome_word(outcome),
            started.elapsed().as_secs_f64()
        ),
    )
    .await;
    (outcome, Some(i32::from(!ok)))
}

/// Runs the configured kill command for every YARN application the attempt's log named.
async fn kill_applications(
    template: Option<&str>,
    applications: &Applications,
    attempt: AttemptId,
    events: &mpsc::Sender<RunnerEvent>,
) {
    let ids: Vec<String> = applications
        .lock()
        .map(|set| set.iter().cloned().collect())
        .unwrap_or_default();
    let Some(template) = template.filter(|t| !t.trim().is_empty()) else {
        if !ids.is_empty() {
            let message = format!(
                "the log names YARN applications ({}); no kill command is configured (--yarn-kill-command)",
                ids.join(", ")
            );
            say(events, attempt, &message).await;
        }
        return;
    };
    for id in ids {
        let args = reaper::kill_command(template, &id);
        let run = Command::new(&args[0])
            .args(&args[1..])
            .stdin(Stdio::null())
            .output();
        let message = match tokio::time::timeout(Duration::from_secs(60), run).await {
            Ok(Ok(output)) => format!("`{}`: {}", args.join(" "), output.status),
            Ok(Err(err)) => format!("`{}` could not run: {err}", args.join(" ")),
            Err(_) => format!("`{}` did not finish within 60 s", args.join(" ")),
        };
        say(
            events,
            attempt,
            &format!("killing YARN application {id}: {message}"),
        )
        .await;
    }
}

/// Reads a pipe line by line; each line gets a timestamp. Invalid UTF-8 is replaced, a line
/// longer than [`MAX_LINE_BYTES`] is split at a character boundary, and the rest goes on. YARN
/// application ids in the output are remembered for a cancel.
async fn pump(
    pipe: impl AsyncRead + Unpin,
    attempt: AttemptId,
    events: mpsc::Sender<RunnerEvent>,
    applications: Applications,
) {
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
            note_applications(&line, &applications);
            let rest = emit(&mut line, attempt, &events).await;
            line = rest;
        }
    }
    if !line.is_empty() {
        note_applications(&line, &applications);
        emit(&mut line, attempt, &events).await;
    }
}

fn note_applications(line: &[u8], applications: &Applications) {
    // Cheap pre-check: most lines name no application.
    if !line.windows(12).any(|w| w == b"application_") {
        return;
    }
    let text = String::from_utf8_lossy(line);
    if let Ok(mut set) = applications.lock() {
        set.extend(reaper::yarn_application_ids(&text).map(str::to_owned));
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

    use std::os::unix::fs::PermissionsExt as _;

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
            settings: Default::default(),
            masks: Vec::new(),
            files: Vec::new(),
            run_as: None,
        }
    }

    async fn run(
        script: &str,
        cancel_after: Option<Duration>,
    ) -> (String, AttemptOutcome, Option<i32>) {
        run_with(script, cancel_after, None).await
    }

    async fn run_with(
        script: &str,
        cancel_after: Option<Duration>,
        yarn_kill: Option<String>,
    ) -> (String, AttemptOutcome, Option<i32>) {
        let root = tempfile::tempdir().unwrap();
        let (tx, mut rx) = mpsc::channel(1024);
        let stop = Stop::default();
        if let Some(after) = cancel_after {
            let stop = stop.clone();
            tokio::spawn(async move {
                tokio::time::sleep(after).await;
                stop.request("cancelled by a user");
            });
        }
        let settings = RunSettings {
            root: root.path().to_owned(),
            kill_grace: Duration::from_secs(2),
            yarn_kill,
            tools: Tools::default(),
            fetcher: Fetcher {
                server: "http://127.0.0.1:9".to_owned(),
                token: String::new(),
                cache: root.path().join("cache"),
                command: Tools::default().fetch,
                client: reqwest::Client::new(),
            },
            cgroups: Cgroups::detect().ok(),
        };
        let task = tokio::spawn(run_attempt(spec(script), settings, tx, stop));
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

    /// After 200 ms, the process whose pid the file holds if it still lives (a zombie counts
    /// as gone).
    async fn gone_after_a_moment(pid_file: &std::path::Path) -> Option<i32> {
        let pid: i32 = std::fs::read_to_string(pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|stat| !stat.contains(") Z "))
            .then_some(pid)
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
    async fn the_script_sees_itself_as_bash_script_would() {
        // Whether or not the shell first joins a cgroup, `$0`, the arguments, `BASH_SOURCE` and
        // error line numbers are those of `bash script.sh`.
        let script = "echo \"${0##*/} $# ${BASH_SOURCE[0]##*/}\"\n\nno_such_command_here";
        let (log, outcome, _) = run(script, None).await;
        assert_eq!(outcome, AttemptOutcome::Failed, "{log}");
        assert!(log.contains("] script.sh 0 script.sh\n"), "{log}");
        assert!(
            log.contains("script.sh: line 3: no_such_command_here: command not found"),
            "{log}"
        );
    }

    #[tokio::test]
    async fn the_environment_holds_only_what_is_passed() {
        // Cargo gives the test process CARGO_* variables; the attempt must not see them.
        let (log, _, _) = run(
            "echo \"pkg=${CARGO_PKG_NAME:-unset} path=${PATH:+set} id=$HERA_ATTEMPT_ID\"",
            None,
        )
        .await;
        assert!(log.contains("] pkg=unset path=set id=1\n"), "{log}");
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

    #[tokio::test]
    async fn cancel_leaves_no_orphan_even_after_a_double_fork() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("daemon.pid");
        // A daemon that leaves the process group and the session: a double fork with setsid.
        let script = format!(
            "( setsid bash -c 'echo $$ > {}; exec sleep 300' & ) ; sleep 300",
            pid_file.display()
        );
        let (log, outcome, _) = run(&script, Some(Duration::from_millis(700))).await;
        assert_eq!(outcome, AttemptOutcome::Cancelled, "{log}");
        let pid = gone_after_a_moment(&pid_file).await;
        assert!(
            pid.is_none(),
            "the double-forked sleep {pid:?} survived: {log}"
        );
    }

    #[tokio::test]
    async fn a_cgroup_catches_what_clears_its_environment_and_leaves_the_session() {
        if let Err(why) = Cgroups::detect() {
            eprintln!("skipped: no cgroup v2 here ({why})");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("hidden.pid");
        // No group, no session, no token in its environment, no pipe held: only the cgroup
        // still knows this process belongs to the attempt.
        let script = format!(
            "( env -i setsid bash -c 'echo $$ > {}; exec sleep 300' </dev/null >/dev/null 2>&1 & ) ; \
             sleep 0.3; echo done",
            pid_file.display()
        );
        let (log, outcome, _) = run(&script, None).await;
        assert_eq!(outcome, AttemptOutcome::Succeeded, "{log}");
        let pid = gone_after_a_moment(&pid_file).await;
        assert!(pid.is_none(), "the hidden sleep {pid:?} survived: {log}");
        assert!(
            log.contains("killed 1 process(es) the script left running"),
            "{log}"
        );
    }

    #[tokio::test]
    async fn a_normal_end_kills_what_the_script_left_behind() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("left.pid");
        let script = format!(
            "( setsid bash -c 'echo $$ > {}; exec sleep 300' & ) ; sleep 0.3; echo done",
            pid_file.display()
        );
        let (log, outcome, _) = run(&script, None).await;
        assert_eq!(outcome, AttemptOutcome::Succeeded, "{log}");
        assert!(
            log.contains("killed 1 process(es) the script left running"),
            "{log}"
        );
    }

    #[tokio::test]
    async fn cancel_kills_the_yarn_applications_the_log_named() {
        let dir = tempfile::tempdir().unwrap();
        let record = dir.path().join("killed");
        let stand_in = dir.path().join("yarn");
        std::fs::write(
            &stand_in,
            format!("#!/bin/sh\necho \"$@\" >> {}\n", record.display()),
        )
        .unwrap();
        std::fs::set_permissions(&stand_in, std::fs::Permissions::from_mode(0o755)).unwrap();
        let script = "echo 'Submitted application application_1700000000123_0042'; \
                      echo 'tracking http://rm/proxy/application_1700000000123_0043/'; sleep 30";
        let template = format!("{} application -kill {{}}", stand_in.display());
        let (log, outcome, _) =
            run_with(script, Some(Duration::from_millis(700)), Some(template)).await;
        assert_eq!(outcome, AttemptOutcome::Cancelled, "{log}");
        assert_eq!(
            std::fs::read_to_string(&record).unwrap(),
            "application -kill application_1700000000123_0042\napplication -kill application_1700000000123_0043\n"
        );
        assert!(
            log.contains("killing YARN application application_1700000000123_0042"),
            "{log}"
        );
    }

    #[test]
    fn old_work_directories_go_unless_their_attempt_runs() {
        let root = tempfile::tempdir().unwrap();
        for id in [1, 2, 3] {
            std::fs::create_dir_all(work_dir(root.path(), AttemptId(id))).unwrap();
        }
        std::fs::create_dir_all(root.path().join("attempts/not-an-attempt")).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        let running = BTreeSet::from([AttemptId(2)]);
        assert_eq!(
            sweep_work_dirs(root.path(), Duration::from_secs(3600), &running),
            0
        );
        assert_eq!(
            sweep_work_dirs(root.path(), Duration::from_millis(10), &running),
            2
        );
        let left: BTreeSet<String> = std::fs::read_dir(root.path().join("attempts"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            left,
            BTreeSet::from(["2".to_owned(), "not-an-attempt".to_owned()])
        );
    }
}
