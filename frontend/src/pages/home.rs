//! `/`: the dashboard of today (in the browser's time zone): instances by state, what runs now,
//! today's failures, the success/failure trend of the last seven days and the longest runs
//! against the same jobs yesterday. Live: instance and attempt events refetch it, at most once
//! every two seconds. Below, what there is (folders, jobs, workers).

use std::time::Duration;

use app::{
    api::{Dashboard, DashboardInstance, DayCounts, Event, LongRun, Worker},
    domain::InstanceState,
};
use chrono::TimeDelta;
use leptos::prelude::*;

use crate::{
    api::{
        catalog::Catalog,
        http::{self, ApiError},
        ws::watch_events,
    },
    browser,
    components::{
        error_view::{error_fallback, loading},
        table::Table,
    },
    i18n::{K, fill, state_label, t},
    pages::job::LiveDot,
};

/// The dashboard.
#[component]
pub fn HomePage() -> impl IntoView {
    let live =
        watch_events(|event| matches!(event, Event::Instance { .. } | Event::Attempt { .. }))
            .throttled(Duration::from_secs(2));
    let zone = browser::time_zone().unwrap_or_else(|| "UTC".to_owned());
    let dashboard = LocalResource::new(move || {
        live.changes.track();
        let zone = js_sys::encode_uri_component(&zone);
        http::get::<Dashboard>(format!("/api/dashboard?timezone={zone}"))
    });
    let body = move || {
        Suspend::new(async move {
            let dashboard = dashboard.await?;
            Ok::<_, ApiError>(view! { <DashboardView dashboard /> })
        })
    };
    view! {
        <div class="page dashboard" data-testid="dashboard">
            <div class="page-head">
                <div>
                    <h1>{move || t(K::Today)}</h1>
                    <p class="muted">{move || t(K::DashboardHint)}</p>
                </div>
                <div class="actions">
                    <LiveDot connected=live.connected />
                    <a class="btn primary" href="/jobs/new">
                        {move || t(K::NewJob)}
                    </a>
                </div>
            </div>
            <Transition fallback=loading>
                <ErrorBoundary fallback=error_fallback>{body}</ErrorBoundary>
            </Transition>
            <Overview />
        </div>
    }
}

#[component]
fn DashboardView(dashboard: Dashboard) -> impl IntoView {
    let Dashboard {
        date,
        timezone,
        counts,
        running,
        failures,
        trend,
        longest,
    } = dashboard;
    let cards = InstanceState::ALL
        .iter()
        .map(|&state| {
            let n = counts.get(&state).copied().unwrap_or(0);
            let name = state.as_str();
            view! {
                <div
                    class=format!("count-card card state-edge-{name}")
                    data-testid=format!("count-{name}")
                    data-count=n
                >
                    <span class="count-value">{n}</span>
                    <span class="count-label">{move || state_label(name)}</span>
                </div>
            }
        })
        .collect_view();
    view! {
        <p class="muted dashboard-day" data-testid="dashboard-day">
            {date.to_string()} " · " {timezone}
        </p>
        <div class="count-cards" data-testid="dashboard-counts">
            {cards}
        </div>
        <div class="dashboard-grid">
            <section class="card">
                <div class="card-head">
                    <h2>{move || t(K::RunningNow)}</h2>
                    <span class="muted">{running.len()}</span>
                </div>
                <RunningTable running />
            </section>
            <section class="card">
                <div class="card-head">
                    <h2>{move || t(K::FailuresToday)}</h2>
                    <span class="muted">{failures.len()}</span>
                </div>
                <FailuresTable failures />
            </section>
            <section class="card">
                <div class="card-head">
                    <h2>{move || t(K::Trend7Days)}</h2>
                    <span class="legend-inline">
                        <span class="swatch success"></span>
                        {move || state_label("success")}
                        <span class="swatch failed"></span>
                        {move || state_label("failed")}
                    </span>
                </div>
                <TrendChart trend />
            </section>
            <section class="card">
                <div class="card-head">
                    <h2>{move || t(K::LongestRuns)}</h2>
                </div>
                <LongestTable longest />
            </section>
        </div>
    }
}

#[component]
fn RunningTable(running: Vec<DashboardInstance>) -> impl IntoView {
    let empty = running.is_empty();
    let rows = running
        .into_iter()
        .map(|run| {
            view! {
                <tr data-testid="running-row">
                    <td class="wrap">
                        <a href=instance_href(&run)>{run.job_name.clone()}</a>
                    </td>
                    <td>{browser::local_short(Some(run.business_time))}</td>
                    <td>{browser::local_short(run.started_at)}</td>
                    <td>{browser::elapsed(run.started_at, None)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <Table
            headers=vec![K::Job, K::BusinessTime, K::Started, K::Duration]
            empty
            empty_text=K::NothingRunning
            testid="running"
        >
            {rows}
        </Table>
    }
}

#[component]
fn FailuresTable(failures: Vec<DashboardInstance>) -> impl IntoView {
    let empty = failures.is_empty();
    let rows = failures
        .into_iter()
        .map(|failure| {
            let log = format!("/instances/{}/log", failure.instance_id);
            view! {
                <tr data-testid="failure-row">
                    <td class="wrap">
                        <a href=instance_href(&failure)>{failure.job_name.clone()}</a>
                    </td>
                    <td>{browser::local_short(Some(failure.business_time))}</td>
                    <td class="wrap reason">{failure.reason.clone()}</td>
                    <td>
                        <a href=log data-testid="failure-log">
                            {move || t(K::Log)}
                        </a>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <Table
            headers=vec![K::Job, K::BusinessTime, K::Reason, K::Empty]
            empty
            empty_text=K::NoFailuresToday
            testid="failures"
        >
            {rows}
        </Table>
    }
}

/// The job page with the instance selected.
fn instance_href(instance: &DashboardInstance) -> String {
    format!(
        "/jobs/{}?instance={}",
        instance.job_id, instance.instance_id
    )
}

/// Chart geometry, in SVG user units (the chart scales to its card's width).
const CHART_W: f64 = 560.0;
const CHART_H: f64 = 200.0;
const PLOT_LEFT: f64 = 36.0;
const PLOT_TOP: f64 = 10.0;
const PLOT_BOTTOM: f64 = 170.0;

/// Succeeded and failed instances per day as grouped bars. Drawn as SVG from Rust rather than
/// with a chart library: seven days of two numbers need a few rectangles and labels, which is
/// less code than binding a library, and adds no JavaScript to the bundle.
#[component]
fn TrendChart(trend: Vec<DayCounts>) -> impl IntoView {
    let highest = trend
        .iter()
        .map(|day| day.success.max(day.failed))
        .max()
        .unwrap_or(0);
    let (top, step) = axis(highest);
    let y = move |n: u32| PLOT_BOTTOM - f64::from(n) / f64::from(top) * (PLOT_BOTTOM - PLOT_TOP);
    let slot = (CHART_W - PLOT_LEFT) / trend.len().max(1) as f64;
    let bar = (slot / 3.0).min(28.0);
    let grid = (0..=top / step)
        .map(|i| {
            let value = i * step;
            view! {
                <line class="grid" x1=PLOT_LEFT x2=CHART_W y1=y(value) y2=y(value)></line>
                <text class="tick" x=PLOT_LEFT - 6.0 y=y(value) + 4.0 text-anchor="end">
                    {value}
                </text>
            }
        })
        .collect_view();
    let days = trend
        .iter()
        .enumerate()
        .map(|(i, day)| {
            let middle = PLOT_LEFT + slot * (i as f64 + 0.5);
            let rect = move |class: &'static str, x: f64, n: u32| {
                view! {
                    <rect
                        class=class
                        x=x
                        y=y(n)
                        width=bar
                        height=PLOT_BOTTOM - y(n)
                        rx="2"
                        data-count=n
                    ></rect>
                }
            };
            let (date, success, failed) = (day.date, day.success, day.failed);
            let tip = move || {
                fill(
                    t(K::TrendTip),
                    &[
                        ("date", &date.to_string()),
                        ("success", &success.to_string()),
                        ("failed", &failed.to_string()),
                    ],
                )
            };
            view! {
                <g class="day" data-testid="trend-day" data-date=date.to_string()>
                    <title>{tip}</title>
                    {rect("bar success", middle - bar - 1.0, success)}
                    {rect("bar failed", middle + 1.0, failed)}
                    <text class="tick" x=middle y=PLOT_BOTTOM + 18.0 text-anchor="middle">
                        {date.format("%m-%d").to_string()}
                    </text>
                </g>
            }
        })
        .collect_view();
    view! {
        <svg
            class="trend-chart"
            viewBox=format!("0 0 {CHART_W} {CHART_H}")
            role="img"
            aria-label=move || t(K::Trend7Days)
            data-testid="trend-chart"
        >
            {grid}
            <line class="axis" x1=PLOT_LEFT x2=CHART_W y1=PLOT_BOTTOM y2=PLOT_BOTTOM></line>
            {days}
        </svg>
    }
}

/// The top of a count axis for values up to `highest` and its step (1, 2 or 5 × 10ⁿ): four
/// steps at most, so the labels stay round.
fn axis(highest: u32) -> (u32, u32) {
    let mut step = 1;
    while step * 4 < highest {
        step = match step.to_string().as_bytes()[0] {
            b'1' => step * 2,
            b'2' => step / 2 * 5,
            _ => step * 2,
        };
    }
    (step * highest.div_ceil(step).max(1), step)
}

#[component]
fn LongestTable(longest: Vec<LongRun>) -> impl IntoView {
    let empty = longest.is_empty();
    let widest = longest
        .iter()
        .map(|run| run.seconds.max(run.yesterday_seconds.unwrap_or(0.0)))
        .fold(1.0f64, f64::max);
    let rows = longest
        .into_iter()
        .map(|run| {
            let percent = |seconds: f64| format!("width: {:.1}%", seconds / widest * 100.0);
            let change = run.yesterday_seconds.filter(|y| *y > 0.0).map(|y| {
                let change = (run.seconds - y) / y * 100.0;
                let class = if change > 10.0 { "change up" } else { "change" };
                view! { <span class=class>{format!("{change:+.0}%")}</span> }
            });
            view! {
                <tr data-testid="longest-row">
                    <td class="wrap">
                        <a href=format!(
                            "/jobs/{}?instance={}",
                            run.job_id,
                            run.instance_id,
                        )>{run.job_name.clone()}</a>
                    </td>
                    <td class="mono">{seconds_text(Some(run.seconds))}</td>
                    <td class="mono muted">{seconds_text(run.yesterday_seconds)}</td>
                    <td>
                        <div class="compare">
                            <div class="compare-bars">
                                <span class="today" style=percent(run.seconds)></span>
                                <span
                                    class="yesterday"
                                    style=percent(run.yesterday_seconds.unwrap_or(0.0))
                                ></span>
                            </div>
                            {change}
                        </div>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <Table
            headers=vec![K::Job, K::Today, K::Yesterday, K::Change]
            empty
            empty_text=K::NothingYet
            testid="longest"
        >
            {rows}
        </Table>
    }
}

fn seconds_text(seconds: Option<f64>) -> String {
    seconds.map_or_else(
        || "–".to_owned(),
        |s| browser::duration(TimeDelta::milliseconds((s * 1000.0) as i64)),
    )
}

/// What there is: folders, jobs, connected workers.
#[component]
fn Overview() -> impl IntoView {
    let catalog = Catalog::current();
    let live = watch_events(|event| matches!(event, Event::Worker { .. }));
    let workers = LocalResource::new(move || {
        live.changes.track();
        http::get::<Vec<Worker>>("/api/workers")
    });
    let connected = move || {
        workers.get().and_then(Result::ok).map_or_else(
            || "–".to_owned(),
            |ws| {
                format!(
                    "{} / {}",
                    ws.iter().filter(|w| w.connected).count(),
                    ws.len()
                )
            },
        )
    };
    let stat = move |label: K, value: Box<dyn Fn() -> String + Send + Sync>| {
        view! {
            <span class="stat-value">{value}</span>
            <span class="stat-label">{move || t(label)}</span>
        }
    };
    view! {
        <div class="stats">
            <div class="stat card">
                {stat(K::Folders, Box::new(move || catalog.data().folders.len().to_string()))}
            </div>
            <div class="stat card">
                {stat(K::Jobs, Box::new(move || catalog.data().jobs.len().to_string()))}
            </div>
            <a class="stat card link" href="/workers">
                {stat(K::WorkersConnected, Box::new(connected))}
            </a>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::axis;

    #[test]
    fn axis_steps_are_round() {
        assert_eq!(axis(0), (1, 1));
        assert_eq!(axis(3), (3, 1));
        assert_eq!(axis(4), (4, 1));
        assert_eq!(axis(7), (8, 2));
        assert_eq!(axis(19), (20, 5));
        assert_eq!(axis(37), (40, 10));
        assert_eq!(axis(180), (200, 50));
        assert_eq!(axis(1234), (1500, 500));
    }
}
