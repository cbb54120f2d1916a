//! Finds every process of an attempt so that a cancel leaves no orphan: the attempt's process
//! group, and any process whose environment carries the attempt's token (`HERA_ATTEMPT_TOKEN`,
//! set on the attempt's shell and inherited by everything it starts). The token also catches
//! children that left the group and the session (`setsid`, double forks, `nohup … &`). Only a
//! process that clears its own environment escapes the scan; where the host gives the worker a
//! cgroup v2 tree, [`crate::cgroup`] catches those too.
//!
//! Linux only: it reads `/proc`.

use nix::{
    sys::signal::{Signal, kill, killpg},
    unistd::Pid,
};

/// The environment variable that marks an attempt's processes.
pub const TOKEN_VAR: &str = "HERA_ATTEMPT_TOKEN";

/// A token unique to one attempt run by this worker process.
pub fn token(attempt: app::ids::AttemptId) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{}-{attempt}-{nanos}", std::process::id())
}

/// The process group and session of a process, from `/proc/<pid>/stat`.
fn group_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    // state, ppid, pgrp
    rest.split_whitespace().nth(2)?.parse().ok()
}

fn carries(pid: i32, marker: &[u8]) -> bool {
    std::fs::read(format!("/proc/{pid}/environ"))
        .is_ok_and(|env| env.split(|b| *b == 0).any(|entry| entry == marker))
}

/// The processes of an attempt (its group `group` or carrying `token`), not this process.
pub fn processes(token: &str, group: Option<Pid>) -> Vec<Pid> {
    let marker = format!("{TOKEN_VAR}={token}").into_bytes();
    let me = std::process::id() as i32;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| *pid != me)
        .filter(|pid| {
            group.is_some_and(|g| group_of(*pid) == Some(g.as_raw())) || carries(*pid, &marker)
        })
        .map(Pid::from_raw)
        .collect()
}

/// Sends `signal` to the attempt's process group.
pub fn signal_group(group: Option<Pid>, signal: Signal) {
    if let Some(group) = group {
        // ESRCH (the group is already gone) is the expected case after a normal exit.
        let _ = killpg(group, signal);
    }
}

/// Sends `signal` to the attempt's group and to every process of it found by a scan; returns
/// how many processes the scan found (for the log).
pub fn signal_all(token: &str, group: Option<Pid>, signal: Signal) -> usize {
    signal_group(group, signal);
    let strays = processes(token, group);
    for pid in &strays {
        let _ = kill(*pid, signal);
    }
    strays.len()
}

/// YARN application ids (`application_<cluster timestamp>_<sequence>`) in a log line.
pub fn yarn_application_ids(line: &str) -> impl Iterator<Item = &str> {
    line.match_indices("application_").filter_map(|(start, _)| {
        let tail = &line[start + "application_".len()..];
        let first = tail
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(tail.len());
        if first < 10 || !tail[first..].starts_with('_') {
            return None;
        }
        let after = &tail[first + 1..];
        let second = after
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(after.len());
        (second > 0).then(|| &line[start..start + "application_".len() + first + 1 + second])
    })
}

/// The argument vector of the configured kill command for one application: `{}` is replaced by
/// the id, or the id is appended when the command has no `{}`.
pub fn kill_command(template: &str, application: &str) -> Vec<String> {
    let mut args: Vec<String> = template
        .split_whitespace()
        .map(|part| part.replace("{}", application))
        .collect();
    if !template.contains("{}") {
        args.push(application.to_owned());
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_yarn_application_ids() {
        let line = "INFO Submitted application application_1700000000123_0042 to ResourceManager; \
                    see http://rm/proxy/application_1700000000123_0043/ and application_12_3";
        let ids: Vec<&str> = yarn_application_ids(line).collect();
        assert_eq!(
            ids,
            [
                "application_1700000000123_0042",
                "application_1700000000123_0043"
            ]
        );
        assert_eq!(yarn_application_ids("application_").count(), 0);
    }

    #[test]
    fn builds_the_kill_command() {
        assert_eq!(
            kill_command("yarn application -kill {}", "application_1_2"),
            ["yarn", "application", "-kill", "application_1_2"]
        );
        assert_eq!(
            kill_command("/opt/kill-app", "application_1_2"),
            ["/opt/kill-app", "application_1_2"]
        );
    }
}
