// The code editor: CodeMirror 6 with line numbers, bracket matching, search (Ctrl-F) and the
// rest of `basicSetup`. The language and the theme sit in compartments, so they can change while
// the text stays. Completion opens on Ctrl-Space only: popping up while typing, it would turn a
// shell `do` + Enter into `done`.
import { autocompletion } from "@codemirror/autocomplete";
import { basicSetup, EditorView } from "codemirror";
import { Compartment } from "@codemirror/state";
import { StreamLanguage } from "@codemirror/language";
import { shell } from "@codemirror/legacy-modes/mode/shell";
import { python } from "@codemirror/lang-python";
import { MySQL, StandardSQL, sql } from "@codemirror/lang-sql";
import { oneDark } from "@codemirror/theme-one-dark";

// Language names (what Rust passes for a job type) and their CodeMirror support. Hive's SQL is
// closest to MySQL's (backquoted identifiers). An unknown name edits plain text.
const LANGUAGES = {
  shell: () => StreamLanguage.define(shell),
  python: () => python(),
  sql: () => sql({ dialect: StandardSQL }),
  hive: () => sql({ dialect: MySQL }),
};

const language = (name) => (LANGUAGES[name] ?? (() => []))();

// The light theme takes its colours from style/main.css; the dark one is One Dark.
const light = EditorView.theme({
  "&": { backgroundColor: "var(--surface)", color: "var(--text)" },
  ".cm-gutters": {
    backgroundColor: "var(--surface-2)",
    color: "var(--text-muted)",
    borderRight: "1px solid var(--border)",
  },
  ".cm-activeLineGutter, .cm-activeLine": { backgroundColor: "var(--accent-soft)" },
});

const theme = (dark) => (dark ? oneDark : light);

const frame = EditorView.theme({
  "&": { fontSize: "13px", minHeight: "220px", maxHeight: "480px" },
  ".cm-scroller": { fontFamily: "var(--mono)", lineHeight: "1.45" },
  "&.cm-focused": { outline: "none" },
});

// An editor in `parent` holding `text`, in language `languageName`, dark or light. `onChange`
// gets the whole text after every change. Returns a handle for the functions below: the
// EditorView and the compartments of its language and theme.
export function createEditor(parent, text, languageName, dark, onChange) {
  const languageSlot = new Compartment();
  const themeSlot = new Compartment();
  // The handle; `onSelection` is set by watchEditorSelection.
  const handle = { view: null, languageSlot, themeSlot, onSelection: null };
  const view = new EditorView({
    parent,
    doc: text,
    extensions: [
      basicSetup,
      autocompletion({ activateOnTyping: false }),
      frame,
      languageSlot.of(language(languageName)),
      themeSlot.of(theme(dark)),
      EditorView.updateListener.of((update) => {
        if (update.docChanged) {
          onChange(update.state.doc.toString());
        }
        if ((update.selectionSet || update.docChanged) && handle.onSelection) {
          handle.onSelection(selectedText(update.state));
        }
      }),
    ],
  });
  handle.view = view;
  return handle;
}

// The selected text of `state`: its non-empty ranges, in order, one per line ("" when nothing is
// selected).
function selectedText(state) {
  return state.selection.ranges
    .filter((range) => !range.empty)
    .map((range) => state.sliceDoc(range.from, range.to))
    .join("\n");
}

// Calls `onSelection` with the selected text whenever the selection (or the text) changes.
export function watchEditorSelection(handle, onSelection) {
  handle.onSelection = onSelection;
}

// The editor's text.
export function editorValue({ view }) {
  return view.state.doc.toString();
}

// Replaces the editor's text.
export function setEditorValue({ view }, text) {
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
}

// Switches the language (see LANGUAGES).
export function setEditorLanguage({ view, languageSlot }, languageName) {
  view.dispatch({ effects: languageSlot.reconfigure(language(languageName)) });
}

// Switches between the dark and the light theme.
export function setEditorTheme({ view, themeSlot }, dark) {
  view.dispatch({ effects: themeSlot.reconfigure(theme(dark)) });
}

// Releases the editor.
export function destroyEditor({ view }) {
  view.destroy();
}
