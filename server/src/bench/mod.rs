//! `hera bench`: starts a real standalone Hera (server and local worker over loopback WebSocket,
//! SQLite in a temporary directory, or `--database postgres://…`), creates each workload through
//! the public REST API, lets the scheduler run it, and derives every figure from the persisted
//! instance and attempt timestamps (and `/proc` for CPU and memory).
//!
//! Workloads (the keys of the JSON report start with their name):
//! - `w1`: a chain of 20 `true` jobs; per edge: child start − parent end.
//! - `w2`: 200 independent `true` jobs due in the same second; jobs per second (first start →
//!   last end) and CPU per job of this process (server + worker) and its children.
//! - `w3`: 10 levels × 10 jobs, each on every job of the previous level (900 edges); level gap.
//! - `s1`: 10,000 jobs due in the same second; start lateness and time until all started.
//! - `s2`: 100,000 job definitions; creation rate, RSS, restart time, list and search latency.
//! - `s3`: 100 attempts writing 100,000 lines each; lines per second into the store and to a
//!   WebSocket subscriber; lines lost.
//! - `l0`: this machine's ceiling: `/bin/true` processes spawned and reaped per second.
//! - `idle`: CPU and RSS of the idle standalone.
//!
//! `--smoke` shrinks every size so the whole run takes well under a minute (CI runs it to keep
//! the harness working; its timings mean little).

mod harness;
mod probes;
mod workloads;

use std::{collections::BTreeMap, path::PathBuf, str::FromStr};

use anyhow::Context as _;

pub use harness::Harness;

/// A workload of the benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Workload {
    /// The machine's process spawn ceiling.
    L0,
    /// The idle standalone.
    Idle,
    /// Chain of 20.
    W1,
    /// 200 at once.
    W2,
    /// 10 × 10 layers.
    W3,
    /// 10,000 due in one second.
    S1,
    /// Log throughput.
    S3,
    /// 100,000 definitions (last: it restarts the server and leaves many jobs behind).
    S2,
}

impl FromStr for Workload {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "l0" => Workload::L0,
            "idle" => Workload::Idle,
            "w1" => Workload::W1,
            "w2" => Workload::W2,
            "w3" => Workload::W3,
            "s1" => Workload::S1,
            "s2" => Workload::S2,
            "s3" => Workload::S3,
            other => {
                return Err(format!(
                    "unknown workload `{other}`: use w1, w2, w3, s1, s2, s3, l0, idle"
                ));
            }
        })
    }
}

/// Every workload, in the order they run.
pub const ALL: [Workload; 8] = [
    Workload::L0,
    Workload::Idle,
    Workload::W1,
    Workload::W2,
    Workload::W3,
    Workload::S1,
    Workload::S3,
    Workload::S2,
];

/// The sizes of the workloads.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    /// W2's independent jobs.
    pub fan_out: usize,
    /// S1's jobs due in one second.
    pub same_second: usize,
    /// S2's definitions.
    pub definitions: usize,
    /// S3's attempts.
    pub log_attempts: usize,
    /// S3's lines per attempt.
    pub log_lines: usize,
    /// How long L0 spawns and idle waits, in seconds.
    pub probe_secs: f64,
}

impl Sizes {
    /// The sizes, or the smoke sizes.
    pub fn new(smoke: bool) -> Self {
        if smoke {
            Sizes {
                fan_out: 20,
                same_second: 50,
                definitions: 300,
                log_attempts: 2,
                log_lines: 2_000,
                probe_secs: 1.0,
            }
        } else {
            Sizes {
                fan_out: 200,
                same_second: 10_000,
                definitions: 100_000,
                log_attempts: 100,
                log_lines: 100_000,
                probe_secs: 30.0,
            }
        }
    }
}

/// What `hera bench` was asked to do.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    /// The workloads to run (in the order of [`ALL`]).
    pub workloads: Vec<Workload>,
    /// Where to write the flat JSON report.
    pub json: Option<PathBuf>,
    /// PostgreSQL instead of SQLite.
    pub database: Option<String>,
    /// Small sizes.
    pub smoke: bool,
    /// The local worker's slots.
    pub slots: u32,
    /// Whether the local worker puts attempts in cgroups (where the host allows it).
    pub cgroups: bool,
}

/// The report: flat keys with dots (`w1.per_edge_ms_median`) to numbers.
pub type Report = BTreeMap<String, f64>;

/// A target of the issue: (key, comparison, bound).
const TARGETS: &[(&str, &str, f64)] = &[
    ("w1.per_edge_ms_median", "<=", 5.0),
    ("w2.jobs_per_s", ">=", 1000.0),
    ("w2.fraction_of_l0", ">=", 0.5),
    ("w2.cpu_ms_per_job_net", "<=", 1.0),
    ("w3.level_gap_ms_median", "<=", 10.0),
    ("s1.all_started_s", "<=", 10.0),
    ("s1.lateness_ms_p99", "<=", 1000.0),
    ("s2.list_ms_p95", "<=", 100.0),
    ("s2.search_ms_p95", "<=", 100.0),
    ("s3.lines_per_s", ">=", 100_000.0),
    ("s3.lines_lost", "<=", 0.0),
    ("idle.cpu_percent", "<", 1.0),
    ("idle.rss_mb", "<=", 60.0),
];

/// Runs the benchmark and prints the table (and writes the JSON report).
pub async fn run(options: BenchOptions) -> anyhow::Result<Report> {
    let sizes = Sizes::new(options.smoke);
    let dir = tempfile::Builder::new()
        .prefix("hera-bench-")
        .tempdir()
        .context("cannot create a temporary directory")?;
    let mut report = Report::new();
    let mut workloads = options.workloads.clone();
    workloads.sort();
    workloads.dedup();
    report.insert("meta.smoke".to_owned(), f64::from(u8::from(options.smoke)));
    report.insert("meta.cores".to_owned(), probes::cores() as f64);
    let settings = harness::Settings {
        database: options.database.clone(),
        slots: options.slots,
        cgroups: options.cgroups,
    };
    report.insert(
        "meta.cgroups".to_owned(),
        f64::from(u8::from(options.cgroups)),
    );
    let mut harness = Harness::start(dir.path(), &settings).await?;
    for workload in workloads {
        eprintln!("hera bench: running {workload:?}");
        let started = std::time::Instant::now();
        let result = match workload {
            Workload::L0 => probes::spawn_ceiling(sizes.probe_secs).await,
            Workload::Idle => probes::idle(sizes.probe_secs).await,
            Workload::W1 => workloads::chain(&harness).await,
            Workload::W2 => workloads::fan_out(&harness, sizes.fan_out, &report).await,
            Workload::W3 => workloads::layers(&harness).await,
            Workload::S1 => workloads::same_second(&harness, sizes.same_second, &report).await,
            Workload::S3 => {
                workloads::log_flood(&harness, sizes.log_attempts, sizes.log_lines).await
            }
            Workload::S2 => {
                let (result, restarted) =
                    workloads::definitions(harness, dir.path(), sizes.definitions, &settings)
                        .await?;
                harness = restarted;
                Ok(result)
            }
        };
        let result = result.with_context(|| format!("workload {workload:?} failed"))?;
        eprintln!(
            "hera bench: {workload:?} done in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        report.extend(result);
    }
    harness.stop().await;
    print_table(&report);
    if let Some(path) = &options.json {
        let json = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, json + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("hera bench: wrote {}", path.display());
    }
    Ok(report)
}

fn print_table(report: &Report) {
    println!("{:<28} {:>14}  {:<12} result", "figure", "value", "target");
    for (key, value) in report {
        let target = TARGETS.iter().find(|t| t.0 == key);
        let (bound, verdict) = match target {
            Some((_, op, bound)) => {
                let met = match *op {
                    "<=" => *value <= *bound,
                    "<" => *value < *bound,
                    _ => *value >= *bound,
                };
                (format!("{op} {bound}"), if met { "met" } else { "missed" })
            }
            None => (String::new(), ""),
        };
        println!("{key:<28} {value:>14.3}  {bound:<12} {verdict}");
    }
}
