//! Authentication: argon2id password hashes, JWT sessions signed with a per-installation key,
//! worker tokens stored as SHA-256 hashes, the first-start admin account, and the router-level
//! layer that guards every route but health and login.

use std::{
    fs,
    io::Write as _,
    os::unix::fs::OpenOptionsExt as _,
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::Context as _;
use app::{api::LoginResponse, domain::AccountStatus, ids::UserId};
use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version,
    password_hash::SaltString,
};
use axum::{
    extract::{Request, State},
    http::header,
    middleware::Next,
    response::Response,
};
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::{
    AppState,
    error::ApiError,
    store::{NewUserRecord, Store, StoreError, UserRecord},
};

/// How long a session token is valid.
pub const SESSION_LIFETIME: Duration = Duration::hours(12);
const ISSUER: &str = "hera";

/// The claims of a session token.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    /// The user name.
    pub sub: String,
    /// Whether the user is an administrator.
    pub adm: bool,
    /// Issuer, always `hera`.
    pub iss: String,
    /// Issued at (seconds).
    pub iat: i64,
    /// Expiry (seconds).
    pub exp: i64,
    /// The account's session version when the token was issued: a token of an older version
    /// (before a password change or "sign out everywhere") is refused. Tokens issued before
    /// versions existed carry none and count as version 0.
    #[serde(default)]
    pub ver: i64,
}

/// The signed-in user, put into request extensions by [`require_auth`] (as stored now, not as the
/// token said when it was issued).
#[derive(Clone, Debug)]
pub struct CurrentUser {
    /// The account's id.
    pub id: UserId,
    /// The user name.
    pub username: String,
    /// Whether the user is an administrator.
    pub is_admin: bool,
    /// The session version of the token the request carried (the account's current one).
    pub session_version: i64,
}

/// Session signing and checking.
#[derive(Clone)]
pub struct Sessions {
    encoding: Arc<EncodingKey>,
    decoding: Arc<DecodingKey>,
}

impl Sessions {
    /// Loads the installation's signing key from `<data-dir>/jwt-secret`, creating it (0600) on
    /// first start.
    pub fn load_or_create(data_dir: &Path) -> anyhow::Result<Self> {
        let key = load_or_create_key(&data_dir.join("jwt-secret"), 64)?;
        anyhow::ensure!(key.len() >= 32, "the JWT key is shorter than 32 bytes");
        Ok(Sessions {
            encoding: Arc::new(EncodingKey::from_secret(&key)),
            decoding: Arc::new(DecodingKey::from_secret(&key)),
        })
    }

    /// A token for `user`, valid for [`SESSION_LIFETIME`].
    fn issue(
        &self,
        user: &UserRecord,
        now: DateTime<Utc>,
    ) -> anyhow::Result<(String, DateTime<Utc>)> {
        let expires = now + SESSION_LIFETIME;
        let claims = Claims {
            sub: user.username.clone(),
            adm: user.is_admin,
            iss: ISSUER.to_owned(),
            iat: now.timestamp(),
            exp: expires.timestamp(),
            ver: user.session_version,
        };
        let token = jsonwebtoken::encode(
            &Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &self.encoding,
        )?;
        Ok((token, expires))
    }

    /// A session for `user` as the login answer: a token and when it expires.
    pub fn login(&self, user: &UserRecord) -> anyhow::Result<LoginResponse> {
        let (token, expires_at) = self.issue(user, Utc::now())?;
        Ok(LoginResponse {
            token,
            expires_at,
            username: user.username.clone(),
        })
    }

    /// Checks a token: algorithm pinned to HS256, signature, issuer and expiry.
    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        let mut validation = Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = 5;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|err| ApiError::Unauthorized(format!("invalid or expired token ({err})")))?;
        Ok(data.claims)
    }
}

fn argon2() -> Argon2<'static> {
    // OWASP's argon2id minimum: m = 19 MiB, t = 2, p = 1.
    let params = Params::new(19 * 1024, 2, 1, None).expect("constant argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password (CPU-heavy: call from a blocking thread).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut rand::thread_rng());
    Ok(argon2()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|err| anyhow::anyhow!("{err}"))?
        .to_string())
}

/// Checks a password against its stored hash (CPU-heavy: call from a blocking thread).
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A base64 key file of the data directory (mode 0600), created with `len` random bytes the
/// first time.
pub fn load_or_create_key(path: &Path, len: usize) -> anyhow::Result<Vec<u8>> {
    if path.exists() {
        let text =
            fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        return base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .with_context(|| format!("{} is corrupt", path.display()));
    }
    let mut key = vec![0u8; len];
    rand::thread_rng().fill_bytes(&mut key);
    write_private(
        path,
        &base64::engine::general_purpose::STANDARD.encode(&key),
    )?;
    Ok(key)
}

/// A random URL-safe secret of `bytes` random bytes.
pub fn random_secret(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// The stored form of a worker token. Tokens are 32 random bytes, so a fast hash is enough.
pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes a file readable only by the owner (0600), failing if it exists.
pub fn write_private(path: &Path, content: &str) -> anyhow::Result<()> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(content.as_bytes())?;
    file.write_all(b"\n")?;
    Ok(())
}

/// On first start (no users), creates `admin` with a random password, writes it to
/// `<data-dir>/initial-admin-password` (0600) and returns the file's path.
pub async fn ensure_admin(
    store: &dyn Store,
    data_dir: &Path,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<PathBuf>> {
    if store.count_users().await? > 0 {
        return Ok(None);
    }
    let password = random_secret(15);
    let hash = tokio::task::spawn_blocking({
        let password = password.clone();
        move || hash_password(&password)
    })
    .await??;
    let path = data_dir.join("initial-admin-password");
    if path.exists() {
        fs::remove_file(&path)?;
    }
    write_private(&path, &password)?;
    let user = NewUserRecord {
        username: "admin".to_owned(),
        password_hash: hash,
        is_admin: true,
        status: AccountStatus::Active,
    };
    match store.create_user(&user, now).await {
        Ok(_) | Err(StoreError::Conflict(_)) => {}
        Err(err) => return Err(err.into()),
    }
    println!("Created the administrator account `admin` with password: {password}");
    println!(
        "(also written to {}; change it after logging in)",
        path.display()
    );
    Ok(Some(path))
}

/// The router-level guard: every request must carry a valid session token, as
/// `Authorization: Bearer <token>` or, for browser WebSockets (which cannot set headers), as the
/// `access_token` query parameter.
pub async fn require_auth(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let header_token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::to_owned);
    let query_token = || {
        request.uri().query().and_then(|query| {
            url::form_urlencoded::parse(query.as_bytes())
                .find(|(key, _)| key == "access_token")
                .map(|(_, value)| value.into_owned())
        })
    };
    let is_socket = request.uri().path().starts_with("/api/ws/");
    let token = match header_token {
        Some(token) => token,
        None => match is_socket.then(query_token).flatten() {
            Some(token) => token,
            None => return Err(ApiError::Unauthorized("missing bearer token".to_owned())),
        },
    };
    let claims = state.sessions.verify(token.trim())?;
    let user = current_account(state.store.as_ref(), &claims.sub, claims.ver).await?;
    request.extensions_mut().insert(user);
    Ok(next.run(request).await)
}

/// The account a valid token (of user `username`, session version `version`) names, as it is
/// now: a token outlives neither its account, nor the account's active status, nor a password
/// change or "sign out everywhere" (a newer session version); and the administrator right is the
/// stored one, not the token's (so disabling an account or revoking the right takes effect on the
/// next request). One lookup by the unique user name.
pub async fn current_account(
    store: &dyn Store,
    username: &str,
    version: i64,
) -> Result<CurrentUser, ApiError> {
    let account = match store.user(username).await {
        Ok(account) => account,
        Err(StoreError::NotFound) => {
            return Err(ApiError::Unauthorized(format!(
                "the account `{username}` no longer exists; sign in again"
            )));
        }
        Err(err) => return Err(err.into()),
    };
    match account.status {
        AccountStatus::Active if account.session_version != version => Err(ApiError::SessionEnded),
        AccountStatus::Active => Ok(CurrentUser {
            id: account.id,
            username: account.username,
            is_admin: account.is_admin,
            session_version: account.session_version,
        }),
        status @ (AccountStatus::Disabled | AccountStatus::Pending) => {
            Err(ApiError::AccountRefused {
                status,
                session: true,
            })
        }
    }
}
