//! The one typed HTTP helper. JSON in and out with the DTOs of `app::api`, the session's bearer
//! token attached, an [`ErrorBody`] decoded into [`ApiError`], a 401 signs the user out, and a
//! request still in flight is aborted when the reactive owner that started it is cleaned up.
//! Files go up as raw request bodies with their progress reported ([`upload_blob`], through
//! `XMLHttpRequest`) and come down as blobs ([`get_blob`]).

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
            ApiError::Server { detail, .. } => match account_refusal(&detail.code) {
                // The UI says these in the user's language; other messages are the server's.
                Some(key) => f.write_str(crate::i18n::t_untracked(key)),
                None => f.write_str(&detail.message),
            },
            ApiError::Network(reason) => write!(
                f,
                "{}: {reason}",
                crate::i18n::t_untracked(crate::i18n::K::NetworkError)
            ),
        }
    }
}

impl std::error::Error for ApiError {}

/// The UI's text for an error code that says why an account may not sign in (now).
fn account_refusal(code: &str) -> Option<crate::i18n::K> {
    match code {
        "account_pending" => Some(crate::i18n::K::AccountPendingMessage),
        "account_disabled" => Some(crate::i18n::K::AccountDisabledMessage),
        "session_ended" => Some(crate::i18n::K::SessionEndedMessage),
        "too_many_attempts" => Some(crate::i18n::K::TooManyAttemptsMessage),
        _ => None,
    }
}

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

/// `POST path` with a file (or any blob) as the raw request body, not JSON and not multipart (the
/// answer is JSON), calling `progress(sent, total)` in bytes as the body goes up. `fetch` reports no upload progress, so this one request
/// goes through `XMLHttpRequest`; the token, the error decoding, the sign-out on 401 and the abort
/// on cleanup are the same as for every other request.
pub async fn upload_blob<T: DeserializeOwned>(
    path: impl Into<String>,
    body: &web_sys::Blob,
    progress: impl Fn(f64, f64) + 'static,
) -> Result<T, ApiError> {
    use wasm_bindgen::{JsCast, closure::Closure};
    let js = |err: wasm_bindgen::JsValue| ApiError::Network(format!("{err:?}"));
    let path = path.into();
    let xhr = web_sys::XmlHttpRequest::new().map_err(js)?;
    xhr.open("POST", &path).map_err(js)?;
    xhr.set_request_header("Accept", "application/json")
        .map_err(js)?;
    xhr.set_request_header("Content-Type", "application/octet-stream")
        .map_err(js)?;
    let token = AppState::get().token();
    if let Some(token) = &token {
        xhr.set_request_header("Authorization", &format!("Bearer {token}"))
            .map_err(js)?;
    }
    let on_progress =
        Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |ev: web_sys::ProgressEvent| {
            if ev.length_computable() {
                progress(ev.loaded(), ev.total());
            }
        });
    let upload = xhr.upload().map_err(js)?;
    upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    // Settles when the answer has arrived (load) or the request failed (error, abort).
    let finished = js_sys::Promise::new(&mut |resolve, reject| {
        xhr.set_onload(Some(&resolve));
        xhr.set_onerror(Some(&reject));
        xhr.set_onabort(Some(&reject));
    });
    {
        let xhr = SendWrapper::new(xhr.clone());
        on_cleanup(move || {
            let _ = xhr.abort();
        });
    }
    xhr.send_with_opt_blob(Some(body)).map_err(js)?;
    let outcome = wasm_bindgen_futures::JsFuture::from(finished).await;
    upload.set_onprogress(None);
    drop(on_progress);
    if outcome.is_err() {
        return Err(ApiError::Network(
            crate::i18n::t_untracked(crate::i18n::K::UploadInterrupted).to_owned(),
        ));
    }
    let status = xhr.status().map_err(js)?;
    let text = xhr.response_text().map_err(js)?.unwrap_or_default();
    if !(200..300).contains(&status) {
        return Err(refused(status, &text, token.as_deref()));
    }
    json_answer(status, &text)
}

/// `GET path` answered by a file: its content as a blob.
pub async fn get_blob(path: impl Into<String>) -> Result<web_sys::Blob, ApiError> {
    let response = respond(Method::GET, path.into(), None).await?;
    let bytes = response
        .binary()
        .await
        .map_err(|err| ApiError::Network(err.to_string()))?;
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes.as_slice()));
    web_sys::Blob::new_with_u8_array_sequence(&parts)
        .map_err(|err| ApiError::Network(format!("{err:?}")))
}

fn encode<B: Serialize>(body: &B) -> Result<String, ApiError> {
    serde_json::to_string(body).map_err(|err| ApiError::Network(err.to_string()))
}

async fn send<T: DeserializeOwned>(
    method: Method,
    path: String,
    body: Option<String>,
) -> Result<T, ApiError> {
    let response = respond(method, path, body).await?;
    decode(response).await
}

/// The JSON answer of a successful request; an empty one (a 204) reads as `null`, which is `()`.
async fn decode<T: DeserializeOwned>(response: gloo_net::http::Response) -> Result<T, ApiError> {
    let text = response
        .text()
        .await
        .map_err(|err| ApiError::Network(err.to_string()))?;
    json_answer(response.status(), &text)
}

/// The JSON answer `text` of a successful request with `status`; an empty one (a 204) reads as
/// `null`, which is `()`.
fn json_answer<T: DeserializeOwned>(status: u16, text: &str) -> Result<T, ApiError> {
    let json = if status == 204 || text.trim().is_empty() {
        "null"
    } else {
        text
    };
    serde_json::from_str(json).map_err(|err| ApiError::Network(err.to_string()))
}

/// Sends a request; a success status gives the response, any other the server's explanation.
async fn respond(
    method: Method,
    path: String,
    body: Option<String>,
) -> Result<gloo_net::http::Response, ApiError> {
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
    let token = AppState::get().token();
    if let Some(token) = &token {
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
    if (200..300).contains(&status) {
        return Ok(response);
    }
    let text = response.text().await.map_err(network)?;
    Err(refused(status, &text, token.as_deref()))
}

/// The error of an answer with a failing `status` and body `text` (the server's [`ErrorBody`], or
/// the text itself) to a request sent with `token`; a 401 signs the user out (the login page then
/// says why), unless the session has a newer token by now (see [`AppState::session_refused`]).
fn refused(status: u16, text: &str, token: Option<&str>) -> ApiError {
    let detail = serde_json::from_str::<ErrorBody>(text)
        .map(|body| body.error)
        .unwrap_or_else(|_| ErrorDetail {
            code: "http".to_owned(),
            message: format!("HTTP {status} {}", text.trim()).trim().to_owned(),
            fields: None,
        });
    let error = ApiError::Server { status, detail };
    if status == 401 {
        let (reason, token) = (error.to_string(), token.map(str::to_owned));
        let refuse = move || AppState::get().session_refused(&reason, token.as_deref());
        match &error {
            ApiError::Server { detail, .. } if detail.code == "session_ended" => {
                leptos::prelude::set_timeout(refuse, crate::app::RENEWAL_GRACE);
            }
            _ => refuse(),
        }
    }
    error
}
