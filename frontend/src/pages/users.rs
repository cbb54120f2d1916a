//! `/users` (administrators): every account with its role and status, the buttons that apply
//! (Approve, Disable, Enable, Make admin, Remove admin), the server's refusal shown in the row it
//! concerns, and a small form to add an active account.

use std::collections::BTreeMap;

use app::{
    api::{Me, NewUser, User, UserUpdate},
    domain::AccountStatus,
    ids::UserId,
};
use leptos::prelude::*;

use crate::{
    api::http::{self, ApiError},
    browser,
    components::{
        error_view::{ActionError, error_fallback, form_errors, loading},
        state_badge::{StateBadge, StateName},
        table::Table,
        text_field::TextField,
    },
    i18n::{K, fill, t},
    pages::register::account_problems,
};

/// The fields the add-user form marks.
const FIELDS: &[&str] = &["username", "password"];

/// The users page.
#[component]
pub fn UsersPage() -> impl IntoView {
    let users = LocalResource::new(|| http::get::<Vec<User>>("/api/users"));
    let me = LocalResource::new(|| http::get::<Me>("/api/me"));
    // The row whose button was pressed last: its refusal shows there.
    let acted_on = RwSignal::new(None::<UserId>);
    let change = Action::new_local(move |(id, update): &(UserId, UserUpdate)| {
        let (id, update) = (*id, update.clone());
        async move {
            let user: User = http::put(format!("/api/users/{id}"), &update).await?;
            users.refetch();
            Ok::<_, ApiError>(user)
        }
    });
    let row_error = move |id: UserId| {
        Signal::derive(move || {
            if acted_on.get() != Some(id) {
                return None;
            }
            change.value().with(|v| match v {
                Some(Err(err)) => Some(err.to_string()),
                _ => None,
            })
        })
    };
    let act = Callback::new(move |(id, update): (UserId, UserUpdate)| {
        acted_on.set(Some(id));
        change.dispatch_local((id, update));
    });
    let headers = vec![K::Username, K::Role, K::Status, K::Created, K::Actions];
    let table = move || {
        let headers = headers.clone();
        Suspend::new(async move {
            let list = users.await?;
            let me = me.await?;
            let empty = list.is_empty();
            let rows = list
                .into_iter()
                .map(|user| {
                    let own = user.username == me.username;
                    let error = row_error(user.id);
                    user_row(user, own, act, change.pending().into(), error)
                })
                .collect_view();
            Ok::<_, ApiError>(view! {
                <Table headers empty empty_text=K::NoUsers testid="users">
                    {rows}
                </Table>
            })
        })
    };
    view! {
        <div class="page users-page">
            <div class="page-head">
                <div>
                    <h1>{move || t(K::NavUsers)}</h1>
                    <p class="muted page-hint">{move || t(K::UsersHint)}</p>
                </div>
            </div>
            <section class="card">
                <Transition fallback=loading>
                    <ErrorBoundary fallback=error_fallback>{table}</ErrorBoundary>
                </Transition>
            </section>
            <AddUser on_added=Callback::new(move |()| users.refetch()) />
        </div>
    }
}

/// One account's row: name (and "you"), role, status badge, creation time, and the buttons that
/// apply to it. One cannot disable oneself or remove one's own administrator right, so those
/// buttons are not offered on one's own row.
fn user_row(
    user: User,
    own: bool,
    act: Callback<(UserId, UserUpdate)>,
    busy: Signal<bool>,
    error: Signal<Option<String>>,
) -> impl IntoView {
    let id = user.id;
    let button = move |key: K, testid: &'static str, update: UserUpdate, danger: bool| {
        view! {
            <button
                class="btn small"
                class:danger=danger
                data-testid=testid
                disabled=move || busy.get()
                on:click=move |_| act.run((id, update.clone()))
            >
                {move || t(key)}
            </button>
        }
    };
    let status_change = |status: AccountStatus| UserUpdate {
        status: Some(status),
        is_admin: None,
    };
    let admin_change = |is_admin: bool| UserUpdate {
        status: None,
        is_admin: Some(is_admin),
    };
    let mut buttons = Vec::new();
    match user.status {
        AccountStatus::Pending => {
            buttons.push(button(
                K::Approve,
                "user-approve",
                status_change(AccountStatus::Active),
                false,
            ));
            buttons.push(button(
                K::Disable,
                "user-disable",
                status_change(AccountStatus::Disabled),
                true,
            ));
        }
        AccountStatus::Active if !own => buttons.push(button(
            K::Disable,
            "user-disable",
            status_change(AccountStatus::Disabled),
            true,
        )),
        AccountStatus::Active => {}
        AccountStatus::Disabled => buttons.push(button(
            K::Enable,
            "user-enable",
            status_change(AccountStatus::Active),
            false,
        )),
    }
    if !user.is_admin {
        buttons.push(button(
            K::MakeAdmin,
            "user-make-admin",
            admin_change(true),
            false,
        ));
    } else if !own {
        buttons.push(button(
            K::RemoveAdmin,
            "user-remove-admin",
            admin_change(false),
            false,
        ));
    }
    let role = if user.is_admin {
        K::RoleAdmin
    } else {
        K::RoleUser
    };
    view! {
        <tr
            data-testid="user-row"
            data-username=user.username.clone()
            data-status=user.status.as_str()
        >
            <td>
                <strong>{user.username.clone()}</strong>
                {own
                    .then(|| {
                        view! { <span class="muted user-you">"(" {move || t(K::You)} ")"</span> }
                    })}
            </td>
            <td data-testid="user-role">{move || t(role)}</td>
            <td>
                <StateBadge state=StateName(user.status.as_str()) />
            </td>
            <td>{browser::local_short(Some(user.created_at))}</td>
            <td>
                <div class="actions-buttons">{buttons}</div>
                {move || {
                    error
                        .get()
                        .map(|message| {
                            view! {
                                <p class="field-error" role="alert" data-testid="user-row-error">
                                    {message}
                                </p>
                            }
                        })
                }}
            </td>
        </tr>
    }
}

/// The add-user form: name, password, administrator or not; the account is active at once.
#[component]
fn AddUser(on_added: Callback<()>) -> impl IntoView {
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let is_admin = RwSignal::new(false);
    let added = RwSignal::new(None::<String>);
    let add = Action::new_local(move |body: &NewUser| {
        let body = body.clone();
        async move {
            let user: User = http::post("/api/users", &body).await?;
            username.set(String::new());
            password.set(String::new());
            is_admin.set(false);
            added.set(Some(user.username));
            on_added.run(());
            Ok::<_, ApiError>(())
        }
    });
    let local_errors = RwSignal::new(BTreeMap::<String, String>::new());
    let form = form_errors(add, local_errors, FIELDS);
    let (errors, general_error) = (form.fields, form.general);
    let reason =
        move |field: &'static str| Signal::derive(move || errors.with(|e| e.get(field).cloned()));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        add.value().set(None);
        added.set(None);
        let name = username.get_untracked().trim().to_owned();
        let problems = account_problems(&name, &password.get_untracked());
        let blocked = !problems.is_empty();
        local_errors.set(problems);
        if !blocked {
            add.dispatch_local(NewUser {
                username: name,
                password: password.get_untracked(),
                is_admin: is_admin.get_untracked(),
            });
        }
    };
    view! {
        <section class="card" data-testid="add-user">
            <div class="card-head">
                <h2>{move || t(K::AddUser)}</h2>
                <span class="muted">{move || t(K::AddUserHint)}</span>
            </div>
            <form class="add-user-form" novalidate on:submit=submit>
                <TextField
                    label=K::Username
                    value=username
                    testid="add-user-name"
                    autocomplete="off"
                    error=reason("username")
                />
                <TextField
                    label=K::Password
                    value=password
                    testid="add-user-password"
                    password=true
                    autocomplete="new-password"
                    error=reason("password")
                />
                <label class="check">
                    <input type="checkbox" data-testid="add-user-admin" bind:checked=is_admin />
                    {move || t(K::AsAdmin)}
                </label>
                <button
                    class="btn primary"
                    type="submit"
                    data-testid="add-user-submit"
                    disabled=move || add.pending().get()
                >
                    {move || t(K::AddUser)}
                </button>
            </form>
            <ActionError message=general_error />
            {move || {
                added
                    .get()
                    .map(|name| {
                        view! {
                            <p class="notice" data-testid="user-added">
                                {move || fill(t(K::UserAdded), &[("name", &name)])}
                            </p>
                        }
                    })
            }}
        </section>
    }
}
