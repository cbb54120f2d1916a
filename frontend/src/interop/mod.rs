//! Bindings to the JavaScript bundle built by esbuild from `frontend/js/entry.js`: one module per
//! library.

pub mod codemirror;
pub mod cytoscape;
