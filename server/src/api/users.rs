//! Accounts: registration (a pending account that waits for an administrator's approval), the
//! administrators' user management (list, create, approve, disable, enable, grant or revoke the
//! administrator right), changing one's own password and signing out everywhere. Every change goes
//! to the audit trail.

use std::{collections::BTreeMap, net::SocketAddr};

use app::{
    api::{LoginResponse, NewUser, PasswordChange, RegisterRequest, User, UserUpdate},
    domain::{AccountStatus, password_problem, username_problem},
    ids::UserId,
};
use axum::{
    Extension, Json,
    extract::{ConnectInfo, State},
    http::StatusCode,
};
use chrono::Utc;

use super::{ApiJson, ApiPath};
use crate::{
    AppState,
    auth::{self, CurrentUser},
    error::{ApiError, ApiResult},
    store::{AuditWrite, NewUserRecord, StoreError, UserRecord},
};

/// Asks for an account: it is created pending, and signs in once an administrator approved it.
/// Needs no token. At most 10 accounts per client address and hour (then a 429).
#[utoipa::path(post, path = "/api/auth/register", request_body = RegisterRequest,
    responses((status = 201, body = User), (status = 409, body = app::api::ErrorBody),
        (status = 422, body = app::api::ErrorBody), (status = 429, body = app::api::ErrorBody)))]
pub async fn register(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<RegisterRequest>,
) -> ApiResult<(StatusCode, Json<User>)> {
    state.sign_in_limits.check_registration(client.ip())?;
    let created = create_account(
        &state,
        &body.username,
        &body.password,
        false,
        AccountStatus::Pending,
    )
    .await?;
    state.sign_in_limits.registered(client.ip());
    // The new account is its own actor: nobody is signed in.
    let actor = CurrentUser {
        id: created.id,
        username: created.username.clone(),
        is_admin: false,
        session_version: 0,
    };
    super::audit::record(
        &state,
        &actor,
        user_audit("user.register", &created.username),
    )
    .await;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Every user account, by name (administrators only).
#[utoipa::path(get, path = "/api/users",
    responses((status = 200, body = Vec<User>), (status = 403, body = app::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_users(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
) -> ApiResult<Json<Vec<User>>> {
    require_admin(&user, "see the user accounts")?;
    Ok(Json(state.store.users().await?))
}

/// Creates an active account (administrators only).
#[utoipa::path(post, path = "/api/users", request_body = NewUser,
    responses((status = 201, body = User), (status = 403, body = app::api::ErrorBody),
        (status = 409, body = app::api::ErrorBody), (status = 422, body = app::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_user(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiJson(body): ApiJson<NewUser>,
) -> ApiResult<(StatusCode, Json<User>)> {
    require_admin(&user, "create accounts")?;
    let created = create_account(
        &state,
        &body.username,
        &body.password,
        body.is_admin,
        AccountStatus::Active,
    )
    .await?;
    let mut entry = user_audit("user.create", &created.username);
    if created.is_admin {
        entry.details.push_str(" as an administrator");
    }
    super::audit::record(&state, &user, entry).await;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Approves (pending → active), disables, enables, grants or revokes the administrator right
/// (administrators only). Refused: disabling oneself, removing one's own administrator right, and
/// anything that would leave no active administrator. A disabled account's sessions stop working
/// at once, and its open browser sockets close.
#[utoipa::path(put, path = "/api/users/{id}", params(("id" = i64, Path)), request_body = UserUpdate,
    responses((status = 200, body = User), (status = 403, body = app::api::ErrorBody),
        (status = 404, body = app::api::ErrorBody), (status = 409, body = app::api::ErrorBody),
        (status = 422, body = app::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn update_user(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiPath(id): ApiPath<UserId>,
    ApiJson(body): ApiJson<UserUpdate>,
) -> ApiResult<Json<User>> {
    require_admin(&user, "change accounts")?;
    if body.status.is_none() && body.is_admin.is_none() {
        return Err(ApiError::field(
            "body",
            "say what to change: `status` or `is_admin`",
        ));
    }
    if body.status == Some(AccountStatus::Pending) {
        return Err(ApiError::field(
            "status",
            "an account cannot be put back to pending: use `active` or `disabled`",
        ));
    }
    // One change at a time, so two administrators cannot each remove the other's right and leave
    // none between them.
    let _serialised = state.accounts.lock().await;
    let users = state.store.users().await?;
    let Some(target) = users.iter().find(|u| u.id == id) else {
        return Err(ApiError::NotFound(format!("user {id} does not exist")));
    };
    let status = body.status.unwrap_or(target.status);
    let is_admin = body.is_admin.unwrap_or(target.is_admin);
    let actions = changes(target, status, is_admin);
    if actions.is_empty() {
        return Ok(Json(target.clone()));
    }
    let was_active_admin = target.status == AccountStatus::Active && target.is_admin;
    let stays_active_admin = status == AccountStatus::Active && is_admin;
    if was_active_admin && !stays_active_admin {
        let others = users
            .iter()
            .filter(|u| u.id != id && u.status == AccountStatus::Active && u.is_admin)
            .count();
        if others == 0 {
            return Err(ApiError::Conflict(format!(
                "`{}` is the only active administrator: make another account an administrator first",
                target.username
            )));
        }
    }
    if id == user.id {
        if status != AccountStatus::Active {
            return Err(ApiError::Conflict(
                "you cannot disable your own account; another administrator can".to_owned(),
            ));
        }
        if !is_admin {
            return Err(ApiError::Conflict(
                "you cannot remove your own administrator right; another administrator can"
                    .to_owned(),
            ));
        }
    }
    let updated = state
        .store
        .update_user(id, body.status, body.is_admin, Utc::now())
        .await
        .map_err(|err| match err {
            StoreError::NotFound => ApiError::NotFound(format!("user {id} does not exist")),
            other => other.into(),
        })?;
    if updated.status == AccountStatus::Disabled {
        // Its open browser sockets close (see `sockets::account_gone`).
        state
            .account_revision
            .send_modify(|revision| *revision += 1);
    }
    for action in actions {
        super::audit::record(&state, &user, user_audit(action, &updated.username)).await;
    }
    Ok(Json(updated))
}

/// Changes the signed-in user's password; the current one must be given. Every session of the
/// account ends (other browsers are signed out at once); the answer is a fresh token for the
/// caller's.
#[utoipa::path(put, path = "/api/me/password", request_body = PasswordChange,
    responses((status = 200, body = LoginResponse), (status = 422, body = app::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn change_password(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiJson(body): ApiJson<PasswordChange>,
) -> ApiResult<Json<LoginResponse>> {
    let mut problems = BTreeMap::new();
    if let Some(problem) = password_problem(&body.new_password) {
        problems.insert("new_password".to_owned(), problem.to_owned());
    } else if body.new_password == body.current_password {
        problems.insert(
            "new_password".to_owned(),
            "must differ from the current password".to_owned(),
        );
    }
    let account = state.store.user(&user.username).await?;
    let current = body.current_password;
    let hash = account.password_hash;
    let right = tokio::task::spawn_blocking(move || auth::verify_password(&current, &hash))
        .await
        .map_err(|err| ApiError::Internal(err.into()))?;
    if !right {
        problems.insert(
            "current_password".to_owned(),
            "this is not your current password".to_owned(),
        );
    }
    if !problems.is_empty() {
        return Err(ApiError::Invalid(problems));
    }
    let new_hash = hash_password(body.new_password).await?;
    let account = state
        .store
        .set_password(account.id, &new_hash, Utc::now())
        .await?;
    super::audit::record(&state, &user, user_audit("user.password", &user.username)).await;
    Ok(Json(sessions_ended(&state, &account)?))
}

/// Signs the user out everywhere but here: every other session token stops working, open pages
/// elsewhere go back to the login page; the answer is a fresh token for the caller's session.
#[utoipa::path(post, path = "/api/me/sessions/end-others",
    responses((status = 200, body = LoginResponse)),
    security(("bearer" = [])))]
pub async fn end_other_sessions(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
) -> ApiResult<Json<LoginResponse>> {
    let account = state.store.end_sessions(user.id).await?;
    super::audit::record(
        &state,
        &user,
        user_audit("user.sessions_ended", &user.username),
    )
    .await;
    Ok(Json(sessions_ended(&state, &account)?))
}

/// After `account`'s session version moved on: its open sockets check their session again, and
/// the caller gets a token of the new version.
fn sessions_ended(state: &AppState, account: &UserRecord) -> ApiResult<LoginResponse> {
    state
        .account_revision
        .send_modify(|revision| *revision += 1);
    Ok(state.sessions.login(account)?)
}

/// A 403 unless `user` is an administrator.
fn require_admin(user: &CurrentUser, what: &str) -> ApiResult<()> {
    if user.is_admin {
        return Ok(());
    }
    Err(ApiError::Forbidden(format!(
        "only administrators can {what}"
    )))
}

/// Validates and creates an account; every problem of the name and the password at once.
async fn create_account(
    state: &AppState,
    username: &str,
    password: &str,
    is_admin: bool,
    status: AccountStatus,
) -> ApiResult<User> {
    let username = username.trim();
    let mut problems = BTreeMap::new();
    if let Some(problem) = username_problem(username) {
        problems.insert("username".to_owned(), problem.to_owned());
    }
    if let Some(problem) = password_problem(password) {
        problems.insert("password".to_owned(), problem.to_owned());
    }
    if !problems.is_empty() {
        return Err(ApiError::Invalid(problems));
    }
    let taken = || ApiError::Conflict(format!("the user name `{username}` is already taken"));
    // Names differing only in case would be told apart by nobody reading the audit trail or a
    // job's owner: they count as taken. Checked before the (slow) hash, one creation at a time.
    let _serialised = state.accounts.lock().await;
    let users = state.store.users().await?;
    if let Some(existing) = users
        .iter()
        .find(|u| u.username.eq_ignore_ascii_case(username))
    {
        return Err(if existing.username == username {
            taken()
        } else {
            ApiError::Conflict(format!(
                "the user name `{username}` is too close to the existing `{}`: names differ by \
                 more than upper and lower case",
                existing.username
            ))
        });
    }
    let record = NewUserRecord {
        username: username.to_owned(),
        password_hash: hash_password(password.to_owned()).await?,
        is_admin,
        status,
    };
    state
        .store
        .create_user(&record, Utc::now())
        .await
        .map_err(|err| match err {
            StoreError::Conflict(_) => taken(),
            other => other.into(),
        })
}

/// Hashes a password on a blocking thread (argon2id is CPU-heavy).
async fn hash_password(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|err| ApiError::Internal(err.into()))?
        .map_err(ApiError::Internal)
}

/// The audit actions of changing `target` to `status` and `is_admin`.
fn changes(target: &User, status: AccountStatus, is_admin: bool) -> Vec<&'static str> {
    let mut actions = Vec::new();
    match (target.status, status) {
        (AccountStatus::Pending, AccountStatus::Active) => actions.push("user.approve"),
        (AccountStatus::Disabled, AccountStatus::Active) => actions.push("user.enable"),
        (from, AccountStatus::Disabled) if from != AccountStatus::Disabled => {
            actions.push("user.disable");
        }
        _ => {}
    }
    match (target.is_admin, is_admin) {
        (false, true) => actions.push("user.grant_admin"),
        (true, false) => actions.push("user.revoke_admin"),
        _ => {}
    }
    actions
}

fn user_audit(action: &str, username: &str) -> AuditWrite {
    AuditWrite {
        action: action.to_owned(),
        details: format!("user `{username}`"),
        ..AuditWrite::default()
    }
}
