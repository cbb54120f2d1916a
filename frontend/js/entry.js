// The JavaScript side of Hera's UI, one module per library: dag.js (cytoscape + dagre) and
// editor.js (CodeMirror 6). esbuild bundles this file into bundle/hera.js (see build-js.sh); Rust
// binds it in src/interop/cytoscape.rs and src/interop/codemirror.rs, the only places that call it.
export {
  dagSnapshot,
  destroyDag,
  fitDag,
  focusNode,
  highlightNodes,
  mountDag,
  nodeCount,
  restyleDag,
  selectNode,
  setStates,
  updateState,
} from "./dag.js";
export {
  createEditor,
  destroyEditor,
  editorValue,
  setEditorLanguage,
  setEditorTheme,
  setEditorValue,
  watchEditorSelection,
} from "./editor.js";
