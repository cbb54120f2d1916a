//! Scripts rendered as an attempt would see them (`POST /api/render`: configs inherited along the
//! folder path, `${zdt…}` and `$[…]` date macros): the one request the dev center and the job
//! editor send ([`render`]), the text or the server's reason ([`RenderedText`]), and the job
//! editor's preview panel with its business-time picker ([`ScriptPreview`]).

use app::{
    api::{RenderRequest, Rendered},
    ids::FolderId,
};
use leptos::prelude::*;

use crate::{
    api::http::{self, ApiError},
    browser,
    components::kv_rows::KvRows,
    i18n::{K, fill, t},
};

/// Renders `request` on the server: the rendered text, or why it cannot be rendered.
pub async fn render(request: RenderRequest) -> Result<String, ApiError> {
    http::post::<_, Rendered>("/api/render", &request)
        .await
        .map(|answer| answer.rendered)
}

/// What to show for a failed render: the reason the server gives for the script (or the folder),
/// else its message.
pub fn render_error(err: &ApiError) -> String {
    let fields = err.fields();
    fields
        .get("script")
        .or_else(|| fields.get("folder_id"))
        .or_else(|| fields.values().next())
        .cloned()
        .unwrap_or_else(|| err.to_string())
}

/// The rendered text (`{testid}-text`) or the reason it failed (`{testid}-error`); "loading" until
/// the first answer.
#[component]
pub fn RenderedText(
    #[prop(into)] result: Signal<Option<Result<String, ApiError>>>,
    testid: &'static str,
) -> impl IntoView {
    move || match result.get() {
        Some(Ok(rendered)) => view! {
            <pre class="ide-preview-text" data-testid=format!("{testid}-text")>
                {rendered}
            </pre>
        }
        .into_any(),
        Some(Err(err)) => view! {
            <p class="field-error render-error" role="alert" data-testid=format!("{testid}-error")>
                {render_error(&err)}
            </p>
        }
        .into_any(),
        None => view! { <p class="muted">{move || t(K::Loading)}</p> }.into_any(),
    }
}

/// The job editor's preview: a toggle under the script; open, it renders the editor's (unsaved)
/// script with the rows of `configs`, the chosen folder and zone, at a business time the user
/// picks in that zone (empty: now). It renders when opened, when the time changes and on "Render
/// again".
#[component]
pub fn ScriptPreview(
    script: RwSignal<String>,
    #[prop(into)] zone: Signal<String>,
    #[prop(into)] folder: Signal<Option<FolderId>>,
    configs: KvRows,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let business_time = RwSignal::new(String::new());
    let time_invalid = RwSignal::new(false);
    let preview = Action::new_local(move |request: &RenderRequest| render(request.clone()));
    let run = move || {
        let zone = zone.get_untracked().trim().to_owned();
        let typed = business_time.get_untracked();
        let at = if typed.trim().is_empty() {
            Some(browser::now())
        } else {
            browser::parse_time_in_zone(&typed, &zone)
        };
        time_invalid.set(at.is_none());
        let Some(business_time) = at else {
            return;
        };
        preview.dispatch_local(RenderRequest {
            script: script.get_untracked(),
            business_time,
            timezone: zone,
            folder_id: folder.get_untracked(),
            configs: configs.collect(),
            params: Default::default(),
        });
    };
    let time_label = move || fill(t(K::ScriptPreviewTime), &[("zone", &zone.get())]);
    view! {
        <div class="script-tools">
            <button
                type="button"
                class="btn small"
                class:active=move || open.get()
                aria-pressed=move || open.get().to_string()
                aria-expanded=move || open.get().to_string()
                data-testid="script-preview"
                title=move || t(K::ScriptPreviewHint)
                on:click=move |_| {
                    let show = !open.get_untracked();
                    open.set(show);
                    if show {
                        run();
                    }
                }
            >
                {move || t(K::IdePreview)}
            </button>
            <span class="muted hint">{move || t(K::ScriptPreviewHint)}</span>
        </div>
        <Show when=move || open.get()>
            <div class="script-preview" data-testid="script-preview-panel">
                <div class="script-preview-head">
                    <label class="field" class:invalid=move || time_invalid.get()>
                        <span class="label">{time_label}</span>
                        <input
                            class="input"
                            type="datetime-local"
                            step="1"
                            data-testid="script-preview-time"
                            bind:value=business_time
                            on:change=move |_| run()
                        />
                    </label>
                    <button
                        type="button"
                        class="btn"
                        data-testid="script-preview-again"
                        disabled=move || preview.pending().get()
                        on:click=move |_| run()
                    >
                        {move || t(K::IdePreviewAgain)}
                    </button>
                </div>
                {move || {
                    time_invalid
                        .get()
                        .then(|| {
                            let typed = business_time.get();
                            view! {
                                <p class="field-error" data-testid="script-preview-time-error">
                                    {fill(t(K::BadTime), &[("line", &typed)])}
                                </p>
                            }
                        })
                }}
                <RenderedText result=preview.value() testid="script-preview" />
            </div>
        </Show>
    }
}
