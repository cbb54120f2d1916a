//! The one typed HTTP helper. JSON in and out with the DTOs of `app::api`, the session's bearer
//! token attached, an [`ErrorBody`] decoded into [`ApiError`], a 401 signs the user out, and a
//! request still in flight is aborted when the reactive owner that started it is cleaned up.

use std::{collections::BTreeMap, fmt};

use app::api::{ErrorBody, ErrorDetail};
use gloo_net::http::{Method, RequestBuilder};
use leptos::prelude::on_cleanup;
use send_wrapper::SendWrapper;
use serde::{Serialize, de::DeserializeOwned};

use crate::app::AppState;

/// Why a request failed.
#[derive(Clone, Debug, PartialEq)]
pub enum ApiError {
    /// The server answered with an error status.
    Server {
        /// The HTTP status.
        status: u16,
        /// The server's explanation.
        detail: ErrorDetail,
    },
    /// The server could not be reached, or its answer could not be read.
    Network(String),
}

impl ApiError {
    /// The per-field reasons of a 422, if any.
    pub fn fields(&self) -> BTreeMap<String, String> {
        match self {
            ApiError::Server { detail, .. } => detail.fields.clone().unwrap_or_default(),
            ApiError::Network(_) => BTreeMap::new(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Server { detail, .. } => f.write_str(&detail.message),
            ApiError::Network(reason) => write!(
                f,
                "{}: {reason}",
                crate::i18n::t_untracked(crate::i18n::K::NetworkError)
            ),
        }
    }
}

impl std::error::Error for ApiError {}

/// `GET path`.
pub async fn get<T: DeserializeOwned>(path: impl Into<String>) -> Result<T, ApiError> {
    send(Method::GET, path.into(), None).await
}

/// `POST path` with a JSON body.
pub async fn post<B: Serialize, T: DeserializeOwned>(
    path: impl Into<String>,
    body: &B,
) -> Result<T, ApiError> {
    send(Method::POST, path.into(), Some(encode(body)?)).await
}

/// `PUT path` with a JSON body.
pub async fn put<B: Serialize, T: DeserializeOwned>(
    path: impl Into<String>,
    body: &B,
) -> Result<T, ApiError> {
    send(Method::PUT, path.into(), Some(encode(body)?)).await
}

/// `DELETE path`; the answer is a 204 without a body.
pub async fn delete(path: impl Into<String>) -> Result<(), ApiError> {
    send(Method::DELETE, path.into(), None).await
}

fn encode<B: Serialize>(body: &B) -> Result<String, ApiError> {
    serde_json::to_string(body).map_err(|err| ApiError::Network(err.to_string()))
}

async fn send<T: DeserializeOwned>(
    method: Method,
    path: String,
    body: Option<String>,
) -> Result<T, ApiError> {
    let network = |err: gloo_net::Error| ApiError::Network(err.to_string());
    let controller = web_sys::AbortController::new().ok();
    let signal = controller.as_ref().map(web_sys::AbortController::signal);
    if let Some(controller) = controller {
        let controller = SendWrapper::new(controller);
        on_cleanup(move || controller.abort());
    }
    let mut builder = RequestBuilder::new(&path)
        .method(method)
        .header("Accept", "application/json")
        .abort_signal(signal.as_ref());
    if let Some(token) = AppState::get().token() {
        builder = builder.header("Authorization", &format!("Bearer {token}"));
    }
    let request = match body {
        Some(body) => builder
            .header("Content-Type", "application/json")
            .body(body),
        None => builder.build(),
    }
    .map_err(network)?;
    let response = request.send().await.map_err(network)?;
    let status = response.status();
    let text = response.text().await.map_err(network)?;
    if (200..300).contains(&status) {
        // A 204 (or any empty answer) has no body: it reads as JSON `null`, which is `()`.
        let json = if status == 204 || text.trim().is_empty() {
            "null"
        } else {
            &text
        };
        return serde_json::from_str(json).map_err(|err| ApiError::Network(err.to_string()));
    }
    if status == 401 {
        AppState::get().sign_out();
    }
    let detail = serde_json::from_str::<ErrorBody>(&text)
        .map(|body| body.error)
        .unwrap_or_else(|_| ErrorDetail {
            code: "http".to_owned(),
            message: format!("HTTP {status} {}", text.trim()).trim().to_owned(),
            fields: None,
        });
    Err(ApiError::Server { status, detail })
}
