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

function graphStyle(big = false) {
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
        // Labels too small to read are not drawn (zoomed-out big graphs stay fluid).
        "min-zoomed-font-size": big ? 7 : 0,
      },
    },
    ...states,
    {
      selector: "node[?center]",
      style: { "border-width": 4, "font-weight": "bold", "underlay-color": colour("--accent"),
               "underlay-opacity": 0.3, "underlay-padding": 6 },
    },
    {
      // A job with neighbours not shown: dashed border (its label ends in "+N").
      selector: "node[hidden > 0]",
      style: { "border-style": "dashed" },
    },
    {
      selector: "node.match",
      style: { "underlay-color": colour("--accent"), "underlay-opacity": 0.45, "underlay-padding": 8,
               "border-color": colour("--accent"), "border-width": 3 },
    },
    {
      selector: "node:selected",
      style: { "border-color": colour("--accent"), "border-width": 4, "underlay-color": colour("--accent"),
               "underlay-opacity": 0.6, "underlay-padding": 8 },
    },
    {
      selector: "edge",
      style: {
        width: big ? 1 : 1.5,
        "line-color": edge,
        "target-arrow-color": edge,
        "target-arrow-shape": "triangle",
        "arrow-scale": big ? 0.7 : 1,
        // Straight edges draw much faster than bezier ones on big graphs.
        "curve-style": big ? "straight" : "bezier",
        opacity: big ? 0.6 : 1,
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

// Draws the graph `elementsJson` (cytoscape elements as a JSON array) into `container`. With
// `preset` the nodes carry their positions (a layered layout computed in Rust, for graphs too big
// for dagre); otherwise dagre lays them out left to right. `big` switches on cytoscape's options for
// big graphs (a texture while panning and zooming, no edges meanwhile, pixel ratio 1, straight
// edges). `viewJson`, when not empty, is the viewport to keep (`{"zoom", "pan": {"x", "y"}}`, as
// `dagSnapshot` gives it): a graph drawn again after an expansion shows the same place at the same
// zoom (its old nodes keep their positions), instead of being fitted. `onTap(jobId)` /
// `onDblTap(jobId)` are called when a node is clicked / double-clicked.
// The time from the call to the first frame drawn after the layout goes to
// `container.dataset.layoutMs` (read by the end-to-end test). Returns the cytoscape instance.
export function mountDag(container, elementsJson, preset, big, viewJson, onTap, onDblTap) {
  const started = performance.now();
  delete container.dataset.layoutMs;
  const cy = cytoscape({
    container,
    elements: JSON.parse(elementsJson),
    minZoom: big ? 0.05 : 0.2,
    maxZoom: 3,
    style: graphStyle(big),
    textureOnViewport: big,
    hideEdgesOnViewport: big,
    pixelRatio: big ? 1 : "auto",
    boxSelectionEnabled: false,
    layout: { name: "preset" },
  });
  cy.scratch("_heraBig", big);
  // The end-to-end tests find node positions and time layouts through this handle.
  container.heraCy = cy;
  const view = viewJson ? JSON.parse(viewJson) : null;
  const done = () => {
    if (view) {
      cy.viewport({ zoom: view.zoom, pan: view.pan });
      // The user's place is kept from now on: a resize no longer fits the graph (Fit does).
      cy.scratch("_heraUserView", true);
    } else {
      fitCapped(cy);
    }
    cy.one("render", () => {
      container.dataset.layoutMs = String(Math.round(performance.now() - started));
    });
    cy.forceRender?.();
  };
  if (preset) {
    done();
  } else {
    const layout = cy.layout({ name: "dagre", rankDir: "LR", nodeSep: 30, rankSep: 70, fit: false });
    layout.one("layoutstop", done);
    layout.run();
  }
  // `onetap` waits out the double-click delay: a double-click expands without opening the panel
  // (which would narrow the canvas under the second click).
  cy.on("onetap", "node", (event) => onTap(event.target.id()));
  cy.on("dbltap", "node", (event) => onDblTap(event.target.id()));
  cy.on("dragpan scrollzoom pinchzoom", () => cy.scratch("_heraUserView", true));
  // The canvas narrows when the side panel opens, and follows the window.
  const observer = new ResizeObserver(() => resize(cy));
  observer.observe(container);
  cy.scratch("_heraObserver", observer);
  cy.on("mouseover", "node", () => { container.style.cursor = "pointer"; });
  cy.on("mouseout", "node", () => { container.style.cursor = ""; });
  return cy;
}

// Sets the state (`success`, `failed`, …, or `none`) of node `id` without a new layout.
export function updateState(cy, id, state) {
  cy.getElementById(id).data("state", state);
}

// Sets the states of many nodes at once: `statesJson` is a JSON object `{id: state}`.
export function setStates(cy, statesJson) {
  const states = JSON.parse(statesJson);
  cy.batch(() => {
    for (const [id, state] of Object.entries(states)) {
      cy.getElementById(id).data("state", state);
    }
  });
}

// Marks the nodes of `idsJson` (a JSON array of ids) as search hits, and no others.
export function highlightNodes(cy, idsJson) {
  const ids = JSON.parse(idsJson);
  cy.batch(() => {
    cy.nodes(".match").removeClass("match");
    for (const id of ids) {
      cy.getElementById(id).addClass("match");
    }
  });
}

// Centres the view on node `id`, zooming in to at least 1 so its label can be read, and selects it.
export function focusNode(cy, id) {
  const node = cy.getElementById(id);
  if (node.empty()) {
    return;
  }
  resize(cy);
  cy.scratch("_heraUserView", true);
  cy.nodes(":selected").unselect();
  node.select();
  cy.stop();
  cy.animate({ center: { eles: node }, zoom: Math.max(cy.zoom(), 1) }, { duration: 250 });
}

// Tells cytoscape that the canvas may have changed size; a view the user has not panned or zoomed
// is fitted again to the new size.
function resize(cy) {
  const [width, height] = [cy.width(), cy.height()];
  cy.resize();
  if ((cy.width() !== width || cy.height() !== height) && !cy.scratch("_heraUserView") && !cy.animated()) {
    fitCapped(cy);
  }
}

// Fits the whole graph into the view again, which then follows the canvas's size again.
export function fitDag(cy) {
  cy.scratch("_heraUserView", false);
  cy.stop();
  fitCapped(cy);
}

// Selects node `id` alone (or none for an empty id). The canvas may have changed size (the side
// panel opened or closed): cytoscape is told, and a selected node that ended up outside the
// visible area is brought back to the centre.
export function selectNode(cy, id) {
  resize(cy);
  cy.nodes(":selected").unselect();
  if (!id) {
    return;
  }
  const node = cy.getElementById(id);
  node.select();
  const box = node.renderedBoundingBox();
  const margin = 12;
  if (node.nonempty() && !cy.animated() && (box.x1 < margin || box.y1 < margin || box.x2 > cy.width() - margin ||
      box.y2 > cy.height() - margin)) {
    cy.stop();
    cy.animate({ center: { eles: node } }, { duration: 200 });
  }
}

// Draws the graph again with the colours the CSS variables have now (after a theme change).
export function restyleDag(cy) {
  cy.style(graphStyle(cy.scratch("_heraBig")));
}

// The viewport and every node's position, as JSON: `{"zoom", "pan": {"x", "y"}, "positions":
// {id: [x, y]}}` (model coordinates, what `preset` positions are).
export function dagSnapshot(cy) {
  const positions = {};
  cy.nodes().forEach((node) => {
    const p = node.position();
    positions[node.id()] = [p.x, p.y];
  });
  return JSON.stringify({ zoom: cy.zoom(), pan: cy.pan(), positions });
}

// Number of nodes drawn (the end-to-end test reads it).
export function nodeCount(cy) {
  return cy.nodes().length;
}

// Releases the graph and its listeners.
export function destroyDag(cy) {
  cy.scratch("_heraObserver")?.disconnect();
  const container = cy.container();
  if (container && container.heraCy === cy) {
    delete container.heraCy;
  }
  cy.destroy();
}
