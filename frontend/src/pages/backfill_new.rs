//! `/backfills/new?job=N`: the backfill form: the job (N preselected), whether its downstream jobs
//! are included, the business times (a date range, or a list of times), parallelism, order, job
//! version and a reason. "Preview (dry run)" shows the plan grouped by job, with each item's
//! action (create, rerun, leave); "Start backfill" is enabled once a preview of the form as it is
//! stands, and opens the new backfill.

use std::collections::BTreeMap;

use app::{
    api::{Backfill, BackfillPlan, BackfillPlanItem, BackfillRequest},
    domain::{BackfillOrder, BackfillVersion},
    ids::JobId,
};
use chrono::{DateTime, NaiveDate, Utc};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::{
    api::{
        catalog::{Catalog, CatalogData},
        http::{self, ApiError},
    },
    browser,
    components::{
        error_view::{ActionError, action_error},
        state_badge::StateBadge,
    },
    i18n::{K, backfill_order_label, backfill_version_label, fill, plan_action_label, t},
    pages::query,
};

/// How many items of one job the plan lists (the counts cover all of them).
const ITEMS_SHOWN: usize = 200;

/// The business times of a list, one per line (blank lines skipped), read in `zone`; the first
/// line that is not a business time is the error.
fn parse_times(text: &str, zone: &str) -> Result<Vec<DateTime<Utc>>, String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| browser::parse_time_in_zone(line, zone).ok_or_else(|| line.to_owned()))
        .collect()
}

/// The plan's items grouped by job, in the plan's order (upstream jobs first).
fn by_job(items: &[BackfillPlanItem]) -> Vec<(JobId, String, Vec<BackfillPlanItem>)> {
    let mut groups: Vec<(JobId, String, Vec<BackfillPlanItem>)> = Vec::new();
    for item in items {
        match groups.iter_mut().find(|(job, _, _)| *job == item.job_id) {
            Some((_, _, list)) => list.push(item.clone()),
            None => groups.push((item.job_id, item.job_name.clone(), vec![item.clone()])),
        }
    }
    groups
}

/// The form's fields.
#[derive(Clone, Copy)]
struct Form {
    job: RwSignal<Option<JobId>>,
    downstream: RwSignal<bool>,
    by_dates: RwSignal<bool>,
    start: RwSignal<String>,
    end: RwSignal<String>,
    times: RwSignal<String>,
    parallelism: RwSignal<String>,
    order: RwSignal<BackfillOrder>,
    version: RwSignal<BackfillVersion>,
    reason: RwSignal<String>,
}

impl Form {
    fn new(job: Option<JobId>) -> Self {
        Form {
            job: RwSignal::new(job),
            downstream: RwSignal::new(false),
            by_dates: RwSignal::new(true),
            start: RwSignal::new(String::new()),
            end: RwSignal::new(String::new()),
            times: RwSignal::new(String::new()),
            parallelism: RwSignal::new("1".to_owned()),
            order: RwSignal::new(BackfillOrder::OldestFirst),
            version: RwSignal::new(BackfillVersion::Latest),
            reason: RwSignal::new(String::new()),
        }
    }

    /// The request, or why each field that is not valid is refused (by request field); reactive.
    fn request(self, data: &CatalogData) -> Result<BackfillRequest, BTreeMap<String, String>> {
        let mut problems = BTreeMap::new();
        let required = || t(K::Required).to_owned();
        let job = self.job.get();
        if job.is_none() {
            problems.insert("job_id".to_owned(), required());
        }
        let (mut start_date, mut end_date, mut business_times) = (None, None, None);
        if self.by_dates.get() {
            let date = |text: String| text.trim().parse::<NaiveDate>().ok();
            start_date = date(self.start.get());
            end_date = date(self.end.get());
            for (field, value) in [("start_date", start_date), ("end_date", end_date)] {
                if value.is_none() {
                    problems.insert(field.to_owned(), required());
                }
            }
            if start_date
                .zip(end_date)
                .is_some_and(|(start, end)| end < start)
            {
                problems.insert("end_date".to_owned(), t(K::EndBeforeStart).to_owned());
            }
        } else {
            let zone = job
                .and_then(|id| data.job(id))
                .map_or("UTC", |job| job.timezone.as_str());
            match parse_times(&self.times.get(), zone) {
                Ok(times) if times.is_empty() => {
                    problems.insert("business_times".to_owned(), required());
                }
                Ok(times) => business_times = Some(times),
                Err(line) => {
                    problems.insert(
                        "business_times".to_owned(),
                        fill(t(K::BadTime), &[("line", &line)]),
                    );
                }
            }
        }
        let parallelism = self
            .parallelism
            .get()
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| *n > 0);
        if parallelism.is_none() {
            problems.insert("parallelism".to_owned(), t(K::WholeNumber).to_owned());
        }
        match job {
            Some(job_id) if problems.is_empty() => Ok(BackfillRequest {
                job_id,
                include_downstream: self.downstream.get(),
                start_date,
                end_date,
                business_times,
                parallelism,
                order: Some(self.order.get()),
                version: Some(self.version.get()),
                reason: Some(self.reason.get().trim().to_owned()).filter(|r| !r.is_empty()),
            }),
            _ => Err(problems),
        }
    }
}

/// The new-backfill page.
#[component]
pub fn NewBackfillPage() -> impl IntoView {
    let catalog = Catalog::current();
    let form = Form::new(query::<JobId>("job").get_untracked());
    let plan = RwSignal::new(None::<BackfillPlan>);
    // The reasons shown: found when Preview is pressed, or the server's (a 422).
    let local_errors = RwSignal::new(BTreeMap::<String, String>::new());
    // Any change to the form makes the preview stale.
    Effect::new(move |_| {
        let _ = form.request(&catalog.data());
        plan.set(None);
        local_errors.set(BTreeMap::new());
    });
    let preview = Action::new_local(move |request: &BackfillRequest| {
        let request = request.clone();
        async move {
            let answer: BackfillPlan = http::post("/api/backfills/dry-run", &request).await?;
            plan.set(Some(answer));
            Ok::<_, ApiError>(())
        }
    });
    let navigate = use_navigate();
    let start = Action::new_local(move |request: &BackfillRequest| {
        let request = request.clone();
        let navigate = navigate.clone();
        async move {
            let backfill: Backfill = http::post("/api/backfills", &request).await?;
            navigate(&format!("/backfills/{}", backfill.id), Default::default());
            Ok::<_, ApiError>(())
        }
    });
    let send = move |action: Action<BackfillRequest, Result<(), ApiError>>| match form
        .request(&catalog.data())
    {
        Ok(request) => {
            local_errors.set(BTreeMap::new());
            action.dispatch_local(request);
        }
        Err(problems) => local_errors.set(problems),
    };
    let errors = Memo::new(move |_| {
        let mut all = local_errors.get();
        for action in [preview, start] {
            if let Some(Err(err)) = action.value().get() {
                all.extend(err.fields());
            }
        }
        all
    });
    let general_error = Signal::derive(move || {
        [action_error(preview), action_error(start)]
            .into_iter()
            .find_map(|error| error.get())
    });
    let can_start =
        move || plan.with(|p| p.as_ref().is_some_and(|p| p.to_run > 0)) && !start.pending().get();
    let zone = move || {
        form.job
            .get()
            .and_then(|id| catalog.data().job(id).map(|job| job.timezone.clone()))
            .unwrap_or_else(|| "UTC".to_owned())
    };
    view! {
        <div class="page">
            <div class="page-head">
                <div>
                    <div class="crumbs">
                        <a href="/backfills">{move || t(K::Backfills)}</a>
                    </div>
                    <h1>{move || t(K::NewBackfill)}</h1>
                </div>
            </div>
            <form
                class="card editor"
                data-testid="backfill-form"
                novalidate
                on:submit=move |ev: leptos::ev::SubmitEvent| {
                    ev.prevent_default();
                    send(preview);
                }
            >
                <div class="grid-2">
                    <FormField label=K::Job name="job_id" errors>
                        <JobPicker job=form.job />
                    </FormField>
                    <div class="field">
                        <span class="label">{move || t(K::IncludeDownstream)}</span>
                        <label class="check">
                            <input
                                type="checkbox"
                                data-testid="backfill-downstream"
                                bind:checked=form.downstream
                            />
                            {move || t(K::IncludeDownstreamHint)}
                        </label>
                    </div>
                </div>
                <div class="field">
                    <span class="label">{move || t(K::Range)}</span>
                    <div class="segmented light" role="group">
                        <button
                            type="button"
                            class="seg"
                            class:active=move || form.by_dates.get()
                            data-testid="range-dates"
                            on:click=move |_| form.by_dates.set(true)
                        >
                            {move || t(K::ByDates)}
                        </button>
                        <button
                            type="button"
                            class="seg"
                            class:active=move || !form.by_dates.get()
                            data-testid="range-times"
                            on:click=move |_| form.by_dates.set(false)
                        >
                            {move || t(K::ByTimes)}
                        </button>
                    </div>
                </div>
                <Show
                    when=move || form.by_dates.get()
                    fallback=move || {
                        view! {
                            <FormField label=K::Range name="business_times" errors>
                                <textarea
                                    class="input code"
                                    rows="5"
                                    spellcheck="false"
                                    data-testid="backfill-times"
                                    placeholder="2026-10-01 02:00"
                                    bind:value=form.times
                                ></textarea>
                                <span class="muted hint">
                                    {move || fill(t(K::TimesHint), &[("zone", &zone())])}
                                </span>
                            </FormField>
                        }
                    }
                >
                    <div class="grid-3">
                        <FormField label=K::StartDate name="start_date" errors>
                            <input
                                class="input"
                                type="date"
                                data-testid="backfill-start-date"
                                bind:value=form.start
                            />
                        </FormField>
                        <FormField label=K::EndDate name="end_date" errors>
                            <input
                                class="input"
                                type="date"
                                data-testid="backfill-end-date"
                                bind:value=form.end
                            />
                        </FormField>
                        <div></div>
                    </div>
                </Show>
                <div class="grid-3">
                    <FormField label=K::Parallelism name="parallelism" errors>
                        <input
                            class="input"
                            type="number"
                            min="1"
                            data-testid="backfill-parallelism"
                            bind:value=form.parallelism
                        />
                    </FormField>
                    <FormField label=K::Order name="order" errors>
                        <EnumSelect
                            value=form.order
                            choices=BackfillOrder::ALL
                            label=backfill_order_label
                            testid="backfill-order"
                        />
                    </FormField>
                    <FormField label=K::VersionChoice name="version" errors>
                        <EnumSelect
                            value=form.version
                            choices=BackfillVersion::ALL
                            label=backfill_version_label
                            testid="backfill-version"
                        />
                    </FormField>
                </div>
                <FormField label=K::Reason name="reason" errors>
                    <input
                        class="input"
                        data-testid="backfill-reason"
                        placeholder=move || t(K::ReasonOptional)
                        maxlength="1000"
                        bind:value=form.reason
                    />
                </FormField>
                <ActionError message=general_error />
                <div class="form-actions">
                    <button
                        class="btn"
                        type="submit"
                        data-testid="backfill-preview"
                        disabled=move || preview.pending().get()
                    >
                        {move || t(K::Preview)}
                    </button>
                    <button
                        class="btn primary"
                        type="button"
                        data-testid="backfill-start"
                        disabled=move || !can_start()
                        on:click=move |_| send(start)
                    >
                        {move || t(K::StartBackfill)}
                    </button>
                    <Show when=move || plan.with(Option::is_none)>
                        <span class="muted hint">{move || t(K::PreviewFirst)}</span>
                    </Show>
                </div>
            </form>
            {move || plan.get().map(|plan| view! { <PlanView plan /> })}
        </div>
    }
}

/// A labelled field with the reason it was refused, if any.
#[component]
fn FormField(
    label: K,
    name: &'static str,
    errors: Memo<BTreeMap<String, String>>,
    children: Children,
) -> impl IntoView {
    let reason = move || errors.with(|e| e.get(name).cloned());
    view! {
        <div class="field" class:invalid=move || reason().is_some()>
            <span class="label">{move || t(label)}</span>
            {children()}
            {move || {
                reason()
                    .map(|reason| {
                        view! {
                            <span class="field-error" data-testid=format!("error-{name}")>
                                {reason}
                            </span>
                        }
                    })
            }}
        </div>
    }
}

/// A select of the values of a domain enum.
#[component]
fn EnumSelect<T>(
    value: RwSignal<T>,
    choices: &'static [T],
    label: fn(T) -> K,
    testid: &'static str,
) -> impl IntoView
where
    T: Copy + PartialEq + Send + Sync + std::str::FromStr + std::fmt::Display + 'static,
{
    view! {
        <select
            class="input"
            data-testid=testid
            on:change=move |ev| {
                if let Ok(chosen) = event_target_value(&ev).parse() {
                    value.set(chosen);
                }
            }
        >
            {choices
                .iter()
                .map(|choice| {
                    let choice = *choice;
                    view! {
                        <option value=choice.to_string() selected=move || value.get() == choice>
                            {move || t(label(choice))}
                        </option>
                    }
                })
                .collect_view()}
        </select>
    }
}

/// Every job, by folder path and name.
#[component]
fn JobPicker(job: RwSignal<Option<JobId>>) -> impl IntoView {
    let catalog = Catalog::current();
    let options = move || {
        let data = catalog.data();
        let mut jobs: Vec<_> = data
            .jobs
            .iter()
            .map(|j| (data.folder_path(j.folder_id), j.name.clone(), j.id))
            .collect();
        jobs.sort();
        jobs.into_iter()
            .map(|(path, name, id)| {
                view! {
                    <option value=id.0 selected=move || job.get() == Some(id)>
                        {format!("{path} / {name} #{id}")}
                    </option>
                }
            })
            .collect_view()
    };
    view! {
        <select
            class="input"
            data-testid="backfill-job"
            on:change=move |ev| job.set(event_target_value(&ev).parse().ok())
        >
            <option value="" selected=move || job.get().is_none()>
                {move || t(K::ChooseJob)}
            </option>
            {options}
        </select>
    }
}

/// The plan: how many instances would run, then per job its counts and items.
#[component]
fn PlanView(plan: BackfillPlan) -> impl IntoView {
    let catalog = Catalog::current();
    let (to_run, items) = (plan.to_run, plan.items.len());
    let groups = by_job(&plan.items)
        .into_iter()
        .map(|(job, name, list)| {
            let zone = catalog
                .data()
                .job(job)
                .map_or_else(|| "UTC".to_owned(), |j| j.timezone.clone());
            let count = |action: &str| {
                list.iter()
                    .filter(|i| i.action == action)
                    .count()
                    .to_string()
            };
            let counts = [count("create"), count("rerun"), count("leave")];
            let more = list.len().saturating_sub(ITEMS_SHOWN);
            let rows = list
                .into_iter()
                .take(ITEMS_SHOWN)
                .map(|item| plan_row(item, &zone))
                .collect_view();
            view! {
                <div class="plan-job" data-testid="plan-job" data-job-id=job.0>
                    <div class="plan-job-head">
                        <a href=format!("/jobs/{job}")>{name}</a>
                        <span class="id">"#" {job.0}</span>
                        <span class="muted">
                            {move || {
                                fill(
                                    t(K::PlanCounts),
                                    &[
                                        ("create", &counts[0]),
                                        ("rerun", &counts[1]),
                                        ("leave", &counts[2]),
                                    ],
                                )
                            }}
                        </span>
                    </div>
                    <div class="plan-items">{rows}</div>
                    {(more > 0).then(|| view! { <p class="muted">"… +" {more}</p> })}
                </div>
            }
        })
        .collect_view();
    view! {
        <section class="card" data-testid="backfill-plan" data-items=items data-to-run=to_run>
            <div class="card-head">
                <h2 data-testid="plan-summary">
                    {move || {
                        if items == 0 {
                            t(K::PlanEmpty).to_owned()
                        } else {
                            fill(t(K::PlanToRun), &[("n", &to_run.to_string())])
                        }
                    }}
                </h2>
            </div>
            {groups}
        </section>
    }
}

fn plan_row(item: BackfillPlanItem, zone: &str) -> impl IntoView + use<> {
    let label = plan_action_label(&item.action);
    let action = item.action.clone();
    let instance = item.instance_id.map(|instance| {
        view! {
            <a href=format!("/jobs/{}?instance={instance}", item.job_id)>"#" {instance.0}</a>
        }
    });
    view! {
        <div class="plan-item" data-testid="plan-item" data-action=item.action.clone()>
            <span class="mono">{browser::in_zone(item.business_time, zone)}</span>
            <span class=format!("badge action-{}", item.action) data-testid="plan-action">
                {move || label.map_or_else(|| action.clone(), |k| t(k).to_owned())}
            </span>
            {instance}
            {item.state.map(|state| view! { <StateBadge state /> })}
            <span class="muted">"v" {item.version}</span>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_of_times_is_read_line_by_line_in_the_zone() {
        let times = parse_times(
            "2026-10-01 02:00\n\n  2026-10-02T02:00:00Z \n",
            "Asia/Shanghai",
        );
        let times: Vec<_> = times.unwrap().iter().map(|t| t.to_rfc3339()).collect();
        assert_eq!(
            times,
            ["2026-09-30T18:00:00+00:00", "2026-10-02T02:00:00+00:00"]
        );
        assert_eq!(
            parse_times("2026-10-01 02:00\nlater", "UTC"),
            Err("later".to_owned())
        );
    }

    #[test]
    fn the_plan_is_grouped_by_job_in_its_order() {
        let item = |job: i64, action: &str| BackfillPlanItem {
            job_id: JobId(job),
            job_name: format!("j{job}"),
            business_time: DateTime::from_timestamp(0, 0).unwrap(),
            instance_id: None,
            state: None,
            action: action.to_owned(),
            version: 1,
        };
        let groups = by_job(&[item(2, "create"), item(2, "rerun"), item(1, "leave")]);
        let shape: Vec<_> = groups
            .iter()
            .map(|(job, name, list)| (job.0, name.as_str(), list.len()))
            .collect();
        assert_eq!(shape, [(2, "j2", 2), (1, "j1", 1)]);
    }
}
