//! `/backfills/:id`: one backfill: its settings, a progress bar with the count of each state,
//! pause / resume / cancel / rerun-failed with an optional reason, its instances (links to each
//! on its job's page and to its log) and its audit trail. Live: an event of one of its jobs
//! refetches it, at most every second.

use std::{collections::HashSet, time::Duration};

use app::{
    api::{ActionReason, Backfill, BackfillDetail, BackfillMember, Event},
    domain::{BackfillState, InstanceState},
    ids::{BackfillId, JobId},
};
use leptos::prelude::*;

use crate::{
    api::{
        http::{self, ApiError},
        ws::watch_events,
    },
    browser,
    components::{
        audit_list::AuditList,
        error_view::{ActionError, action_error, loading},
        progress::BackfillProgress,
        state_badge::StateBadge,
        table::Table,
    },
    i18n::{K, backfill_order_label, backfill_version_label, t},
    pages::{BadAddress, backfills::range_text, job::LiveDot, param},
};

/// A command on a backfill: its path segment, label and test id.
const COMMANDS: [(&str, K, &str); 4] = [
    ("pause", K::Pause, "backfill-pause"),
    ("resume", K::Resume, "backfill-resume"),
    ("rerun-failed", K::RerunFailed, "backfill-rerun-failed"),
    ("cancel", K::CancelBackfill, "backfill-cancel"),
];

/// Whether `command` applies to `backfill` now.
fn applies(command: &str, backfill: &Backfill) -> bool {
    let failed = backfill
        .counts
        .get(&InstanceState::Failed)
        .copied()
        .unwrap_or(0);
    match command {
        "pause" => backfill.state == BackfillState::Running,
        "resume" => backfill.state == BackfillState::Paused,
        "cancel" => matches!(
            backfill.state,
            BackfillState::Running | BackfillState::Paused
        ),
        "rerun-failed" => backfill.state != BackfillState::Cancelled && failed > 0,
        _ => false,
    }
}

/// The backfill page.
#[component]
pub fn BackfillPage() -> impl IntoView {
    let id = param::<BackfillId>("id");
    move || match id.get() {
        Some(id) => view! { <BackfillView id /> }.into_any(),
        None => view! { <BadAddress /> }.into_any(),
    }
}

#[component]
fn BackfillView(id: BackfillId) -> impl IntoView {
    // The jobs of its instances, known once it has loaded.
    let jobs = StoredValue::new_local(HashSet::<JobId>::new());
    let live = watch_events(move |event| match event {
        Event::Instance { job_id, .. } | Event::Attempt { job_id, .. } => {
            jobs.with_value(|jobs| jobs.is_empty() || jobs.contains(job_id))
        }
        _ => false,
    })
    .throttled(Duration::from_secs(1));
    let acted = RwSignal::new(0u64);
    let activity = Signal::derive(move || live.changes.get() + acted.get());
    let detail = LocalResource::new(move || {
        live.changes.track();
        acted.track();
        http::get::<BackfillDetail>(format!("/api/backfills/{id}"))
    });
    Effect::new(move |_| {
        detail.with(|answer| {
            if let Some(Ok(detail)) = answer {
                jobs.set_value(detail.instances.iter().map(|m| m.job_id).collect());
            }
        });
    });
    let reason = RwSignal::new(String::new());
    let command = Action::new_local(move |path: &&'static str| {
        let path = format!("/api/backfills/{id}/{path}");
        let body = ActionReason {
            reason: Some(reason.get_untracked().trim().to_owned()).filter(|r| !r.is_empty()),
        };
        async move {
            http::post::<_, Backfill>(path, &body).await?;
            reason.set(String::new());
            acted.update(|n| *n += 1);
            Ok::<_, ApiError>(())
        }
    });
    let body = move || {
        detail.get().map(|answer| match answer {
            Err(err) => view! {
                <div class="alert error" role="alert" data-testid="load-error">
                    {err.to_string()}
                </div>
            }
            .into_any(),
            Ok(detail) => view! { <Detail detail reason command /> }.into_any(),
        })
    };
    view! {
        <div class="page">
            <div class="page-head">
                <div>
                    <div class="crumbs">
                        <a href="/backfills">{move || t(K::Backfills)}</a>
                    </div>
                    <h1 data-testid="backfill-title">
                        {move || t(K::Backfill)}
                        <span class="muted">" #" {id.0}</span>
                    </h1>
                </div>
                <div class="actions">
                    <LiveDot connected=live.connected />
                </div>
            </div>
            {move || detail.with(Option::is_none).then(loading)}
            {body}
            <section class="card" data-testid="backfill-activity">
                <div class="card-head">
                    <h2>{move || t(K::Activity)}</h2>
                </div>
                <AuditList filter=format!("backfill_id={id}") refresh=activity />
            </section>
        </div>
    }
}

/// The settings, progress, commands and instances of a loaded backfill.
#[component]
fn Detail(
    detail: BackfillDetail,
    reason: RwSignal<String>,
    command: Action<&'static str, Result<(), ApiError>>,
) -> impl IntoView {
    let backfill = detail.backfill;
    let job = backfill.job_id;
    let buttons = COMMANDS
        .iter()
        .filter(|(path, _, _)| applies(path, &backfill))
        .map(|&(path, label, testid)| {
            view! {
                <button
                    class="btn small"
                    class:danger=path == "cancel"
                    data-testid=testid
                    disabled=move || command.pending().get()
                    on:click=move |_| {
                        command.dispatch_local(path);
                    }
                >
                    {move || t(label)}
                </button>
            }
        })
        .collect_view();
    let (order, version) = (
        backfill_order_label(backfill.order),
        backfill_version_label(backfill.version),
    );
    let downstream = if backfill.include_downstream {
        K::Yes
    } else {
        K::No
    };
    let settings = move || {
        format!(
            "{}: {} · {}: {} · {}: {}",
            t(K::Parallelism),
            backfill.parallelism,
            t(K::Order),
            t(order),
            t(K::VersionChoice),
            t(version)
        )
    };
    let active = matches!(
        backfill.state,
        BackfillState::Running | BackfillState::Paused
    ) || backfill.counts.contains_key(&InstanceState::Failed);
    let empty = detail.instances.is_empty();
    let rows = detail.instances.into_iter().map(member_row).collect_view();
    let headers = vec![
        K::Instance,
        K::Job,
        K::BusinessTime,
        K::State,
        K::Reason,
        K::Empty,
    ];
    view! {
        <section
            class="card"
            data-testid="backfill-detail"
            data-state=backfill.state.as_str()
        >
            <div class="card-head">
                <StateBadge state=backfill.state />
                <a href=format!("/jobs/{job}") data-testid="backfill-job">
                    {backfill.job_name.clone()}
                </a>
                <span class="muted">{range_text(&backfill)}</span>
            </div>
            <dl class="summary compact">
                <dt>{move || t(K::IncludeDownstream)}</dt>
                <dd>{move || t(downstream)}</dd>
                <dt>{move || t(K::Settings)}</dt>
                <dd>{settings}</dd>
                <dt>{move || t(K::StartedBy)}</dt>
                <dd>
                    {backfill.created_by.clone()} " · " {browser::local(backfill.created_at)}
                </dd>
                <dt>{move || t(K::Reason)}</dt>
                <dd class="wrap">{backfill.reason.clone().unwrap_or_else(|| "–".to_owned())}</dd>
                <dt>{move || t(K::Progress)}</dt>
                <dd>
                    <BackfillProgress backfill=backfill.clone() legend=true />
                </dd>
            </dl>
            {active
                .then(|| {
                    view! {
                        <div class="command-row">
                            <input
                                class="input small"
                                data-testid="backfill-reason"
                                placeholder=move || t(K::ReasonOptional)
                                aria-label=move || t(K::Reason)
                                maxlength="1000"
                                bind:value=reason
                            />
                            <div class="actions-buttons">{buttons}</div>
                        </div>
                    }
                })}
            <ActionError message=action_error(command) />
        </section>
        <section class="card">
            <div class="card-head">
                <h2>{move || t(K::Instances)}</h2>
            </div>
            <Table headers empty testid="backfill-members">
                {rows}
            </Table>
        </section>
    }
}

fn member_row(member: BackfillMember) -> impl IntoView {
    let (id, job) = (member.instance_id, member.job_id);
    view! {
        <tr data-testid="backfill-member" data-instance-id=id.0 data-state=member.state.as_str()>
            <td>
                <a href=format!("/jobs/{job}?instance={id}") data-testid="member-instance">
                    "#"
                    {id.0}
                </a>
            </td>
            <td>
                <a href=format!("/jobs/{job}")>{member.job_name}</a>
            </td>
            <td>{browser::local(member.business_time)}</td>
            <td>
                <StateBadge state=member.state />
            </td>
            <td class="wrap muted">{member.reason}</td>
            <td>
                <a href=format!("/instances/{id}/log") data-testid="member-log">
                    {move || t(K::Log)}
                </a>
            </td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use app::domain::{BackfillOrder, BackfillVersion};
    use chrono::DateTime;

    use super::*;

    fn backfill(state: BackfillState, failed: u32) -> Backfill {
        Backfill {
            id: BackfillId(1),
            job_id: JobId(1),
            job_name: "j".to_owned(),
            include_downstream: false,
            state,
            parallelism: 1,
            order: BackfillOrder::OldestFirst,
            version: BackfillVersion::Latest,
            created_by: "admin".to_owned(),
            reason: None,
            created_at: DateTime::from_timestamp(0, 0).unwrap(),
            total: 2,
            counts: BTreeMap::from([(InstanceState::Failed, failed)]),
            first_business_time: None,
            last_business_time: None,
        }
    }

    fn offered(backfill: &Backfill) -> Vec<&'static str> {
        COMMANDS
            .iter()
            .map(|(path, _, _)| *path)
            .filter(|path| applies(path, backfill))
            .collect()
    }

    #[test]
    fn each_state_offers_its_commands() {
        assert_eq!(
            offered(&backfill(BackfillState::Running, 0)),
            ["pause", "cancel"]
        );
        assert_eq!(
            offered(&backfill(BackfillState::Paused, 1)),
            ["resume", "rerun-failed", "cancel"]
        );
        assert_eq!(
            offered(&backfill(BackfillState::Finished, 1)),
            ["rerun-failed"]
        );
        assert!(offered(&backfill(BackfillState::Finished, 0)).is_empty());
        assert!(offered(&backfill(BackfillState::Cancelled, 1)).is_empty());
    }
}
