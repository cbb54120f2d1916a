//! Month arithmetic and the one month grid (weeks Monday to Sunday) that both the job's instance
//! calendar and the business calendar's year view draw; the caller renders each day's cell.

use chrono::{Datelike, Months, NaiveDate};
use leptos::prelude::*;

use crate::i18n::{t, weekday_name};

/// A month of a year.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    /// The year.
    pub year: i32,
    /// 1–12.
    pub month: u32,
}

impl Month {
    /// The month `date` falls in.
    pub fn of(date: NaiveDate) -> Self {
        Month {
            year: date.year(),
            month: date.month(),
        }
    }

    /// Its first day.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or_default()
    }

    /// The month after it.
    pub fn next(self) -> Self {
        Month::of(self.first_day() + Months::new(1))
    }

    /// The month before it.
    pub fn prev(self) -> Self {
        Month::of(self.first_day() - Months::new(1))
    }

    /// Its days in order.
    pub fn days(self) -> impl Iterator<Item = NaiveDate> {
        self.first_day()
            .iter_days()
            .take_while(move |day| day.month() == self.month)
    }

    /// Its weeks, Monday to Sunday; the days of other months are `None`.
    pub fn weeks(self) -> Vec<[Option<NaiveDate>; 7]> {
        let lead = self.first_day().weekday().num_days_from_monday() as usize;
        let cells: Vec<_> = std::iter::repeat_n(None, lead)
            .chain(self.days().map(Some))
            .collect();
        cells
            .chunks(7)
            .map(|week| std::array::from_fn(|i| week.get(i).copied().flatten()))
            .collect()
    }
}

/// The grid of `month`: a row of weekday names, then one cell per day; `cell` renders a day and
/// the days of other months are empty cells.
pub fn month_grid<V: IntoView + 'static>(
    month: Month,
    class: &'static str,
    cell: impl Fn(NaiveDate) -> V,
) -> impl IntoView {
    let head = (1..=7u8)
        .map(|day| view! { <div class="mg-weekday">{move || t(weekday_name(day))}</div> })
        .collect_view();
    let days = month
        .weeks()
        .into_iter()
        .flatten()
        .map(|day| match day {
            Some(day) => cell(day).into_any(),
            None => view! { <div class="mg-pad"></div> }.into_any(),
        })
        .collect_view();
    view! {
        <div class=format!("month-grid {class}") role="grid">
            {head}
            {days}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn months_step_over_years() {
        let dec = Month::of(date("2026-12-31"));
        assert_eq!(
            dec.next(),
            Month {
                year: 2027,
                month: 1
            }
        );
        assert_eq!(dec.next().prev(), dec);
        assert_eq!(
            Month {
                year: 2026,
                month: 1
            }
            .prev(),
            Month {
                year: 2025,
                month: 12
            }
        );
        assert_eq!(Month::of(date("2028-02-10")).days().count(), 29);
    }

    #[test]
    fn weeks_start_on_monday_and_pad_other_months() {
        // November 2026 starts on a Sunday and ends on a Monday.
        let weeks = Month {
            year: 2026,
            month: 11,
        }
        .weeks();
        assert_eq!(weeks.len(), 6);
        assert_eq!(weeks[0][..6], [None; 6]);
        assert_eq!(weeks[0][6], Some(date("2026-11-01")));
        assert_eq!(weeks[1][0], Some(date("2026-11-02")));
        assert_eq!(weeks[5][0], Some(date("2026-11-30")));
        assert_eq!(weeks[5][1..], [None; 6]);
        let days: Vec<_> = weeks.into_iter().flatten().flatten().collect();
        assert_eq!(days.len(), 30);
    }
}
