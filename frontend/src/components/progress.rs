//! A backfill's progress: one bar with a segment per instance state (the state colours), "n of m
//! done", and optionally a legend with the count of each state.

use std::collections::BTreeMap;

use app::{api::Backfill, domain::InstanceState};
use leptos::prelude::*;

use crate::{
    components::state_badge::StateBadge,
    i18n::{K, fill, t},
};

/// The states in the order the bar shows them: ended ones first, then the active ones.
const ORDER: [InstanceState; 8] = [
    InstanceState::Success,
    InstanceState::Skipped,
    InstanceState::Failed,
    InstanceState::Cancelled,
    InstanceState::Running,
    InstanceState::RetryWait,
    InstanceState::Queued,
    InstanceState::Waiting,
];

/// How many of the counted instances have ended.
pub fn ended(counts: &BTreeMap<InstanceState, u32>) -> u32 {
    counts
        .iter()
        .filter(|(state, _)| state.is_terminal())
        .map(|(_, n)| n)
        .sum()
}

/// The bar of `backfill`; with `legend`, each state's count under it.
#[component]
pub fn BackfillProgress(backfill: Backfill, #[prop(optional)] legend: bool) -> impl IntoView {
    let total = backfill.total;
    let done = ended(&backfill.counts);
    let segments = ORDER
        .iter()
        .filter_map(|state| {
            let n = *backfill.counts.get(state)?;
            let width = if total == 0 {
                0.0
            } else {
                f64::from(n) * 100.0 / f64::from(total)
            };
            (n > 0).then(|| {
                view! {
                    <span
                        class=format!("progress-seg state-{state}")
                        style=format!("width: {width:.2}%")
                        title=format!("{state}: {n}")
                    ></span>
                }
            })
        })
        .collect_view();
    let legend = legend.then(|| {
        ORDER
            .iter()
            .filter_map(|state| {
                let n = *backfill.counts.get(state)?;
                (n > 0).then(|| {
                    view! {
                        <span class="progress-count" data-testid="progress-count" data-state=state.as_str()>
                            <StateBadge state=*state />
                            {n}
                        </span>
                    }
                })
            })
            .collect_view()
    });
    let (done_text, total_text) = (done.to_string(), total.to_string());
    view! {
        <div
            class="progress"
            data-testid="backfill-progress"
            data-done=done
            data-total=total
        >
            <div class="progress-bar">{segments}</div>
            <span class="progress-text">
                {move || fill(t(K::DoneOf), &[("done", &done_text), ("total", &total_text)])}
            </span>
        </div>
        {legend.map(|counts| view! { <div class="progress-legend">{counts}</div> })}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_has_a_place_on_the_bar_and_ended_ones_count_as_done() {
        for state in InstanceState::ALL {
            assert!(ORDER.contains(state), "{state}");
        }
        let counts = BTreeMap::from([
            (InstanceState::Success, 3),
            (InstanceState::Failed, 1),
            (InstanceState::Running, 2),
        ]);
        assert_eq!(ended(&counts), 4);
    }
}
