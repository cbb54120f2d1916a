//! `/resources`: the resource center. A file (chosen or dropped on the upload card) goes up under a
//! name as version 1, or as the next version when the name exists; the resources with their latest
//! version, a copy button for `hera:<name>@<version>`, a resource's versions with a download each,
//! deleting a resource (all its versions), and a short help on how jobs use one.

use std::time::Duration;

use app::{
    api::{Resource, ResourceVersion},
    ids::ResourceId,
};
use leptos::{prelude::*, task::spawn_local};
use wasm_bindgen::JsCast;

use crate::{
    api::http::{self, ApiError},
    browser,
    components::{
        confirm::ConfirmCard,
        error_view::{ActionError, action_error, error_fallback, loading},
        table::Table,
    },
    i18n::{K, fill, t},
};

/// How a job names a version of a resource.
fn resource_uri(name: &str, version: u32) -> String {
    format!("hera:{name}@{version}")
}

/// The first characters of a checksum, enough to tell versions apart.
fn short_sha(sha256: &str) -> &str {
    sha256.get(..12).unwrap_or(sha256)
}

/// The last part of a resource name, the file name a download is saved as.
fn file_name(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// The resources page.
#[component]
pub fn ResourcesPage() -> impl IntoView {
    // Moves after an upload or a deletion: the list and the open versions load again.
    let changed = RwSignal::new(0u64);
    let resources = LocalResource::new(move || {
        changed.track();
        http::get::<Vec<Resource>>("/api/resources")
    });
    let selected = RwSignal::new(None::<ResourceId>);
    let confirming = RwSignal::new(None::<Resource>);
    let delete = Action::new_local(move |id: &ResourceId| {
        let id = *id;
        async move {
            http::delete(format!("/api/resources/{id}")).await?;
            confirming.set(None);
            if selected.get_untracked() == Some(id) {
                selected.set(None);
            }
            changed.update(|n| *n += 1);
            Ok::<_, ApiError>(())
        }
    });
    let headers = vec![
        K::Name,
        K::ResLatest,
        K::ResSize,
        K::ResSha,
        K::ResUploadedBy,
        K::Updated,
        K::Empty,
    ];
    let table = move || {
        let headers = headers.clone();
        Suspend::new(async move {
            let mut list = resources.await?;
            list.sort_by(|a, b| a.name.cmp(&b.name));
            let empty = list.is_empty();
            let rows = list
                .into_iter()
                .map(|resource| resource_row(resource, selected, confirming))
                .collect_view();
            Ok::<_, ApiError>(view! {
                <Table headers empty empty_text=K::ResNone testid="resources">
                    {rows}
                </Table>
            })
        })
    };
    let versions = move || {
        selected
            .get()
            .map(|id| view! { <VersionsCard id changed on_close=move |()| selected.set(None) /> })
    };
    let confirm = move || {
        confirming.get().map(|resource| {
            let question = fill(
                t(K::ResDeleteQuestion),
                &[
                    ("name", &resource.name),
                    ("count", &resource.latest.version.to_string()),
                ],
            );
            let id = resource.id;
            view! {
                <ConfirmCard
                    testid="delete-resource"
                    danger=true
                    question=question
                    pending=delete.pending()
                    error=action_error(delete)
                    on_confirm=move |()| {
                        delete.dispatch_local(id);
                    }
                    on_cancel=move |()| {
                        confirming.set(None);
                        delete.value().set(None);
                    }
                />
            }
        })
    };
    view! {
        <div class="page">
            <div class="page-head">
                <div>
                    <h1>{move || t(K::ResTitle)}</h1>
                    <p class="muted">{move || t(K::ResSubtitle)}</p>
                </div>
            </div>
            <div class="res-top">
                <UploadCard resources changed />
                <HelpCard />
            </div>
            {confirm}
            <section class="card">
                <Transition fallback=loading>
                    <ErrorBoundary fallback=error_fallback>{table}</ErrorBoundary>
                </Transition>
            </section>
            {versions}
        </div>
    }
}

/// Choosing or dropping a file, its name (prefilled with the file's), what the upload makes
/// (version 1 or the next version of an existing name), and the upload itself.
#[component]
fn UploadCard(
    resources: LocalResource<Result<Vec<Resource>, ApiError>>,
    changed: RwSignal<u64>,
) -> impl IntoView {
    let file = RwSignal::new_local(None::<web_sys::File>);
    let name = RwSignal::new(String::new());
    let dragging = RwSignal::new(false);
    let input = NodeRef::<leptos::html::Input>::new();
    let done = RwSignal::new(None::<(String, u32)>);
    // Bytes sent and the total of the upload under way, once the browser reports them.
    let progress = RwSignal::new(None::<(f64, f64)>);
    let upload = Action::new_local(move |()| {
        let chosen = file.get_untracked();
        let typed = name.get_untracked().trim().to_owned();
        async move {
            let Some(chosen) = chosen else {
                return Ok(());
            };
            let path = format!(
                "/api/resources?name={}",
                js_sys::encode_uri_component(&typed)
            );
            progress.set(None);
            let version: ResourceVersion = http::upload_blob(path, &chosen, move |sent, total| {
                progress.set(Some((sent, total)));
            })
            .await?;
            done.set(Some((typed, version.version)));
            file.set(None);
            name.set(String::new());
            if let Some(input) = input.get_untracked() {
                input.set_value("");
            }
            changed.update(|n| *n += 1);
            Ok::<_, ApiError>(())
        }
    });
    // A refusal stays until the name or the file changes.
    let choose = move |chosen: Option<web_sys::File>| {
        if let Some(chosen) = &chosen {
            name.set(chosen.name());
        }
        done.set(None);
        upload.value().set(None);
        file.set(chosen);
    };
    let name_error = Signal::derive(move || {
        upload.value().with(|v| match v {
            Some(Err(err)) => err.fields().get("name").cloned(),
            _ => None,
        })
    });
    let general_error = Signal::derive(move || {
        upload.value().with(|v| match v {
            Some(Err(err)) if !err.fields().contains_key("name") => Some(err.to_string()),
            _ => None,
        })
    });
    // What the typed name makes: the next version of an existing resource, or a new one.
    let next_version = move || {
        let typed = name.get().trim().to_owned();
        if typed.is_empty() {
            return None;
        }
        let latest = resources.get().and_then(Result::ok).and_then(|list| {
            list.iter()
                .find(|r| r.name == typed)
                .map(|r| r.latest.version)
        });
        Some(match latest {
            Some(latest) => view! {
                <p class="res-note exists" data-testid="upload-new-version">
                    {move || {
                        fill(
                            t(K::ResExists),
                            &[("latest", &latest.to_string()), ("next", &(latest + 1).to_string())],
                        )
                    }}
                </p>
            }
            .into_any(),
            None => view! {
                <p class="res-note" data-testid="upload-first-version">
                    {move || t(K::ResNewName)}
                </p>
            }
            .into_any(),
        })
    };
    let chosen_text = move || {
        file.with(|f| {
            f.as_ref()
                .map(|f| format!("{} · {}", f.name(), browser::bytes(f.size() as u64)))
        })
    };
    view! {
        <section class="card res-upload" data-testid="upload-card">
            <div class="card-head">
                <h2>{move || t(K::ResUpload)}</h2>
            </div>
            <form
                class="res-upload-form"
                on:submit=move |ev: leptos::ev::SubmitEvent| {
                    ev.prevent_default();
                    if file.with_untracked(Option::is_some)
                        && !name.with_untracked(|n| n.trim().is_empty())
                    {
                        upload.dispatch_local(());
                    }
                }
            >
                <label
                    class="res-drop"
                    class:dragging=move || dragging.get()
                    class:chosen=move || file.with(Option::is_some)
                    data-testid="upload-drop"
                    on:dragover=move |ev: leptos::ev::DragEvent| {
                        ev.prevent_default();
                        dragging.set(true);
                    }
                    on:dragleave=move |_| dragging.set(false)
                    on:drop=move |ev: leptos::ev::DragEvent| {
                        ev.prevent_default();
                        dragging.set(false);
                        let dropped = ev
                            .data_transfer()
                            .and_then(|data| data.files())
                            .and_then(|files| files.get(0));
                        if dropped.is_some() {
                            choose(dropped);
                        }
                    }
                >
                    <input
                        type="file"
                        class="res-file"
                        data-testid="upload-file"
                        node_ref=input
                        on:change=move |ev| {
                            let chosen = ev
                                .target()
                                .and_then(|target| target.dyn_into::<web_sys::HtmlInputElement>().ok())
                                .and_then(|input| input.files())
                                .and_then(|files| files.get(0));
                            choose(chosen);
                        }
                    />
                    {move || match chosen_text() {
                        Some(text) => {
                            view! {
                                <span class="res-drop-file mono" data-testid="upload-chosen">
                                    {text}
                                </span>
                                <span class="muted">{move || t(K::ResChooseOther)}</span>
                            }
                                .into_any()
                        }
                        None => {
                            view! {
                                <span class="res-drop-title">{move || t(K::ResDropHere)}</span>
                                <span class="muted">{move || t(K::ResDropHint)}</span>
                            }
                                .into_any()
                        }
                    }}
                </label>
                <div class="field" class:invalid=move || name_error.with(Option::is_some)>
                    <span class="label">{move || t(K::ResNameLabel)}</span>
                    <div class="row">
                        <input
                            class="input mono"
                            data-testid="upload-name"
                            spellcheck="false"
                            placeholder="lib/udf.jar"
                            aria-label=move || t(K::ResNameLabel)
                            bind:value=name
                            on:input=move |_| {
                                if upload.value().with_untracked(Option::is_some) {
                                    upload.value().set(None);
                                }
                            }
                        />
                        <button
                            class="btn primary res-upload-button"
                            type="submit"
                            data-testid="upload-submit"
                            disabled=move || {
                                upload.pending().get() || file.with(Option::is_none)
                                    || name.with(|n| n.trim().is_empty())
                            }
                        >
                            {move || t(if upload.pending().get() { K::ResUploading } else { K::ResUploadButton })}
                        </button>
                    </div>
                    {move || {
                        name_error
                            .get()
                            .map(|reason| {
                                view! {
                                    <span class="field-error" data-testid="error-name">
                                        {reason}
                                    </span>
                                }
                            })
                    }}
                    <span class="muted hint">{move || t(K::ResNameHint)}</span>
                </div>
                {next_version}
                <Show when=move || upload.pending().get()>
                    {move || match progress.get().map(|(sent, total)| percent(sent, total)) {
                        Some(pct) => {
                            view! {
                                <div class="res-progress" data-testid="upload-progress">
                                    <div
                                        class="res-progress-bar"
                                        role="progressbar"
                                        aria-valuemin="0"
                                        aria-valuemax="100"
                                        aria-valuenow=pct
                                        aria-label=move || t(K::ResUploading)
                                    >
                                        <span style:width=format!("{pct}%")></span>
                                    </div>
                                    <span class="res-progress-text mono" data-testid="upload-percent">
                                        {format!("{pct}%")}
                                    </span>
                                </div>
                            }
                                .into_any()
                        }
                        // Until the browser reports the first bytes: a bar without a figure.
                        None => {
                            view! {
                                <div
                                    class="res-busy"
                                    role="progressbar"
                                    aria-label=move || t(K::ResUploading)
                                    data-testid="upload-busy"
                                >
                                    <span></span>
                                </div>
                            }
                                .into_any()
                        }
                    }}
                </Show>
                <ActionError message=general_error />
                {move || {
                    done.get()
                        .map(|(name, version)| {
                            view! {
                                <p class="notice" data-testid="upload-done">
                                    {move || {
                                        fill(
                                            t(K::ResUploaded),
                                            &[("name", &name), ("version", &version.to_string())],
                                        )
                                    }}
                                </p>
                            }
                        })
                }}
            </form>
        </section>
    }
}

/// How much of `total` bytes `sent` is, in whole percent (0 to 100; an empty file is done).
fn percent(sent: f64, total: f64) -> u32 {
    if total <= 0.0 {
        return 100;
    }
    // Rounded down, so 100% shows only when the last byte is out.
    ((sent / total * 100.0).floor().clamp(0.0, 100.0)) as u32
}

/// How jobs name a resource.
#[component]
fn HelpCard() -> impl IntoView {
    view! {
        <section class="card res-help" data-testid="resources-help">
            <div class="card-head">
                <h2>{move || t(K::ResHelpTitle)}</h2>
            </div>
            <ul class="res-help-list">
                <li>
                    <code>{move || t(K::ResHelpLatestCode)}</code>
                    " "
                    {move || t(K::ResHelpLatest)}
                    " "
                    <code>{move || t(K::ResHelpPinnedCode)}</code>
                    " "
                    {move || t(K::ResHelpPinned)}
                </li>
                <li>
                    {move || t(K::ResHelpConfig)}
                    <pre class="res-example">{move || t(K::ResHelpConfigCode)}</pre>
                </li>
                <li>
                    {move || t(K::ResHelpScript)}
                    <pre class="res-example">{move || t(K::ResHelpScriptCode)}</pre>
                </li>
            </ul>
        </section>
    }
}

fn resource_row(
    resource: Resource,
    selected: RwSignal<Option<ResourceId>>,
    confirming: RwSignal<Option<Resource>>,
) -> impl IntoView {
    let id = resource.id;
    let latest = resource.latest.clone();
    let uri = resource_uri(&resource.name, latest.version);
    let open = move || selected.get() == Some(id);
    let (name, label) = (resource.name.clone(), resource.name.clone());
    view! {
        <tr
            class="res-row"
            class:selected=open
            data-testid="resource-row"
            data-name=name
            data-version=latest.version
        >
            <td class="mono res-name">
                <button
                    type="button"
                    class="link-button"
                    data-testid="resource-open"
                    on:click=move |_| {
                        selected.update(|s| *s = if *s == Some(id) { None } else { Some(id) })
                    }
                >
                    {label}
                </button>
            </td>
            <td data-testid="resource-latest">"v" {latest.version}</td>
            <td>{browser::bytes(latest.size)}</td>
            <td class="mono" title=latest.sha256.clone()>
                {short_sha(&latest.sha256).to_owned()}
            </td>
            <td>{latest.uploaded_by.clone()}</td>
            <td>{browser::local_short(Some(latest.created_at))}</td>
            <td>
                <div class="row-actions">
                    <CopyButton text=uri testid="resource-copy" />
                    <button
                        type="button"
                        class="btn small why-toggle"
                        class:open=open
                        data-testid="resource-versions"
                        on:click=move |_| {
                            selected.update(|s| *s = if *s == Some(id) { None } else { Some(id) })
                        }
                    >
                        {move || t(K::ResVersions)}
                    </button>
                    <button
                        type="button"
                        class="btn small danger"
                        data-testid="resource-delete"
                        on:click=move |_| confirming.set(Some(resource.clone()))
                    >
                        {move || t(K::Delete)}
                    </button>
                </div>
            </td>
        </tr>
    }
}

/// A button that copies `text` to the clipboard and says so for a moment; its title shows it.
#[component]
fn CopyButton(text: String, testid: &'static str) -> impl IntoView {
    // None: not clicked yet; Some(true): copied; Some(false): the browser refused.
    let copied = RwSignal::new(None::<bool>);
    let title = text.clone();
    let copy = move |_| {
        let text = text.clone();
        spawn_local(async move {
            let done = match web_sys::window() {
                Some(window) => {
                    let promise = window.navigator().clipboard().write_text(&text);
                    wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
                }
                None => false,
            };
            copied.set(Some(done));
            set_timeout(move || copied.set(None), Duration::from_secs(2));
        });
    };
    let label = move || match copied.get() {
        None => t(K::ResCopy),
        Some(true) => t(K::ResCopied),
        Some(false) => t(K::ResCopyFailed),
    };
    view! {
        <button
            type="button"
            class="btn small res-copy"
            class:copied=move || copied.get() == Some(true)
            data-testid=testid
            data-uri=title.clone()
            title=move || fill(t(K::ResCopyTitle), &[("uri", &title)])
            on:click=copy
        >
            {label}
        </button>
    }
}

/// The versions of one resource, newest first, each with its download.
#[component]
fn VersionsCard(
    id: ResourceId,
    changed: RwSignal<u64>,
    #[prop(into)] on_close: Callback<()>,
) -> impl IntoView {
    let resource = LocalResource::new(move || {
        changed.track();
        http::get::<Resource>(format!("/api/resources/{id}"))
    });
    let download = Action::new_local(move |(name, version): &(String, u32)| {
        let (name, version) = (name.clone(), *version);
        async move {
            let blob =
                http::get_blob(format!("/api/resources/{id}/content?version={version}")).await?;
            browser::save_blob(file_name(&name), &blob)
                .map_err(|err| ApiError::Network(format!("{err:?}")))?;
            Ok::<_, ApiError>(())
        }
    });
    let download_error = action_error(download);
    let headers = vec![
        K::Version,
        K::ResSize,
        K::ResSha,
        K::ResUploadedBy,
        K::ResUploadedAt,
        K::ResUseAs,
        K::Empty,
    ];
    let title = move || {
        resource
            .get()
            .and_then(Result::ok)
            .map(|r| fill(t(K::ResVersionsOf), &[("name", &r.name)]))
            .unwrap_or_else(|| t(K::ResVersions).to_owned())
    };
    let table = move || {
        let headers = headers.clone();
        Suspend::new(async move {
            let resource = resource.await?;
            let name = resource.name.clone();
            let rows = resource
                .versions
                .into_iter()
                .map(|version| version_row(name.clone(), version, download))
                .collect_view();
            Ok::<_, ApiError>(view! {
                <Table headers testid="resource-versions">
                    {rows}
                </Table>
            })
        })
    };
    view! {
        <section class="card" data-testid="versions-card">
            <div class="card-head">
                <h2>{title}</h2>
                <div class="spacer"></div>
                <button
                    type="button"
                    class="btn small"
                    data-testid="versions-close"
                    on:click=move |_| on_close.run(())
                >
                    {move || t(K::Close)}
                </button>
            </div>
            <ActionError message=download_error />
            <Transition fallback=loading>
                <ErrorBoundary fallback=error_fallback>{table}</ErrorBoundary>
            </Transition>
        </section>
    }
}

fn version_row(
    name: String,
    version: ResourceVersion,
    download: Action<(String, u32), Result<(), ApiError>>,
) -> impl IntoView {
    let number = version.version;
    let uri = resource_uri(&name, number);
    let busy = move || {
        download.pending().get()
            && download
                .input()
                .with(|input| input.as_ref().is_some_and(|(_, v)| *v == number))
    };
    view! {
        <tr data-testid="version-row" data-version=number>
            <td>"v" {number}</td>
            <td>{browser::bytes(version.size)}</td>
            <td class="mono" title=version.sha256.clone()>
                {short_sha(&version.sha256).to_owned()}
            </td>
            <td>{version.uploaded_by.clone()}</td>
            <td>{browser::local_short(Some(version.created_at))}</td>
            <td>
                <code class="res-uri">{uri}</code>
            </td>
            <td>
                <div class="row-actions">
                    <button
                        type="button"
                        class="btn small"
                        data-testid="version-download"
                        disabled=busy
                        on:click=move |_| {
                            download.dispatch_local((name.clone(), number));
                        }
                    >
                        {move || t(if busy() { K::Downloading } else { K::Download })}
                    </button>
                </div>
            </td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_a_version_and_shortens_its_checksum() {
        assert_eq!(resource_uri("lib/udf.jar", 3), "hera:lib/udf.jar@3");
        assert_eq!(short_sha(&"ab".repeat(32)), "abababababab");
        assert_eq!(short_sha("abc"), "abc");
        assert_eq!(file_name("lib/udf.jar"), "udf.jar");
        assert_eq!(file_name("map.csv"), "map.csv");
    }

    #[test]
    fn progress_is_whole_percent_reaching_100_only_at_the_end() {
        assert_eq!(percent(0.0, 1000.0), 0);
        assert_eq!(percent(333.0, 1000.0), 33);
        assert_eq!(percent(999.0, 1000.0), 99);
        assert_eq!(percent(1000.0, 1000.0), 100);
        assert_eq!(percent(5.0, 0.0), 100);
        assert_eq!(percent(2000.0, 1000.0), 100);
    }
}
