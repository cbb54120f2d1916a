//! The DAG drawing: a [`DagView`] drawn by cytoscape (through [`crate::interop::cytoscape`]).
//! New data with the same nodes and edges only recolours the nodes; a different shape draws
//! again. Clicking a node opens that job.

use app::{api::DagView, domain::InstanceState, ids::JobId};
use leptos::{html::Div, prelude::*};
use leptos_router::hooks::use_navigate;
use serde_json::json;

use crate::{app::AppState, interop::cytoscape::Graph};

/// The graph of `dag` (a signal: it changes as instances do).
#[component]
pub fn DagGraph(#[prop(into)] dag: Signal<Option<DagView>>) -> impl IntoView {
    let container = NodeRef::<Div>::new();
    // The drawn graph with the shape it was drawn for; dropped (destroyed) with the component.
    let drawn = StoredValue::new_local(None::<(Shape, Graph)>);
    // How many nodes the drawing has (the end-to-end test waits for it).
    let node_count = RwSignal::new(0);
    let navigate = use_navigate();
    Effect::new(move || {
        let (Some(dag), Some(el)) = (dag.get(), container.get()) else {
            return;
        };
        let shape = Shape::of(&dag);
        drawn.update_value(|drawn| match drawn {
            Some((drawn_shape, graph)) if *drawn_shape == shape => {
                for node in &dag.nodes {
                    graph.set_state(&node.job_id.to_string(), state_name(node.state));
                }
            }
            _ => {
                let navigate = navigate.clone();
                let graph = Graph::mount(&el, &elements(&dag), move |id: String| {
                    navigate(&format!("/jobs/{id}"), Default::default());
                });
                *drawn = Some((shape, graph));
                node_count.set(dag.nodes.len());
            }
        });
    });
    // The colours come from the theme's CSS variables: draw again in the new ones, on the next
    // frame (once `<html data-theme>` has changed).
    let theme = AppState::get().theme;
    Effect::new(move |first: Option<()>| {
        theme.track();
        if first.is_some() {
            request_animation_frame(move || {
                drawn.try_with_value(|drawn| drawn.iter().for_each(|(_, graph)| graph.restyle()));
            });
        }
    });
    view! {
        <div
            class="dag-canvas"
            node_ref=container
            data-testid="dag"
            data-nodes=move || node_count.get()
        ></div>
    }
}

/// The nodes and edges of a view, sorted: what decides whether it must be drawn again.
#[derive(PartialEq)]
struct Shape(Vec<JobId>, Vec<(JobId, JobId)>);

impl Shape {
    fn of(dag: &DagView) -> Shape {
        let mut nodes: Vec<_> = dag.nodes.iter().map(|n| n.job_id).collect();
        let mut edges: Vec<_> = dag.edges.iter().map(|e| (e.from, e.to)).collect();
        nodes.sort_unstable();
        edges.sort_unstable();
        Shape(nodes, edges)
    }
}

fn state_name(state: Option<InstanceState>) -> &'static str {
    state.map_or("none", |s| s.as_str())
}

/// The cytoscape element list of a view.
fn elements(dag: &DagView) -> serde_json::Value {
    let nodes = dag.nodes.iter().map(|node| {
        json!({ "data": {
            "id": node.job_id.to_string(),
            "label": format!("{} #{}", node.name, node.job_id),
            "state": state_name(node.state),
            "center": node.job_id == dag.center,
        }})
    });
    let edges = dag.edges.iter().map(|edge| {
        json!({ "data": {
            "id": format!("{}-{}", edge.from, edge.to),
            "source": edge.from.to_string(),
            "target": edge.to.to_string(),
        }})
    });
    serde_json::Value::Array(nodes.chain(edges).collect())
}
