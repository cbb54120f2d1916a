//! Cron expressions in IANA time zones.
//!
//! Two dialects, told apart by the number of fields:
//! - 6 or 7 fields: Quartz, as the original hera's users write them: seconds first, an optional
//!   year last, `?`, `L`, `W`, `#`, day-of-week 1–7 = SUN–SAT.
//! - 5 fields: Unix (Vixie cron): day-of-week 0–7 (0 and 7 are Sunday); when both day-of-month and
//!   day-of-week are restricted, a day matching either fires.
//!
//! Fire times are computed in the schedule's zone and returned as UTC instants. Around DST changes
//! a local time that does not exist fires once at the first valid instant after the gap, and an
//! ambiguous local time fires once (at its first occurrence).

use std::str::FromStr;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone as _, Timelike as _, Utc};
use chrono_tz::Tz;
use croner::{
    Cron,
    parser::{CronParser, Seconds, Year},
};

/// Why an expression or zone was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CronError {
    /// The expression is empty.
    #[error("the cron expression is empty")]
    Empty,
    /// Not 5, 6 or 7 fields.
    #[error(
        "a cron expression has 5 fields (Unix: minute hour day month weekday) or 6–7 fields \
         (Quartz: second minute hour day month weekday [year]); this one has {0}"
    )]
    FieldCount(usize),
    /// A field does not parse.
    #[error("invalid cron expression: {0}")]
    Invalid(String),
    /// The zone is not an IANA zone name.
    #[error("unknown time zone `{0}` (use an IANA name such as Asia/Shanghai or UTC)")]
    UnknownZone(String),
    /// The expression can never fire (e.g. 30 February).
    #[error("the cron expression never fires")]
    NeverFires,
}

/// A parsed cron expression bound to a time zone.
#[derive(Clone, Debug)]
pub struct Schedule {
    cron: Cron,
    zone: Tz,
    expression: String,
}

impl Schedule {
    /// Parses `expression` (Quartz or Unix, by field count) for the IANA zone `zone`.
    pub fn parse(expression: &str, zone: &str) -> Result<Self, CronError> {
        let zone = parse_zone(zone)?;
        let trimmed = expression.trim();
        let n_fields = trimmed.split_whitespace().count();
        let parser = match n_fields {
            0 => return Err(CronError::Empty),
            5 => CronParser::builder()
                .seconds(Seconds::Disallowed)
                .year(Year::Disallowed)
                .dom_and_dow(false)
                .alternative_weekdays(false)
                .build(),
            6 | 7 => CronParser::builder()
                .seconds(Seconds::Required)
                .year(Year::Optional)
                .dom_and_dow(false)
                .alternative_weekdays(true)
                .build(),
            n => return Err(CronError::FieldCount(n)),
        };
        if n_fields == 5 && trimmed.contains('?') {
            return Err(CronError::Invalid(
                "`?` belongs to 6/7-field Quartz expressions".to_owned(),
            ));
        }
        let cron = parser
            .parse(trimmed)
            .map_err(|err| CronError::Invalid(err.to_string()))?;
        let schedule = Schedule {
            cron,
            zone,
            expression: trimmed.to_owned(),
        };
        // An expression like `0 0 0 30 2 ?` parses but never fires: refuse it at save time.
        let probe = DateTime::<Utc>::from_timestamp(0, 0).expect("the epoch is representable");
        if schedule.next_after(probe).is_none() {
            return Err(CronError::NeverFires);
        }
        Ok(schedule)
    }

    /// The expression as given (trimmed).
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// The zone the expression is evaluated in.
    pub fn zone(&self) -> Tz {
        self.zone
    }

    /// The first fire time strictly after `after`, or `None` if there is none.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        // Fire times are whole seconds; a sub-second `after` must not leak into the result.
        let after = after.with_nanosecond(0).unwrap_or(after);
        let local = after.with_timezone(&self.zone);
        let next = self.cron.find_next_occurrence(&local, false).ok()?;
        let next = next.with_timezone(&Utc);
        Some(next.with_nanosecond(0).unwrap_or(next))
    }

    /// The latest fire time at or before `at`, or `None` if there is none.
    pub fn latest_at_or_before(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let at = at.with_nanosecond(0).unwrap_or(at);
        let local = at.with_timezone(&self.zone);
        let prev = self.cron.find_previous_occurrence(&local, true).ok()?;
        Some(prev.with_timezone(&Utc))
    }

    /// Up to `n` fire times strictly after `after`, in order.
    pub fn upcoming(&self, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        let mut out = Vec::with_capacity(n);
        let mut cursor = after;
        while out.len() < n {
            let Some(next) = self.next_after(cursor) else {
                break;
            };
            out.push(next);
            cursor = next;
        }
        out
    }
}

/// Parses an IANA zone name such as `Asia/Shanghai` or `UTC`.
pub fn parse_zone(zone: &str) -> Result<Tz, CronError> {
    Tz::from_str(zone.trim()).map_err(|_| CronError::UnknownZone(zone.to_owned()))
}

/// Local midnight; where midnight falls in a DST gap, the first valid instant after it.
pub fn local_midnight(zone: Tz, date: NaiveDate) -> DateTime<Utc> {
    let mut naive = date.and_time(NaiveTime::MIN);
    for _ in 0..4 {
        if let Some(t) = zone.from_local_datetime(&naive).earliest() {
            return t.with_timezone(&Utc);
        }
        naive += Duration::minutes(30);
    }
    zone.from_utc_datetime(&date.and_time(NaiveTime::MIN))
        .with_timezone(&Utc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn next_n(expr: &str, zone: &str, from: &str, n: usize) -> Vec<String> {
        let schedule = Schedule::parse(expr, zone).unwrap();
        let tz = schedule.zone();
        schedule
            .upcoming(utc(from), n)
            .into_iter()
            .map(|t| t.with_timezone(&tz).to_rfc3339())
            .collect()
    }

    #[test]
    fn quartz_seconds_and_question_mark() {
        assert_eq!(
            next_n("0 30 2 * * ?", "Asia/Shanghai", "2026-11-24T00:00:00Z", 2),
            ["2026-11-25T02:30:00+08:00", "2026-11-26T02:30:00+08:00"]
        );
        assert_eq!(
            next_n("*/20 * * * * ?", "UTC", "2026-11-24T00:00:05Z", 3),
            [
                "2026-11-24T00:00:20+00:00",
                "2026-11-24T00:00:40+00:00",
                "2026-11-24T00:01:00+00:00"
            ]
        );
    }

    #[test]
    fn quartz_weekdays_are_one_to_seven_from_sunday() {
        // 2026-11-24 is a Tuesday. Quartz 2 = Monday, 1 = Sunday.
        assert_eq!(
            next_n("0 0 9 ? * 2", "UTC", "2026-11-24T00:00:00Z", 1),
            ["2026-11-30T09:00:00+00:00"]
        );
        assert_eq!(
            next_n("0 0 9 ? * 1", "UTC", "2026-11-24T00:00:00Z", 1),
            ["2026-11-29T09:00:00+00:00"]
        );
    }

    #[test]
    fn quartz_last_weekday_and_nth() {
        assert_eq!(
            next_n("0 0 0 L * ?", "UTC", "2026-11-24T00:00:00Z", 2),
            ["2026-11-30T00:00:00+00:00", "2026-12-31T00:00:00+00:00"]
        );
        // Nearest weekday to the 1st of August 2026 (a Saturday) is Monday the 3rd.
        assert_eq!(
            next_n("0 0 0 1W 8 ?", "UTC", "2026-07-01T00:00:00Z", 1),
            ["2026-08-03T00:00:00+00:00"]
        );
        // Third Friday (Quartz 6) of December 2026.
        assert_eq!(
            next_n("0 0 12 ? 12 6#3", "UTC", "2026-11-24T00:00:00Z", 1),
            ["2026-12-18T12:00:00+00:00"]
        );
        // Seven fields: a year.
        assert_eq!(
            next_n("0 0 0 1 1 ? 2028", "UTC", "2026-11-24T00:00:00Z", 1),
            ["2028-01-01T00:00:00+00:00"]
        );
    }

    #[test]
    fn unix_weekdays_and_either_day_rule() {
        // 0 and 7 are Sunday.
        assert_eq!(
            next_n("0 9 * * 0", "UTC", "2026-11-24T00:00:00Z", 1),
            ["2026-11-29T09:00:00+00:00"]
        );
        assert_eq!(
            next_n("0 9 * * 7", "UTC", "2026-11-24T00:00:00Z", 1),
            ["2026-11-29T09:00:00+00:00"]
        );
        // Vixie: the 1st of the month OR any Monday.
        assert_eq!(
            next_n("0 0 1 * 1", "UTC", "2026-11-24T00:00:00Z", 3),
            [
                "2026-11-30T00:00:00+00:00",
                "2026-12-01T00:00:00+00:00",
                "2026-12-07T00:00:00+00:00"
            ]
        );
    }

    #[test]
    fn dst_gap_fires_once_after_the_gap() {
        // 2027-03-14 02:30 does not exist in New York (clocks jump 02:00 -> 03:00).
        assert_eq!(
            next_n(
                "0 30 2 * * ?",
                "America/New_York",
                "2027-03-13T12:00:00Z",
                2
            ),
            ["2027-03-14T03:00:00-04:00", "2027-03-15T02:30:00-04:00"]
        );
    }

    #[test]
    fn dst_overlap_fires_once() {
        // 2026-11-01 01:30 happens twice in New York; it fires once.
        assert_eq!(
            next_n(
                "0 30 1 * * ?",
                "America/New_York",
                "2026-10-31T12:00:00Z",
                2
            ),
            ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"]
        );
    }

    #[test]
    fn fire_times_are_whole_seconds() {
        let schedule = Schedule::parse("*/10 * * * * ?", "UTC").unwrap();
        let next = schedule
            .next_after(utc("2026-11-24T13:28:58.844Z"))
            .unwrap();
        assert_eq!(next, utc("2026-11-24T13:29:00Z"));
        let next = schedule.next_after(utc("2026-11-24T13:29:00.5Z")).unwrap();
        assert_eq!(next, utc("2026-11-24T13:29:10Z"));
    }

    #[test]
    fn latest_fire_time_at_or_before() {
        let schedule = Schedule::parse("0 0 * * * ?", "Asia/Shanghai").unwrap();
        let at = utc("2026-11-24T10:30:00Z");
        assert_eq!(
            schedule.latest_at_or_before(at),
            Some(utc("2026-11-24T10:00:00Z"))
        );
        let at = utc("2026-11-24T10:00:00Z");
        assert_eq!(schedule.latest_at_or_before(at), Some(at));
    }

    #[test]
    fn bad_input_is_refused_with_a_reason() {
        assert_eq!(Schedule::parse("", "UTC").unwrap_err(), CronError::Empty);
        assert_eq!(
            Schedule::parse("* * *", "UTC").unwrap_err(),
            CronError::FieldCount(3)
        );
        assert!(matches!(
            Schedule::parse("0 61 * * * ?", "UTC"),
            Err(CronError::Invalid(_))
        ));
        assert!(matches!(
            Schedule::parse("0 0 * * ?", "UTC"),
            Err(CronError::Invalid(_))
        ));
        assert_eq!(
            Schedule::parse("0 0 * * *", "Mars/Base").unwrap_err(),
            CronError::UnknownZone("Mars/Base".to_owned())
        );
        assert_eq!(
            Schedule::parse("0 0 0 30 2 ?", "UTC").unwrap_err(),
            CronError::NeverFires
        );
    }
}
