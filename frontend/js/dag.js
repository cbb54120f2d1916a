// The DAG view: cytoscape with the dagre layout. Colours are read from the CSS variables of
// style/main.css (the state badges' colours and the theme's text and border colours), so the graph
// follows the light or dark theme: restyleDag reads them again after the theme changed.
import cytoscape from "cytoscape";
import dagre from "cytoscape-dagre";

cytoscape.use(dagre);

// Each node state and the CSS variables (`--st-<name>-bg` / `-fg`) it is drawn with.
const STATE_VARIABLES = {
  success: "success",
  failed: "failed",
  running: "running",
  queued: "queued",
  waiting: "waiting",
  retry_wait: "waiting",
  cancelled: "cancelled",
  skipped: "cancelled",
  none: "none",
};

// Node widths follow their labels (cytoscape's `width: "label"` is deprecated).
const measure = document.createElement("canvas").getContext("2d");
measure.font = "bold 12px system-ui, sans-serif";
const labelWidth = (node) => Math.ceil(measure.measureText(node.data("label")).width) + 28;

function graphStyle() {
  const css = getComputedStyle(document.documentElement);
  const colour = (name) => css.getPropertyValue(name).trim();
  const text = colour("--text");
  const edge = colour("--text-muted");
  const states = Object.entries(STATE_VARIABLES).map(([state, name]) => ({
    selector: `node[state = "${state}"]`,
    style: {
      "background-color": colour(`--st-${name}-bg`),
      "border-color": colour(`--st-${name}-fg`),
    },
  }));
  return [
    {
      selector: "node",
      style: {
        shape: "round-rectangle",
        label: "data(label)",
        color: text,
        "text-valign": "center",
        "text-halign": "center",
        "font-size": 12,
        "font-family": "system-ui, sans-serif",
        width: labelWidth,
        height: 34,
        "border-width": 2,
      },
    },
    ...states,
    {
      selector: "node[?center]",
      style: { "border-width": 4, "font-weight": "bold", "underlay-color": colour("--accent"),
               "underlay-opacity": 0.3, "underlay-padding": 6 },
    },
    {
      selector: "edge",
      style: {
        width: 1.5,
        "line-color": edge,
        "target-arrow-color": edge,
        "target-arrow-shape": "triangle",
        "curve-style": "bezier",
      },
    },
  ];
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
    style: graphStyle(),
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

// Draws the graph again with the colours the CSS variables have now (after a theme change).
export function restyleDag(cy) {
  cy.style(graphStyle());
}

// Number of nodes drawn (the end-to-end test reads it).
export function nodeCount(cy) {
  return cy.nodes().length;
}

// Releases the graph and its listeners.
export function destroyDag(cy) {
  cy.destroy();
}
