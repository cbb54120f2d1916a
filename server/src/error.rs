//! The API's error type: one enum, one status mapping, one JSON shape
//! (`{ "error": { "code", "message", "fields"? } }`, [`app::api::ErrorBody`]). Internal errors are
//! logged and never shown to the client.

use std::collections::BTreeMap;

use app::{
    api::{ErrorBody, ErrorDetail},
    domain::AccountStatus,
};
use axum::{
    Json,
    extract::rejection::{JsonRejection, PathRejection, QueryRejection},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::store::StoreError;

/// An error answer of the REST API.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no valid token.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: the token is valid but not allowed to do this.
    #[error("{0}")]
    Forbidden(String),
    /// The account may not sign in (pending or disabled): 403 at login (the password was right),
    /// 401 for a session token. Its own code, so the UI can say it in the user's language.
    #[error("{}", account_refusal(*status))]
    AccountRefused {
        /// The account's status (never `Active`).
        status: AccountStatus,
        /// Refused a session token (401), not a login (403).
        session: bool,
    },
    /// 401: the session was signed out everywhere (the password changed, or the user ended all
    /// sessions). Its own code, so the UI can say it in the user's language.
    #[error(
        "this session was signed out: the password changed or all sessions were ended; sign in again"
    )]
    SessionEnded,
    /// 429: too many failed sign-ins or registrations from here lately.
    #[error("{message}")]
    TooManyAttempts {
        /// What was refused and for how long.
        message: String,
        /// Seconds until the next try can succeed (the `Retry-After` header).
        retry_after_s: u64,
    },
    /// 404.
    #[error("{0}")]
    NotFound(String),
    /// 409: the request conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// 413, with what the limit is.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 422: fields failed validation (field -> reason).
    #[error("invalid input")]
    Invalid(BTreeMap<String, String>),
    /// 500: logged, not shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    /// A 413 for a JSON body over the API's limit.
    pub fn body_too_large() -> Self {
        ApiError::PayloadTooLarge(format!(
            "the request body is larger than {} MiB",
            crate::api::BODY_LIMIT >> 20
        ))
    }

    /// A 422 for one field.
    pub fn field(field: &str, reason: impl Into<String>) -> Self {
        ApiError::Invalid(BTreeMap::from([(field.to_owned(), reason.into())]))
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::AccountRefused { session: true, .. } => StatusCode::UNAUTHORIZED,
            ApiError::AccountRefused { session: false, .. } => StatusCode::FORBIDDEN,
            ApiError::SessionEnded => StatusCode::UNAUTHORIZED,
            ApiError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::AccountRefused { status, .. } => match status {
                AccountStatus::Pending => "account_pending",
                AccountStatus::Active | AccountStatus::Disabled => "account_disabled",
            },
            ApiError::SessionEnded => "session_ended",
            ApiError::TooManyAttempts { .. } => "too_many_attempts",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::Invalid(_) => "invalid",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let message = match &self {
            ApiError::Internal(err) => {
                tracing::error!(error = ?err, "internal error");
                "internal server error; see the server log".to_owned()
            }
            ApiError::Invalid(fields) => {
                let list: Vec<String> = fields.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                format!("invalid input: {}", list.join("; "))
            }
            other => other.to_string(),
        };
        let fields = match &self {
            ApiError::Invalid(fields) => Some(fields.clone()),
            _ => None,
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message,
                fields,
            },
        };
        let mut response = (self.status(), Json(body)).into_response();
        if let ApiError::TooManyAttempts { retry_after_s, .. } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s));
        }
        response
    }
}

/// Why an account with `status` cannot sign in.
fn account_refusal(status: AccountStatus) -> &'static str {
    match status {
        AccountStatus::Pending => "this account is waiting for an administrator's approval",
        AccountStatus::Active | AccountStatus::Disabled => {
            "this account is disabled; ask an administrator to enable it"
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => ApiError::NotFound("not found".to_owned()),
            StoreError::Conflict(message) => ApiError::Conflict(message),
            StoreError::Other(err) => ApiError::Internal(err),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::body_too_large(),
            StatusCode::UNPROCESSABLE_ENTITY => ApiError::field("body", rejection.body_text()),
            _ => ApiError::BadRequest(rejection.body_text()),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::BadRequest(rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::BadRequest(rejection.body_text())
    }
}

/// Handler result.
pub type ApiResult<T> = Result<T, ApiError>;
