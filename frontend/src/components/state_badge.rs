//! The one state badge: a coloured pill for instance, attempt, backfill and worker states, the
//! same colours everywhere (see `style/main.css`, `.state-*`) and in the DAG view.

use app::domain::{AttemptState, BackfillState, InstanceState};
use leptos::prelude::*;

use crate::i18n::state_label;

/// The snake_case name of a state (`success`, `retry_wait`, … or `none`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateName(pub &'static str);

impl From<InstanceState> for StateName {
    fn from(state: InstanceState) -> Self {
        StateName(state.as_str())
    }
}

impl From<AttemptState> for StateName {
    fn from(state: AttemptState) -> Self {
        StateName(state.as_str())
    }
}

impl From<BackfillState> for StateName {
    fn from(state: BackfillState) -> Self {
        StateName(state.as_str())
    }
}

impl From<Option<InstanceState>> for StateName {
    fn from(state: Option<InstanceState>) -> Self {
        state.map_or(StateName("none"), StateName::from)
    }
}

/// A state pill; `data-state` carries the raw state for tests.
#[component]
pub fn StateBadge(#[prop(into)] state: StateName) -> impl IntoView {
    let name = state.0;
    view! {
        <span class=format!("badge state-{name}") data-testid="state-badge" data-state=name>
            {move || state_label(name)}
        </span>
    }
}
