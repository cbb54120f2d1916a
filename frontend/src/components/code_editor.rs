//! A code editor field (CodeMirror, through [`crate::interop::codemirror`]) bound to a text
//! signal, in the syntax of a language signal, following the colour theme.

use leptos::{html::Div, prelude::*};

use crate::{app::AppState, interop::codemirror::Editor, theme::Theme};

/// An editor of `value` in `language` (see [`Editor::new`] for the names). `testid` names the
/// wrapper for the end-to-end tests, which type into its `.cm-content`.
#[component]
pub fn CodeEditor(
    value: RwSignal<String>,
    #[prop(into)] language: Signal<&'static str>,
    testid: &'static str,
    /// When given, kept equal to the selected text (empty when nothing is selected).
    #[prop(optional)]
    selection: Option<RwSignal<String>>,
) -> impl IntoView {
    let theme = AppState::get().theme;
    let container = NodeRef::<Div>::new();
    // Dropped (destroyed) with the component.
    let editor = StoredValue::new_local(None::<Editor>);
    Effect::new(move || {
        let Some(el) = container.get() else { return };
        if editor.with_value(Option::is_some) {
            return;
        }
        let mut created = Editor::new(
            &el,
            &value.get_untracked(),
            language.get_untracked(),
            theme.get_untracked() == Theme::Dark,
            move |text| {
                value.try_set(text);
            },
        );
        if let Some(selection) = selection {
            created.watch_selection(move |text| {
                selection.try_set(text);
            });
        }
        editor.set_value(Some(created));
    });
    // Changes made outside the editor (a reset, a loaded job) reach it; its own edits come back
    // equal and change nothing.
    Effect::new(move || {
        let text = value.get();
        editor.with_value(|editor| {
            if let Some(editor) = editor
                && editor.value() != text
            {
                editor.set_value(&text);
            }
        });
    });
    Effect::new(move || {
        let language = language.get();
        editor.with_value(|editor| editor.iter().for_each(|e| e.set_language(language)));
    });
    Effect::new(move || {
        let dark = theme.get() == Theme::Dark;
        editor.with_value(|editor| editor.iter().for_each(|e| e.set_theme(dark)));
    });
    view! { <div class="code-editor" node_ref=container data-testid=testid></div> }
}
