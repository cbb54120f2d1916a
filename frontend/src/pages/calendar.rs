//! `/calendars/:id`: one business calendar's editor: name, description, which weekdays are the
//! weekend, and a year view (twelve month grids, a year switcher) where weekends and holidays look
//! non-working and make-up workdays working. Clicking a day toggles an exception (a working day
//! becomes a holiday, a weekend day a make-up workday, an exception goes away); the year's
//! exceptions are listed with their notes. Import from a CSV or iCalendar file (read in the
//! browser) or pasted text; save; delete (refused with the server's message while jobs use it);
//! the jobs that use it and its audit trail.

use std::collections::{BTreeMap, BTreeSet};

use app::{
    api::{Calendar, CalendarDay, CalendarImport, CalendarImported, CalendarInput},
    domain::DayKind,
    ids::CalendarId,
};
use chrono::{Datelike, NaiveDate};
use leptos::{ev, html, prelude::*};
use leptos_router::hooks::use_navigate;

use crate::{
    api::{
        catalog::Catalog,
        http::{self, ApiError},
    },
    browser,
    components::{
        audit_list::AuditList,
        confirm::ConfirmCard,
        error_view::{ActionError, action_error, loading},
        month::{Month, month_grid},
    },
    i18n::{K, day_kind_label, fill, month_title, t, weekday_name},
    pages::{BadAddress, param},
};

/// A calendar's exceptions as the editor keeps them: the kind and the note of each date.
type Days = BTreeMap<NaiveDate, (DayKind, String)>;

/// Whether `date` falls on one of the `weekend` weekdays (1 = Monday … 7 = Sunday).
fn is_weekend(date: NaiveDate, weekend: &BTreeSet<u8>) -> bool {
    weekend.contains(&(date.weekday().number_from_monday() as u8))
}

/// Whether `date` is a working day: its exception says so, else it is not a weekend day.
fn is_working(date: NaiveDate, weekend: &BTreeSet<u8>, days: &Days) -> bool {
    match days.get(&date) {
        Some((DayKind::Holiday, _)) => false,
        Some((DayKind::Workday, _)) => true,
        None => !is_weekend(date, weekend),
    }
}

/// A click on `date`: an exception goes away; otherwise a weekend day becomes a make-up workday
/// and a working day a holiday.
fn toggle_day(days: &mut Days, weekend: &BTreeSet<u8>, date: NaiveDate) {
    if days.remove(&date).is_none() {
        let kind = if is_weekend(date, weekend) {
            DayKind::Workday
        } else {
            DayKind::Holiday
        };
        days.insert(date, (kind, String::new()));
    }
}

/// The import format a file's name or text suggests.
fn guess_format(name: &str, text: &str) -> &'static str {
    let name = name.to_ascii_lowercase();
    if name.ends_with(".ics") || text.trim_start().starts_with("BEGIN:VCALENDAR") {
        "ics"
    } else {
        "csv"
    }
}

/// The editor's state of a calendar.
#[derive(Clone, Copy)]
struct Draft {
    name: RwSignal<String>,
    description: RwSignal<String>,
    weekend: RwSignal<BTreeSet<u8>>,
    days: RwSignal<Days>,
}

impl Draft {
    fn new(calendar: &Calendar) -> Self {
        Draft {
            name: RwSignal::new(calendar.name.clone()),
            description: RwSignal::new(calendar.description.clone()),
            weekend: RwSignal::new(calendar.weekend.iter().copied().collect()),
            days: RwSignal::new(
                calendar
                    .days
                    .iter()
                    .map(|d| (d.date, (d.kind, d.note.clone())))
                    .collect(),
            ),
        }
    }

    /// What saving sends; reactive.
    fn input(self) -> CalendarInput {
        CalendarInput {
            name: self.name.get().trim().to_owned(),
            description: Some(self.description.get()),
            weekend: Some(self.weekend.get().into_iter().collect()),
            days: Some(self.days.with(|days| {
                days.iter()
                    .map(|(date, (kind, note))| CalendarDay {
                        date: *date,
                        kind: *kind,
                        note: note.trim().to_owned(),
                    })
                    .collect()
            })),
        }
    }

    /// Whether it differs from `calendar`; reactive.
    fn differs_from(self, calendar: &Calendar) -> bool {
        let input = self.input();
        let mut weekend = calendar.weekend.clone();
        weekend.sort_unstable();
        let mut days = calendar.days.clone();
        days.sort_by_key(|day| day.date);
        input.name != calendar.name
            || input.description.as_deref() != Some(calendar.description.as_str())
            || input.weekend.as_ref() != Some(&weekend)
            || input.days.as_ref() != Some(&days)
    }
}

/// The calendar editor page.
#[component]
pub fn CalendarPage() -> impl IntoView {
    let id = param::<CalendarId>("id");
    move || match id.get() {
        Some(id) => view! { <CalendarView id /> }.into_any(),
        None => view! { <BadAddress /> }.into_any(),
    }
}

#[component]
fn CalendarView(id: CalendarId) -> impl IntoView {
    let fetched = LocalResource::new(move || http::get::<Calendar>(format!("/api/calendars/{id}")));
    // The calendar as last loaded, saved or imported; the editor starts again from each.
    let current = RwSignal::new(None::<Result<Calendar, ApiError>>);
    Effect::new(move |_| {
        if let Some(answer) = fetched.get() {
            current.set(Some(answer));
        }
    });
    let year = RwSignal::new(browser::today().year());
    let acted = RwSignal::new(0u64);
    let imported = RwSignal::new(None::<(u32, u32)>);
    let editor = move || {
        current.get().map(|answer| match answer {
            Ok(calendar) => {
                view! { <CalendarEditor calendar current year acted imported /> }.into_any()
            }
            Err(err) => view! {
                <div class="alert error" role="alert" data-testid="load-error">
                    {err.to_string()}
                </div>
            }
            .into_any(),
        })
    };
    view! {
        <div class="page">
            {move || current.with(Option::is_none).then(loading)}
            {editor}
            <section class="card" data-testid="calendar-activity">
                <div class="card-head">
                    <h2>{move || t(K::Activity)}</h2>
                </div>
                <AuditList filter=format!("calendar_id={id}") refresh=acted />
            </section>
        </div>
    }
}

#[component]
fn CalendarEditor(
    calendar: Calendar,
    current: RwSignal<Option<Result<Calendar, ApiError>>>,
    year: RwSignal<i32>,
    acted: RwSignal<u64>,
    imported: RwSignal<Option<(u32, u32)>>,
) -> impl IntoView {
    let id = calendar.id;
    let draft = Draft::new(&calendar);
    let saved = StoredValue::new(calendar.clone());
    let dirty = Memo::new(move |_| saved.with_value(|saved| draft.differs_from(saved)));
    let save = Action::new_local(move |input: &CalendarInput| {
        let input = input.clone();
        async move {
            let calendar: Calendar = http::put(format!("/api/calendars/{id}"), &input).await?;
            imported.set(None);
            acted.update(|n| *n += 1);
            // Last: this rebuilds the editor, and this action with it.
            current.set(Some(Ok(calendar)));
            Ok::<_, ApiError>(())
        }
    });
    let navigate = use_navigate();
    let catalog = Catalog::current();
    let confirming = RwSignal::new(false);
    let delete = Action::new_local(move |()| {
        let navigate = navigate.clone();
        async move {
            http::delete(format!("/api/calendars/{id}")).await?;
            navigate("/calendars", Default::default());
            Ok::<_, ApiError>(())
        }
    });
    let jobs = calendar.job_ids;
    let used_by = move || {
        if jobs.is_empty() {
            return view! { <span class="muted">{move || t(K::NotUsed)}</span> }.into_any();
        }
        let data = catalog.data();
        jobs.iter()
            .map(|job| {
                let name = data
                    .job(*job)
                    .map_or_else(|| format!("#{job}"), |j| j.name.clone());
                view! {
                    <a class="chip" href=format!("/jobs/{job}") data-testid="calendar-job">
                        {name}
                        <span class="id">"#" {job.0}</span>
                    </a>
                }
            })
            .collect_view()
            .into_any()
    };
    let weekend_boxes = (1..=7u8)
        .map(|day| {
            view! {
                <label class="check">
                    <input
                        type="checkbox"
                        data-testid=format!("weekend-{day}")
                        prop:checked=move || draft.weekend.with(|w| w.contains(&day))
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            draft
                                .weekend
                                .update(|w| {
                                    if on {
                                        w.insert(day);
                                    } else {
                                        w.remove(&day);
                                    }
                                });
                        }
                    />
                    {move || t(weekday_name(day))}
                </label>
            }
        })
        .collect_view();
    let name_now = move || saved.with_value(|c| c.name.clone());
    view! {
        <div class="page-head">
            <div>
                <div class="crumbs">
                    <a href="/calendars">{move || t(K::Calendars)}</a>
                </div>
                <h1 data-testid="calendar-title">
                    {name_now}
                    <span class="muted">" #" {id.0}</span>
                </h1>
            </div>
            <div class="actions">
                {move || {
                    dirty
                        .get()
                        .then(|| {
                            view! {
                                <span class="badge state-waiting" data-testid="calendar-dirty">
                                    {move || t(K::Unsaved)}
                                </span>
                            }
                        })
                }}
                <button
                    class="btn primary"
                    data-testid="save-calendar"
                    disabled=move || save.pending().get() || !dirty.get()
                    on:click=move |_| {
                        save.dispatch_local(draft.input());
                    }
                >
                    {move || t(if save.pending().get() { K::Saving } else { K::Save })}
                </button>
                <button
                    class="btn danger"
                    data-testid="delete-calendar"
                    disabled=move || confirming.get()
                    on:click=move |_| confirming.set(true)
                >
                    {move || t(K::Delete)}
                </button>
            </div>
        </div>
        <ActionError message=action_error(save) />
        <Show when=move || confirming.get()>
            <ConfirmCard
                testid="delete-calendar"
                danger=true
                question=Signal::derive(move || {
                    fill(t(K::DeleteCalendarQuestion), &[("name", &name_now())])
                })
                pending=delete.pending()
                error=action_error(delete)
                on_confirm=move |()| {
                    delete.dispatch_local(());
                }
                on_cancel=move |()| {
                    confirming.set(false);
                    delete.value().set(None);
                }
            />
        </Show>
        <section class="card editor" data-testid="calendar-editor">
            <div class="grid-2">
                <label class="field">
                    <span class="label">{move || t(K::Name)}</span>
                    <input class="input" data-testid="calendar-name" bind:value=draft.name />
                </label>
                <div class="field">
                    <span class="label">{move || t(K::Weekend)}</span>
                    <div class="row weekend-boxes">{weekend_boxes}</div>
                </div>
            </div>
            <label class="field">
                <span class="label">{move || t(K::Description)}</span>
                <textarea
                    class="input"
                    rows="2"
                    data-testid="calendar-description"
                    bind:value=draft.description
                ></textarea>
            </label>
            <div class="field">
                <span class="label">{move || t(K::UsedBy)}</span>
                <div class="chips" data-testid="calendar-jobs">
                    {used_by}
                </div>
            </div>
        </section>
        <YearView draft year />
        <Exceptions draft year />
        <ImportCard id current acted imported />
    }
}

/// The twelve months of the shown year, each day coloured by whether it is a working day.
#[component]
fn YearView(draft: Draft, year: RwSignal<i32>) -> impl IntoView {
    let day_cell = move |date: NaiveDate| {
        let kind = move || {
            draft
                .days
                .with(|days| days.get(&date).map(|(kind, _)| *kind))
        };
        let weekend = move || draft.weekend.with(|w| is_weekend(date, w));
        let working = move || {
            draft
                .weekend
                .with(|w| draft.days.with(|days| is_working(date, w, days)))
        };
        let title = move || {
            let what = match kind() {
                Some(kind) => day_kind_label(kind),
                None if weekend() => K::DayWeekend,
                None => K::DayWorking,
            };
            let note = draft
                .days
                .with(|days| days.get(&date).map(|(_, note)| note.clone()))
                .filter(|note| !note.is_empty())
                .map(|note| format!(" · {note}"))
                .unwrap_or_default();
            format!("{date} · {}{note}", t(what))
        };
        view! {
            <button
                type="button"
                class="year-day"
                class:off=move || !working()
                class:weekend=weekend
                class:holiday=move || kind() == Some(DayKind::Holiday)
                class:workday=move || kind() == Some(DayKind::Workday)
                title=title
                data-testid="year-day"
                data-date=date.to_string()
                data-kind=move || kind().map(DayKind::as_str).unwrap_or("")
                data-working=move || working().to_string()
                on:click=move |_| {
                    draft.weekend.with_untracked(|w| draft.days.update(|days| toggle_day(days, w, date)))
                }
            >
                {date.day()}
            </button>
        }
    };
    let months = move || {
        let shown = year.get();
        (1..=12)
            .map(|month| {
                let month = Month { year: shown, month };
                view! {
                    <div class="year-month" data-testid="year-month" data-month=month.month>
                        <div class="year-month-title">
                            {move || month_title(month.year, month.month)}
                        </div>
                        {month_grid(month, "small", day_cell)}
                    </div>
                }
            })
            .collect_view()
    };
    view! {
        <section class="card" data-testid="year-view">
            <div class="card-head month-nav">
                <button
                    class="btn small"
                    data-testid="year-prev"
                    title=move || t(K::PrevYear)
                    aria-label=move || t(K::PrevYear)
                    on:click=move |_| year.update(|y| *y -= 1)
                >
                    "‹"
                </button>
                <h2 class="month-title" data-testid="year-title">
                    {move || year.get()}
                </h2>
                <button
                    class="btn small"
                    data-testid="year-next"
                    title=move || t(K::NextYear)
                    aria-label=move || t(K::NextYear)
                    on:click=move |_| year.update(|y| *y += 1)
                >
                    "›"
                </button>
                <span class="legend-inline">
                    <span class="year-day sample"></span>
                    {move || t(K::DayWorking)}
                    <span class="year-day sample off weekend"></span>
                    {move || t(K::DayWeekend)}
                    <span class="year-day sample off holiday"></span>
                    {move || t(K::DayHoliday)}
                    <span class="year-day sample workday"></span>
                    {move || t(K::DayWorkday)}
                </span>
            </div>
            <p class="muted hint-line">{move || t(K::CalendarHint)}</p>
            <div class="year-grid">{months}</div>
        </section>
    }
}

/// The exceptions of the shown year, with their kind and an editable note.
#[component]
fn Exceptions(draft: Draft, year: RwSignal<i32>) -> impl IntoView {
    let dates = move || {
        let shown = year.get();
        draft.days.with(|days| {
            days.keys()
                .filter(|date| date.year() == shown)
                .copied()
                .collect::<Vec<_>>()
        })
    };
    let row = move |date: NaiveDate| {
        let entry = move || draft.days.with(|days| days.get(&date).cloned());
        let kind = move || entry().map(|(kind, _)| kind);
        view! {
            <tr data-testid="exception-row" data-date=date.to_string()>
                <td class="mono">{date.to_string()}</td>
                <td>{move || t(weekday_name(date.weekday().number_from_monday() as u8))}</td>
                <td>
                    <span
                        class="badge"
                        class:state-failed=move || kind() == Some(DayKind::Holiday)
                        class:state-success=move || kind() == Some(DayKind::Workday)
                        data-testid="exception-kind"
                        data-kind=move || kind().map(DayKind::as_str)
                    >
                        {move || kind().map(|kind| t(day_kind_label(kind)))}
                    </span>
                </td>
                <td class="wide">
                    <input
                        class="input small"
                        data-testid="exception-note"
                        placeholder=move || t(K::Note)
                        prop:value=move || entry().map(|(_, note)| note).unwrap_or_default()
                        on:input=move |ev| {
                            let note = event_target_value(&ev);
                            draft
                                .days
                                .update(|days| {
                                    if let Some(entry) = days.get_mut(&date) {
                                        entry.1 = note;
                                    }
                                });
                        }
                    />
                </td>
                <td>
                    <button
                        class="btn small ghost"
                        data-testid="exception-remove"
                        title=move || t(K::Remove)
                        on:click=move |_| {
                            draft
                                .days
                                .update(|days| {
                                    days.remove(&date);
                                });
                        }
                    >
                        "×"
                    </button>
                </td>
            </tr>
        }
    };
    let empty = move || dates().is_empty();
    view! {
        <section class="card" data-testid="exceptions">
            <div class="card-head">
                <h2>{move || fill(t(K::ExceptionsIn), &[("year", &year.get().to_string())])}</h2>
            </div>
            <div class="table-wrap">
                <table class="table">
                    <thead>
                        <tr>
                            <th>{move || t(K::Date)}</th>
                            <th></th>
                            <th>{move || t(K::Kind)}</th>
                            <th>{move || t(K::Note)}</th>
                            <th></th>
                        </tr>
                    </thead>
                    <tbody>
                        <Show when=empty>
                            <tr class="empty">
                                <td colspan="5">{move || t(K::NoExceptions)}</td>
                            </tr>
                        </Show>
                        <For each=dates key=|date| *date children=row />
                    </tbody>
                </table>
            </div>
        </section>
    }
}

/// Import from a file (read in the browser) or pasted text into the saved calendar.
#[component]
fn ImportCard(
    id: CalendarId,
    current: RwSignal<Option<Result<Calendar, ApiError>>>,
    acted: RwSignal<u64>,
    imported: RwSignal<Option<(u32, u32)>>,
) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let format = RwSignal::new("csv");
    let replace = RwSignal::new(false);
    let file = NodeRef::<html::Input>::new();
    let read_file = Action::new_local(move |()| async move {
        let Some(input) = file.get_untracked() else {
            return;
        };
        if let Some((name, content)) = browser::read_chosen_file(&input).await {
            format.set(guess_format(&name, &content));
            text.set(content);
        }
    });
    let import = Action::new_local(move |request: &CalendarImport| {
        let request = request.clone();
        async move {
            let answer: CalendarImported =
                http::post(format!("/api/calendars/{id}/import"), &request).await?;
            imported.set(Some((answer.holidays, answer.workdays)));
            acted.update(|n| *n += 1);
            // Last: this rebuilds the editor, and this action with it.
            current.set(Some(Ok(answer.calendar)));
            Ok::<_, ApiError>(())
        }
    });
    let submit = move |ev: ev::SubmitEvent| {
        ev.prevent_default();
        import.dispatch_local(CalendarImport {
            format: format.get_untracked().to_owned(),
            text: text.get_untracked(),
            replace: replace.get_untracked(),
        });
    };
    let result = move || {
        imported.get().map(|(holidays, workdays)| {
            view! {
                <p class="notice" data-testid="import-result" data-holidays=holidays data-workdays=workdays>
                    {move || {
                        fill(
                            t(K::Imported),
                            &[("holidays", &holidays.to_string()), ("workdays", &workdays.to_string())],
                        )
                    }}
                </p>
            }
        })
    };
    view! {
        <form class="card editor" data-testid="calendar-import" on:submit=submit>
            <div class="card-head">
                <h2>{move || t(K::ImportTitle)}</h2>
            </div>
            <p class="muted hint-line">{move || t(K::ImportHint)}</p>
            <div class="row wrap">
                <input
                    type="file"
                    accept=".csv,.ics,text/csv,text/calendar"
                    data-testid="import-file"
                    node_ref=file
                    on:change=move |_| {
                        read_file.dispatch_local(());
                    }
                />
                <label class="check">
                    {move || t(K::ImportFormat)}
                    <select
                        class="input small auto"
                        data-testid="import-format"
                        on:change=move |ev| {
                            format.set(if event_target_value(&ev) == "ics" { "ics" } else { "csv" });
                        }
                    >
                        <option value="csv" selected=move || format.get() == "csv">
                            "CSV"
                        </option>
                        <option value="ics" selected=move || format.get() == "ics">
                            "iCalendar (.ics)"
                        </option>
                    </select>
                </label>
                <label class="check">
                    <input type="checkbox" data-testid="import-replace" bind:checked=replace />
                    {move || t(K::ReplaceExisting)}
                </label>
            </div>
            <textarea
                class="input code"
                rows="5"
                spellcheck="false"
                data-testid="import-text"
                placeholder=move || t(K::ImportText)
                bind:value=text
            ></textarea>
            <ActionError message=action_error(import) />
            {result}
            <div class="form-actions">
                <button
                    class="btn"
                    type="submit"
                    data-testid="import-submit"
                    disabled=move || import.pending().get() || text.with(|t| t.trim().is_empty())
                >
                    {move || t(K::Import)}
                </button>
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn clicking_a_day_toggles_the_exception_it_needs() {
        let weekend = BTreeSet::from([6, 7]);
        let mut days = Days::new();
        // 2026-10-01 is a Thursday, 2026-10-10 a Saturday.
        toggle_day(&mut days, &weekend, date("2026-10-01"));
        toggle_day(&mut days, &weekend, date("2026-10-10"));
        assert_eq!(days[&date("2026-10-01")].0, DayKind::Holiday);
        assert_eq!(days[&date("2026-10-10")].0, DayKind::Workday);
        assert!(!is_working(date("2026-10-01"), &weekend, &days));
        assert!(is_working(date("2026-10-10"), &weekend, &days));
        assert!(!is_working(date("2026-10-11"), &weekend, &days));
        assert!(is_working(date("2026-10-12"), &weekend, &days));
        toggle_day(&mut days, &weekend, date("2026-10-01"));
        assert!(!days.contains_key(&date("2026-10-01")));
        assert!(is_working(date("2026-10-01"), &weekend, &days));
    }

    #[test]
    fn the_import_format_follows_the_file() {
        assert_eq!(guess_format("cn-2026.ICS", ""), "ics");
        assert_eq!(guess_format("", "\n BEGIN:VCALENDAR\nVERSION:2.0"), "ics");
        assert_eq!(guess_format("days.csv", "2026-10-01,holiday"), "csv");
    }
}
