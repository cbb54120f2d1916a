//! `/jobs/:id/dag`: the DAG explorer. The job with everything upstream and downstream of it (the
//! closure comes whole from `GET /api/jobs/{id}/dag`); one level around it is shown at first, then
//! "expand one level", "expand all" or a double-click on a job widen the view (the jobs already
//! drawn stay where they are; "re-layout" tidies the whole graph). Nodes are coloured by
//! each job's instance of the chosen business date (a day in the centre job's time zone, today there
//! at first), fetched for the shown jobs a few at a time
//! and refetched when the server reports a change; a search box highlights jobs; clicking a job
//! opens a side panel with its instance, why it waits, and the last lines of its log.

use std::{
    cell::RefCell,
    collections::{HashMap, HashSet, VecDeque},
    rc::Rc,
};

use app::{
    api::{DagView, Event, Instance, Job, LogPage},
    ids::{AttemptId, JobId},
};
use chrono::{DateTime, NaiveDate, Utc};
use leptos::{ev, prelude::*, task::spawn_local};

use crate::{
    api::{
        http::{self, ApiError},
        ws::watch_events,
    },
    browser,
    components::{
        dag_graph::DagGraph,
        error_view::{ActionError, loading},
        state_badge::{StateBadge, StateName},
        why_panel::{WhyPanel, WhyState, can_explain},
    },
    dag_model::{Closure, tail_lines},
    i18n::{K, fill, t},
    pages::{BadAddress, job::LiveDot, param},
};

/// Requests in flight while colouring the nodes.
const PARALLEL_FETCHES: usize = 6;
/// Answers gathered before the colours are updated (one recolour per batch, not per answer).
const FLUSH_EVERY: usize = 40;
/// Log lines shown in the side panel.
const TAIL_LINES: usize = 20;
/// Log bytes read at most for the side panel's tail (the server sends 1 MB pages).
const TAIL_MAX_BYTES: u64 = 2 << 20;

/// The DAG page.
#[component]
pub fn DagPage() -> impl IntoView {
    let id = param::<JobId>("id");
    move || match id.get() {
        Some(id) => view! { <DagOf id /> }.into_any(),
        None => view! { <BadAddress /> }.into_any(),
    }
}

/// Each job's instance of the chosen date: `Some(None)` when it has none, absent while unknown.
type DayInstances = HashMap<JobId, Option<Instance>>;

#[component]
fn DagOf(id: JobId) -> impl IntoView {
    let dag = LocalResource::new(move || http::get::<DagView>(format!("/api/jobs/{id}/dag")));
    let error = Signal::derive(move || {
        dag.get()
            .and_then(Result::err)
            .map(|e: ApiError| e.to_string())
    });
    let closure = Memo::new(move |_| dag.get().and_then(Result::ok).map(|d| Closure::of(&d)));
    let shown = RwSignal::new(HashSet::<JobId>::new());
    Effect::new(move || {
        closure.with(|c| {
            if let Some(c) = c {
                shown.set(c.initial());
            }
        })
    });
    let name_of = move |job: JobId| {
        closure.with(|c| {
            c.as_ref()
                .and_then(|c| c.nodes.iter().find(|(id, _)| *id == job))
                .map(|(_, name)| name.clone())
                .unwrap_or_default()
        })
    };
    let expand = move |f: &dyn Fn(&Closure, &HashSet<JobId>) -> HashSet<JobId>| {
        closure.with_untracked(|c| {
            if let Some(c) = c {
                let more = shown.with_untracked(|s| f(c, s));
                shown.set(more);
            }
        });
    };
    let expand_around = Callback::new(move |job: JobId| {
        expand(&|c, s| {
            let mut more = s.clone();
            more.insert(job);
            more.extend(c.neighbours(job));
            more
        })
    });

    // The business date, a day in the centre job's zone (today there until one is picked), and
    // each shown job's instance of it. Nothing loads before the zone is known.
    let job = LocalResource::new(move || http::get::<Job>(format!("/api/jobs/{id}")));
    let zone = Memo::new(move |_| {
        job.get().map(|answer| {
            answer
                .ok()
                .map(|job| job.timezone)
                .filter(|zone| app::cron::parse_zone(zone).is_ok())
                .unwrap_or_else(|| "UTC".to_owned())
        })
    });
    let date = RwSignal::new(None::<NaiveDate>);
    Effect::new(move || {
        if let Some(zone) = zone.get()
            && date.get_untracked().is_none()
        {
            date.set(Some(browser::date_in_zone(browser::now(), &zone)));
        }
    });
    let business_day = Memo::new(move |_| {
        Some(Day {
            date: date.get()?,
            zone: zone.get()?,
        })
    });
    let day = DayLoader::new(business_day);
    Effect::new(move || {
        let wanted: Vec<JobId> = shown.with(|s| s.iter().copied().collect());
        if business_day.with(Option::is_some) {
            day.load(wanted);
        }
    });
    // Live: an instance of a shown job on the chosen date changed; fetch it again.
    let live = watch_events(move |event| match event {
        Event::Instance {
            job_id,
            scheduled_at,
            ..
        } => {
            let on_day = business_day
                .get_untracked()
                .as_ref()
                .and_then(day_bounds)
                .is_some_and(|(from, to)| *scheduled_at >= from && *scheduled_at < to);
            let concerned = on_day && shown.with_untracked(|s| s.contains(job_id));
            if concerned {
                day.reload(*job_id);
            }
            false
        }
        _ => false,
    });
    let states = Signal::derive(move || {
        day.instances.with(|m| {
            m.iter()
                .map(|(id, i)| (*id, i.as_ref().map_or("none", |i| i.state.as_str())))
                .collect::<HashMap<_, _>>()
        })
    });

    // Search.
    let query = RwSignal::new(String::new());
    let fit = RwSignal::new(0u64);
    let relayout = RwSignal::new(0u64);
    let matches = Memo::new(move |_| {
        let query = query.get();
        closure.with(|c| {
            c.as_ref()
                .map(|c| shown.with(|s| c.search(&query, s)))
                .unwrap_or_default()
        })
    });
    // The current hit, and a counter so that Enter on a single hit centres on it again.
    let cursor = RwSignal::new((0usize, 0u64));
    Effect::new(move || {
        matches.track();
        cursor.update(|(i, n)| {
            *i = 0;
            *n += 1;
        });
    });
    let focus = Signal::derive(move || {
        let (i, n) = cursor.get();
        matches.with(|m| m.get(i).map(|id| (*id, n)))
    });
    let on_search_key = move |event: ev::KeyboardEvent| {
        if event.key() == "Enter" {
            event.prevent_default();
            let len = matches.with_untracked(Vec::len);
            if len > 0 {
                let step = if event.shift_key() { len - 1 } else { 1 };
                cursor.update(|(i, n)| {
                    *i = (*i + step) % len;
                    *n += 1;
                });
            }
        }
    };
    let search_status = move || {
        let len = matches.with(Vec::len);
        if query.with(|q| q.trim().is_empty()) {
            String::new()
        } else if len == 0 {
            t(K::DagNoMatch).to_owned()
        } else {
            let i = (cursor.get().0 + 1).to_string();
            fill(t(K::DagMatchOf), &[("i", &i), ("n", &len.to_string())])
        }
    };

    let selected = RwSignal::new(None::<JobId>);
    // A search hit becomes the selected job too.
    Effect::new(move || {
        if let Some((job, _)) = focus.get() {
            selected.set(Some(job));
        }
    });
    // The side panel's job is fetched first.
    Effect::new(move || {
        business_day.track();
        if let Some(job) = selected.get() {
            day.prioritise(job);
        }
    });
    let total = move || closure.with(|c| c.as_ref().map_or(0, Closure::len));
    let shown_text = move || {
        let (n, m) = (shown.with(HashSet::len).to_string(), total().to_string());
        fill(t(K::DagShownOf), &[("n", &n), ("m", &m)])
    };
    let all_shown = move || shown.with(HashSet::len) >= total();
    let legend = ["success", "failed", "running", "queued", "waiting"];
    view! {
        <div class="page dag-page">
            <div class="page-head">
                <div>
                    <div class="crumbs">
                        <a href=format!("/jobs/{id}")>{move || name_of(id)} " #" {id.0}</a>
                    </div>
                    <h1>{move || t(K::Dag)}</h1>
                </div>
                <div class="actions">
                    <LiveDot connected=live.connected />
                </div>
            </div>
            <ActionError message=error />
            <div class="dag-toolbar card">
                <button
                    class="btn"
                    data-testid="dag-expand-one"
                    disabled=all_shown
                    on:click=move |_| expand(&|c, s| c.expand_level(s))
                >
                    {move || t(K::DagExpandOne)}
                </button>
                <button
                    class="btn"
                    data-testid="dag-expand-all"
                    disabled=all_shown
                    on:click=move |_| expand(&|c, _| c.all())
                >
                    {move || t(K::DagExpandAll)}
                </button>
                <div class="dag-search">
                    <input
                        type="search"
                        class="input"
                        data-testid="dag-search"
                        placeholder=move || t(K::DagSearch)
                        prop:value=move || query.get()
                        on:input=move |event| {
                            let value = event_target_value(&event);
                            // Clearing the search shows the whole graph again.
                            if value.trim().is_empty() && !query.with_untracked(|q| q.trim().is_empty()) {
                                fit.update(|n| *n += 1);
                            }
                            query.set(value);
                        }
                        on:keydown=on_search_key
                    />
                    <span class="muted" data-testid="dag-search-status">
                        {search_status}
                    </span>
                </div>
                <label class="dag-date">
                    <span data-testid="dag-date-label">
                        {move || {
                            fill(
                                t(K::DagBusinessDate),
                                &[("zone", &zone.get().unwrap_or_default())],
                            )
                        }}
                    </span>
                    <input
                        type="date"
                        class="input"
                        data-testid="dag-date"
                        data-zone=move || zone.get().unwrap_or_default()
                        prop:value=move || {
                            date.get().map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default()
                        }
                        on:change=move |event| {
                            if let Ok(d) = NaiveDate::parse_from_str(&event_target_value(&event), "%Y-%m-%d") {
                                date.set(Some(d));
                            }
                        }
                    />
                </label>
            </div>
            <div class="dag-body">
                <section class="card dag-card">
                    // The view's own controls, over the canvas's corner (the toolbar above stays
                    // on one line at 1280 pixels).
                    <div class="dag-view-tools">
                        <button
                            class="btn small"
                            data-testid="dag-relayout"
                            title=move || t(K::DagRelayoutHint)
                            on:click=move |_| relayout.update(|n| *n += 1)
                        >
                            {move || t(K::DagRelayout)}
                        </button>
                        <button
                            class="btn small"
                            data-testid="dag-fit"
                            title=move || t(K::DagFitHint)
                            on:click=move |_| fit.update(|n| *n += 1)
                        >
                            {move || t(K::DagFit)}
                        </button>
                    </div>
                    <DagGraph
                        closure=closure
                        shown=shown
                        states=states
                        matches=matches
                        focus=focus
                        selected=selected
                        on_expand=expand_around
                        fit=fit
                        relayout=relayout
                    />
                    <div class="legend">
                        {legend.map(|s| view! { <StateBadge state=StateName(s) /> }).collect_view()}
                        <span class="badge state-none">{move || t(K::DagNoInstance)}</span>
                        <span class="muted dag-hint">{move || t(K::DagHint)}</span>
                        <span class="muted dag-shown" data-testid="dag-shown">
                            {shown_text}
                        </span>
                    </div>
                </section>
                {move || {
                    selected
                        .get()
                        .map(|job| {
                            let instance = Signal::derive(move || {
                                day.instances.with(|m| m.get(&job).cloned())
                            });
                            view! {
                                <SidePanel
                                    job=job
                                    zone=Signal::derive(move || zone.get().unwrap_or_default())
                                    name=name_of(job)
                                    instance=instance
                                    on_close=Callback::new(move |()| selected.set(None))
                                />
                            }
                        })
                }}
            </div>
        </div>
    }
}

/// A business date: a calendar day in an IANA zone (the centre job's).
#[derive(Clone, Debug, PartialEq)]
struct Day {
    date: NaiveDate,
    zone: String,
}

/// The instants a business date starts and ends (exclusive) in its zone (UTC when the zone is
/// unknown); a day with a clock change is 23 or 25 hours long.
fn day_bounds(day: &Day) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let next = day.date.succ_opt()?;
    match app::cron::parse_zone(&day.zone) {
        Ok(tz) => Some((
            app::cron::local_midnight(tz, day.date),
            app::cron::local_midnight(tz, next),
        )),
        Err(_) => Some((
            day.date.and_hms_opt(0, 0, 0)?.and_utc(),
            next.and_hms_opt(0, 0, 0)?.and_utc(),
        )),
    }
}

/// Fetches each job's instance of the chosen date, [`PARALLEL_FETCHES`] requests at a time,
/// into [`DayLoader::instances`]. A new date starts again from nothing.
#[derive(Clone, Copy)]
struct DayLoader {
    /// The answers so far.
    instances: RwSignal<DayInstances>,
    state: StoredValue<Rc<RefCell<LoadState>>, LocalStorage>,
}

#[derive(Default)]
struct LoadState {
    /// The business date being loaded.
    day: Option<Day>,
    /// Moves with each new date: answers for an older one are dropped.
    generation: u64,
    /// Jobs asked for or waiting to be (not asked again).
    requested: HashSet<JobId>,
    queue: VecDeque<JobId>,
    /// Answers not yet in [`DayLoader::instances`].
    pending: Vec<(JobId, Option<Instance>)>,
    /// Fetch loops running.
    running: usize,
}

impl DayLoader {
    fn new(day: Memo<Option<Day>>) -> DayLoader {
        let loader = DayLoader {
            instances: RwSignal::new(HashMap::new()),
            state: StoredValue::new_local(Rc::new(RefCell::new(LoadState::default()))),
        };
        loader
            .state
            .with_value(|s| s.borrow_mut().day = day.get_untracked());
        // Reacts to the date (and the zone): forget everything.
        Effect::new(move |_| {
            let d = day.get();
            loader.state.with_value(|s| {
                let mut s = s.borrow_mut();
                if s.day != d {
                    s.day = d;
                    s.generation += 1;
                    s.requested.clear();
                    s.queue.clear();
                    s.pending.clear();
                    drop(s);
                    loader.instances.set(HashMap::new());
                }
            });
        });
        loader
    }

    /// Fetches the instances of `jobs` not fetched yet.
    fn load(self, jobs: Vec<JobId>) {
        let state = self.state.get_value();
        {
            let mut s = state.borrow_mut();
            for job in jobs {
                if s.requested.insert(job) {
                    s.queue.push_back(job);
                }
            }
        }
        self.start(state);
    }

    /// Fetches the instance of `job` before the others (the side panel shows it), unless known.
    fn prioritise(self, job: JobId) {
        if self.instances.with_untracked(|m| m.contains_key(&job)) {
            return;
        }
        let state = self.state.get_value();
        {
            let mut s = state.borrow_mut();
            s.requested.insert(job);
            s.queue.retain(|j| *j != job);
            s.queue.push_front(job);
        }
        self.start(state);
    }

    /// Fetches the instance of `job` again.
    fn reload(self, job: JobId) {
        let state = self.state.get_value();
        {
            let mut s = state.borrow_mut();
            s.requested.insert(job);
            if !s.queue.contains(&job) {
                s.queue.push_back(job);
            }
        }
        self.start(state);
    }

    fn start(self, state: Rc<RefCell<LoadState>>) {
        let missing = {
            let s = state.borrow();
            PARALLEL_FETCHES
                .saturating_sub(s.running)
                .min(s.queue.len())
        };
        for _ in 0..missing {
            state.borrow_mut().running += 1;
            let state = state.clone();
            spawn_local(async move {
                self.fetch_loop(&state).await;
                let flush = {
                    let mut s = state.borrow_mut();
                    s.running -= 1;
                    s.running == 0
                };
                if flush {
                    self.flush(&state);
                }
            });
        }
    }

    async fn fetch_loop(self, state: &Rc<RefCell<LoadState>>) {
        loop {
            let (job, generation, bounds) = {
                let mut s = state.borrow_mut();
                let Some(job) = s.queue.pop_front() else {
                    return;
                };
                (job, s.generation, s.day.as_ref().and_then(day_bounds))
            };
            let Some((from, to)) = bounds else {
                return;
            };
            let path = format!(
                "/api/jobs/{job}/instances?from={}&to={}&limit=1",
                from.format("%Y-%m-%dT%H:%M:%SZ"),
                to.format("%Y-%m-%dT%H:%M:%SZ")
            );
            let answer = http::get::<Vec<Instance>>(path).await;
            let flush = {
                let mut s = state.borrow_mut();
                if s.generation != generation {
                    continue;
                }
                match answer {
                    Ok(list) => s.pending.push((job, list.into_iter().next())),
                    // Not coloured; asked again when the job is shown again after a new date.
                    Err(_) => {
                        s.requested.remove(&job);
                    }
                }
                s.pending.len() >= FLUSH_EVERY
            };
            if flush {
                self.flush(state);
            }
        }
    }

    fn flush(self, state: &Rc<RefCell<LoadState>>) {
        let pending = std::mem::take(&mut state.borrow_mut().pending);
        if !pending.is_empty() {
            self.instances.try_update(|m| m.extend(pending));
        }
    }
}

/// The side panel of a clicked job: its name (a link to the job), its instance of the chosen date
/// with its state, why it has not started, and the last lines of its latest attempt's log.
#[component]
fn SidePanel(
    job: JobId,
    /// The zone business times are shown in (the centre job's).
    zone: Signal<String>,
    name: String,
    #[prop(into)] instance: Signal<Option<Option<Instance>>>,
    on_close: Callback<()>,
) -> impl IntoView {
    let body = move || match instance.get() {
        None => loading().into_any(),
        Some(None) => view! {
            <p class="muted" data-testid="dag-panel-no-instance">
                {move || t(K::DagNoInstance)}
            </p>
        }
        .into_any(),
        Some(Some(instance)) => {
            let attempt = instance.attempts.last().map(|a| a.id);
            let why = WhyState::new();
            let id = instance.id;
            view! {
                <dl class="dag-panel-instance" data-testid="dag-panel-instance" data-instance-id=id.0>
                    <dt>{move || t(K::BusinessTime)}</dt>
                    <dd data-testid="dag-panel-time">
                        {move || browser::in_zone(instance.scheduled_at, &zone.get())}
                    </dd>
                    <dt>{move || t(K::State)}</dt>
                    <dd>
                        <StateBadge state=instance.state />
                    </dd>
                </dl>
                {can_explain(instance.state)
                    .then(|| {
                        view! {
                            <h3>{move || t(K::DagWhy)}</h3>
                            <WhyPanel id why />
                        }
                    })}
                {instance
                    .reason
                    .filter(|_| !can_explain(instance.state))
                    .map(|reason| view! { <p class="muted" data-testid="dag-panel-reason">{reason}</p> })}
                <h3>{move || t(K::DagLastLog)}</h3>
                {match attempt {
                    Some(attempt) => view! { <LogTailLines attempt /> }.into_any(),
                    None => view! {
                        <p class="muted" data-testid="dag-panel-no-log">{move || t(K::DagNoLog)}</p>
                    }
                    .into_any(),
                }}
            }
            .into_any()
        }
    };
    view! {
        <aside class="card dag-panel" data-testid="dag-panel" data-job-id=job.0>
            <div class="dag-panel-head">
                <a href=format!("/jobs/{job}") data-testid="dag-panel-job">
                    {name}
                    " #"
                    {job.0}
                </a>
                <button
                    class="btn small"
                    data-testid="dag-panel-close"
                    aria-label=move || t(K::Close)
                    on:click=move |_| on_close.run(())
                >
                    "×"
                </button>
            </div>
            {body}
        </aside>
    }
}

/// The last [`TAIL_LINES`] lines of an attempt's log, reading pages from the start up to
/// [`TAIL_MAX_BYTES`] (a bigger log shows the tail of what was read).
#[component]
fn LogTailLines(attempt: AttemptId) -> impl IntoView {
    let tail = LocalResource::new(move || read_tail(attempt));
    let body = move || {
        match tail.get() {
        None => loading().into_any(),
        Some(Err(err)) => view! { <div class="alert error">{err.to_string()}</div> }.into_any(),
        Some(Ok((lines, _))) if lines.is_empty() => view! {
            <p class="muted" data-testid="dag-panel-no-log">{move || t(K::DagNoLog)}</p>
        }
        .into_any(),
        Some(Ok((lines, cut))) => view! {
            {cut.then(|| view! { <p class="muted small">{move || t(K::DagLogCut)}</p> })}
            <pre class="dag-log" data-testid="dag-panel-log">
                {lines.into_iter().map(|line| view! { <div class="dag-log-line">{line}</div> }).collect_view()}
            </pre>
            <a href=format!("/attempts/{attempt}/log")>{move || t(K::DagOpenLog)}</a>
        }
        .into_any(),
    }
    };
    view! { <div class="dag-panel-log">{body}</div> }
}

/// Reads the log of `attempt` page by page from offset 0, keeping the last lines; stops at the
/// end, or after [`TAIL_MAX_BYTES`] (then `true`: the tail is not the log's end).
async fn read_tail(attempt: AttemptId) -> Result<(Vec<String>, bool), ApiError> {
    let mut offset = 0u64;
    let mut text = String::new();
    loop {
        let page: LogPage =
            http::get(format!("/api/attempts/{attempt}/log?offset={offset}")).await?;
        text.push_str(&page.text);
        // Keep only what the tail may need: a few lines' worth beyond the last TAIL_LINES.
        let keep = tail_lines(&text, TAIL_LINES + 1).join("\n");
        let ended_with_newline = text.ends_with('\n');
        text = keep;
        if ended_with_newline {
            text.push('\n');
        }
        let no_progress = page.next_offset <= offset;
        offset = page.next_offset;
        if page.complete || no_progress || page.text.is_empty() {
            return Ok((tail_lines(&text, TAIL_LINES), false));
        }
        if offset >= TAIL_MAX_BYTES {
            return Ok((tail_lines(&text, TAIL_LINES), true));
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn day(date: &str, zone: &str) -> Day {
        Day {
            date: date.parse().unwrap(),
            zone: zone.to_owned(),
        }
    }

    #[test]
    fn a_business_date_is_a_day_of_the_job_zone() {
        let utc = |y, m, d, h| Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap();
        assert_eq!(
            day_bounds(&day("2026-03-02", "Asia/Shanghai")),
            Some((utc(2026, 3, 1, 16), utc(2026, 3, 2, 16)))
        );
        assert_eq!(
            day_bounds(&day("2026-03-02", "UTC")),
            Some((utc(2026, 3, 2, 0), utc(2026, 3, 3, 0)))
        );
        // The day the clocks go forward in New York has 23 hours.
        assert_eq!(
            day_bounds(&day("2026-03-08", "America/New_York")),
            Some((utc(2026, 3, 8, 5), utc(2026, 3, 9, 4)))
        );
        // An unknown zone reads as UTC.
        assert_eq!(
            day_bounds(&day("2026-03-02", "Mars/Olympus")),
            Some((utc(2026, 3, 2, 0), utc(2026, 3, 3, 0)))
        );
    }
}
