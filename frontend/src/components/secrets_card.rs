//! The secrets of a job or of a folder: the names attempts get as environment variables, set on
//! the owner itself or inherited from a folder above (and whether a nearer one overrides it), when
//! each was last set; never a value. A form sets (or replaces) one of the owner's own, and each of
//! its own can be removed after a confirmation.

use app::{
    api::{SecretInfo, SecretValue},
    ids::{FolderId, JobId},
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

/// Whose secrets a [`SecretsCard`] shows and sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretOwner {
    /// A job: its own secrets and its folders'.
    Job(JobId),
    /// A folder: its own secrets and the ones of the folders above it.
    Folder(FolderId),
}

impl SecretOwner {
    /// The API path of the owner's secrets.
    fn path(self) -> String {
        match self {
            SecretOwner::Job(id) => format!("/api/jobs/{id}/secrets"),
            SecretOwner::Folder(id) => format!("/api/folders/{id}/secrets"),
        }
    }

    /// The API path of the owner's secret `name`.
    fn secret_path(self, name: &str) -> String {
        format!("{}/{}", self.path(), js_sys::encode_uri_component(name))
    }

    /// Whether `secret` is set on the owner itself (and so can be removed here).
    fn owns(self, secret: &SecretInfo) -> bool {
        match self {
            SecretOwner::Job(_) => secret.folder_id.is_none(),
            SecretOwner::Folder(id) => secret.folder_id == Some(id),
        }
    }

    /// The owner's wording of the texts that name it ("this job", "this folder").
    fn text(self, key: K) -> K {
        match (self, key) {
            (SecretOwner::Job(_), key) => key,
            (SecretOwner::Folder(_), K::SecretsNone) => K::SecretsNoneFolder,
            (SecretOwner::Folder(_), K::SecretFormHint) => K::SecretFormHintFolder,
            (SecretOwner::Folder(_), K::SecretOnJob) => K::SecretOnFolder,
            (SecretOwner::Folder(_), K::SecretOverriddenHint) => K::SecretOverriddenHintFolder,
            (SecretOwner::Folder(_), K::SecretRemoveQuestion) => K::SecretRemoveQuestionFolder,
            (SecretOwner::Folder(_), key) => key,
        }
    }

    fn testid(self) -> &'static str {
        match self {
            SecretOwner::Job(_) => "job-secrets",
            SecretOwner::Folder(_) => "folder-secrets",
        }
    }
}

/// The secrets card of `owner`.
#[component]
pub fn SecretsCard(owner: SecretOwner) -> impl IntoView {
    let changed = RwSignal::new(0u64);
    let secrets = LocalResource::new(move || {
        changed.track();
        http::get::<Vec<SecretInfo>>(owner.path())
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
            let path = owner.secret_path(&typed);
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
        let path = owner.secret_path(secret);
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
                .map(|secret| secret_row(owner, secret, removing, remove))
                .collect_view();
            Ok::<_, ApiError>(view! {
                <Table
                    headers
                    empty
                    empty_text=owner.text(K::SecretsNone)
                    testid="secrets"
                >
                    {rows}
                </Table>
            })
        })
    };
    let confirm = move || {
        removing.get().map(|secret| {
            let question = fill(t(owner.text(K::SecretRemoveQuestion)), &[("name", &secret)]);
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
        <section class="card" data-testid=owner.testid()>
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
            <p class="muted hint secret-form-hint">{move || t(owner.text(K::SecretFormHint))}</p>
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
    owner: SecretOwner,
    secret: SecretInfo,
    removing: RwSignal<Option<String>>,
    remove: Action<String, Result<(), ApiError>>,
) -> impl IntoView {
    let own = owner.owns(&secret);
    let folder = secret.folder_name.clone().unwrap_or_default();
    let place = move || {
        if own {
            t(owner.text(K::SecretOnJob)).to_owned()
        } else {
            fill(t(K::SecretFromFolder), &[("folder", &folder)])
        }
    };
    let overridden = secret.overridden.then(|| {
        view! {
            <span
                class="badge state-cancelled"
                data-testid="secret-overridden"
                title=move || t(owner.text(K::SecretOverriddenHint))
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
