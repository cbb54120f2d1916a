//! `/timeline?folder=N&date=YYYY-MM-DD&tz=Area/City`: a Gantt chart of a folder's instances of one
//! business date (`GET /api/timeline`): one row per instance (job and business time), one bar
//! per attempt from its start to its end (or now while it runs), coloured by state, on an hour
//! axis in the chosen zone. A bar opens its instance's log. The choices live in the address, so a
//! chart can be shared; instance and attempt events refetch it.

use std::time::Duration;

use app::{
    api::{Attempt, Event, Instance},
    cron::{local_midnight, parse_zone},
    ids::{FolderId, InstanceId},
};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use leptos::prelude::*;
use leptos_router::{
    NavigateOptions,
    hooks::{use_navigate, use_query_map},
};

use crate::{
    api::{
        catalog::Catalog,
        http::{self, ApiError},
        ws::watch_events,
    },
    browser,
    components::{
        error_view::{error_fallback, loading},
        state_badge::{StateBadge, StateName},
    },
    gantt_model::{self, Window},
    i18n::{K, fill, state_label, t},
    pages::job::LiveDot,
};

/// Width of a track in SVG user units (tracks stretch to the card's width).
const TRACK_W: f64 = 1000.0;
/// Height of a row's track, in pixels and SVG units.
const TRACK_H: f64 = 22.0;
/// The narrowest bar drawn, in SVG units, so a run of a few seconds stays visible.
const MIN_BAR: f64 = 3.0;
/// Attempt states in the legend, in the order shown.
const LEGEND: [&str; 6] = [
    "success",
    "failed",
    "running",
    "dispatched",
    "cancelled",
    "timed_out",
];

/// The timeline page.
#[component]
pub fn TimelinePage() -> impl IntoView {
    let catalog = Catalog::current();
    // Folders made elsewhere since the shell loaded the catalogue become choices too.
    catalog.refresh();
    let query = use_query_map();
    let folder = Memo::new(move |_| {
        query.with(|q| q.get("folder").and_then(|v| v.parse::<FolderId>().ok()))
    });
    let date = Memo::new(move |_| {
        query
            .with(|q| q.get("date").and_then(|v| v.parse::<NaiveDate>().ok()))
            .unwrap_or_else(browser::today)
    });
    let zone = Memo::new(move |_| {
        query
            .with(|q| q.get("tz").filter(|z| !z.trim().is_empty()))
            .or_else(browser::time_zone)
            .unwrap_or_else(|| "UTC".to_owned())
    });
    let navigate = use_navigate();
    let go = move |folder: Option<FolderId>, date: NaiveDate, zone: String| {
        let mut path = format!(
            "/timeline?date={date}&tz={}",
            js_sys::encode_uri_component(&zone)
        );
        if let Some(folder) = folder {
            path.push_str(&format!("&folder={folder}"));
        }
        let replace = NavigateOptions {
            replace: true,
            ..Default::default()
        };
        navigate(&path, replace);
    };
    let go = StoredValue::new_local(go);

    let live =
        watch_events(|event| matches!(event, Event::Instance { .. } | Event::Attempt { .. }))
            .throttled(Duration::from_secs(2));
    let timeline = LocalResource::new(move || {
        live.changes.track();
        let (folder, date, zone) = (folder.get(), date.get(), zone.get());
        async move {
            let Some(folder) = folder else {
                return Ok(None);
            };
            let path = format!(
                "/api/timeline?folder_id={folder}&date={date}&timezone={}",
                js_sys::encode_uri_component(&zone)
            );
            http::get::<Vec<Instance>>(path).await.map(Some)
        }
    });
    let chart = move || {
        Suspend::new(async move {
            let answer: Option<Vec<Instance>> = timeline.await?;
            let view = match answer {
                None => view! {
                    <p class="muted empty-state" data-testid="timeline-choose">
                        {move || t(K::TimelineChoose)}
                    </p>
                }
                .into_any(),
                Some(instances) => view! {
                    <Gantt instances zone=zone.get_untracked() date=date.get_untracked() />
                }
                .into_any(),
            };
            Ok::<_, ApiError>(view)
        })
    };

    let folders = move || {
        catalog
            .data()
            .folder_choices()
            .into_iter()
            .map(|(id, path)| {
                view! {
                    <option value=id.0 selected=move || folder.get() == Some(id)>
                        {path}
                    </option>
                }
            })
            .collect_view()
    };
    view! {
        <div class="page timeline-page">
            <div class="page-head">
                <div>
                    <h1>{move || t(K::Timeline)}</h1>
                    <p class="muted page-hint">{move || t(K::TimelineHint)}</p>
                </div>
                <div class="actions">
                    <LiveDot connected=live.connected />
                </div>
            </div>
            <div class="card timeline-controls">
                <label class="field">
                    <span class="label">{move || t(K::Folder)}</span>
                    <select
                        class="input"
                        data-testid="timeline-folder"
                        on:change=move |ev| {
                            let chosen = event_target_value(&ev).parse().ok();
                            go.with_value(|go| go(chosen, date.get_untracked(), zone.get_untracked()));
                        }
                    >
                        <option value="" selected=move || folder.get().is_none()>
                            {move || t(K::ChooseFolder)}
                        </option>
                        {folders}
                    </select>
                </label>
                <label class="field">
                    <span class="label">{move || t(K::BusinessDate)}</span>
                    <input
                        type="date"
                        class="input"
                        data-testid="timeline-date"
                        prop:value=move || date.get().format("%Y-%m-%d").to_string()
                        on:change=move |ev| {
                            if let Ok(d) = NaiveDate::parse_from_str(&event_target_value(&ev), "%Y-%m-%d") {
                                go.with_value(|go| go(folder.get_untracked(), d, zone.get_untracked()));
                            }
                        }
                    />
                </label>
                <label class="field">
                    <span class="label">{move || t(K::TimeZone)}</span>
                    <input
                        class="input"
                        data-testid="timeline-zone"
                        placeholder="Asia/Shanghai"
                        prop:value=move || zone.get()
                        on:change=move |ev| {
                            let z = event_target_value(&ev).trim().to_owned();
                            go.with_value(|go| go(folder.get_untracked(), date.get_untracked(), z));
                        }
                    />
                </label>
            </div>
            <section class="card gantt-card">
                <Transition fallback=loading>
                    <ErrorBoundary fallback=error_fallback>{chart}</ErrorBoundary>
                </Transition>
            </section>
        </div>
    }
}

/// The chart of `instances` (the server's order: by business time).
#[component]
fn Gantt(instances: Vec<Instance>, zone: String, date: NaiveDate) -> impl IntoView {
    if instances.is_empty() {
        return view! {
            <p class="muted empty-state" data-testid="timeline-empty">
                {move || t(K::TimelineEmpty)}
            </p>
        }
        .into_any();
    }
    // The server accepted the zone, so it parses; UTC only as a fallback.
    let Ok(tz) = parse_zone(&zone).or_else(|_| parse_zone("UTC")) else {
        return ().into_any();
    };
    let now = browser::now();
    let day_from = local_midnight(tz, date);
    let day_to = local_midnight(tz, date.succ_opt().unwrap_or(date));
    let window = gantt_model::window(&instances, &tz, now, day_from, day_to);
    let ticks = gantt_model::ticks(window, &tz);
    let last = ticks.len().saturating_sub(1);
    let tick_labels = ticks
        .iter()
        .enumerate()
        .map(|(i, tick)| {
            let edge = if i == 0 && tick.at < 0.02 {
                " first"
            } else if i == last && tick.at > 0.98 {
                " last"
            } else {
                ""
            };
            view! {
                <span class=format!("gantt-tick{edge}") style=format!("left: {:.3}%", tick.at * 100.0)>
                    {tick.label.clone()}
                </span>
            }
        })
        .collect_view();
    // Lines at the inner ticks; the edges have the track's own.
    let grid = ticks
        .iter()
        .filter(|tick| tick.at > 0.001 && tick.at < 0.999)
        .map(|tick| {
            let x = tick.at * TRACK_W;
            view! {
                <line class="gantt-grid-line" x1=x x2=x y1="0" y2="1" vector-effect="non-scaling-stroke"></line>
            }
        })
        .collect_view();
    let now_at = window.fraction(now);
    let now_line = (0.0..=1.0).contains(&now_at).then(|| {
        let x = now_at * TRACK_W;
        view! {
            <line class="gantt-now" x1=x x2=x y1="0" y2="1" vector-effect="non-scaling-stroke">
                <title>{move || t(K::TimelineNow)}</title>
            </line>
        }
    });
    let count = instances.len() as u32;
    let rows = instances
        .into_iter()
        .map(|instance| gantt_row(instance, window, &zone, now))
        .collect_view();
    // The dates the window covers, in the zone.
    let first_day = browser::date_in_zone(window.from, &zone);
    let last_day = browser::date_in_zone(window.to - TimeDelta::seconds(1), &zone);
    let days = if first_day == last_day {
        first_day.to_string()
    } else {
        format!("{first_day} – {last_day}")
    };
    let zone_text = format!("{zone}, {days}");
    view! {
        <div class="card-head">
            <h2>{move || fill(t(K::TimelineRows), &[("n", &count.to_string())])}</h2>
            <span class="muted">{move || fill(t(K::TimesShownIn), &[("zone", &zone_text)])}</span>
            <span class="legend-inline">
                {LEGEND
                    .map(|s| {
                        view! {
                            <span class=format!("swatch gantt-swatch state-{s}")></span>
                            {move || state_label(s)}
                        }
                    })
                    .collect_view()}
            </span>
        </div>
        <div class="gantt-scroll" data-testid="timeline">
            <div class="gantt-head">
                <div class="gantt-label">{move || t(K::TimelineJobTime)}</div>
                <div class="gantt-axis">{tick_labels}</div>
            </div>
            <div class="gantt-body">
                <svg
                    class="gantt-grid"
                    viewBox=format!("0 0 {TRACK_W} 1")
                    preserveAspectRatio="none"
                    aria-hidden="true"
                >
                    {grid}
                    {now_line}
                </svg>
                {rows}
            </div>
        </div>
    }
    .into_any()
}

/// One instance's row: its job and business time, and a bar per attempt.
fn gantt_row(instance: Instance, window: Window, zone: &str, now: DateTime<Utc>) -> impl IntoView {
    let time = browser::time_in_zone(instance.scheduled_at, zone);
    let day = browser::date_in_zone(instance.scheduled_at, zone);
    let job_href = format!("/jobs/{}?instance={}", instance.job_id, instance.id);
    let bars = instance
        .attempts
        .iter()
        .filter_map(|attempt| attempt_bar(&instance, attempt, window, zone, now))
        .collect_view();
    let not_started = instance.attempts.is_empty().then(|| {
        let state = StateName::from(instance.state);
        view! {
            <span class="gantt-pending">
                <StateBadge state />
            </span>
        }
    });
    view! {
        <div
            class="gantt-row"
            data-testid="gantt-row"
            data-job=instance.job_name.clone()
            data-instance=instance.id.0
        >
            <div class="gantt-label" title=format!("{} · {day} {time}", instance.job_name)>
                <a class="gantt-job" href=job_href>
                    {instance.job_name.clone()}
                </a>
                <span class="gantt-time mono">{time.clone()}</span>
            </div>
            <div class="gantt-track">
                <svg
                    viewBox=format!("0 0 {TRACK_W} {TRACK_H}")
                    preserveAspectRatio="none"
                    height=TRACK_H
                >
                    {bars}
                </svg>
                {not_started}
            </div>
        </div>
    }
}

fn attempt_bar(
    instance: &Instance,
    attempt: &Attempt,
    window: Window,
    zone: &str,
    now: DateTime<Utc>,
) -> Option<impl IntoView + use<>> {
    let (start, end) = gantt_model::span(
        attempt.created_at,
        attempt.started_at,
        attempt.finished_at,
        now,
    );
    let bar = gantt_model::bar(window, start, end)?;
    let width = (bar.width * TRACK_W).max(MIN_BAR);
    let x = (bar.left * TRACK_W).min(TRACK_W - width);
    let state = attempt.state.as_str();
    let log = log_href(instance.id);
    let values = [
        ("job", instance.job_name.clone()),
        ("time", browser::in_zone(instance.scheduled_at, zone)),
        ("n", attempt.number.to_string()),
        ("from", browser::time_in_zone(start, zone)),
        (
            "to",
            attempt
                .finished_at
                .map(|at| browser::time_in_zone(at, zone))
                .unwrap_or_else(|| "…".to_owned()),
        ),
        ("duration", browser::duration(end - start)),
        ("worker", attempt.worker_name.clone().unwrap_or_default()),
    ];
    // What a screen reader says for the focused bar: job, state, start and end with their dates.
    let label_values = [
        ("job", instance.job_name.clone()),
        ("n", attempt.number.to_string()),
        ("from", browser::in_zone(start, zone)),
        (
            "to",
            attempt
                .finished_at
                .map(|at| browser::in_zone(at, zone))
                .unwrap_or_default(),
        ),
    ];
    let running = attempt.finished_at.is_none();
    let tip = move || {
        let values: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
        fill(t(K::TimelineTip), &values).replace("{state}", state_label(state))
    };
    let label = move || {
        let values: Vec<(&str, &str)> =
            label_values.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let key = if running {
            K::TimelineBarLabelRunning
        } else {
            K::TimelineBarLabel
        };
        fill(t(key), &values).replace("{state}", state_label(state))
    };
    let navigate = use_navigate();
    let open = {
        let log = log.clone();
        let navigate = navigate.clone();
        move || navigate(&log, NavigateOptions::default())
    };
    // A focused bar opens with Enter or Space, as a click does (Space must not scroll the page).
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if matches!(ev.key().as_str(), "Enter" | " " | "Spacebar") {
            ev.prevent_default();
            open();
        }
    };
    Some(view! {
        <rect
            class=format!("gantt-bar state-{state}")
            x=format!("{x:.2}")
            y="4"
            width=format!("{width:.2}")
            height=TRACK_H - 8.0
            rx="2"
            data-testid="gantt-bar"
            data-state=state
            data-attempt=attempt.id.0
            tabindex="0"
            role="link"
            aria-label=label
            on:click=move |_| navigate(&log, NavigateOptions::default())
            on:keydown=on_key
        >
            <title>{tip}</title>
        </rect>
    })
}

fn log_href(instance: InstanceId) -> String {
    format!("/instances/{instance}/log")
}
