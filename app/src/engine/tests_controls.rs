//! Scenario tests of the job controls: pause and resume, run-time parameters, per-edge skip
//! propagation, business calendars, and dependency-only jobs below daily.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::{
    CalendarSpec, Effect, EngineError, Handled, Input, JobSpec,
    sim::{Sim, at, job, state_at},
};
use crate::{
    domain::{
        AttemptOutcome::{self, Succeeded},
        CalendarMode, DayKind, DependencyWindow,
        InstanceState::*,
        MisfirePolicy, OnSkip, TriggerKind,
    },
    ids::{CalendarId, InstanceId, JobId},
};

fn paused(mut spec: JobSpec, since: &str) -> JobSpec {
    spec.paused_since = Some(at(since));
    spec
}

/// The last state of each instance of `job` the engine ever persisted, by business time (from
/// the effect history, so instances pruned from memory still count).
fn states_of(sim: &Sim, job: i64) -> Vec<(String, String)> {
    let mut last = BTreeMap::new();
    for (_, effect) in &sim.history {
        if let Effect::PersistInstance(record) = effect
            && record.job == JobId(job)
        {
            last.insert(record.scheduled_at, record.state);
        }
    }
    last.into_iter()
        .map(|(t, state)| (t.format("%d %H:%M").to_string(), state.to_string()))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

#[test]
fn a_paused_job_gets_no_instances_and_resume_applies_its_misfire_policy() {
    for (policy, expected) in [
        (
            MisfirePolicy::CatchUp,
            pairs(&[
                ("24 01:00", "success"),
                ("24 02:00", "success"),
                ("24 03:00", "success"),
                ("24 04:00", "success"),
                ("24 05:00", "success"),
            ]),
        ),
        (
            MisfirePolicy::FireOnceNow,
            pairs(&[
                ("24 01:00", "success"),
                ("24 02:00", "skipped"),
                ("24 03:00", "skipped"),
                ("24 04:00", "success"),
                ("24 05:00", "success"),
            ]),
        ),
    ] {
        let mut sim = Sim::new("2026-11-24T00:30:00Z");
        sim.add_worker(1, "default", 4);
        let mut spec = job(1, Some("0 0 * * * ?"), &[]);
        spec.misfire = policy;
        sim.add_job(spec.clone());
        sim.run_until("2026-11-24T01:30:00Z");
        sim.add_job(paused(spec.clone(), "2026-11-24T01:30:00Z"));
        sim.run_until("2026-11-24T04:30:00Z");
        assert_eq!(states_of(&sim, 1), pairs(&[("24 01:00", "success")]));
        // Resume: the slots missed while paused are handled like a misfire.
        sim.add_job(spec);
        sim.run_until("2026-11-24T05:30:00Z");
        assert_eq!(states_of(&sim, 1), expected, "{policy}");
    }
}

#[test]
fn a_paused_job_holds_its_waiting_instances_and_its_downstream_waits_for_it() {
    let mut sim = Sim::new("2026-11-24T00:00:00Z");
    sim.add_worker(1, "default", 4);
    sim.add_job(job(1, Some("0 0 1 * * ?"), &[]));
    sim.add_job(paused(
        job(2, Some("0 0 0 * * ?"), &[1]),
        "2026-11-24T00:00:00Z",
    ));
    sim.add_job(job(3, Some("0 0 0 * * ?"), &[2]));
    sim.run_until("2026-11-25T00:30:00Z");
    // Job 2 created nothing while paused; job 3 of the 25th waits for it, not past it.
    assert_eq!(state_at(&sim, 2, "2026-11-25T00:00:00Z"), None);
    assert_eq!(state_at(&sim, 3, "2026-11-25T00:00:00Z"), Some(Waiting));
    let why = sim
        .engine
        .why(sim.engine.by_job_time[&(JobId(3), at("2026-11-25T00:00:00Z"))])
        .unwrap();
    assert!(why.summary.contains("job 2 has no instance"), "{why:?}");

    // Resumed: the missed 25th slot fires once now, then waits for job 1 of the 25th.
    sim.add_job(job(2, Some("0 0 0 * * ?"), &[1]));
    sim.run_until("2026-11-25T00:31:00Z");
    assert_eq!(state_at(&sim, 2, "2026-11-25T00:00:00Z"), Some(Waiting));
    // Paused again while it waits: job 1 succeeds, job 2 stays held with the reason.
    sim.add_job(paused(
        job(2, Some("0 0 0 * * ?"), &[1]),
        "2026-11-25T00:31:00Z",
    ));
    sim.run_until("2026-11-25T02:00:00Z");
    assert_eq!(state_at(&sim, 1, "2026-11-25T01:00:00Z"), Some(Success));
    let held = sim.engine.by_job_time[&(JobId(2), at("2026-11-25T00:00:00Z"))];
    assert_eq!(sim.engine.instance(held).unwrap().state, Waiting);
    assert!(
        sim.engine
            .instance(held)
            .unwrap()
            .reason
            .as_deref()
            .unwrap()
            .contains("paused"),
        "{:?}",
        sim.engine.instance(held)
    );
    // A manual run of a paused job still runs.
    let manual = sim
        .input(Input::Trigger {
            job: JobId(2),
            kind: TriggerKind::Manual,
            params: BTreeMap::new(),
            at: None,
        })
        .unwrap();
    assert!(matches!(manual, Handled::Instance(_)));
    sim.add_job(job(2, Some("0 0 0 * * ?"), &[1]));
    sim.run_until("2026-11-25T03:00:00Z");
    assert_eq!(state_at(&sim, 2, "2026-11-25T00:00:00Z"), Some(Success));
    assert_eq!(state_at(&sim, 3, "2026-11-25T00:00:00Z"), Some(Success));
}

#[test]
fn run_time_parameters_reach_the_dispatch_and_same_second_triggers_collapse() {
    let mut sim = Sim::new("2026-11-24T10:00:00Z");
    sim.add_job(job(1, None, &[]));
    let params = |v: &str| BTreeMap::from([("DAY".to_owned(), v.to_owned())]);
    let trigger = |sim: &mut Sim, p: BTreeMap<String, String>, when: Option<&str>| {
        sim.input(Input::Trigger {
            job: JobId(1),
            kind: TriggerKind::Api,
            params: p,
            at: when.map(at),
        })
    };
    // No worker yet: instances stay queued.
    let first = trigger(&mut sim, params("1"), None);
    assert_eq!(first, Ok(Handled::Instance(InstanceId(1))));
    // A double click (same second, same parameters) names the same instance.
    assert_eq!(trigger(&mut sim, params("1"), None), first);
    // Other parameters in the same second: the next free second.
    assert_eq!(
        trigger(&mut sim, params("2"), None),
        Ok(Handled::Instance(InstanceId(2)))
    );
    assert_eq!(state_at(&sim, 1, "2026-11-24T10:00:01Z"), Some(Queued));
    // An explicit business time that is taken by an active run is refused.
    assert_eq!(
        trigger(&mut sim, params("3"), Some("2026-11-24T10:00:00Z")),
        Err(EngineError::Busy(InstanceId(1)))
    );
    sim.add_worker(1, "default", 4);
    sim.run_until("2026-11-24T10:01:00Z");
    let dispatched: Vec<(InstanceId, BTreeMap<String, String>)> = sim
        .history
        .iter()
        .filter_map(|(_, e)| match e {
            Effect::Dispatch {
                attempt, params, ..
            } => Some((attempt.instance, params.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        dispatched,
        vec![(InstanceId(1), params("1")), (InstanceId(2), params("2"))]
    );
    // Once ended, a trigger at that business time reruns it with the new parameters.
    assert_eq!(
        trigger(&mut sim, params("4"), Some("2026-11-24T10:00:00Z")),
        Ok(Handled::Instance(InstanceId(1)))
    );
    assert_eq!(
        sim.engine.instance(InstanceId(1)).unwrap().params,
        params("4")
    );
}

#[test]
fn a_skipped_upstream_is_done_or_propagates_per_edge() {
    let mut sim = Sim::new("2026-11-24T00:00:00Z");
    sim.add_job(job(1, Some("0 0 1 * * ?"), &[]));
    let mut propagate = job(2, Some("0 0 2 * * ?"), &[1]);
    propagate.on_skip.insert(JobId(1), OnSkip::Propagate);
    sim.add_job(propagate);
    sim.add_job(job(3, Some("0 0 2 * * ?"), &[1]));
    let mut chained = job(4, Some("0 0 3 * * ?"), &[2]);
    chained.on_skip.insert(JobId(2), OnSkip::Propagate);
    sim.add_job(chained);
    sim.add_job(job(5, Some("0 0 3 * * ?"), &[2]));
    // No worker yet: job 1 is queued at 01:00 and a user skips it.
    sim.run_until("2026-11-24T01:30:00Z");
    let first = sim.engine.by_job_time[&(JobId(1), at("2026-11-24T01:00:00Z"))];
    sim.input(Input::Force {
        instance: first,
        state: Skipped,
        reason: "source late, skip today".to_owned(),
    })
    .unwrap();
    sim.add_worker(1, "default", 4);
    sim.run_until("2026-11-24T04:00:00Z");
    assert_eq!(state_at(&sim, 2, "2026-11-24T02:00:00Z"), Some(Skipped));
    assert_eq!(state_at(&sim, 3, "2026-11-24T02:00:00Z"), Some(Success));
    assert_eq!(state_at(&sim, 4, "2026-11-24T03:00:00Z"), Some(Skipped));
    assert_eq!(state_at(&sim, 5, "2026-11-24T03:00:00Z"), Some(Success));
    let skipped = sim.engine.by_job_time[&(JobId(2), at("2026-11-24T02:00:00Z"))];
    let reason = sim
        .engine
        .instance(skipped)
        .unwrap()
        .reason
        .clone()
        .unwrap();
    assert!(reason.contains("propagates skips"), "{reason}");
}

fn calendar(holidays: &[&str], workdays: &[&str]) -> CalendarSpec {
    let date = |d: &&str| NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
    let mut days = BTreeMap::new();
    days.extend(holidays.iter().map(|d| (date(d), DayKind::Holiday)));
    days.extend(workdays.iter().map(|d| (date(d), DayKind::Workday)));
    CalendarSpec {
        id: CalendarId(1),
        weekend: vec![6, 7],
        days,
    }
}

#[test]
fn a_calendar_filters_slots_and_downstream_does_not_wait_on_excluded_days() {
    let mut sim = Sim::new("2026-11-23T12:00:00Z");
    sim.add_worker(1, "default", 4);
    // Thursday the 26th is a holiday; Saturday the 28th a make-up working day.
    sim.input(Input::CalendarUpserted(calendar(
        &["2026-11-26"],
        &["2026-11-28"],
    )))
    .unwrap();
    let mut working = job(1, Some("0 0 1 * * ?"), &[]);
    working.calendar = Some(CalendarId(1));
    working.calendar_mode = CalendarMode::WorkingDays;
    sim.add_job(working);
    let mut off = job(2, Some("0 0 1 * * ?"), &[]);
    off.calendar = Some(CalendarId(1));
    off.calendar_mode = CalendarMode::NonWorkingDays;
    sim.add_job(off);
    sim.add_job(job(3, Some("0 0 2 * * ?"), &[1]));
    sim.run_until("2026-12-01T00:00:00Z");
    let days = |job: i64| -> Vec<String> {
        states_of(&sim, job)
            .into_iter()
            .map(|(t, s)| format!("{} {s}", &t[..2]))
            .collect()
    };
    assert_eq!(
        days(1),
        ["24", "25", "27", "28", "30"].map(|d| format!("{d} success"))
    );
    assert_eq!(days(2), ["26", "29"].map(|d| format!("{d} success")));
    // The downstream runs every day; on the holiday it does not wait for job 1.
    assert_eq!(
        days(3),
        ["24", "25", "26", "27", "28", "29", "30"].map(|d| format!("{d} success"))
    );

    // Editing the calendar takes effect at once: the 1st of December becomes a holiday.
    sim.input(Input::CalendarUpserted(calendar(&["2026-12-01"], &[])))
        .unwrap();
    sim.run_until("2026-12-02T12:00:00Z");
    assert_eq!(state_at(&sim, 1, "2026-12-01T01:00:00Z"), None);
    assert_eq!(state_at(&sim, 2, "2026-12-01T01:00:00Z"), Some(Success));
    assert_eq!(state_at(&sim, 1, "2026-12-02T01:00:00Z"), Some(Success));
}

#[test]
fn a_dependency_only_job_on_same_hour_edges_runs_once_per_hour() {
    let mut sim = Sim::new("2026-11-24T00:00:00Z");
    sim.add_worker(1, "default", 4);
    sim.add_job(job(1, Some("0 10 * * * ?"), &[]));
    sim.add_job(job(2, Some("0 20 * * * ?"), &[]));
    let mut hourly = job(3, None, &[1, 2]);
    hourly.windows.insert(JobId(1), DependencyWindow::SameHour);
    hourly.windows.insert(JobId(2), DependencyWindow::SameHour);
    sim.add_job(hourly);
    sim.run_until("2026-11-24T03:00:00Z");
    assert_eq!(
        states_of(&sim, 3),
        pairs(&[
            ("24 00:20", "success"),
            ("24 01:20", "success"),
            ("24 02:20", "success"),
        ])
    );
}

#[test]
fn a_resumed_dependency_only_job_gets_the_periods_it_missed() {
    let mut sim = Sim::new("2026-11-24T00:00:00Z");
    sim.add_worker(1, "default", 4);
    sim.add_job(job(1, Some("0 0 1 * * ?"), &[]));
    sim.add_job(paused(job(2, None, &[1]), "2026-11-24T00:00:00Z"));
    sim.run_until("2026-11-26T00:00:00Z");
    assert!(states_of(&sim, 2).is_empty());
    sim.add_job(job(2, None, &[1]));
    sim.run_until("2026-11-26T00:10:00Z");
    assert_eq!(
        states_of(&sim, 2),
        pairs(&[("24 01:00", "success"), ("25 01:00", "success")])
    );
}

#[test]
fn exponential_backoff_doubles_with_jitter_up_to_the_maximum() {
    let mut sim = Sim::new("2026-11-24T10:00:00Z");
    sim.add_worker(1, "default", 1);
    let mut spec = job(1, None, &[]);
    spec.retry_count = 4;
    spec.retry_delay_secs = 10;
    spec.retry_backoff = crate::domain::RetryBackoff::Exponential;
    spec.retry_max_delay_secs = 60;
    sim.add_job(spec);
    sim.script(1, &[(1, crate::domain::AttemptOutcome::Failed); 5]);
    sim.input(Input::Trigger {
        job: JobId(1),
        kind: TriggerKind::Manual,
        params: BTreeMap::new(),
        at: None,
    })
    .unwrap();
    sim.run_until("2026-11-24T11:00:00Z");
    // (failure time, retry due) pairs from the persisted retry waits.
    let mut delays = Vec::new();
    for (time, effect) in &sim.history {
        if let Effect::PersistInstance(record) = effect
            && record.state == RetryWait
        {
            delays.push((record.retry_at.unwrap() - *time).num_milliseconds());
        }
    }
    assert_eq!(delays.len(), 4, "{delays:?}");
    for (delay, (low, high)) in delays.iter().zip([
        (8_000, 12_000),
        (16_000, 24_000),
        (32_000, 48_000),
        (48_000, 60_000),
    ]) {
        assert!((low..=high).contains(delay), "{delays:?}");
    }
    assert_eq!(state_at(&sim, 1, "2026-11-24T10:00:00Z"), Some(Failed));
}

#[test]
fn a_timeout_kills_the_attempt_and_counts_as_a_failure_and_overdue_is_noticed() {
    let mut sim = Sim::new("2026-11-24T10:00:00Z");
    sim.add_worker(1, "default", 1);
    let mut spec = job(1, None, &[]);
    spec.timeout_secs = Some(30);
    spec.expected_secs = Some(20);
    spec.retry_count = 1;
    sim.add_job(spec);
    sim.script(
        1,
        &[
            (100, crate::domain::AttemptOutcome::Succeeded),
            (25, crate::domain::AttemptOutcome::Succeeded),
        ],
    );
    sim.input(Input::Trigger {
        job: JobId(1),
        kind: TriggerKind::Manual,
        params: BTreeMap::new(),
        at: None,
    })
    .unwrap();
    sim.run_until("2026-11-24T10:05:00Z");
    let trace = sim.take_trace();
    for line in [
        "+00:00:20 attempt 1 overdue (expected 20 s)",
        "+00:00:30 cancel attempt 1 on worker 1",
        "+00:00:30 attempt 1 timed_out",
        "+00:00:30 instance 1 job 1 @11-24 10:00:00 retry_wait (attempt 1 failed (timed out after 30 s); retry 1 of 1 at 2026-11-24T10:00:30+00:00)",
        "attempt 2 overdue (expected 20 s)",
        "attempt 2 success exit 0",
    ] {
        assert!(trace.contains(line), "missing `{line}` in\n{trace}");
    }
    assert_eq!(state_at(&sim, 1, "2026-11-24T10:00:00Z"), Some(Success));
}

#[test]
fn a_drained_worker_gets_no_new_attempts_and_finishes_its_running_ones() {
    let mut sim = Sim::new("2026-11-24T10:00:00Z");
    sim.add_worker(1, "default", 4);
    sim.add_job(job(1, None, &[]));
    sim.script(1, &[(60, crate::domain::AttemptOutcome::Succeeded); 3]);
    let run = |sim: &mut Sim, second: &str| {
        sim.input(Input::Trigger {
            job: JobId(1),
            kind: TriggerKind::Manual,
            params: BTreeMap::new(),
            at: Some(at(second)),
        })
        .unwrap();
    };
    run(&mut sim, "2026-11-24T10:00:00Z");
    let drain = |sim: &mut Sim, draining| {
        sim.input(Input::WorkerDraining {
            worker: crate::ids::WorkerId(1),
            draining,
        })
        .unwrap();
    };
    drain(&mut sim, true);
    // Queued, not sent: the only worker drains; the running attempt still finishes.
    run(&mut sim, "2026-11-24T10:00:01Z");
    sim.run_until("2026-11-24T10:05:00Z");
    assert_eq!(state_at(&sim, 1, "2026-11-24T10:00:00Z"), Some(Success));
    assert_eq!(state_at(&sim, 1, "2026-11-24T10:00:01Z"), Some(Queued));
    // Another worker takes it; undrained, the first takes work again.
    sim.add_worker(2, "default", 1);
    sim.run_until("2026-11-24T10:10:00Z");
    assert_eq!(state_at(&sim, 1, "2026-11-24T10:00:01Z"), Some(Success));
    drain(&mut sim, false);
    run(&mut sim, "2026-11-24T10:10:00Z");
    let last = sim
        .history
        .iter()
        .filter_map(|(_, e)| match e {
            Effect::Dispatch { attempt, .. } => Some(attempt.worker),
            _ => None,
        })
        .collect::<Vec<_>>();
    assert_eq!(
        last,
        [1, 2, 1].map(crate::ids::WorkerId),
        "worker 1, then 2 while 1 drained, then 1 again"
    );
}

fn run_now(sim: &mut Sim, job: i64) -> InstanceId {
    match sim
        .input(Input::Trigger {
            job: JobId(job),
            kind: TriggerKind::Manual,
            params: BTreeMap::new(),
            at: None,
        })
        .unwrap()
    {
        Handled::Instance(id) => id,
        other => panic!("no instance: {other:?}"),
    }
}

#[test]
fn a_heavy_job_takes_several_slots_and_lighter_ones_fill_the_rest() {
    let mut sim = Sim::new("2026-11-24T00:00:00Z");
    sim.add_worker(1, "default", 3);
    let mut heavy = job(1, None, &[]);
    heavy.slot_weight = 2;
    sim.add_job(heavy);
    sim.add_job(job(2, None, &[]));
    sim.script(1, &[(600, Succeeded), (600, Succeeded)]);
    sim.script(2, &[(600, Succeeded), (600, Succeeded)]);
    let h1 = run_now(&mut sim, 1);
    sim.run_until("2026-11-24T00:00:01Z");
    let h2 = run_now(&mut sim, 1);
    let light = run_now(&mut sim, 2);
    sim.run_until("2026-11-24T00:00:02Z");
    // 2 of 3 slots taken by the first heavy one: the second waits, the light one passes it.
    assert_eq!(sim.engine.instances[&h1].state, Running);
    assert_eq!(sim.engine.instances[&h2].state, Queued);
    assert_eq!(sim.engine.instances[&light].state, Running);
    let why = sim.engine.why(h2).unwrap();
    assert_eq!(
        why.summary,
        "queued at position 1 of 1: waiting for 2 free slots on one worker of host group `default` (0 free in the group)"
    );
    sim.run_until("2026-11-24T00:10:30Z");
    assert_eq!(
        sim.engine.instances[&h2].state, Running,
        "after the first ended"
    );
}

#[test]
fn a_worker_over_its_load_limits_gets_nothing_until_it_is_under() {
    let mut sim = Sim::new("2026-11-24T00:00:00Z");
    sim.add_worker(1, "default", 4);
    sim.add_job(job(1, None, &[]));
    sim.script(1, &[(60, Succeeded)]);
    let load = |memory_percent: f32, load_per_core: f64| Input::WorkerLoad {
        worker: crate::ids::WorkerId(1),
        memory_percent,
        load_per_core: Some(load_per_core),
    };
    sim.input(load(95.0, 0.5)).unwrap();
    let id = run_now(&mut sim, 1);
    sim.run_until("2026-11-24T00:00:05Z");
    assert_eq!(sim.engine.instances[&id].state, Queued);
    assert_eq!(
        sim.engine.why(id).unwrap().summary,
        "queued: every worker of host group `default` is over its load limits (memory in use 95% ≥ 90%)"
    );
    sim.input(load(50.0, 4.5)).unwrap();
    assert_eq!(
        sim.engine.why(id).unwrap().summary,
        "queued: every worker of host group `default` is over its load limits (load per core 4.50 ≥ 4.00)"
    );
    // Back under both limits: the next heartbeat dispatches at once.
    sim.input(load(50.0, 1.0)).unwrap();
    assert_eq!(sim.engine.instances[&id].state, Running);
    sim.run_until("2026-11-24T00:02:00Z");
    assert_eq!(sim.engine.instances[&id].state, Success);
}

fn broadcast_job(id: i64, retries: u32) -> JobSpec {
    let mut spec = job(id, None, &[]);
    spec.broadcast = true;
    spec.retry_count = retries;
    spec.retry_delay_secs = 60;
    spec
}

/// The (worker, number) of each dispatch of an instance, from the effect history.
fn dispatches(sim: &Sim, instance: InstanceId) -> Vec<(i64, u32)> {
    sim.history
        .iter()
        .filter_map(|(_, effect)| match effect {
            Effect::Dispatch { attempt, .. } if attempt.instance == instance => {
                Some((attempt.worker.0, attempt.number))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_broadcast_job_runs_once_on_every_worker_of_its_group() {
    let mut sim = Sim::new("2026-11-24T00:00:00Z");
    for worker in 1..=3 {
        sim.add_worker(worker, "etl", 2);
    }
    sim.add_worker(4, "default", 2);
    let mut spec = broadcast_job(1, 0);
    spec.host_group = "etl".to_owned();
    sim.add_job(spec);
    sim.script(1, &[(10, Succeeded), (30, Succeeded), (20, Succeeded)]);
    let id = run_now(&mut sim, 1);
    sim.run_until("2026-11-24T00:00:15Z");
    assert_eq!(dispatches(&sim, id), [(1, 1), (2, 2), (3, 3)]);
    assert_eq!(
        sim.engine.instances[&id].state, Running,
        "until the last ends"
    );
    sim.run_until("2026-11-24T00:00:40Z");
    assert_eq!(sim.engine.instances[&id].state, Success);
}

#[test]
fn a_failed_attempt_fails_the_broadcast_after_the_others_end_and_retries_on_all() {
    let mut sim = Sim::new("2026-11-24T00:00:00Z");
    sim.add_worker(1, "default", 2);
    sim.add_worker(2, "default", 2);
    sim.add_job(broadcast_job(1, 1));
    sim.script(
        1,
        &[
            (5, AttemptOutcome::Failed),
            (30, Succeeded),
            (10, Succeeded),
            (10, Succeeded),
        ],
    );
    let id = run_now(&mut sim, 1);
    sim.run_until("2026-11-24T00:00:20Z");
    assert_eq!(
        sim.engine.instances[&id].state, Running,
        "the other still runs"
    );
    sim.run_until("2026-11-24T00:00:31Z");
    let record = &sim.engine.instances[&id];
    assert_eq!(record.state, RetryWait);
    assert!(
        record
            .reason
            .as_deref()
            .is_some_and(|r| r.starts_with("attempt 1 failed (exit code 1); retry 1 of 1")),
        "{:?}",
        record.reason
    );
    sim.run_until("2026-11-24T00:10:00Z");
    assert_eq!(sim.engine.instances[&id].state, Success);
    assert_eq!(dispatches(&sim, id), [(1, 1), (2, 2), (1, 3), (2, 4)]);
}

#[test]
fn a_broadcast_waits_for_room_on_every_worker_and_cancels_everywhere() {
    let mut sim = Sim::new("2026-11-24T00:00:00Z");
    sim.add_worker(1, "default", 1);
    sim.add_worker(2, "default", 1);
    sim.add_job(job(2, None, &[]));
    sim.script(2, &[(60, Succeeded)]);
    sim.add_job(broadcast_job(1, 0));
    sim.script(1, &[(600, Succeeded), (600, Succeeded)]);
    let busy = run_now(&mut sim, 2);
    sim.run_until("2026-11-24T00:00:01Z");
    assert_eq!(sim.engine.instances[&busy].state, Running);
    let id = run_now(&mut sim, 1);
    sim.run_until("2026-11-24T00:00:30Z");
    assert_eq!(
        sim.engine.instances[&id].state, Queued,
        "one worker is full"
    );
    assert_eq!(
        sim.engine.why(id).unwrap().summary,
        "queued: it runs on every worker of host group `default` at once and waits until each has 1 free slot(s) (2 worker(s), 1 free in the group)"
    );
    sim.run_until("2026-11-24T00:01:30Z");
    assert_eq!(sim.engine.instances[&id].state, Running);
    assert_eq!(dispatches(&sim, id).len(), 2);
    sim.input(Input::Cancel { instance: id }).unwrap();
    sim.run_until("2026-11-24T00:02:00Z");
    assert_eq!(sim.engine.instances[&id].state, Cancelled);
    let cancels = sim
        .history
        .iter()
        .filter(|(_, e)| matches!(e, Effect::Cancel { .. }))
        .count();
    assert_eq!(cancels, 2);
}
