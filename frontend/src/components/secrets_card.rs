//! A job's secrets: the names its attempts get as environment variables, set on the job itself or
//! inherited from a folder (and whether a nearer one overrides it), when each was last set; never a
//! value. A form sets (or replaces) one of the job's own, and each of its own can be removed after
//! a confirmation.

use app::{
    api::{SecretInfo, SecretValue},
    ids::JobId,
};
use leptos::prelude::*;

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

/// The secrets card of job `job`.
#[component]
pub fn SecretsCard(job: JobId) -> impl IntoView {
    let changed = RwSignal::new(0u64);
    let secrets = LocalResource::new(move || {
        changed.track();
        http::get::<Vec<SecretInfo>>(format!("/api/jobs/{job}/secrets"))
    });
    let name = RwSignal::new(String::new());
    let value = RwSignal::new(String::new());
    let saved = RwSignal::new(None::<String>);
    let set = Action::new_local(move |()| {
        let typed = name.get_untracked().trim().to_owned();
        let body = SecretValue {
            value: value.get_untracked(),
        };
        async move {
            let path = format!(
                "/api/jobs/{job}/secrets/{}",
                js_sys::encode_uri_component(&typed)
            );
            http::put::<_, ()>(path, &body).await?;
            name.set(String::new());
            value.set(String::new());
            saved.set(Some(typed));
            changed.update(|n| *n += 1);
            Ok::<_, ApiError>(())
        }
    });
    let field_error = move |field: &'static str| {
        Signal::derive(move || {
            set.value().with(|v| match v {
                Some(Err(err)) => err.fields().get(field).cloned(),
                _ => None,
            })
        })
    };
    let (name_error, value_error) = (field_error("name"), field_error("value"));
    let general_error = Signal::derive(move || {
        set.value().with(|v| match v {
            Some(Err(err)) if err.fields().is_empty() => Some(err.to_string()),
            _ => None,
        })
    });
    let removing = RwSignal::new(None::<String>);
    let remove = Action::new_local(move |secret: &String| {
        let path = format!(
            "/api/jobs/{job}/secrets/{}",
            js_sys::encode_uri_component(secret)
        );
        async move {
            http::delete(path).await?;
            removing.set(None);
            saved.set(None);
            changed.update(|n| *n += 1);
            Ok::<_, ApiError>(())
        }
    });
    let headers = vec![K::Name, K::SecretWhere, K::Updated, K::Empty];
    let table = move || {
        let headers = headers.clone();
        Suspend::new(async move {
            let mut list = secrets.await?;
            // A name's rows together, the one in effect (the nearest) first.
            list.sort_by(|a, b| a.name.cmp(&b.name).then(a.overridden.cmp(&b.overridden)));
            let empty = list.is_empty();
            let rows = list
                .into_iter()
                .map(|secret| secret_row(secret, removing, remove))
                .collect_view();
            Ok::<_, ApiError>(view! {
                <Table headers empty empty_text=K::SecretsNone testid="secrets">
                    {rows}
                </Table>
            })
        })
    };
    let confirm = move || {
        removing.get().map(|secret| {
            let question = fill(t(K::SecretRemoveQuestion), &[("name", &secret)]);
            view! {
                <ConfirmCard
                    testid="remove-secret"
                    danger=true
                    question=question
                    pending=remove.pending()
                    error=action_error(remove)
                    on_confirm=move |()| {
                        remove.dispatch_local(secret.clone());
                    }
                    on_cancel=move |()| {
                        removing.set(None);
                        remove.value().set(None);
                    }
                />
            }
        })
    };
    view! {
        <section class="card" data-testid="job-secrets">
            <div class="card-head">
                <h2>{move || t(K::Secrets)}</h2>
            </div>
            <p class="muted hint-line">{move || t(K::SecretsHint)}</p>
            {confirm}
            <Transition fallback=loading>
                <ErrorBoundary fallback=error_fallback>{table}</ErrorBoundary>
            </Transition>
            <form
                class="secret-form"
                data-testid="secret-form"
                on:submit=move |ev: leptos::ev::SubmitEvent| {
                    ev.prevent_default();
                    saved.set(None);
                    if !name.with_untracked(|n| n.trim().is_empty()) {
                        set.dispatch_local(());
                    }
                }
            >
                <div class="field" class:invalid=move || name_error.with(Option::is_some)>
                    <span class="label">{move || t(K::SecretName)}</span>
                    <input
                        class="input mono"
                        data-testid="secret-name"
                        spellcheck="false"
                        autocomplete="off"
                        placeholder="DB_PASSWORD"
                        bind:value=name
                    />
                    {move || {
                        name_error
                            .get()
                            .map(|reason| {
                                view! {
                                    <span class="field-error" data-testid="error-secret-name">
                                        {reason}
                                    </span>
                                }
                            })
                    }}
                </div>
                <div class="field" class:invalid=move || value_error.with(Option::is_some)>
                    <span class="label">{move || t(K::SecretValueLabel)}</span>
                    <input
                        class="input"
                        type="password"
                        data-testid="secret-value"
                        autocomplete="new-password"
                        bind:value=value
                    />
                    {move || {
                        value_error
                            .get()
                            .map(|reason| {
                                view! {
                                    <span class="field-error" data-testid="error-secret-value">
                                        {reason}
                                    </span>
                                }
                            })
                    }}
                </div>
                <button
                    class="btn primary"
                    type="submit"
                    data-testid="secret-save"
                    disabled=move || set.pending().get() || name.with(|n| n.trim().is_empty())
                >
                    {move || t(if set.pending().get() { K::Saving } else { K::SecretSet })}
                </button>
            </form>
            <p class="muted hint secret-form-hint">{move || t(K::SecretFormHint)}</p>
            <ActionError message=general_error />
            {move || {
                saved
                    .get()
                    .map(|name| {
                        view! {
                            <p class="notice" data-testid="secret-saved">
                                {move || fill(t(K::SecretSaved), &[("name", &name)])}
                            </p>
                        }
                    })
            }}
        </section>
    }
}

fn secret_row(
    secret: SecretInfo,
    removing: RwSignal<Option<String>>,
    remove: Action<String, Result<(), ApiError>>,
) -> impl IntoView {
    let own = secret.folder_id.is_none();
    let folder = secret.folder_name.clone().unwrap_or_default();
    let place = move || {
        if own {
            t(K::SecretOnJob).to_owned()
        } else {
            fill(t(K::SecretFromFolder), &[("folder", &folder)])
        }
    };
    let overridden = secret.overridden.then(|| {
        view! {
            <span
                class="badge state-cancelled"
                data-testid="secret-overridden"
                title=move || t(K::SecretOverriddenHint)
            >
                {move || t(K::SecretOverridden)}
            </span>
        }
    });
    let name = secret.name.clone();
    view! {
        <tr
            data-testid="secret-row"
            data-name=secret.name.clone()
            data-own=own.to_string()
            class:muted=secret.overridden
        >
            <td class="mono">{secret.name.clone()}</td>
            <td>
                <span data-testid="secret-place">{place}</span>
                " "
                {overridden}
            </td>
            <td>{browser::local_short(Some(secret.updated_at))}</td>
            <td>
                <div class="row-actions">
                    {own
                        .then(|| {
                            view! {
                                <button
                                    type="button"
                                    class="btn small danger"
                                    data-testid="secret-remove"
                                    on:click=move |_| {
                                        remove.value().set(None);
                                        removing.set(Some(name.clone()));
                                    }
                                >
                                    {move || t(K::Remove)}
                                </button>
                            }
                        })}
                </div>
            </td>
        </tr>
    }
}
