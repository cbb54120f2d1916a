//! The job's instances as a month calendar, the way to pick one: a grid of the month's days (in
//! the job's time zone), each day with its instances as small chips coloured by state and showing
//! their business time; previous / next month. The shown month's instances come from
//! `GET /api/jobs/{id}/instances?from=…&to=…`. Clicking a chip selects the instance, which
//! [`SelectedInstance`] shows with its parameters, attempts, "why not started" answer and actions.

use std::collections::BTreeMap;

use app::{
    api::Instance,
    domain::InstanceState,
    ids::{InstanceId, JobId},
};
use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, Utc};
use leptos::prelude::*;

use crate::{
    api::http,
    browser,
    components::{
        error_view::loading,
        instance_actions::{ActionsPanel, ActionsState},
        month::{Month, month_grid},
        state_badge::StateBadge,
        table::Table,
        why_panel::{WhyPanel, WhyState, can_explain},
    },
    i18n::{K, fill, month_title, t, trigger_label},
};

/// The most instances asked for one month (the server's limit).
const MONTH_LIMIT: usize = 1000;

/// The instants `month` starts and ends at in `zone` (`from` inclusive, `to` exclusive).
fn month_range(month: Month, zone: &str) -> (DateTime<Utc>, DateTime<Utc>) {
    let midnight = |day: NaiveDate| {
        let local = day.and_hms_opt(0, 0, 0).unwrap_or_default();
        browser::from_zone(local, zone).unwrap_or_else(|| local.and_utc())
    };
    (
        midnight(month.first_day()),
        midnight(month.next().first_day()),
    )
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// One instance as a chip.
#[derive(Clone, Debug, PartialEq)]
struct Chip {
    id: InstanceId,
    state: InstanceState,
    time: String,
    title: String,
}

/// The instances by business day in `zone`, each day's in time order.
fn by_day(instances: &[Instance], zone: &str) -> BTreeMap<NaiveDate, Vec<Chip>> {
    let mut sorted: Vec<_> = instances.iter().collect();
    sorted.sort_by_key(|i| (i.scheduled_at, i.id));
    let mut days = BTreeMap::<NaiveDate, Vec<Chip>>::new();
    for instance in sorted {
        let time = browser::time_in_zone(instance.scheduled_at, zone);
        days.entry(browser::date_in_zone(instance.scheduled_at, zone))
            .or_default()
            .push(Chip {
                id: instance.id,
                state: instance.state,
                title: format!("#{} · {time} · {}", instance.id, instance.state),
                time,
            });
    }
    days
}

/// The calendar of job `job`, whose business days are in `zone`, showing `month`; `refresh`
/// refetches it.
#[component]
pub fn InstanceCalendar(
    job: JobId,
    zone: String,
    month: RwSignal<Month>,
    selected: RwSignal<Option<InstanceId>>,
    #[prop(into)] refresh: Signal<u64>,
) -> impl IntoView {
    let zone = StoredValue::new(zone);
    let instances = LocalResource::new(move || {
        refresh.track();
        let (from, to) = zone.with_value(|zone| month_range(month.get(), zone));
        let path = format!(
            "/api/jobs/{job}/instances?limit={MONTH_LIMIT}&from={}&to={}",
            rfc3339(from),
            rfc3339(to)
        );
        async move { http::get::<Vec<Instance>>(path).await }
    });
    let days = Memo::new(move |_| {
        instances.with(|answer| match answer {
            Some(Ok(list)) => Some(Ok(zone.with_value(|zone| by_day(list, zone)))),
            Some(Err(err)) => Some(Err(err.clone())),
            None => None,
        })
    });
    let truncated = move || {
        instances.with(|answer| matches!(answer, Some(Ok(list)) if list.len() >= MONTH_LIMIT))
    };
    // It opens on this month of the job's zone (a selected instance then moves it to its own).
    let today = zone.with_value(|zone| browser::date_in_zone(browser::now(), zone));
    month.set(Month::of(today));
    let grid = move || match days.get() {
        None => loading().into_any(),
        Some(Err(err)) => view! {
            <div class="alert error" role="alert" data-testid="load-error">
                <strong>{move || t(K::LoadFailed)}</strong>
                " "
                {err.to_string()}
            </div>
        }
        .into_any(),
        Some(Ok(days)) => month_grid(month.get(), "job-calendar", |day| {
            let chips = days
                .get(&day)
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|chip| {
                    let id = chip.id;
                    view! {
                        <button
                            class=format!("cal-chip state-{}", chip.state)
                            class:selected=move || selected.get() == Some(id)
                            title=chip.title
                            data-testid="cal-instance"
                            data-instance-id=id.0
                            data-state=chip.state.as_str()
                            on:click=move |_| selected.set(Some(id))
                        >
                            {chip.time}
                        </button>
                    }
                })
                .collect_view();
            view! {
                <div
                    class="cal-day"
                    class:today=day == today
                    data-testid="cal-day"
                    data-date=day.to_string()
                >
                    <span class="cal-date">{day.day()}</span>
                    <div class="cal-chips">{chips}</div>
                </div>
            }
        })
        .into_any(),
    };
    view! {
        <div class="card-head month-nav">
            <h2>{move || t(K::InstanceCalendar)}</h2>
            <button
                class="btn small"
                data-testid="cal-prev"
                title=move || t(K::PrevMonth)
                aria-label=move || t(K::PrevMonth)
                on:click=move |_| month.update(|m| *m = m.prev())
            >
                "‹"
            </button>
            <span class="month-title" data-testid="cal-month">
                {move || {
                    let shown = month.get();
                    month_title(shown.year, shown.month)
                }}
            </span>
            <button
                class="btn small"
                data-testid="cal-next"
                title=move || t(K::NextMonth)
                aria-label=move || t(K::NextMonth)
                on:click=move |_| month.update(|m| *m = m.next())
            >
                "›"
            </button>
            <button class="btn small" data-testid="cal-today" on:click=move |_| month.set(Month::of(today))>
                {move || t(K::Today)}
            </button>
            <span class="muted">
                {move || zone.with_value(|zone| fill(t(K::TimesInZone), &[("zone", zone)]))}
            </span>
        </div>
        {move || {
            truncated()
                .then(|| {
                    view! {
                        <p class="muted">
                            {move || {
                                fill(t(K::MonthTruncated), &[("n", &MONTH_LIMIT.to_string())])
                            }}
                        </p>
                    }
                })
        }}
        {grid}
    }
}

/// The selected instance `id`: its facts and parameters, its "why not started" answer while it
/// waits, its actions (they stay open) and its attempts. When it has loaded the first time the
/// calendar moves to its month. `on_changed` runs after a successful action.
#[component]
pub fn SelectedInstance(
    id: InstanceId,
    zone: String,
    month: RwSignal<Month>,
    #[prop(into)] refresh: Signal<u64>,
    #[prop(into)] on_changed: Callback<()>,
    #[prop(into)] on_close: Callback<()>,
) -> impl IntoView {
    let zone = StoredValue::new(zone);
    let again = RwSignal::new(0u64);
    let details = LocalResource::new(move || {
        refresh.track();
        again.track();
        http::get::<Instance>(format!("/api/instances/{id}"))
    });
    let actions = ActionsState::pinned(Callback::new(move |()| {
        again.update(|n| *n += 1);
        on_changed.run(());
    }));
    actions.show(id);
    let why = WhyState::new();
    let state = Memo::new(move |_| details.with(|d| d.as_ref()?.as_ref().ok().map(|i| i.state)));
    let moved = StoredValue::new(false);
    Effect::new(move |_| {
        let loaded = details.with(|d| d.as_ref()?.as_ref().ok().map(|i| i.scheduled_at));
        if let Some(at) = loaded {
            why.refresh();
            if !moved.get_value() {
                moved.set_value(true);
                month.set(Month::of(
                    zone.with_value(|zone| browser::date_in_zone(at, zone)),
                ));
            }
        }
    });
    let facts = move || {
        details.get().map(|answer| match answer {
            Err(err) => view! {
                <div class="alert error" role="alert" data-testid="load-error">
                    {err.to_string()}
                </div>
            }
            .into_any(),
            Ok(instance) => instance_facts(instance, zone.get_value()).into_any(),
        })
    };
    view! {
        <section
            class="card selected-instance"
            data-testid="selected-instance"
            data-instance-id=id.0
            data-state=move || state.get().map(InstanceState::as_str)
        >
            <div class="card-head">
                <h2>{move || t(K::Instance)} " #" {id.0}</h2>
                {move || state.get().map(|state| view! { <StateBadge state /> })}
                <div class="spacer"></div>
                <button
                    class="btn small ghost close"
                    data-testid="selected-close"
                    title=move || t(K::Close)
                    aria-label=move || t(K::Close)
                    on:click=move |_| on_close.run(())
                >
                    "×"
                </button>
            </div>
            {facts}
            {move || {
                state
                    .get()
                    .filter(|state| can_explain(*state))
                    .map(|_| view! { <WhyPanel id why /> })
            }}
            {move || state.get().map(|state| view! { <ActionsPanel id state actions /> })}
            {move || details.get().and_then(Result::ok).map(attempts_table)}
        </section>
    }
}

/// Business time, trigger, parameters, reason and backfill of `instance`.
fn instance_facts(instance: Instance, zone: String) -> impl IntoView {
    let params = if instance.params.is_empty() {
        view! { <span class="muted">"–"</span> }.into_any()
    } else {
        instance
            .params
            .into_iter()
            .map(|(key, value)| {
                let name = key.clone();
                view! {
                    <span class="param" data-testid="instance-param" data-key=name>
                        <span class="config-key">{key}</span>
                        "="
                        <span>{value}</span>
                    </span>
                }
            })
            .collect_view()
            .into_any()
    };
    let backfill = instance.backfill_id.map(|backfill| {
        view! {
            <dt>{move || t(K::Backfill)}</dt>
            <dd>
                <a href=format!("/backfills/{backfill}") data-testid="instance-backfill">
                    "#"
                    {backfill.0}
                </a>
            </dd>
        }
    });
    view! {
        <dl class="summary compact">
            <dt>{move || t(K::BusinessTime)}</dt>
            <dd data-testid="selected-business-time">
                {browser::in_zone(instance.scheduled_at, &zone)}
            </dd>
            <dt>{move || t(K::Trigger)}</dt>
            <dd>{trigger_label(instance.trigger)} " · " {move || t(K::Version)} " " {instance.job_version}</dd>
            <dt>{move || t(K::Params)}</dt>
            <dd class="chips" data-testid="instance-params">
                {params}
            </dd>
            <dt>{move || t(K::Reason)}</dt>
            <dd class="wrap" data-testid="selected-reason">
                {instance.reason.unwrap_or_else(|| "–".to_owned())}
            </dd>
            {backfill}
        </dl>
    }
}

/// The attempts of `instance`, newest first, with links to their logs.
fn attempts_table(instance: Instance) -> impl IntoView {
    let id = instance.id;
    let empty = instance.attempts.is_empty();
    let attempts = instance
        .attempts
        .into_iter()
        .rev()
        .map(|attempt| {
            let log = format!("/attempts/{}/log?instance={id}", attempt.id);
            view! {
                <tr data-testid="selected-attempt">
                    <td>{attempt.number}</td>
                    <td>{trigger_label(attempt.trigger)}</td>
                    <td>
                        <StateBadge state=attempt.state />
                    </td>
                    <td>{attempt.worker_name.unwrap_or_default()}</td>
                    <td class="mono">{attempt.exit_code.map(|c| c.to_string())}</td>
                    <td>{browser::local_short(attempt.started_at)}</td>
                    <td>{browser::elapsed(attempt.started_at, attempt.finished_at)}</td>
                    <td>
                        <a href=log data-testid="attempt-log-link">
                            {move || t(K::Log)}
                        </a>
                    </td>
                </tr>
            }
        })
        .collect_view();
    let headers = vec![
        K::Attempt,
        K::Trigger,
        K::State,
        K::Worker,
        K::ExitCode,
        K::Started,
        K::Duration,
        K::Empty,
    ];
    view! {
        <Table headers empty empty_text=K::NotRunYet testid="selected-attempts">
            {attempts}
        </Table>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_is_asked_for_from_midnight_to_midnight_in_the_zone() {
        let november = Month {
            year: 2026,
            month: 11,
        };
        let (from, to) = month_range(november, "Asia/Shanghai");
        assert_eq!(rfc3339(from), "2026-10-31T16:00:00Z");
        assert_eq!(rfc3339(to), "2026-11-30T16:00:00Z");
        let (from, to) = month_range(november, "UTC");
        assert_eq!(
            (rfc3339(from), rfc3339(to)),
            ("2026-11-01T00:00:00Z".into(), "2026-12-01T00:00:00Z".into())
        );
    }
}
