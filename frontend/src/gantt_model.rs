//! The timeline page's pure model: the time window a Gantt chart spans, its time ticks in the
//! chosen zone, and where each attempt's bar lies in it (fractions of the width). Pure, so it is
//! unit-tested natively.

use app::api::Instance;
use std::fmt::Display;

use chrono::{DateTime, Offset, TimeDelta, TimeZone, Utc};

/// Round steps of windows and ticks, in seconds.
const STEPS: [i64; 16] = [
    10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800,
];
const DAY: i64 = 86400;
/// A window is at most this many of its steps wide, so the attempts fill a good part of it.
const WINDOW_STEPS_MAX: i64 = 6;
/// An axis has at most this many intervals between ticks.
const MAX_TICKS: i64 = 8;

/// The span of time a chart shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// Its left edge.
    pub from: DateTime<Utc>,
    /// Its right edge.
    pub to: DateTime<Utc>,
}

impl Window {
    /// Where `at` lies, 0 at the left edge and 1 at the right (outside: below 0 or above 1).
    pub fn fraction(&self, at: DateTime<Utc>) -> f64 {
        let span = (self.to - self.from).num_milliseconds().max(1) as f64;
        (at - self.from).num_milliseconds() as f64 / span
    }
}

/// One attempt's bar: its left edge and width as fractions of the window (clipped to it).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bar {
    /// Left edge, 0–1.
    pub left: f64,
    /// Width, 0–1.
    pub width: f64,
}

/// One axis tick.
#[derive(Clone, Debug, PartialEq)]
pub struct Tick {
    /// Where it is, 0–1.
    pub at: f64,
    /// `14:00` (`14:00:10` for steps under a minute), or `11-25` at midnight.
    pub label: String,
}

/// When an attempt ran: from its start (its dispatch while not started) to its end, or `now`
/// while it has none.
pub fn span(
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = started_at.unwrap_or(created_at);
    let end = finished_at.unwrap_or(now).max(start);
    (start, end)
}

/// The window of a chart: round times (in `zone`) around every attempt, on a step of one minute
/// or more chosen so the attempts fill a good part of it; the business day `[day_from, day_to)`
/// when nothing ran.
pub fn window<Z: TimeZone>(
    instances: &[Instance],
    zone: &Z,
    now: DateTime<Utc>,
    day_from: DateTime<Utc>,
    day_to: DateTime<Utc>,
) -> Window {
    let spans = instances
        .iter()
        .flat_map(|i| &i.attempts)
        .map(|a| span(a.created_at, a.started_at, a.finished_at, now));
    let (mut first, mut last) = (None::<DateTime<Utc>>, None::<DateTime<Utc>>);
    for (start, end) in spans {
        first = Some(first.map_or(start, |f| f.min(start)));
        last = Some(last.map_or(end, |l| l.max(end)));
    }
    match (first, last) {
        (Some(first), Some(last)) => {
            let seconds = (last - first).num_seconds();
            let step = step_for(seconds, WINDOW_STEPS_MAX, 60);
            let from = floor_to(first, step, zone);
            let mut to = floor_to(last, step, zone);
            if to < last || to <= from {
                to += TimeDelta::seconds(step);
            }
            Window { from, to }
        }
        _ => Window {
            from: day_from,
            to: day_to.max(day_from + TimeDelta::hours(1)),
        },
    }
}

/// The smallest step of [`STEPS`] (at least `min` seconds) that cuts `seconds` into at most
/// `count` pieces.
fn step_for(seconds: i64, count: i64, min: i64) -> i64 {
    STEPS
        .iter()
        .copied()
        .filter(|step| *step >= min)
        .find(|step| seconds <= step * count)
        .unwrap_or(DAY)
}

/// The start of the `step`-second slot `at` is in, on `zone`'s wall clock.
fn floor_to<Z: TimeZone>(at: DateTime<Utc>, step: i64, zone: &Z) -> DateTime<Utc> {
    let offset = i64::from(
        zone.offset_from_utc_datetime(&at.naive_utc())
            .fix()
            .local_minus_utc(),
    );
    let local = at.timestamp() + offset;
    DateTime::from_timestamp(local.div_euclid(step) * step - offset, 0).unwrap_or(at)
}

/// The ticks of a window, on round times of `zone`'s wall clock: the smallest step of [`STEPS`]
/// that keeps at most [`MAX_TICKS`] intervals. Labels carry seconds when the step is under a
/// minute; a tick at midnight says the date instead.
pub fn ticks<Z: TimeZone>(window: Window, zone: &Z) -> Vec<Tick>
where
    Z::Offset: Display,
{
    let step = step_for((window.to - window.from).num_seconds(), MAX_TICKS, 0);
    let time = if step < 60 { "%H:%M:%S" } else { "%H:%M" };
    let mut out = Vec::new();
    let mut at = floor_to(window.from, step, zone);
    if at < window.from {
        at += TimeDelta::seconds(step);
    }
    while at <= window.to {
        let local = at.with_timezone(zone);
        let midnight = chrono::Timelike::num_seconds_from_midnight(&local) == 0;
        let label = if midnight {
            local.format("%m-%d").to_string()
        } else {
            local.format(time).to_string()
        };
        out.push(Tick {
            at: window.fraction(at),
            label,
        });
        at += TimeDelta::seconds(step);
    }
    out
}

/// Where an attempt's bar lies; `None` when it lies wholly outside the window.
pub fn bar(window: Window, start: DateTime<Utc>, end: DateTime<Utc>) -> Option<Bar> {
    let (left, right) = (window.fraction(start), window.fraction(end));
    if right < 0.0 || left > 1.0 {
        return None;
    }
    let left = left.clamp(0.0, 1.0);
    let right = right.clamp(0.0, 1.0);
    Some(Bar {
        left,
        width: right - left,
    })
}

#[cfg(test)]
mod tests {
    use app::{
        api::{Attempt, Instance},
        domain::{AttemptState, InstanceState, TriggerKind},
        ids::{AttemptId, InstanceId, JobId},
    };

    use super::*;

    fn zone(name: &str) -> impl TimeZone<Offset: Display> {
        app::cron::parse_zone(name).unwrap()
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn instance(attempts: &[(&str, Option<&str>)]) -> Instance {
        Instance {
            id: InstanceId(1),
            job_id: JobId(1),
            job_name: "load".to_owned(),
            scheduled_at: at("2026-11-24T00:00:00Z"),
            job_version: 1,
            trigger: TriggerKind::Scheduled,
            state: InstanceState::Running,
            reason: None,
            created_at: at("2026-11-24T00:00:00Z"),
            started_at: None,
            finished_at: None,
            params: Default::default(),
            backfill_id: None,
            attempts: attempts
                .iter()
                .enumerate()
                .map(|(i, (start, end))| Attempt {
                    id: AttemptId(i as i64 + 1),
                    instance_id: InstanceId(1),
                    number: i as u32 + 1,
                    trigger: TriggerKind::Scheduled,
                    state: AttemptState::Success,
                    worker_id: None,
                    worker_name: None,
                    exit_code: None,
                    created_at: at(start),
                    started_at: Some(at(start)),
                    finished_at: end.map(at),
                })
                .collect(),
        }
    }

    #[test]
    fn the_window_spans_round_times_around_the_attempts() {
        let day = (at("2026-11-24T00:00:00Z"), at("2026-11-25T00:00:00Z"));
        let now = at("2026-11-24T16:20:00Z");
        let rows = [
            instance(&[("2026-11-24T13:10:00Z", Some("2026-11-24T13:11:00Z"))]),
            instance(&[("2026-11-24T15:00:00Z", None)]),
        ];
        let w = window(&rows, &Utc, now, day.0, day.1);
        assert_eq!(
            (w.from, w.to),
            (at("2026-11-24T13:00:00Z"), at("2026-11-24T17:00:00Z"))
        );
        // Short runs get a window of minutes; nothing ran: the business day.
        let short = [instance(&[(
            "2026-11-24T13:10:05Z",
            Some("2026-11-24T13:10:20Z"),
        )])];
        let w = window(&short, &Utc, now, day.0, day.1);
        assert_eq!(
            (w.from, w.to),
            (at("2026-11-24T13:10:00Z"), at("2026-11-24T13:11:00Z"))
        );
        let w = window(&[instance(&[])], &Utc, now, day.0, day.1);
        assert_eq!((w.from, w.to), day);
        // Hours are the zone's: India is UTC+05:30.
        let long = [instance(&[(
            "2026-11-24T13:10:00Z",
            Some("2026-11-24T17:40:00Z"),
        )])];
        let w = window(&long, &Utc, now, day.0, day.1);
        assert_eq!(
            (w.from, w.to),
            (at("2026-11-24T13:00:00Z"), at("2026-11-24T18:00:00Z"))
        );
        let w = window(&long, &zone("Asia/Kolkata"), now, day.0, day.1);
        assert_eq!(
            (w.from, w.to),
            (at("2026-11-24T12:30:00Z"), at("2026-11-24T18:30:00Z"))
        );
    }

    #[test]
    fn ticks_are_round_times_at_most_eight_intervals() {
        let w = Window {
            from: at("2026-11-24T13:00:00Z"),
            to: at("2026-11-24T17:00:00Z"),
        };
        let labels: Vec<_> = ticks(w, &Utc).into_iter().map(|t| t.label).collect();
        assert_eq!(
            labels,
            [
                "13:00", "13:30", "14:00", "14:30", "15:00", "15:30", "16:00", "16:30", "17:00"
            ]
        );
        let minute = Window {
            from: at("2026-11-24T13:10:00Z"),
            to: at("2026-11-24T13:11:00Z"),
        };
        let labels: Vec<_> = ticks(minute, &Utc).into_iter().map(|t| t.label).collect();
        assert_eq!(
            labels,
            [
                "13:10:00", "13:10:10", "13:10:20", "13:10:30", "13:10:40", "13:10:50", "13:11:00"
            ]
        );
        let day = Window {
            from: at("2026-11-23T16:00:00Z"),
            to: at("2026-11-24T16:00:00Z"),
        };
        let shanghai = ticks(day, &zone("Asia/Shanghai"));
        let labels: Vec<_> = shanghai.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "11-24", "03:00", "06:00", "09:00", "12:00", "15:00", "18:00", "21:00", "11-25"
            ]
        );
        assert_eq!(shanghai[0].at, 0.0);
        assert_eq!(shanghai[8].at, 1.0);
    }

    #[test]
    fn bars_are_clipped_to_the_window() {
        let w = Window {
            from: at("2026-11-24T12:00:00Z"),
            to: at("2026-11-24T16:00:00Z"),
        };
        assert_eq!(
            bar(w, at("2026-11-24T13:00:00Z"), at("2026-11-24T14:00:00Z")),
            Some(Bar {
                left: 0.25,
                width: 0.25
            })
        );
        assert_eq!(
            bar(w, at("2026-11-24T11:00:00Z"), at("2026-11-24T13:00:00Z")),
            Some(Bar {
                left: 0.0,
                width: 0.25
            })
        );
        assert_eq!(
            bar(w, at("2026-11-24T17:00:00Z"), at("2026-11-24T18:00:00Z")),
            None
        );
        let now = at("2026-11-24T15:00:00Z");
        let running = span(at("2026-11-24T14:00:00Z"), None, None, now);
        assert_eq!(running, (at("2026-11-24T14:00:00Z"), now));
    }
}
