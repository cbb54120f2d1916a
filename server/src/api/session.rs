//! Health, login and who-am-I (registration and user management are in `users`).

use app::{
    api::{Health, LoginRequest, LoginResponse, Me},
    domain::AccountStatus,
};
use std::net::SocketAddr;

use axum::{
    Extension, Json,
    extract::{ConnectInfo, State},
};

use super::ApiJson;
use crate::{
    AppState,
    auth::{self, CurrentUser},
    error::{ApiError, ApiResult},
    store::StoreError,
};

/// Liveness probe; needs no token.
#[utoipa::path(get, path = "/api/health", responses((status = 200, body = Health)))]
pub async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })
}

/// Exchanges a user name and password for a session token. A wrong name or password is a 401
/// that does not say which; only with the right password does a pending or disabled account get
/// its 403 saying so. Too many failed tries from one address (for one name, or in all) get a 429
/// with `Retry-After`, before any password is checked.
#[utoipa::path(post, path = "/api/auth/login", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = app::api::ErrorBody),
        (status = 403, body = app::api::ErrorBody), (status = 429, body = app::api::ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let (limits, address) = (&state.sign_in_limits, client.ip());
    let username = body.username.trim();
    limits.check_login(address, username)?;
    let refused = || {
        // For the operator (and tools like fail2ban): bounded by the limits above.
        tracing::warn!(%address, username, "failed sign-in");
        limits.login_failed(address, username);
        ApiError::Unauthorized("wrong user name or password".to_owned())
    };
    let user = match state.store.user(username).await {
        Ok(user) => user,
        Err(StoreError::NotFound) => {
            // Spend the same time as a real check, so user names cannot be probed by timing.
            let _ = tokio::task::spawn_blocking(move || {
                auth::verify_password(&body.password, dummy_hash())
            })
            .await;
            return Err(refused());
        }
        Err(err) => return Err(err.into()),
    };
    let hash = user.password_hash.clone();
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&body.password, &hash))
        .await
        .map_err(|err| ApiError::Internal(err.into()))?;
    if !ok {
        return Err(refused());
    }
    limits.login_succeeded(address, username);
    // Only someone who knows the password learns the account's state.
    if user.status != AccountStatus::Active {
        return Err(ApiError::AccountRefused {
            status: user.status,
            session: false,
        });
    }
    Ok(Json(state.sessions.login(&user)?))
}

/// A real argon2id hash of a random string, checked against when the user does not exist.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| auth::hash_password(&auth::random_secret(16)).unwrap_or_default())
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/me", responses((status = 200, body = Me), (status = 401, body = app::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn me(Extension(user): Extension<CurrentUser>) -> Json<Me> {
    Json(Me {
        username: user.username,
        is_admin: user.is_admin,
    })
}
