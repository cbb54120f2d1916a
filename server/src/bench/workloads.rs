//! The workloads. Each creates its jobs through the REST API in a folder of its own, lets the
//! scheduler run them, and computes its figures from the attempts' persisted timestamps.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
    time::{Duration, Instant},
};

use anyhow::{Context as _, bail};
use app::{api::LogMessage, ids::JobId};
use chrono::{DateTime, Utc};
use futures_util::{StreamExt as _, stream};
use serde_json::{Value, json};

use super::{
    Harness, Report,
    harness::{cron_at, due_in},
    probes::{self, quantile, sorted},
};
use crate::store::AttemptTiming;

/// Requests in flight while creating many jobs.
const CREATE_CONCURRENCY: usize = 8;

fn millis(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_microseconds().unwrap_or(i64::MAX) as f64 / 1000.0
}

/// The ended attempt of each job (the last one if several).
fn by_job(attempts: &[AttemptTiming]) -> BTreeMap<JobId, &AttemptTiming> {
    attempts.iter().map(|a| (a.job, a)).collect()
}

fn started(a: &AttemptTiming) -> anyhow::Result<DateTime<Utc>> {
    a.started_at
        .with_context(|| format!("attempt {} never started ({})", a.attempt, a.state))
}

fn ended(a: &AttemptTiming) -> anyhow::Result<DateTime<Utc>> {
    a.finished_at
        .with_context(|| format!("attempt {} has no end", a.attempt))
}

/// Seconds from the first attempt's start to the last one's end.
fn span_secs(attempts: &[AttemptTiming]) -> anyhow::Result<f64> {
    let first = attempts
        .iter()
        .map(started)
        .collect::<anyhow::Result<Vec<_>>>()?;
    let last = attempts
        .iter()
        .map(ended)
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(millis(
        *first.iter().min().context("no attempt")?,
        *last.iter().max().context("no attempt")?,
    ) / 1000.0)
}

/// Fails when the jobs were created too late for their due second.
fn check_created_before(due: DateTime<Utc>) -> anyhow::Result<()> {
    if Utc::now() >= due {
        bail!("creating the jobs took longer than planned: their due time {due} passed");
    }
    Ok(())
}

/// Creates `count` jobs with `fields(i)` using a few requests in flight; returns them in order.
async fn create_many(
    harness: &Harness,
    folder: impl Fn(usize) -> i64,
    count: usize,
    name: impl Fn(usize) -> String,
    fields: impl Fn(usize) -> Value,
) -> anyhow::Result<Vec<JobId>> {
    let requests = (0..count).map(|i| {
        let (folder, name, fields) = (folder(i), name(i), fields(i));
        async move { harness.job(folder, &name, fields).await.map(|id| (i, id)) }
    });
    let mut created: Vec<(usize, JobId)> = stream::iter(requests)
        .buffer_unordered(CREATE_CONCURRENCY)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    created.sort();
    Ok(created.into_iter().map(|(_, id)| id).collect())
}

/// W1: a chain of 20 `true` jobs; the first is due at one second, the others depend on the one
/// before. Per edge: child start − parent end.
pub async fn chain(harness: &Harness) -> anyhow::Result<Report> {
    let folder = harness.folder("bench-w1").await?;
    let since = Utc::now();
    let due = due_in(Duration::from_secs(2));
    let mut jobs = vec![
        harness
            .job(folder, "w1-01", json!({ "cron": cron_at(due) }))
            .await?,
    ];
    for n in 2..=20 {
        let upstream = jobs[jobs.len() - 1];
        let job = harness
            .job(
                folder,
                &format!("w1-{n:02}"),
                json!({ "dependencies": [upstream.0] }),
            )
            .await?;
        jobs.push(job);
    }
    check_created_before(due)?;
    let attempts = harness
        .wait_attempts(
            &jobs.iter().copied().collect(),
            since,
            Duration::from_secs(120),
        )
        .await?;
    let runs = by_job(&attempts);
    let (mut edges, mut decide, mut spawn) = (Vec::new(), Vec::new(), Vec::new());
    for pair in jobs.windows(2) {
        let (parent, child) = (runs[&pair[0]], runs[&pair[1]]);
        edges.push(millis(ended(parent)?, started(child)?));
        // The edge in two parts: the server (parent's end → child dispatched) and the worker
        // (dispatched → process started).
        decide.push(millis(ended(parent)?, child.created_at));
        spawn.push(millis(child.created_at, started(child)?));
    }
    let wall = millis(started(runs[&jobs[0]])?, ended(runs[&jobs[19]])?);
    let (edges, decide, spawn) = (sorted(edges), sorted(decide), sorted(spawn));
    Ok(Report::from([
        ("w1.per_edge_ms_median".to_owned(), quantile(&edges, 0.5)),
        ("w1.per_edge_ms_p95".to_owned(), quantile(&edges, 0.95)),
        ("w1.server_ms_median".to_owned(), quantile(&decide, 0.5)),
        ("w1.worker_ms_median".to_owned(), quantile(&spawn, 0.5)),
        ("w1.wall_s".to_owned(), wall / 1000.0),
    ]))
}

/// W2: `count` independent `true` jobs due in the same second.
pub async fn fan_out(harness: &Harness, count: usize, so_far: &Report) -> anyhow::Result<Report> {
    let idle_ms_per_s = idle_rate(so_far).await?;
    let folder = harness.folder("bench-w2").await?;
    let since = Utc::now();
    let due = due_in(Duration::from_millis(2000 + 10 * count as u64));
    let cron = cron_at(due);
    let jobs = create_many(
        harness,
        |_| folder,
        count,
        |i| format!("w2-{i:04}"),
        |_| json!({ "cron": cron }),
    )
    .await?;
    check_created_before(due)?;
    let until_due = (due - Utc::now() - chrono::Duration::milliseconds(200))
        .to_std()
        .unwrap_or_default();
    tokio::time::sleep(until_due).await;
    let (before, clock) = (probes::cpu(), Instant::now());
    let attempts = harness
        .wait_attempts(
            &jobs.iter().copied().collect(),
            since,
            Duration::from_secs(300),
        )
        .await?;
    let (after, elapsed_s) = (probes::cpu(), clock.elapsed().as_secs_f64());
    let span = span_secs(&attempts)?;
    let n = count as f64;
    let own = after.own_ms - before.own_ms;
    let children = after.children_ms - before.children_ms;
    let jobs_per_s = n / span.max(1e-6);
    let mut report = Report::from([
        ("w2.jobs_per_s".to_owned(), jobs_per_s),
        ("w2.span_s".to_owned(), span),
        ("w2.cpu_ms_per_job_gross".to_owned(), (own + children) / n),
        (
            "w2.cpu_ms_per_job_net".to_owned(),
            (own - idle_ms_per_s * elapsed_s).max(0.0) / n,
        ),
        ("w2.cpu_ms_per_job_children".to_owned(), children / n),
    ]);
    if let Some(ceiling) = so_far.get("l0.spawns_per_s") {
        report.insert("w2.fraction_of_l0".to_owned(), jobs_per_s / ceiling);
    }
    Ok(report)
}

/// The background CPU of the idle standalone in ms per second, to subtract (measured now if the
/// idle workload did not run).
async fn idle_rate(so_far: &Report) -> anyhow::Result<f64> {
    Ok(match so_far.get("idle.cpu_ms_per_s") {
        Some(rate) => *rate,
        None => probes::idle(2.0).await?["idle.cpu_ms_per_s"],
    })
}

/// W3: 10 levels of 10 jobs; each job of a level depends on every job of the level before (900
/// edges). Level gap: first start of a level − last end of the level before.
pub async fn layers(harness: &Harness) -> anyhow::Result<Report> {
    let folder = harness.folder("bench-w3").await?;
    let since = Utc::now();
    let due = due_in(Duration::from_secs(3));
    let mut levels: Vec<Vec<JobId>> = Vec::new();
    for level in 0..10 {
        let fields = match levels.last() {
            None => json!({ "cron": cron_at(due) }),
            Some(previous) => {
                json!({ "dependencies": previous.iter().map(|j| j.0).collect::<Vec<_>>() })
            }
        };
        let jobs = create_many(
            harness,
            |_| folder,
            10,
            |i| format!("w3-{level}-{i}"),
            |_| fields.clone(),
        )
        .await?;
        levels.push(jobs);
    }
    check_created_before(due)?;
    let all: BTreeSet<JobId> = levels.iter().flatten().copied().collect();
    let attempts = harness
        .wait_attempts(&all, since, Duration::from_secs(120))
        .await?;
    let runs = by_job(&attempts);
    let mut gaps = Vec::new();
    let mut per_task = Vec::new();
    for pair in levels.windows(2) {
        let previous_end = pair[0]
            .iter()
            .map(|j| ended(runs[j]))
            .collect::<anyhow::Result<Vec<_>>>()?
            .into_iter()
            .max()
            .context("empty level")?;
        let starts = pair[1]
            .iter()
            .map(|j| started(runs[j]))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let first = *starts.iter().min().context("empty level")?;
        gaps.push(millis(previous_end, first));
        per_task.extend(starts.iter().map(|s| millis(previous_end, *s)));
    }
    let (gaps, per_task) = (sorted(gaps), sorted(per_task));
    Ok(Report::from([
        ("w3.level_gap_ms_median".to_owned(), quantile(&gaps, 0.5)),
        ("w3.level_gap_ms_p95".to_owned(), quantile(&gaps, 0.95)),
        ("w3.per_task_ms_median".to_owned(), quantile(&per_task, 0.5)),
    ]))
}

/// S1: `count` jobs due in the same second. Lateness: process start − due time.
pub async fn same_second(
    harness: &Harness,
    count: usize,
    so_far: &Report,
) -> anyhow::Result<Report> {
    let idle_ms_per_s = idle_rate(so_far).await?;
    let folder = harness.folder("bench-s1").await?;
    let since = Utc::now();
    // Creation runs at several hundred jobs per second; leave room for a slow machine.
    let due = due_in(Duration::from_millis(4000 + 8 * count as u64));
    let cron = cron_at(due);
    let created = Instant::now();
    let jobs = create_many(
        harness,
        |_| folder,
        count,
        |i| format!("s1-{i:05}"),
        |_| json!({ "cron": cron }),
    )
    .await?;
    let create_s = created.elapsed().as_secs_f64();
    check_created_before(due)?;
    let (before, clock) = (probes::cpu(), Instant::now());
    let attempts = harness
        .wait_attempts(
            &jobs.iter().copied().collect(),
            since,
            Duration::from_secs(600),
        )
        .await?;
    let (after, elapsed_s) = (probes::cpu(), clock.elapsed().as_secs_f64());
    let n = count as f64;
    let own = after.own_ms - before.own_ms;
    let mut lateness = Vec::new();
    // Where the time goes: dispatch → process start (worker), process start → result stored
    // (the job and its report), and the first dispatch after the due time (the scheduler
    // creating every instance).
    let (mut to_start, mut running) = (Vec::new(), Vec::new());
    let mut last_start = due;
    let mut first_dispatch = None::<DateTime<Utc>>;
    for attempt in by_job(&attempts).values() {
        let start = started(attempt)?;
        lateness.push(millis(attempt.scheduled_at, start));
        last_start = last_start.max(start);
        to_start.push(millis(attempt.created_at, start));
        if let Some(end) = attempt.finished_at {
            running.push(millis(start, end));
        }
        first_dispatch =
            Some(first_dispatch.map_or(attempt.created_at, |f| f.min(attempt.created_at)));
    }
    let lateness = sorted(lateness);
    let (to_start, running) = (sorted(to_start), sorted(running));
    Ok(Report::from([
        (
            "s1.dispatch_to_start_ms_median".to_owned(),
            quantile(&to_start, 0.5),
        ),
        ("s1.run_ms_median".to_owned(), quantile(&running, 0.5)),
        (
            "s1.first_dispatch_s".to_owned(),
            first_dispatch.map_or(0.0, |f| millis(due, f) / 1000.0),
        ),
        ("s1.lateness_ms_p50".to_owned(), quantile(&lateness, 0.5)),
        ("s1.lateness_ms_p99".to_owned(), quantile(&lateness, 0.99)),
        (
            "s1.all_started_s".to_owned(),
            millis(due, last_start) / 1000.0,
        ),
        ("s1.create_per_s".to_owned(), n / create_s),
        (
            "s1.cpu_ms_per_job_net".to_owned(),
            (own - idle_ms_per_s * elapsed_s).max(0.0) / n,
        ),
        (
            "s1.cpu_ms_per_job_children".to_owned(),
            (after.children_ms - before.children_ms) / n,
        ),
    ]))
}

/// S3: `count` attempts each printing `lines` numbered lines. Lines per second into the store (all
/// attempts) and to WebSocket subscribers (of up to four attempts); lines lost (read back).
pub async fn log_flood(harness: &Harness, count: usize, lines: usize) -> anyhow::Result<Report> {
    let folder = harness.folder("bench-s3").await?;
    let since = Utc::now();
    let script = format!("seq 1 {lines}");
    let jobs = create_many(
        harness,
        |_| folder,
        count,
        |i| format!("s3-{i:03}"),
        |_| json!({ "script": script }),
    )
    .await?;
    for job in &jobs {
        harness
            .post(&format!("/api/jobs/{job}/run"), &json!({}))
            .await?;
    }
    // Subscribe to the first attempts as soon as they exist.
    let watched: BTreeSet<JobId> = jobs.iter().take(4).copied().collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    let subscribed = loop {
        let found: Vec<AttemptTiming> = harness
            .store
            .attempt_times(since)
            .await?
            .into_iter()
            .filter(|a| watched.contains(&a.job))
            .collect();
        if found.len() == watched.len() {
            break found;
        }
        if Instant::now() > deadline {
            bail!("the watched attempts were not dispatched within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let clock = Instant::now();
    let subscribers: Vec<_> = subscribed
        .iter()
        .map(|a| {
            tokio::spawn(follow(
                harness.base.clone(),
                harness.token.clone(),
                a.attempt,
            ))
        })
        .collect();
    let attempts = harness
        .wait_attempts(
            &jobs.iter().copied().collect(),
            since,
            Duration::from_secs(1800),
        )
        .await?;
    let mut received = 0_usize;
    for subscriber in subscribers {
        received += subscriber.await??;
    }
    let ws_secs = clock.elapsed().as_secs_f64();
    let mut lost = 0;
    for attempt in &attempts {
        lost += lines - numbered_lines(harness, attempt, lines).await?;
    }
    let span = span_secs(&attempts)?;
    Ok(Report::from([
        (
            "s3.lines_per_s".to_owned(),
            (count * lines) as f64 / span.max(1e-6),
        ),
        (
            "s3.ws_lines_per_s".to_owned(),
            received as f64 / ws_secs.max(1e-6),
        ),
        ("s3.ws_lines".to_owned(), received as f64),
        ("s3.lines_lost".to_owned(), lost as f64),
    ]))
}

/// Follows an attempt's log over the WebSocket from offset 0 to its end; returns the lines seen.
async fn follow(
    base: String,
    token: String,
    attempt: app::ids::AttemptId,
) -> anyhow::Result<usize> {
    let url = format!(
        "{}/api/ws/attempts/{attempt}/log?offset=0&access_token={token}",
        base.replacen("http", "ws", 1)
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await?;
    let mut lines = 0;
    while let Some(message) = socket.next().await {
        let tokio_tungstenite::tungstenite::Message::Text(text) = message? else {
            continue;
        };
        match serde_json::from_str::<LogMessage>(&text)? {
            LogMessage::Chunk { text, .. } => lines += text.matches('\n').count(),
            LogMessage::Complete { .. } => break,
        }
    }
    let _ = socket.close(None).await;
    Ok(lines)
}

/// How many of the numbers 1..=`lines` the stored log of an attempt holds, each once.
async fn numbered_lines(
    harness: &Harness,
    attempt: &AttemptTiming,
    lines: usize,
) -> anyhow::Result<usize> {
    let mut seen = vec![false; lines + 1];
    let mut offset = 0;
    let mut carry = String::new();
    loop {
        let (text, next) = harness
            .store
            .read_log(attempt.attempt, offset, 1 << 20)
            .await?;
        if text.is_empty() {
            break;
        }
        offset = next;
        carry.push_str(&text);
        let complete = carry.rfind('\n').map_or(0, |i| i + 1);
        for line in carry[..complete].lines() {
            // Each line is `[timestamp] payload`.
            if let Some((_, payload)) = line.split_once("] ")
                && let Ok(n) = payload.trim().parse::<usize>()
                && (1..=lines).contains(&n)
            {
                seen[n] = true;
            }
        }
        carry.drain(..complete);
    }
    Ok(seen.iter().filter(|s| **s).count())
}

/// S2: `count` job definitions (no schedule) in folders of 1,000. Creation rate, RSS, list and
/// search latency, then a restart: its time and RSS. Returns the restarted harness.
pub async fn definitions(
    harness: Harness,
    data_dir: &Path,
    count: usize,
    settings: &super::harness::Settings,
) -> anyhow::Result<(Report, Harness)> {
    let per_folder = 1000;
    let mut folders = Vec::new();
    for i in 0..count.div_ceil(per_folder) {
        folders.push(harness.folder(&format!("bench-s2-{i:03}")).await?);
    }
    let created = Instant::now();
    create_many(
        &harness,
        |i| folders[i / per_folder],
        count,
        |i| format!("s2-{i:06}"),
        |_| json!({}),
    )
    .await?;
    let create_s = created.elapsed().as_secs_f64();
    let mut report = Report::from([
        ("s2.create_per_s".to_owned(), count as f64 / create_s),
        ("s2.rss_mb".to_owned(), probes::rss_mb()),
    ]);
    let mut list = Vec::new();
    let mut search = Vec::new();
    for round in 0..20 {
        let folder = folders[round % folders.len()];
        let clock = Instant::now();
        harness
            .get(&format!("/api/jobs?folder_id={folder}"))
            .await?;
        list.push(clock.elapsed().as_secs_f64() * 1000.0);
        let text = format!("s2-{:04}", (round * 37) % count.div_ceil(100).max(1));
        let clock = Instant::now();
        let found = harness.get(&format!("/api/jobs?q={text}&limit=50")).await?;
        search.push(clock.elapsed().as_secs_f64() * 1000.0);
        if found.as_array().is_none_or(Vec::is_empty) {
            bail!("searching `{text}` found nothing");
        }
    }
    let (list, search) = (sorted(list), sorted(search));
    report.insert("s2.list_ms_p95".to_owned(), quantile(&list, 0.95));
    report.insert("s2.search_ms_p95".to_owned(), quantile(&search, 0.95));
    // Restart on the same database: the time until the API answers and the worker is back.
    harness.stop().await;
    let clock = Instant::now();
    let restarted = Harness::start(data_dir, settings).await?;
    report.insert("s2.startup_s".to_owned(), clock.elapsed().as_secs_f64());
    report.insert("s2.rss_mb_after_restart".to_owned(), probes::rss_mb());
    Ok((report, restarted))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cron_fires_exactly_at_its_second() {
        let at = DateTime::parse_from_rfc3339("2026-11-24T07:05:09Z")
            .unwrap()
            .with_timezone(&Utc);
        let cron = cron_at(at);
        assert_eq!(cron, "9 5 7 24 11 ?");
        let schedule = app::cron::Schedule::parse(&cron, "UTC").unwrap();
        assert_eq!(
            schedule.next_after(at - chrono::Duration::seconds(1)),
            Some(at)
        );
    }
}
