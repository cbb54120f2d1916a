//! The only `extern "C"` binding to cytoscape.js with the dagre layout (`js/dag.js` in the bundle),
//! wrapped in a safe [`Graph`] handle that destroys the drawing when dropped.

use wasm_bindgen::{JsValue, closure::Closure, prelude::wasm_bindgen};
use web_sys::HtmlElement;

#[wasm_bindgen(module = "/bundle/hera.js")]
extern "C" {
    #[wasm_bindgen(js_name = mountDag)]
    fn mount_dag(
        container: &HtmlElement,
        elements_json: &str,
        on_tap: &Closure<dyn FnMut(String)>,
    ) -> JsValue;

    #[wasm_bindgen(js_name = updateState)]
    fn update_state(cy: &JsValue, id: &str, state: &str);

    #[wasm_bindgen(js_name = restyleDag)]
    fn restyle_dag(cy: &JsValue);

    #[wasm_bindgen(js_name = destroyDag)]
    fn destroy_dag(cy: &JsValue);
}

/// A drawn graph.
pub struct Graph {
    cy: JsValue,
    _on_tap: Closure<dyn FnMut(String)>,
}

impl Graph {
    /// Draws `elements` (a cytoscape element list: nodes `{data: {id, label, state, center}}` and
    /// edges `{data: {id, source, target}}`) into `container` with a left-to-right dagre layout.
    /// `on_tap` gets the id of a clicked node.
    pub fn mount(
        container: &HtmlElement,
        elements: &serde_json::Value,
        on_tap: impl FnMut(String) + 'static,
    ) -> Graph {
        let on_tap = Closure::<dyn FnMut(String)>::new(on_tap);
        let cy = mount_dag(container, &elements.to_string(), &on_tap);
        Graph {
            cy,
            _on_tap: on_tap,
        }
    }

    /// Recolours node `id` with `state` (an instance state, or `none`) without a new layout.
    pub fn set_state(&self, id: &str, state: &str) {
        update_state(&self.cy, id, state);
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
