//! Attempts in cgroups (v2) when the host allows it: every process an attempt starts stays in the
//! attempt's cgroup, whatever it does to its process group, session or environment, so a cancel
//! kills them all at once through `cgroup.kill`.
//!
//! The worker makes `hera-<pid>-<n>` below its own cgroup and one child per attempt. That needs a
//! cgroup v2 hierarchy (the unified one, or the `unified` mount of a hybrid host) that the worker
//! may write: root, or a tree delegated to its user. Without one, the process group and token
//! scan of [`crate::reaper`] stay the only means, as before. No controllers are enabled: the
//! cgroups only group processes.
//!
//! An attempt's cgroup is reused by a later attempt once it is empty again: making and removing
//! a cgroup costs the kernel more than a trivial job's whole run in Hera.

use std::{
    fs::OpenOptions,
    io::Write as _,
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use nix::{
    sys::signal::{Signal, kill},
    unistd::Pid,
};

/// The worker's parent cgroup for its attempts.
#[derive(Clone, Debug)]
pub struct Cgroups {
    base: PathBuf,
    pool: Arc<Pool>,
}

/// Attempt cgroups that are empty and free for the next attempt.
#[derive(Debug, Default)]
struct Pool {
    free: Mutex<Vec<PathBuf>>,
    made: AtomicU64,
}

impl Cgroups {
    /// Makes the worker's cgroup, or says why attempts cannot have cgroups on this host.
    pub fn detect() -> Result<Cgroups, String> {
        let mounts = std::fs::read_to_string("/proc/self/mountinfo")
            .map_err(|err| format!("cannot read /proc/self/mountinfo: {err}"))?;
        let mount = cgroup2_mount(&mounts).ok_or("no cgroup v2 hierarchy is mounted")?;
        let own = std::fs::read_to_string("/proc/self/cgroup")
            .map_err(|err| format!("cannot read /proc/self/cgroup: {err}"))?;
        let own = own_cgroup(&own).ok_or("this process has no cgroup v2 path")?;
        let parent = mount.join(own.trim_start_matches('/'));
        remove_stale(&parent);
        // One per worker, also when a process runs several (tests, the benchmark's restarts):
        // removing one worker's cgroups must not touch another's.
        static WORKERS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = WORKERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let base = parent.join(format!("hera-{}-{n}", std::process::id()));
        match std::fs::create_dir(&base) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(err) => return Err(format!("cannot create {}: {err}", base.display())),
        }
        if !base.join("cgroup.procs").exists() {
            let _ = std::fs::remove_dir(&base);
            return Err(format!("{} is not a cgroup v2 directory", base.display()));
        }
        Ok(Cgroups {
            base,
            pool: Arc::default(),
        })
    }

    /// Where the attempts' cgroups are made.
    pub fn base(&self) -> &Path {
        &self.base
    }

    /// An empty cgroup for an attempt: a free one, or a new one.
    pub fn for_attempt(&self) -> std::io::Result<AttemptCgroup> {
        let free = self
            .pool
            .free
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop();
        let dir = match free {
            Some(dir) => dir,
            None => {
                let n = self.pool.made.fetch_add(1, Ordering::Relaxed);
                let dir = self.base.join(format!("attempt-{n}"));
                std::fs::create_dir(&dir)?;
                dir
            }
        };
        Ok(AttemptCgroup {
            dir,
            pool: Arc::clone(&self.pool),
        })
    }

    /// Removes the worker's cgroup when it ends (its attempts have ended by then).
    pub fn remove(&self) {
        remove_tree(&self.base);
    }
}

/// Removes an empty cgroup and its empty children (a cgroup with processes stays).
fn remove_tree(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                let _ = std::fs::remove_dir(entry.path());
            }
        }
    }
    let _ = std::fs::remove_dir(dir);
}

/// Removes the cgroups that workers which are gone left in `parent` (after a crash or a kill).
fn remove_stale(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("hera-"))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            remove_tree(&entry.path());
        }
    }
}

/// The cgroup of one attempt.
#[derive(Debug)]
pub struct AttemptCgroup {
    dir: PathBuf,
    pool: Arc<Pool>,
}

impl AttemptCgroup {
    /// A `bash -c` command text that moves the shell into this cgroup and then runs the script
    /// named by `$0`, as `bash <script>` would (same `$0`, no arguments, line numbers and
    /// `BASH_SOURCE` as in the file). The shell moves itself before it reads the script, so
    /// nothing the script starts can be outside the cgroup, and the worker still starts it
    /// through `posix_spawn` (a pre-exec hook would make the standard library fork the whole
    /// worker: W2 fell from ~750 to ~240 jobs/s with one). The shell runs as the worker's user,
    /// so it may move itself; for another user see [`AttemptCgroup::join_on_exec`].
    pub fn bash_command(&self) -> String {
        let procs = self.dir.join("cgroup.procs");
        // Our own names: no quote can be in the path.
        format!(
            "{{ echo $$ > '{}'; }} 2>/dev/null; . \"$0\"",
            procs.display()
        )
    }

    /// Makes the command's process join this cgroup before it runs anything, through the
    /// `cgroup.procs` descriptor the worker opened (the kernel checks the opener's rights, so
    /// this works after the child switched to another user). Only for commands that fork anyway
    /// (a user switch does).
    pub fn join_on_exec(&self, command: &mut tokio::process::Command) -> std::io::Result<()> {
        let procs = OpenOptions::new()
            .write(true)
            .open(self.dir.join("cgroup.procs"))?;
        #[allow(unsafe_code)]
        // SAFETY: the closure runs in the forked child before exec. It only calls write(2) on a
        // descriptor opened before the fork, which is async-signal-safe, and allocates nothing.
        unsafe {
            command.pre_exec(move || {
                // "0" is the writing process itself. A failure leaves the child where it was;
                // the process group and token scan still find it.
                let _ = nix::unistd::write(&procs, b"0");
                Ok(())
            });
        }
        Ok(())
    }

    /// The processes in the cgroup now.
    pub fn members(&self) -> Vec<Pid> {
        std::fs::read_to_string(self.dir.join("cgroup.procs"))
            .map(|text| {
                text.lines()
                    .filter_map(|line| line.trim().parse().ok())
                    .map(Pid::from_raw)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Sends `signal` to every process of the cgroup; returns how many there were. SIGKILL goes
    /// through `cgroup.kill` (Linux 5.14) when there is one, which also catches processes forked
    /// while it runs.
    pub fn signal(&self, signal: Signal) -> usize {
        let members = self.members();
        if members.is_empty() {
            return 0;
        }
        if signal == Signal::SIGKILL
            && let Ok(mut file) = OpenOptions::new()
                .write(true)
                .open(self.dir.join("cgroup.kill"))
            && file.write_all(b"1").is_ok()
        {
            return members.len();
        }
        for pid in &members {
            let _ = kill(*pid, signal);
        }
        members.len()
    }

    /// Kills what is left and hands the cgroup back for another attempt once it is empty,
    /// waiting up to `patience` for the kernel to take the killed processes out of it. One that
    /// does not empty in time is left alone (and never reused).
    pub async fn release(self, patience: Duration) {
        let deadline = tokio::time::Instant::now() + patience;
        while self.signal(Signal::SIGKILL) > 0 {
            if tokio::time::Instant::now() >= deadline {
                tracing::warn!(cgroup = %self.dir.display(), "an attempt's cgroup does not empty");
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.pool
            .free
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(self.dir);
    }
}

/// The mount point of the cgroup v2 hierarchy in `/proc/self/mountinfo`.
fn cgroup2_mount(mountinfo: &str) -> Option<PathBuf> {
    mountinfo.lines().find_map(|line| {
        // id parent major:minor root mount-point options [optional fields] - fstype source ...
        let (before, after) = line.split_once(" - ")?;
        (after.split_whitespace().next()? == "cgroup2")
            .then(|| before.split_whitespace().nth(4).map(PathBuf::from))
            .flatten()
    })
}

/// This process's path in the cgroup v2 hierarchy, from `/proc/self/cgroup` (`0::<path>`).
fn own_cgroup(cgroups: &str) -> Option<&str> {
    cgroups.lines().find_map(|line| line.strip_prefix("0::"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_cgroup2_mount_and_path() {
        let hybrid = "25 24 0:22 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n\
                      26 25 0:23 / /sys/fs/cgroup/unified rw,nosuid shared:9 - cgroup2 cgroup2 rw\n\
                      27 25 0:24 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n";
        assert_eq!(
            cgroup2_mount(hybrid),
            Some(PathBuf::from("/sys/fs/cgroup/unified"))
        );
        assert_eq!(
            cgroup2_mount("27 25 0:24 / /x rw - cgroup cgroup rw\n"),
            None
        );
        assert_eq!(
            own_cgroup("1:cpu:/\n0::/system.slice/hera.service\n"),
            Some("/system.slice/hera.service")
        );
        assert_eq!(own_cgroup("1:cpu:/\n"), None);
    }

    #[tokio::test]
    async fn a_released_cgroup_is_emptied_and_reused() {
        let cgroups = match Cgroups::detect() {
            Ok(cgroups) => cgroups,
            Err(why) => return eprintln!("skipped: no cgroup v2 here ({why})"),
        };
        let first = cgroups.for_attempt().unwrap();
        let dir = first.dir.clone();
        let mut left = std::process::Command::new("sleep")
            .arg("300")
            .spawn()
            .unwrap();
        std::fs::write(dir.join("cgroup.procs"), left.id().to_string()).unwrap();
        assert_eq!(first.members().len(), 1);
        first.release(Duration::from_secs(2)).await;
        // Killed by the release, which waited for the cgroup to empty.
        let status = left.wait().unwrap();
        assert!(!status.success(), "{status:?}");
        let second = cgroups.for_attempt().unwrap();
        assert_eq!(second.dir, dir, "the empty cgroup is the next attempt's");
        assert!(second.members().is_empty());
        let third = cgroups.for_attempt().unwrap();
        assert_ne!(third.dir, dir, "one in use is never handed out twice");
        second.release(Duration::from_secs(1)).await;
        third.release(Duration::from_secs(1)).await;
        cgroups.remove();
        assert!(!dir.exists());
    }
}
