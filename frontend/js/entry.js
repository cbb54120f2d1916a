// The JavaScript side of Hera's UI: cytoscape (+ dagre layout) for the DAG view.
// esbuild bundles this file into bundle/hera.js (see build-js.sh); Rust binds it in
// src/interop/cytoscape.rs, the only place that calls into it.
import cytoscape from "cytoscape";
import dagre from "cytoscape-dagre";

cytoscape.use(dagre);

// Colours follow the state badges in style/main.css.
const STATE_COLOURS = {
  success: ["#dcfce7", "#15803d"],
  failed: ["#fee2e2", "#b91c1c"],
  running: ["#dbeafe", "#1d4ed8"],
  queued: ["#e5e7eb", "#4b5563"],
  waiting: ["#fef3c7", "#b45309"],
  retry_wait: ["#fef3c7", "#b45309"],
  cancelled: ["#f3f4f6", "#6b7280"],
  skipped: ["#f3f4f6", "#6b7280"],
  none: ["#ffffff", "#9ca3af"],
};

// Node widths follow their labels (cytoscape's `width: "label"` is deprecated).
const measure = document.createElement("canvas").getContext("2d");
measure.font = "bold 12px system-ui, sans-serif";
const labelWidth = (node) => Math.ceil(measure.measureText(node.data("label")).width) + 28;

function stateStyles() {
  return Object.entries(STATE_COLOURS).map(([state, [fill, border]]) => ({
    selector: `node[state = "${state}"]`,
    style: { "background-color": fill, "border-color": border, color: "#111827" },
  }));
}

// Fitting a small graph to the canvas would blow a single node up to the zoom limit: the view fits
// the graph but never zooms in beyond this (users may still zoom in further, up to maxZoom).
const FIT_MAX_ZOOM = 1.25;
const FIT_PADDING = 40;

function fitCapped(cy) {
  cy.fit(undefined, FIT_PADDING);
  if (cy.zoom() > FIT_MAX_ZOOM) {
    cy.zoom(FIT_MAX_ZOOM);
    cy.center();
  }
}

// Draws the graph `elementsJson` (cytoscape elements as a JSON array) into `container`.
// `onTap(jobId)` is called with a node's id when it is clicked. Returns the cytoscape instance.
export function mountDag(container, elementsJson, onTap) {
  const cy = cytoscape({
    container,
    elements: JSON.parse(elementsJson),
    minZoom: 0.2,
    maxZoom: 3,
    style: [
      {
        selector: "node",
        style: {
          shape: "round-rectangle",
          label: "data(label)",
          "text-valign": "center",
          "text-halign": "center",
          "font-size": 12,
          "font-family": "system-ui, sans-serif",
          width: labelWidth,
          height: 34,
          "border-width": 2,
        },
      },
      ...stateStyles(),
      {
        selector: "node[?center]",
        style: { "border-width": 4, "font-weight": "bold", "underlay-color": "#6366f1",
                 "underlay-opacity": 0.25, "underlay-padding": 6 },
      },
      {
        selector: "edge",
        style: {
          width: 1.5,
          "line-color": "#9ca3af",
          "target-arrow-color": "#9ca3af",
          "target-arrow-shape": "triangle",
          "curve-style": "bezier",
        },
      },
    ],
  });
  const layout = cy.layout({ name: "dagre", rankDir: "LR", nodeSep: 30, rankSep: 70, fit: false });
  layout.one("layoutstop", () => fitCapped(cy));
  layout.run();
  cy.on("tap", "node", (event) => onTap(event.target.id()));
  cy.on("mouseover", "node", () => { container.style.cursor = "pointer"; });
  cy.on("mouseout", "node", () => { container.style.cursor = ""; });
  return cy;
}

// Sets the state (`success`, `failed`, …, or `none`) of node `id` without a new layout.
export function updateState(cy, id, state) {
  cy.getElementById(id).data("state", state);
}

// Number of nodes drawn (the end-to-end test reads it).
export function nodeCount(cy) {
  return cy.nodes().length;
}

// Releases the graph and its listeners.
export function destroyDag(cy) {
  cy.destroy();
}
