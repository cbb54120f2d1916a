//! "Why has this instance not started?": a toggle on the instances that wait (`waiting`, `queued`,
//! `retry_wait`) and the panel it opens under the instance's row, from
//! `GET /api/instances/{id}/why`.
//!
//! The table owns a [`WhyState`]: which panels are open and their last answers. Whenever the job's
//! instances are refetched (live events) the table calls [`WhyState::refresh`] and open panels ask
//! again; a panel whose row is rebuilt (its instance changed) shows its previous answer until the
//! new one arrives.

use std::collections::{HashMap, HashSet};

use app::{
    api::{UpstreamStatus, WhyNotStarted},
    domain::InstanceState,
    ids::InstanceId,
};
use leptos::prelude::*;

use crate::{
    api::{
        catalog::Catalog,
        http::{self, ApiError},
    },
    browser,
    components::{error_view::loading, state_badge::StateBadge},
    i18n::{K, count, fill, t},
};

/// Whether an instance in `state` has not started and can say why.
pub fn can_explain(state: InstanceState) -> bool {
    matches!(
        state,
        InstanceState::Waiting | InstanceState::Queued | InstanceState::RetryWait
    )
}

/// The open panels of a table and their last answers.
#[derive(Clone, Copy)]
pub struct WhyState {
    open: RwSignal<HashSet<InstanceId>>,
    answers: RwSignal<HashMap<InstanceId, Result<WhyNotStarted, ApiError>>>,
    /// Moves on every [`refresh`](WhyState::refresh); open panels ask again.
    generation: RwSignal<u64>,
}

impl WhyState {
    /// Nothing open.
    pub fn new() -> Self {
        WhyState {
            open: RwSignal::new(HashSet::new()),
            answers: RwSignal::new(HashMap::new()),
            generation: RwSignal::new(0),
        }
    }

    /// Makes the open panels ask again (the list they belong to was refetched).
    pub fn refresh(self) {
        self.generation.update(|n| *n += 1);
    }

    /// Whether the panel of `id` is open; reactive.
    fn is_open(self, id: InstanceId) -> bool {
        self.open.with(|open| open.contains(&id))
    }

    /// Opens or closes the panel of `id`; a closed panel forgets its answer.
    fn toggle(self, id: InstanceId) {
        let mut closed = false;
        self.open.update(|open| {
            closed = open.remove(&id);
            if !closed {
                open.insert(id);
            }
        });
        if closed {
            self.answers.update(|answers| {
                answers.remove(&id);
            });
        }
    }
}

/// The "Why?" button of an instance's row.
#[component]
pub fn WhyToggle(id: InstanceId, why: WhyState) -> impl IntoView {
    let open = Memo::new(move |_| why.is_open(id));
    view! {
        <button
            class="btn small why-toggle"
            class:open=move || open.get()
            aria-expanded=move || open.get().to_string()
            data-testid="why-toggle"
            on:click=move |_| why.toggle(id)
        >
            {move || t(K::Why)}
        </button>
    }
}

/// The table row under an instance's row that holds its panel while it is open; `columns` is the
/// table's column count.
#[component]
pub fn WhyRow(id: InstanceId, why: WhyState, columns: usize) -> impl IntoView {
    let open = Memo::new(move |_| why.is_open(id));
    move || {
        open.get().then(|| {
            view! {
                <tr class="why-row">
                    <td colspan=columns>
                        <WhyPanel id why />
                    </td>
                </tr>
            }
        })
    }
}

/// The answer for instance `id` (asked again on every [`WhyState::refresh`]); the table shows it
/// in a [`WhyRow`], the job calendar under the selected instance.
#[component]
pub fn WhyPanel(id: InstanceId, why: WhyState) -> impl IntoView {
    let answer = LocalResource::new(move || {
        why.generation.track();
        http::get::<WhyNotStarted>(format!("/api/instances/{id}/why"))
    });
    Effect::new(move |_| {
        if let Some(result) = answer.get() {
            why.answers.update(|answers| {
                answers.insert(id, result);
            });
        }
    });
    let catalog = Catalog::current();
    // A memo: an answer equal to the last one (the usual refresh) leaves the panel as it is.
    let shown = Memo::new(move |_| why.answers.with(|answers| answers.get(&id).cloned()));
    let body = move || match shown.get() {
        None => loading().into_any(),
        Some(Err(err)) => view! {
            <div class="alert error" role="alert" data-testid="why-error">
                {err.to_string()}
            </div>
        }
        .into_any(),
        Some(Ok(answer)) => answer_view(answer, catalog).into_any(),
    };
    view! {
        <div class="why-panel" data-testid="why-panel" data-instance-id=id.0>
            {body}
        </div>
    }
}

fn answer_view(answer: WhyNotStarted, catalog: Catalog) -> impl IntoView {
    let upstreams = answer
        .upstreams
        .into_iter()
        .map(|upstream| upstream_line(upstream, catalog))
        .collect_view();
    let queue = answer.queue_position.map(|position| {
        let (n, m) = (position.to_string(), answer.queue_length.to_string());
        view! {
            <li data-testid="why-queue">
                {move || fill(t(K::QueuePosition), &[("n", &n), ("m", &m)])}
            </li>
        }
    });
    let group = (!answer.host_group.is_empty()).then(|| {
        let (name, workers, slots) = (
            answer.host_group,
            answer.workers_in_group,
            answer.free_slots_in_group,
        );
        let text = move || {
            fill(
                t(K::HostGroupCapacity),
                &[
                    ("group", &name),
                    (
                        "workers",
                        &count(workers, K::WorkersConnectedOne, K::WorkersConnectedMany),
                    ),
                    ("slots", &count(slots, K::FreeSlotsOne, K::FreeSlotsMany)),
                ],
            )
        };
        view! {
            <li data-testid="why-host-group" class:why-short=workers == 0 || slots == 0>
                {text}
            </li>
        }
    });
    let retry = answer.retry_at.map(|at| {
        let at = browser::local(at);
        view! { <li data-testid="why-retry">{move || fill(t(K::RetryAt), &[("at", &at)])}</li> }
    });
    view! {
        <p class="why-summary" data-testid="why-summary">
            {answer.summary}
        </p>
        <ul class="why-lines">{upstreams} {queue} {group} {retry}</ul>
    }
}

fn upstream_line(upstream: UpstreamStatus, catalog: Catalog) -> impl IntoView {
    let job = upstream.job_id;
    let done = upstream.done;
    let name = move || catalog.data().job(job).map(|j| j.name.clone());
    let mark = move || {
        t(if done {
            K::UpstreamDone
        } else {
            K::UpstreamNotDone
        })
    };
    let detail = if upstream.instances.is_empty() {
        let due = upstream.due_at.map(browser::local);
        view! {
            <span class="muted" data-testid="why-no-instance">
                {move || match &due {
                    Some(at) => fill(t(K::NoInstanceYetDue), &[("at", at)]),
                    None => t(K::NoInstanceYet).to_owned(),
                }}
            </span>
        }
        .into_any()
    } else {
        upstream
            .instances
            .into_iter()
            .map(|(instance, state)| {
                view! {
                    <span class="why-instance" data-instance-id=instance.0>
                        <span class="muted">{move || t(K::Instance)} " #" {instance.0}</span>
                        <StateBadge state />
                    </span>
                }
            })
            .collect_view()
            .into_any()
    };
    view! {
        <li
            class="why-upstream"
            data-testid="why-upstream"
            data-job-id=job.0
            data-done=done.to_string()
        >
            <span class="why-mark" class:done=done title=mark aria-label=mark role="img">
                {if done { "✓" } else { "" }}
            </span>
            <a class="chip" href=format!("/jobs/{job}")>
                {move || match name() {
                    Some(name) => view! { {name} <span class="id">"#" {job.0}</span> }.into_any(),
                    None => view! { "#" {job.0} }.into_any(),
                }}
            </a>
            {detail}
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_instances_that_have_not_started_explain() {
        let explained: Vec<_> = InstanceState::ALL
            .iter()
            .copied()
            .filter(|s| can_explain(*s))
            .collect();
        assert_eq!(
            explained,
            [
                InstanceState::Waiting,
                InstanceState::Queued,
                InstanceState::RetryWait
            ]
        );
    }
}
