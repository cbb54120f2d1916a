//! The DAG drawing: the shown jobs of a [`Closure`] drawn by cytoscape (through
//! [`crate::interop::cytoscape`]). The first drawing (and each "re-layout") lays the whole graph
//! out: up to [`DAGRE_MAX_NODES`] jobs dagre does; beyond, dagre is far too slow (47 s at 2,000
//! nodes), so the layered layout of [`crate::dag_model`] places the nodes. An expansion draws
//! again with the nodes already shown where they were and the same viewport; only the new jobs
//! are placed ([`place_new`]). From [`BIG_NODES`] on, cytoscape's options for big graphs keep
//! panning and zooming fluid. New states only recolour.

use std::collections::{HashMap, HashSet};

use app::ids::JobId;
use leptos::{html::Div, prelude::*};
use serde_json::json;

use crate::{
    app::AppState,
    dag_model::{Closure, label_width, layered_layout, place_new},
    interop::cytoscape::{DrawOptions, Graph, Viewport},
};

/// The most nodes dagre lays out (about 250 ms at 200 nodes).
const DAGRE_MAX_NODES: usize = 150;
/// From this many nodes on, cytoscape draws with its options for big graphs.
const BIG_NODES: usize = 300;

/// The graph of the `shown` jobs of `closure`, coloured by `states` (job → instance state or
/// `none`; absent: not known yet). `matches` are highlighted; `focus` (a job and a counter that
/// moves on each request) centres the view; a click sets `selected`; a double-click calls
/// `on_expand` with the job. Each change of `fit` fits the whole graph into the view again; each
/// change of `relayout` lays the whole graph out again (and fits it).
#[component]
pub fn DagGraph(
    #[prop(into)] closure: Signal<Option<Closure>>,
    #[prop(into)] shown: Signal<HashSet<JobId>>,
    #[prop(into)] states: Signal<HashMap<JobId, &'static str>>,
    #[prop(into)] matches: Signal<Vec<JobId>>,
    #[prop(into)] focus: Signal<Option<(JobId, u64)>>,
    selected: RwSignal<Option<JobId>>,
    on_expand: Callback<JobId>,
    #[prop(into)] fit: Signal<u64>,
    #[prop(into)] relayout: Signal<u64>,
) -> impl IntoView {
    let container = NodeRef::<Div>::new();
    // The drawn graph; dropped (destroyed) with the component.
    let drawn = StoredValue::new_local(None::<Graph>);
    // The state each drawn node was given last.
    let applied = StoredValue::new_local(HashMap::<JobId, &'static str>::new());
    // How many nodes the drawing has (the end-to-end tests wait for it).
    let node_count = RwSignal::new(0);
    // The jobs drawn, and the re-layout request the drawing answered.
    let drawn_jobs = StoredValue::new(HashSet::<JobId>::new());
    let laid_out = StoredValue::new(None::<u64>);
    Effect::new(move || {
        let tidy = relayout.get();
        let Some(el) = container.get() else {
            return;
        };
        closure.with(|closure| {
            let Some(closure) = closure else {
                return;
            };
            shown.with(|shown| {
                if shown.is_empty() {
                    return;
                }
                let states = states.get_untracked();
                // More jobs than drawn (an expansion): keep the drawn ones where they are, and
                // the view; otherwise (first drawing, re-layout) lay everything out.
                let grows = laid_out.get_value() == Some(tidy)
                    && drawn_jobs.with_value(|d| !d.is_empty() && d.is_subset(shown));
                let kept = grows
                    .then(|| drawn.with_value(|g| g.as_ref().and_then(Graph::snapshot)))
                    .flatten();
                let fixed = kept.as_ref().map(|k| k.positions());
                let (elements, options) = elements(closure, shown, &states, fixed.as_ref());
                let view: Option<Viewport> = kept.map(|k| k.view);
                // The old drawing goes first: its canvas must not stay under the new one.
                drawn.set_value(None);
                let graph = Graph::mount(
                    &el,
                    &elements,
                    options,
                    view,
                    move |id: String| {
                        if let Ok(id) = id.parse::<i64>() {
                            selected.set(Some(JobId(id)));
                        }
                    },
                    move |id: String| {
                        if let Ok(id) = id.parse::<i64>() {
                            on_expand.run(JobId(id));
                        }
                    },
                );
                graph.highlight(&ids(&matches.get_untracked()));
                let chosen = selected.get_untracked().map(|j| j.to_string());
                graph.select(chosen.as_deref());
                drawn.set_value(Some(graph));
                applied.set_value(
                    shown
                        .iter()
                        .map(|id| (*id, states.get(id).copied().unwrap_or("none")))
                        .collect(),
                );
                node_count.set(shown.len());
                drawn_jobs.set_value(shown.clone());
                laid_out.set_value(Some(tidy));
            });
        });
    });
    // New states: recolour the nodes that changed, in one batch.
    Effect::new(move || {
        states.with(|states| {
            let mut changes = serde_json::Map::new();
            applied.update_value(|applied| {
                for (id, state) in applied.iter_mut() {
                    let now = states.get(id).copied().unwrap_or("none");
                    if *state != now {
                        *state = now;
                        changes.insert(id.to_string(), json!(now));
                    }
                }
            });
            drawn.with_value(|g| g.iter().for_each(|g| g.set_states(&changes)));
        });
    });
    Effect::new(move || {
        let ids = ids(&matches.get());
        drawn.with_value(|g| g.iter().for_each(|g| g.highlight(&ids)));
    });
    Effect::new(move || {
        // On the next frame, when the side panel has opened (see below).
        if let Some((job, _)) = focus.get() {
            request_animation_frame(move || {
                drawn.try_with_value(|g| g.iter().for_each(|g| g.focus(&job.to_string())));
            });
        }
    });
    Effect::new(move |first: Option<()>| {
        fit.track();
        if first.is_some() {
            drawn.with_value(|g| g.iter().for_each(Graph::fit));
        }
    });
    // On the next frame: the side panel has opened or closed by then, and the canvas resized.
    Effect::new(move || {
        let chosen = selected.get().map(|j| j.to_string());
        request_animation_frame(move || {
            drawn.try_with_value(|g| g.iter().for_each(|g| g.select(chosen.as_deref())));
        });
    });
    // The colours come from the theme's CSS variables: draw again in the new ones, on the next
    // frame (once `<html data-theme>` has changed).
    let theme = AppState::get().theme;
    Effect::new(move |first: Option<()>| {
        theme.track();
        if first.is_some() {
            request_animation_frame(move || {
                drawn.try_with_value(|drawn| drawn.iter().for_each(Graph::restyle));
            });
        }
    });
    view! {
        <div
            class="dag-canvas"
            node_ref=container
            data-testid="dag"
            data-nodes=move || node_count.get()
            data-total=move || closure.with(|c| c.as_ref().map_or(0, Closure::len))
        ></div>
    }
}

fn ids(jobs: &[JobId]) -> Vec<String> {
    jobs.iter().map(JobId::to_string).collect()
}

/// The cytoscape element list of the shown jobs and the edges between them, and how to draw it.
/// With `fixed` (the positions of the jobs drawn so far) those stay and only the others are placed.
fn elements(
    closure: &Closure,
    shown: &HashSet<JobId>,
    states: &HashMap<JobId, &'static str>,
    fixed: Option<&HashMap<JobId, (f64, f64)>>,
) -> (serde_json::Value, DrawOptions) {
    let options = DrawOptions {
        preset: fixed.is_some() || shown.len() > DAGRE_MAX_NODES,
        big: shown.len() >= BIG_NODES,
    };
    let nodes: Vec<_> = closure
        .nodes
        .iter()
        .filter(|(id, _)| shown.contains(id))
        .map(|(id, name)| {
            let hidden = closure.hidden_neighbours(*id, shown);
            let mut label = format!("{name} #{id}");
            if hidden > 0 {
                label.push_str(&format!("  +{hidden}"));
            }
            (*id, label, hidden)
        })
        .collect();
    let edges: Vec<_> = closure
        .edges
        .iter()
        .filter(|(a, b)| shown.contains(a) && shown.contains(b))
        .copied()
        .collect();
    let positions = options.preset.then(|| {
        let sized: Vec<_> = nodes
            .iter()
            .map(|(id, label, _)| (*id, label_width(label)))
            .collect();
        match fixed {
            Some(fixed) => place_new(&sized, &edges, fixed),
            None => layered_layout(&sized, &edges),
        }
    });
    let nodes = nodes.into_iter().map(|(id, label, hidden)| {
        let mut node = json!({ "data": {
            "id": id.to_string(),
            "label": label,
            "state": states.get(&id).copied().unwrap_or("none"),
            "center": id == closure.center,
            "hidden": hidden,
        }});
        if let Some((x, y)) = positions.as_ref().and_then(|p| p.get(&id)) {
            node["position"] = json!({ "x": x, "y": y });
        }
        node
    });
    let edges = edges.iter().map(|(from, to)| {
        json!({ "data": {
            "id": format!("{from}-{to}"),
            "source": from.to_string(),
            "target": to.to_string(),
        }})
    });
    (
        serde_json::Value::Array(nodes.chain(edges).collect()),
        options,
    )
}
