//! The only `extern "C"` binding to CodeMirror 6 (`js/editor.js` in the bundle), wrapped in a
//! safe [`Editor`] handle that destroys the editor when dropped.

use wasm_bindgen::{JsValue, closure::Closure, prelude::wasm_bindgen};
use web_sys::HtmlElement;

#[wasm_bindgen(module = "/bundle/hera.js")]
extern "C" {
    #[wasm_bindgen(js_name = createEditor)]
    fn create_editor(
        parent: &HtmlElement,
        text: &str,
        language: &str,
        dark: bool,
        on_change: &Closure<dyn FnMut(String)>,
    ) -> JsValue;

    #[wasm_bindgen(js_name = editorValue)]
    fn editor_value(editor: &JsValue) -> String;

    #[wasm_bindgen(js_name = setEditorValue)]
    fn set_editor_value(editor: &JsValue, text: &str);

    #[wasm_bindgen(js_name = setEditorLanguage)]
    fn set_editor_language(editor: &JsValue, language: &str);

    #[wasm_bindgen(js_name = setEditorTheme)]
    fn set_editor_theme(editor: &JsValue, dark: bool);

    #[wasm_bindgen(js_name = watchEditorSelection)]
    fn watch_editor_selection(editor: &JsValue, on_selection: &Closure<dyn FnMut(String)>);

    #[wasm_bindgen(js_name = destroyEditor)]
    fn destroy_editor(editor: &JsValue);
}

/// A code editor with line numbers, bracket matching and search.
pub struct Editor {
    handle: JsValue,
    _on_change: Closure<dyn FnMut(String)>,
    _on_selection: Option<Closure<dyn FnMut(String)>>,
}

impl Editor {
    /// Creates an editor in `parent` holding `text`. `language` names the syntax (`shell`,
    /// `python`, `sql`, `hive`; anything else is plain text); `on_change` gets the whole text
    /// after every edit.
    pub fn new(
        parent: &HtmlElement,
        text: &str,
        language: &str,
        dark: bool,
        on_change: impl FnMut(String) + 'static,
    ) -> Editor {
        let on_change = Closure::<dyn FnMut(String)>::new(on_change);
        let handle = create_editor(parent, text, language, dark, &on_change);
        Editor {
            handle,
            _on_change: on_change,
            _on_selection: None,
        }
    }

    /// Calls `on_selection` with the selected text whenever the selection or the text changes
    /// (replacing an earlier watcher).
    pub fn watch_selection(&mut self, on_selection: impl FnMut(String) + 'static) {
        let on_selection = Closure::<dyn FnMut(String)>::new(on_selection);
        watch_editor_selection(&self.handle, &on_selection);
        self._on_selection = Some(on_selection);
    }

    /// The text.
    pub fn value(&self) -> String {
        editor_value(&self.handle)
    }

    /// Replaces the text (reported to `on_change` like an edit).
    pub fn set_value(&self, text: &str) {
        set_editor_value(&self.handle, text);
    }

    /// Switches the syntax (see [`Editor::new`]).
    pub fn set_language(&self, language: &str) {
        set_editor_language(&self.handle, language);
    }

    /// Switches between the dark and the light theme.
    pub fn set_theme(&self, dark: bool) {
        set_editor_theme(&self.handle, dark);
    }
}

impl Drop for Editor {
    fn drop(&mut self) {
        destroy_editor(&self.handle);
    }
}
