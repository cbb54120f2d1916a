//! Measurements of this process and this machine: CPU time and RSS from `/proc`, the process
//! spawn ceiling (L0) and the idle standalone.

use std::time::{Duration, Instant};

use super::Report;

/// Clock ticks per second of `/proc/<pid>/stat` times (USER_HZ, 100 on Linux).
const TICKS_PER_S: f64 = 100.0;

/// CPU time of this process and of its reaped children, in milliseconds.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cpu {
    /// Server + worker (this process: user + system).
    pub own_ms: f64,
    /// The attempts' processes (children: user + system of the reaped ones).
    pub children_ms: f64,
}

/// Reads this process's CPU times.
pub fn cpu() -> Cpu {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<f64> = stat
        .rsplit_once(')')
        .map(|(_, rest)| {
            rest.split_whitespace()
                .map(|f| f.parse().unwrap_or(0.0))
                .collect()
        })
        .unwrap_or_default();
    // After the command: state(0) ppid … utime(11) stime(12) cutime(13) cstime(14).
    let tick = |i: usize| fields.get(i).copied().unwrap_or(0.0) * 1000.0 / TICKS_PER_S;
    Cpu {
        own_ms: tick(11) + tick(12),
        children_ms: tick(13) + tick(14),
    }
}

/// This process's resident memory in MB.
pub fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// CPU cores of this machine.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// L0: how many `/bin/true` processes this machine spawns and reaps per second, two per core in
/// flight.
pub async fn spawn_ceiling(secs: f64) -> anyhow::Result<Report> {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..cores() * 2 {
        tasks.push(tokio::spawn(async move {
            let mut n = 0_u64;
            while Instant::now() < deadline {
                tokio::process::Command::new("/bin/true")
                    .status()
                    .await
                    .map_err(|err| anyhow::anyhow!("cannot run /bin/true: {err}"))?;
                n += 1;
            }
            anyhow::Ok(n)
        }));
    }
    let mut total = 0;
    for task in tasks {
        total += task.await??;
    }
    let rate = total as f64 / started.elapsed().as_secs_f64();
    Ok(Report::from([("l0.spawns_per_s".to_owned(), rate)]))
}

/// Idle: CPU (percent of one core) and RSS of the standalone doing nothing.
pub async fn idle(secs: f64) -> anyhow::Result<Report> {
    // Let the start-up settle first.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (before, started) = (cpu(), Instant::now());
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    let (after, elapsed) = (cpu(), started.elapsed().as_secs_f64() * 1000.0);
    let percent = (after.own_ms - before.own_ms) / elapsed * 100.0;
    Ok(Report::from([
        ("idle.cpu_percent".to_owned(), percent),
        ("idle.rss_mb".to_owned(), rss_mb()),
        ("idle.cpu_ms_per_s".to_owned(), percent * 10.0),
    ]))
}

/// The value at `q` (0–1) of sorted `values` (nearest rank).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Sorts a copy of the values.
pub fn sorted(mut values: Vec<f64>) -> Vec<f64> {
    values.sort_by(f64::total_cmp);
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_by_nearest_rank() {
        let values = sorted((1..=100).map(f64::from).rev().collect());
        assert_eq!(quantile(&values, 0.5), 50.0);
        assert_eq!(quantile(&values, 0.95), 95.0);
        assert_eq!(quantile(&values, 0.99), 99.0);
        assert_eq!(quantile(&values, 1.0), 100.0);
        assert_eq!(quantile(&[7.0], 0.5), 7.0);
        assert!(quantile(&[], 0.5).is_nan());
    }

    #[test]
    fn reads_its_own_cpu_and_memory() {
        let spin = Instant::now();
        let mut x = 0_u64;
        while spin.elapsed() < Duration::from_millis(50) {
            x = x.wrapping_add(1);
        }
        assert!(x > 0);
        assert!(cpu().own_ms > 0.0);
        assert!(rss_mb() > 1.0);
    }
}
