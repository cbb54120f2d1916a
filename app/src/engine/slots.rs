//! A job's cron slots as filtered by its business calendar. Every place the engine asks "when
//! does this job fire" goes through here, so a calendar change is seen everywhere at once.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};

use super::{Engine, deps::business_day};
use crate::{
    domain::{CalendarMode, DayKind},
    ids::{CalendarId, JobId},
};

/// How many excluded days in a row a slot search crosses before it gives up (more than a year:
/// a calendar that excludes everything schedules nothing, it does not loop).
const MAX_EXCLUDED_DAYS: usize = 400;

/// A business calendar as the engine sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalendarSpec {
    /// Its id.
    pub id: CalendarId,
    /// ISO weekdays (1 = Monday … 7 = Sunday) that are non-working unless listed as workdays.
    pub weekend: Vec<u8>,
    /// The exceptions.
    pub days: BTreeMap<NaiveDate, DayKind>,
}

impl CalendarSpec {
    /// What the engine needs of a stored calendar.
    pub fn from_calendar(calendar: &crate::api::Calendar) -> Self {
        CalendarSpec {
            id: calendar.id,
            weekend: calendar.weekend.clone(),
            days: calendar.days.iter().map(|d| (d.date, d.kind)).collect(),
        }
    }

    /// Whether `date` is a working day: an explicit exception wins, else the weekly rule.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        match self.days.get(&date) {
            Some(DayKind::Holiday) => false,
            Some(DayKind::Workday) => true,
            None => {
                let weekday = date.weekday().number_from_monday() as u8;
                !self.weekend.contains(&weekday)
            }
        }
    }
}

impl Engine {
    /// Whether `job` may run on the local date of `at` (its calendar and mode; a job without a
    /// calendar, or whose calendar is gone, runs every day).
    pub(super) fn runs_on(&self, job: JobId, at: DateTime<Utc>) -> bool {
        let Some(state) = self.jobs.get(&job) else {
            return false;
        };
        let Some(calendar) = state.spec.calendar.and_then(|c| self.calendars.get(&c)) else {
            return true;
        };
        let date = at.with_timezone(&self.zone_of(job)).date_naive();
        match state.spec.calendar_mode {
            CalendarMode::Ignore => true,
            CalendarMode::WorkingDays => calendar.is_working_day(date),
            CalendarMode::NonWorkingDays => !calendar.is_working_day(date),
        }
    }

    /// The job's first slot strictly after `after` on a day its calendar allows.
    pub(super) fn next_slot(&self, job: JobId, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let schedule = self.jobs.get(&job)?.schedule.as_ref()?;
        let zone = self.zone_of(job);
        let mut from = after;
        for _ in 0..MAX_EXCLUDED_DAYS {
            let slot = schedule.next_after(from)?;
            if self.runs_on(job, slot) {
                return Some(slot);
            }
            // Jump to the last second of that excluded day.
            let (_, _, day_end) = business_day(zone, slot);
            from = day_end - Duration::seconds(1);
        }
        None
    }

    /// The job's latest slot at or before `at` on a day its calendar allows.
    pub(super) fn latest_slot(&self, job: JobId, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let schedule = self.jobs.get(&job)?.schedule.as_ref()?;
        let zone = self.zone_of(job);
        let mut until = at;
        for _ in 0..MAX_EXCLUDED_DAYS {
            let slot = schedule.latest_at_or_before(until)?;
            if self.runs_on(job, slot) {
                return Some(slot);
            }
            let (_, day_start, _) = business_day(zone, slot);
            until = day_start - Duration::seconds(1);
        }
        None
    }

    /// The job's slots in `[start, end)`, at most `cap` of them (`None` if there are more).
    pub(super) fn slots_in(
        &self,
        job: JobId,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        cap: usize,
    ) -> Option<Vec<DateTime<Utc>>> {
        let mut out = Vec::new();
        let mut from = start - Duration::seconds(1);
        while let Some(slot) = self.next_slot(job, from).filter(|t| *t < end) {
            if out.len() == cap {
                return None;
            }
            out.push(slot);
            from = slot;
        }
        Some(out)
    }
}
