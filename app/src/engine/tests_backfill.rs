//! Scenario tests of backfills: planning, dependency order, throttling, pause, resume, cancel,
//! rerunning the failed ones, and instances older than the engine's retention.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::{
    BackfillAction, BackfillItem, BackfillSpec, Config, Effect, Engine, EngineError, Handled,
    Input, InstanceRecord, PlanTimes, Snapshot,
    sim::{Sim, at, job, state_at},
};
use crate::{
    domain::{AttemptOutcome::*, BackfillOrder, DependencyWindow, InstanceState, TriggerKind},
    ids::{BackfillId, InstanceId, JobId},
};

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn spec(parallelism: u32, order: BackfillOrder) -> BackfillSpec {
    BackfillSpec {
        id: BackfillId(1),
        parallelism,
        order,
        paused: false,
    }
}

fn items(plan: &[(JobId, DateTime<Utc>)]) -> Vec<BackfillItem> {
    plan.iter()
        .map(|(job, at)| BackfillItem {
            job: *job,
            at: *at,
            version: 1,
        })
        .collect()
}

fn plan_text(plan: &[(JobId, DateTime<Utc>)]) -> Vec<String> {
    plan.iter()
        .map(|(j, t)| format!("{j}@{}", t.format("%d %H:%M")))
        .collect()
}

/// (instance, dispatch time, end time) of every attempt, from the effect history.
fn runs(sim: &Sim) -> Vec<(InstanceId, DateTime<Utc>, DateTime<Utc>)> {
    let mut started = BTreeMap::new();
    let mut out = Vec::new();
    for (time, effect) in &sim.history {
        if let Effect::PersistAttempt(attempt) = effect {
            if attempt.state == crate::domain::AttemptState::Dispatched {
                started.insert(attempt.id, (attempt.instance, *time));
            } else if attempt.state.is_terminal()
                && let Some((instance, start)) = started.remove(&attempt.id)
            {
                out.push((instance, start, *time));
            }
        }
    }
    out
}

/// Three days of a chain 1 -> 2 -> 3 (3 waits for 2 of the previous day), all succeeded.
fn chain_history() -> Sim {
    let mut sim = Sim::new("2026-11-24T00:00:00Z");
    sim.add_worker(1, "default", 8);
    sim.add_job(job(1, Some("0 0 1 * * ?"), &[]));
    sim.add_job(job(2, Some("0 0 2 * * ?"), &[1]));
    let mut third = job(3, Some("0 0 3 * * ?"), &[2]);
    third
        .windows
        .insert(JobId(2), DependencyWindow::PreviousDay);
    sim.add_job(third);
    sim.run_until("2026-11-27T10:00:00Z");
    sim
}

#[test]
fn a_plan_lists_the_job_and_its_downstream_by_window_in_dependency_order() {
    let sim = chain_history();
    let dates = PlanTimes::Dates {
        start: date("2026-11-24"),
        end: date("2026-11-25"),
    };
    let plan = sim.engine.plan_backfill(JobId(1), true, &dates).unwrap();
    assert_eq!(
        plan_text(&plan),
        [
            "1@24 01:00",
            "1@25 01:00",
            "2@24 02:00",
            "2@25 02:00",
            "3@25 03:00",
            "3@26 03:00"
        ]
    );
    let alone = sim.engine.plan_backfill(JobId(2), false, &dates).unwrap();
    assert_eq!(plan_text(&alone), ["2@24 02:00", "2@25 02:00"]);
    let listed = PlanTimes::Times(vec![at("2026-11-25T01:00:00.250Z")]);
    let plan = sim.engine.plan_backfill(JobId(1), true, &listed).unwrap();
    assert_eq!(plan_text(&plan), ["1@25 01:00", "2@25 02:00", "3@26 03:00"]);
    let backwards = PlanTimes::Dates {
        start: date("2026-11-25"),
        end: date("2026-11-24"),
    };
    assert!(matches!(
        sim.engine.plan_backfill(JobId(1), false, &backwards),
        Err(EngineError::BadRequest(_))
    ));
    let huge = PlanTimes::Dates {
        start: date("2000-01-01"),
        end: date("2026-01-01"),
    };
    let mut minutely = Sim::new("2026-11-24T00:00:00Z");
    minutely.add_job(job(9, Some("0 * * * * ?"), &[]));
    assert!(matches!(
        minutely.engine.plan_backfill(JobId(9), false, &huge),
        Err(EngineError::BadRequest(msg)) if msg.contains("more than 10000")
    ));
    assert_eq!(
        sim.engine.plan_backfill(JobId(7), false, &dates),
        Err(EngineError::UnknownJob(JobId(7)))
    );
}

#[test]
fn a_backfill_reruns_in_dependency_order_one_at_a_time() {
    let mut sim = chain_history();
    let dates = PlanTimes::Dates {
        start: date("2026-11-24"),
        end: date("2026-11-25"),
    };
    let plan = sim.engine.plan_backfill(JobId(1), true, &dates).unwrap();
    let before = runs(&sim).len();
    let res = sim.input(Input::Backfill {
        spec: spec(1, BackfillOrder::OldestFirst),
        action: BackfillAction::Start(items(&plan)),
    });
    assert_eq!(res, Ok(Handled::Done));
    // All six are waiting or queued at once: nothing downstream saw an old success.
    sim.run_until("2026-11-27T12:00:00Z");
    let backfilled: Vec<_> = runs(&sim).split_off(before);
    assert_eq!(backfilled.len(), 6);
    // One at a time.
    for pair in backfilled.windows(2) {
        assert!(pair[1].1 >= pair[0].2, "{pair:?}");
    }
    // Each instance started after the instances it depends on ended.
    let order: Vec<String> = backfilled
        .iter()
        .map(|(id, _, _)| {
            let r = sim.engine.instance(*id).unwrap();
            assert_eq!(r.state, InstanceState::Success);
            assert_eq!(r.trigger, TriggerKind::Backfill);
            format!("{}@{}", r.job, r.scheduled_at.format("%d %H:%M"))
        })
        .collect();
    assert_eq!(
        order,
        [
            "1@24 01:00",
            "2@24 02:00",
            "1@25 01:00",
            "2@25 02:00",
            "3@25 03:00",
            "3@26 03:00"
        ]
    );
    // The existing instances were rerun, not duplicated.
    assert_eq!(
        sim.engine.by_job_time.len(),
        sim.engine.instances.len(),
        "one instance per (job, business time)"
    );
}

#[test]
fn parallelism_and_newest_first_order_are_respected() {
    let mut sim = Sim::new("2026-11-24T00:00:00Z");
    sim.add_worker(1, "default", 16);
    sim.add_job(job(1, Some("0 0 * * * ?"), &[]));
    sim.script(1, &[(600, Succeeded); 24]);
    let plan = sim
        .engine
        .plan_backfill(
            JobId(1),
            false,
            &PlanTimes::Dates {
                start: date("2026-11-20"),
                end: date("2026-11-20"),
            },
        )
        .unwrap();
    assert_eq!(plan.len(), 24);
    sim.input(Input::Backfill {
        spec: spec(3, BackfillOrder::NewestFirst),
        action: BackfillAction::Start(items(&plan)),
    })
    .unwrap();
    sim.run_until("2026-11-24T00:00:01Z");
    // The three newest start first (the dispatch queue then orders them by business time).
    let first: Vec<String> = runs_started(&sim);
    assert_eq!(first, ["20 21:00", "20 22:00", "20 23:00"]);
    sim.run_until("2026-11-24T06:00:00Z");
    // Never more than three at once (each runs 10 minutes): 24 runs take 8 rounds.
    let all: Vec<_> = runs(&sim)
        .into_iter()
        .filter(|(id, _, _)| sim.engine.instance(*id).unwrap().backfill.is_some())
        .collect();
    assert_eq!(all.len(), 24);
    for (_, start, _) in &all {
        let concurrent = all
            .iter()
            .filter(|(_, s, e)| s <= start && e > start)
            .count();
        assert!(concurrent <= 3, "{concurrent} at {start}");
    }
    let last_end = all.iter().map(|r| r.2).max().unwrap();
    assert_eq!(last_end, at("2026-11-24T01:20:00Z"));
}

fn runs_started(sim: &Sim) -> Vec<String> {
    sim.history
        .iter()
        .filter_map(|(_, e)| match e {
            Effect::Dispatch { scheduled_at, .. } => {
                Some(scheduled_at.format("%d %H:%M").to_string())
            }
            _ => None,
        })
        .collect()
}

#[test]
fn pause_resume_cancel_and_rerun_the_failed_ones() {
    let mut sim = Sim::new("2026-11-24T02:00:00Z");
    sim.add_worker(1, "default", 4);
    // Its own next slot (the 25th, 01:00) is after the end of the story.
    sim.add_job(job(1, Some("0 0 1 * * ?"), &[]));
    sim.script(
        1,
        &[
            (60, Succeeded),
            (60, Failed),
            (60, Succeeded),
            (60, Succeeded),
        ],
    );
    let plan = sim
        .engine
        .plan_backfill(
            JobId(1),
            false,
            &PlanTimes::Dates {
                start: date("2026-11-01"),
                end: date("2026-11-06"),
            },
        )
        .unwrap();
    let mut spec = spec(1, BackfillOrder::OldestFirst);
    sim.input(Input::Backfill {
        spec: spec.clone(),
        action: BackfillAction::Start(items(&plan)),
    })
    .unwrap();
    sim.run_until("2026-11-24T02:01:30Z");
    // The 1st succeeded, the 2nd runs; pause: the 2nd fails and nothing else starts.
    spec.paused = true;
    sim.input(Input::Backfill {
        spec: spec.clone(),
        action: BackfillAction::Pause,
    })
    .unwrap();
    sim.run_until("2026-11-24T03:00:00Z");
    let state = |sim: &Sim, day: &str| state_at(sim, 1, &format!("2026-11-{day}T01:00:00Z"));
    assert_eq!(state(&sim, "01"), Some(InstanceState::Success));
    assert_eq!(state(&sim, "02"), Some(InstanceState::Failed));
    assert_eq!(state(&sim, "03"), Some(InstanceState::Waiting));
    let waiting = sim.engine.by_job_time[&(JobId(1), at("2026-11-03T01:00:00Z"))];
    assert_eq!(
        sim.engine.instance(waiting).unwrap().reason.as_deref(),
        Some("backfill 1 is paused")
    );
    // Resume: the 3rd and 4th run, then cancel: the 5th and 6th are cancelled.
    spec.paused = false;
    sim.input(Input::Backfill {
        spec: spec.clone(),
        action: BackfillAction::Resume,
    })
    .unwrap();
    sim.run_until("2026-11-24T03:01:30Z");
    sim.input(Input::Backfill {
        spec: spec.clone(),
        action: BackfillAction::Cancel,
    })
    .unwrap();
    sim.run_until("2026-11-24T04:00:00Z");
    assert_eq!(state(&sim, "03"), Some(InstanceState::Success));
    assert_eq!(state(&sim, "04"), Some(InstanceState::Cancelled));
    assert_eq!(state(&sim, "05"), Some(InstanceState::Cancelled));
    assert_eq!(state(&sim, "06"), Some(InstanceState::Cancelled));
    // Rerun the failed and cancelled ones: all succeed.
    sim.script(1, &[(60, Succeeded); 4]);
    sim.input(Input::Backfill {
        spec: spec.clone(),
        action: BackfillAction::RerunFailed,
    })
    .unwrap();
    sim.run_until("2026-11-24T05:00:00Z");
    for day in ["01", "02", "03", "04", "05", "06"] {
        assert_eq!(state(&sim, day), Some(InstanceState::Success), "{day}");
    }
    assert!(matches!(
        sim.input(Input::Backfill {
            spec,
            action: BackfillAction::RerunFailed,
        }),
        Err(EngineError::BadRequest(_))
    ));
}

fn old_record(id: i64, job: i64, when: &str) -> InstanceRecord {
    let scheduled_at = at(when);
    InstanceRecord {
        id: InstanceId(id),
        job: JobId(job),
        scheduled_at,
        job_version: 1,
        trigger: TriggerKind::Scheduled,
        state: InstanceState::Success,
        reason: None,
        created_at: scheduled_at,
        started_at: Some(scheduled_at),
        finished_at: Some(scheduled_at + Duration::seconds(10)),
        attempts: 1,
        failed_attempts: 0,
        lost_attempts: 0,
        retry_at: None,
        next_trigger: TriggerKind::Scheduled,
        cancel_requested: false,
        params: BTreeMap::new(),
        backfill: None,
    }
}

#[test]
fn instances_older_than_the_retention_are_adopted_and_kept_while_needed() {
    // The engine restarted a month after these ran: it holds none of them.
    let mut sim = Sim::with_engine("2026-11-24T00:00:00Z", |now| {
        let snapshot = Snapshot {
            jobs: vec![
                job(1, Some("0 0 1 * * ?"), &[]),
                job(2, Some("0 0 2 * * ?"), &[1]),
            ],
            max_instance_id: 100,
            ..Snapshot::default()
        };
        Engine::recover(Config::default(), snapshot, now)
    });
    sim.add_worker(1, "default", 4);
    // Rerun job 2 of October 20th; job 1 of that day succeeded then and is not rerun.
    sim.input(Input::Adopt(vec![
        old_record(7, 1, "2026-10-20T01:00:00Z"),
        old_record(8, 2, "2026-10-20T02:00:00Z"),
    ]))
    .unwrap();
    // Slow the rerun down past a prune pass: the upstream record must survive it.
    sim.script(2, &[(7200, Succeeded)]);
    sim.input(Input::Backfill {
        spec: spec(1, BackfillOrder::OldestFirst),
        action: BackfillAction::Start(vec![BackfillItem {
            job: JobId(2),
            at: at("2026-10-20T02:00:00Z"),
            version: 3,
        }]),
    })
    .unwrap();
    sim.run_until("2026-11-24T03:00:00Z");
    let rerun = sim.engine.instance(InstanceId(8)).unwrap();
    assert_eq!(rerun.state, InstanceState::Success);
    assert_eq!(rerun.trigger, TriggerKind::Backfill);
    assert_eq!(rerun.job_version, 3);
    assert_eq!(rerun.attempts, 2);
    assert!(sim.engine.instance(InstanceId(7)).is_some());
    // New instances never reuse an adopted id.
    assert!(sim.engine.last_instance_id >= 100);
}

#[test]
fn a_backfill_goes_on_after_a_restart() {
    let mut sim = Sim::new("2026-11-24T02:00:00Z");
    sim.add_worker(1, "default", 4);
    sim.add_job(job(1, Some("0 0 1 * * ?"), &[]));
    sim.script(1, &[(600, Succeeded); 5]);
    let plan = sim
        .engine
        .plan_backfill(
            JobId(1),
            false,
            &PlanTimes::Dates {
                start: date("2026-11-01"),
                end: date("2026-11-05"),
            },
        )
        .unwrap();
    let backfill = spec(2, BackfillOrder::OldestFirst);
    sim.input(Input::Backfill {
        spec: backfill.clone(),
        action: BackfillAction::Start(items(&plan)),
    })
    .unwrap();
    sim.run_until("2026-11-24T02:01:00Z");
    // The server restarts: the store has what the engine persisted.
    let mut latest: BTreeMap<InstanceId, InstanceRecord> = BTreeMap::new();
    for (_, effect) in &sim.history {
        if let Effect::PersistInstance(record) = effect {
            latest.insert(record.id, record.clone());
        }
    }
    let attempts = sim.engine.attempts.values().cloned().collect();
    let mut spec_1 = job(1, Some("0 0 1 * * ?"), &[]);
    spec_1.schedule_from = at("2026-11-24T02:00:00Z");
    let snapshot = Snapshot {
        jobs: vec![spec_1],
        instances: latest.into_values().collect(),
        attempts,
        max_instance_id: sim.engine.last_instance_id,
        max_attempt_id: sim.engine.last_attempt_id,
        backfills: vec![backfill],
        ..Snapshot::default()
    };
    let mut restarted = Sim::with_engine("2026-11-24T02:01:00Z", |now| {
        Engine::recover(Config::default(), snapshot, now)
    });
    // The worker comes back with its two running attempts and finishes them.
    let running: Vec<_> = sim.engine.attempts.keys().copied().collect();
    assert_eq!(running.len(), 2);
    restarted
        .input(Input::WorkerConnected {
            worker: crate::ids::WorkerId(1),
            host_group: "default".to_owned(),
            slots: 4,
            known_attempts: running.clone(),
        })
        .unwrap();
    for attempt in running {
        restarted
            .input(Input::AttemptFinished {
                worker: crate::ids::WorkerId(1),
                attempt,
                outcome: Succeeded,
                exit_code: Some(0),
                at: at("2026-11-24T02:05:00Z"),
            })
            .unwrap();
    }
    restarted.run_until("2026-11-24T03:00:00Z");
    for day in ["01", "02", "03", "04", "05"] {
        assert_eq!(
            state_at(&restarted, 1, &format!("2026-11-{day}T01:00:00Z")),
            Some(InstanceState::Success),
            "{day}"
        );
    }
    // Still two at a time after the restart.
    let dispatched: Vec<DateTime<Utc>> = restarted
        .history
        .iter()
        .filter_map(|(t, e)| matches!(e, Effect::Dispatch { .. }).then_some(*t))
        .collect();
    assert_eq!(dispatched.len(), 3, "{}", restarted.take_trace());
    assert_eq!(dispatched[0], dispatched[1]);
    assert!(dispatched[2] > dispatched[1]);
}
