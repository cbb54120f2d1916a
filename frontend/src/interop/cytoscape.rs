//! The only `extern "C"` binding to cytoscape.js with the dagre layout (`js/dag.js` in the bundle),
//! wrapped in a safe [`Graph`] handle that destroys the drawing when dropped.

use std::collections::HashMap;

use app::ids::JobId;
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsValue, closure::Closure, prelude::wasm_bindgen};
use web_sys::HtmlElement;

#[wasm_bindgen(module = "/bundle/hera.js")]
extern "C" {
    #[wasm_bindgen(js_name = mountDag)]
    fn mount_dag(
        container: &HtmlElement,
        elements_json: &str,
        preset: bool,
        big: bool,
        view_json: &str,
        on_tap: &Closure<dyn FnMut(String)>,
        on_dbl_tap: &Closure<dyn FnMut(String)>,
    ) -> JsValue;

    #[wasm_bindgen(js_name = setStates)]
    fn set_states(cy: &JsValue, states_json: &str);

    #[wasm_bindgen(js_name = highlightNodes)]
    fn highlight_nodes(cy: &JsValue, ids_json: &str);

    #[wasm_bindgen(js_name = focusNode)]
    fn focus_node(cy: &JsValue, id: &str);

    #[wasm_bindgen(js_name = fitDag)]
    fn fit_dag(cy: &JsValue);

    #[wasm_bindgen(js_name = selectNode)]
    fn select_node(cy: &JsValue, id: &str);

    #[wasm_bindgen(js_name = restyleDag)]
    fn restyle_dag(cy: &JsValue);

    #[wasm_bindgen(js_name = dagSnapshot)]
    fn dag_snapshot(cy: &JsValue) -> String;

    #[wasm_bindgen(js_name = destroyDag)]
    fn destroy_dag(cy: &JsValue);
}

/// A drawn graph.
pub struct Graph {
    cy: JsValue,
    _on_tap: Closure<dyn FnMut(String)>,
    _on_dbl_tap: Closure<dyn FnMut(String)>,
}

/// How a graph is laid out and drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DrawOptions {
    /// The nodes carry their `position`s; otherwise dagre lays them out left to right.
    pub preset: bool,
    /// Cytoscape's options for big graphs: a texture while panning and zooming, edges hidden
    /// meanwhile, pixel ratio 1, straight edges, no labels too small to read.
    pub big: bool,
}

/// What the canvas shows: the zoom and where the graph's origin is on the canvas.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Viewport {
    /// Rendered pixels per graph pixel.
    pub zoom: f64,
    /// The rendered position of the graph's origin.
    pub pan: Pan,
}

/// A rendered position.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pan {
    /// Rendered pixels from the canvas's left edge.
    pub x: f64,
    /// Rendered pixels from the canvas's top edge.
    pub y: f64,
}

/// The viewport and every node's position of a drawn graph.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Snapshot {
    #[serde(flatten)]
    pub view: Viewport,
    /// Node id (a job id) → graph position.
    positions: HashMap<String, (f64, f64)>,
}

impl Snapshot {
    /// The nodes' positions by job.
    pub fn positions(&self) -> HashMap<JobId, (f64, f64)> {
        self.positions
            .iter()
            .filter_map(|(id, p)| Some((JobId(id.parse().ok()?), *p)))
            .collect()
    }
}

impl Graph {
    /// Draws `elements` (a cytoscape element list: nodes `{data: {id, label, state, center,
    /// hidden}, position?}` and edges `{data: {id, source, target}}`) into `container`.
    /// With `view` the canvas shows that place at that zoom, else the whole graph.
    /// `on_tap` / `on_dbl_tap` get the id of a clicked / double-clicked node.
    pub fn mount(
        container: &HtmlElement,
        elements: &serde_json::Value,
        options: DrawOptions,
        view: Option<Viewport>,
        on_tap: impl FnMut(String) + 'static,
        on_dbl_tap: impl FnMut(String) + 'static,
    ) -> Graph {
        let on_tap = Closure::<dyn FnMut(String)>::new(on_tap);
        let on_dbl_tap = Closure::<dyn FnMut(String)>::new(on_dbl_tap);
        let cy = mount_dag(
            container,
            &elements.to_string(),
            options.preset,
            options.big,
            &view
                .and_then(|v| serde_json::to_string(&v).ok())
                .unwrap_or_default(),
            &on_tap,
            &on_dbl_tap,
        );
        Graph {
            cy,
            _on_tap: on_tap,
            _on_dbl_tap: on_dbl_tap,
        }
    }

    /// Recolours nodes without a new layout: `states` maps node ids to an instance state or `none`.
    pub fn set_states(&self, states: &serde_json::Map<String, serde_json::Value>) {
        if !states.is_empty() {
            set_states(
                &self.cy,
                &serde_json::Value::Object(states.clone()).to_string(),
            );
        }
    }

    /// Marks `ids` as search hits (and no other node).
    pub fn highlight(&self, ids: &[String]) {
        let json = serde_json::to_string(ids).unwrap_or_else(|_| "[]".to_owned());
        highlight_nodes(&self.cy, &json);
    }

    /// Centres the view on node `id` and selects it.
    pub fn focus(&self, id: &str) {
        focus_node(&self.cy, id);
    }

    /// Fits the whole graph into the view.
    pub fn fit(&self) {
        fit_dag(&self.cy);
    }

    /// Selects node `id` alone, or none with `None`, without moving the view.
    pub fn select(&self, id: Option<&str>) {
        select_node(&self.cy, id.unwrap_or(""));
    }

    /// The viewport and the nodes' positions now (`None` if the answer cannot be read).
    pub fn snapshot(&self) -> Option<Snapshot> {
        serde_json::from_str(&dag_snapshot(&self.cy)).ok()
    }

    /// Draws the graph again in the colours of the current theme (read from the CSS variables).
    pub fn restyle(&self) {
        restyle_dag(&self.cy);
    }
}

impl Drop for Graph {
    fn drop(&mut self) {
        destroy_dag(&self.cy);
    }
}
