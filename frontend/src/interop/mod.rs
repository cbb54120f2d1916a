//! Bindings to the JavaScript bundle built by esbuild from `frontend/js/entry.js`.

pub mod cytoscape;
