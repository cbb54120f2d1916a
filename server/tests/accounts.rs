//! Accounts over HTTP, on SQLite and on PostgreSQL: registration waits for approval, login says
//! why a pending or disabled account is refused (only after the right password), a disabled
//! account's sessions and open sockets stop at once (and stay ended when it is enabled again), the
//! administrators' refusals (oneself, the last administrator), validation, password changes and
//! "sign out everywhere else" (both end the other sessions), the audit trail, the limits on
//! failed sign-ins and registrations, and the browser sockets' message size limit.

mod common;

use std::time::Duration;

use app::api::{LoginResponse, User};
use common::{PgCluster, TestServer, error_code};
use futures_util::StreamExt as _;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::{connect_async, tungstenite::Message};

const PENDING: &str = "this account is waiting for an administrator's approval";
const DISABLED: &str = "this account is disabled; ask an administrator to enable it";

/// `method path` with `token` (none: no `Authorization` header).
async fn call(
    server: &TestServer,
    token: Option<&str>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = server
        .client
        .request(method, format!("{}{path}", server.base));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"))
    };
    (status, value)
}

async fn login(server: &TestServer, username: &str, password: &str) -> (StatusCode, Value) {
    let body = json!({ "username": username, "password": password });
    call(server, None, Method::POST, "/api/auth/login", Some(body)).await
}

async fn register(server: &TestServer, body: Value) -> (StatusCode, Value) {
    call(server, None, Method::POST, "/api/auth/register", Some(body)).await
}

async fn token_of(server: &TestServer, username: &str, password: &str) -> String {
    let (status, body) = login(server, username, password).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value::<LoginResponse>(body).unwrap().token
}

fn message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or_default()
}

async fn set(server: &TestServer, token: &str, id: i64, change: Value) -> (StatusCode, Value) {
    let path = format!("/api/users/{id}");
    call(server, Some(token), Method::PUT, &path, Some(change)).await
}

async fn story(server: TestServer) {
    let admin = server.token.clone();
    let users: Vec<User> = server.ok(Method::GET, "/api/users", None).await;
    let admin_id = users.iter().find(|u| u.username == "admin").unwrap().id.0;

    // Registration: a pending account; names and passwords are checked, names are unique.
    let (status, body) = register(
        &server,
        json!({ "username": " carol ", "password": "carol-pass-1" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let carol: User = serde_json::from_value(body).unwrap();
    assert_eq!(
        (
            carol.username.as_str(),
            carol.is_admin,
            carol.status.as_str()
        ),
        ("carol", false, "pending"),
        "the name is trimmed"
    );
    let (status, body) = register(
        &server,
        json!({ "username": "carol", "password": "another-pass" }),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(message(&body), "the user name `carol` is already taken");
    let (status, body) = register(
        &server,
        json!({ "username": "Carol", "password": "another-pass" }),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        message(&body).contains("too close to the existing `carol`"),
        "{body}"
    );
    for (username, password, bad_fields) in [
        ("x", "short", vec!["password", "username"]),
        ("ann smith", "long-enough", vec!["username"]),
        ("ann@corp", "long-enough", vec!["username"]),
        ("ann", "1234567", vec!["password"]),
    ] {
        let (status, body) = register(
            &server,
            json!({ "username": username, "password": password }),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{username}: {body}"
        );
        let fields = body["error"]["fields"].as_object().unwrap();
        assert_eq!(
            fields.keys().collect::<Vec<_>>(),
            bad_fields,
            "{username}: {body}"
        );
        assert!(
            fields
                .values()
                .all(|reason| !reason.as_str().unwrap().is_empty())
        );
    }
    let (_, body) = register(&server, json!({ "username": "x", "password": "short" })).await;
    assert_eq!(
        body["error"]["fields"],
        json!({
            "username": "use 2 to 64 letters, digits, `.`, `_` or `-`",
            "password": "must be at least 8 characters long"
        })
    );

    // A wrong password says nothing about the account; the right one says why it cannot sign in.
    let (status, wrong) = login(&server, "carol", "not-her-password").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, nobody) = login(&server, "nobody", "not-her-password").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        wrong, nobody,
        "the same answer for a wrong password and an unknown name"
    );
    assert_eq!(message(&wrong), "wrong user name or password");
    let (status, body) = login(&server, "carol", "carol-pass-1").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(message(&body), PENDING);
    assert_eq!(error_code(&body), "account_pending");

    // The administrator sees her waiting and approves her.
    let users: Vec<User> = server.ok(Method::GET, "/api/users", None).await;
    let listed: Vec<(&str, &str, bool)> = users
        .iter()
        .map(|u| (u.username.as_str(), u.status.as_str(), u.is_admin))
        .collect();
    assert_eq!(
        listed,
        vec![("admin", "active", true), ("carol", "pending", false)]
    );
    let (status, body) = set(&server, &admin, carol.id.0, json!({ "status": "active" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "active");
    let carol_token = token_of(&server, "carol", "carol-pass-1").await;
    let (status, me) = call(&server, Some(&carol_token), Method::GET, "/api/me", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me, json!({ "username": "carol", "is_admin": false }));

    // A non-administrator cannot manage users.
    for (method, path, body) in [
        (Method::GET, "/api/users".to_owned(), None),
        (
            Method::POST,
            "/api/users".to_owned(),
            Some(json!({ "username": "eve", "password": "eve-pass-1" })),
        ),
        (
            Method::PUT,
            format!("/api/users/{}", carol.id),
            Some(json!({ "is_admin": true })),
        ),
    ] {
        let (status, answer) = call(&server, Some(&carol_token), method, &path, body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {answer}");
        assert!(
            message(&answer).starts_with("only administrators can"),
            "{answer}"
        );
    }

    // Disabled: login says so, her existing session stops working at once, and her open event
    // socket closes saying why (the administrator's stays open).
    let socket = |token: &str| {
        connect_async(format!(
            "ws://{}/api/ws/events?access_token={token}",
            server.addr
        ))
    };
    let (mut carol_events, _) = socket(&carol_token).await.unwrap();
    let (mut admin_events, _) = socket(&admin).await.unwrap();
    let (status, body) = set(&server, &admin, carol.id.0, json!({ "status": "disabled" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let closed = tokio::time::timeout(Duration::from_secs(10), carol_events.next())
        .await
        .expect("the disabled account's socket closes");
    let Some(Ok(Message::Close(Some(frame)))) = closed else {
        panic!("expected a close frame, got {closed:?}");
    };
    assert_eq!(
        (u16::from(frame.code), frame.reason.as_str()),
        (app::api::CLOSE_SESSION_ENDED, DISABLED)
    );
    let still_open = tokio::time::timeout(Duration::from_millis(300), admin_events.next()).await;
    assert!(
        still_open.is_err(),
        "the administrator's socket stays open: {still_open:?}"
    );
    assert!(
        socket(&carol_token).await.is_err(),
        "a new socket of the disabled account is refused"
    );
    let (status, body) = login(&server, "carol", "carol-pass-1").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(message(&body), DISABLED);
    assert_eq!(error_code(&body), "account_disabled");
    let (status, body) = call(&server, Some(&carol_token), Method::GET, "/api/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(message(&body), DISABLED);
    assert_eq!(error_code(&body), "account_disabled");
    let (status, _) = login(&server, "carol", "not-her-password").await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a wrong password stays a plain 401"
    );

    // Enabled again: a new login works; the session from before the disabling stays ended.
    let (status, body) = set(&server, &admin, carol.id.0, json!({ "status": "active" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = call(&server, Some(&carol_token), Method::GET, "/api/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(error_code(&body), "session_ended");
    let carol_token = token_of(&server, "carol", "carol-pass-1").await;

    // Refusals: oneself, the last administrator, nonsense changes.
    let (status, body) = set(&server, &admin, admin_id, json!({ "status": "disabled" })).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(
        message(&body),
        "`admin` is the only active administrator: make another account an administrator first"
    );
    let (status, body) = set(&server, &admin, admin_id, json!({ "is_admin": false })).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, body) = set(&server, &admin, carol.id.0, json!({ "status": "pending" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"]["fields"]["status"].is_string(), "{body}");
    let (status, body) = set(&server, &admin, carol.id.0, json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = set(&server, &admin, 9999, json!({ "status": "active" })).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    // An administrator creates another administrator (active at once).
    let (status, body) = server
        .post(
            "/api/users",
            json!({ "username": "dave", "password": "dave-pass-1", "is_admin": true }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let dave: User = serde_json::from_value(body).unwrap();
    assert_eq!((dave.status.as_str(), dave.is_admin), ("active", true));
    let (status, body) = server
        .post(
            "/api/users",
            json!({ "username": "dave", "password": "dave-pass-2" }),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, body) = server
        .post(
            "/api/users",
            json!({ "username": "d", "password": "dave-pass-2" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // Now there is another administrator, but one still cannot demote or disable oneself.
    let (status, body) = set(&server, &admin, admin_id, json!({ "is_admin": false })).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(
        message(&body),
        "you cannot remove your own administrator right; another administrator can"
    );
    let (status, body) = set(&server, &admin, admin_id, json!({ "status": "disabled" })).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(
        message(&body),
        "you cannot disable your own account; another administrator can"
    );
    // Dave revokes admin's right: it takes effect on admin's next request, same token.
    let dave_token = token_of(&server, "dave", "dave-pass-1").await;
    let (status, body) = set(&server, &dave_token, admin_id, json!({ "is_admin": false })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = server.get("/api/users").await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the right is the stored one, not the token's"
    );
    let (status, body) = set(
        &server,
        &dave_token,
        dave.id.0,
        json!({ "is_admin": false }),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        message(&body).contains("only active administrator"),
        "{body}"
    );
    let (status, body) = set(&server, &dave_token, admin_id, json!({ "is_admin": true })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = server.get("/api/users").await;
    assert_eq!(status, StatusCode::OK);

    // Password change: the current password must be right, the new one valid.
    let change =
        |current: &str, new: &str| json!({ "current_password": current, "new_password": new });
    let path = "/api/me/password";
    let (status, body) = call(
        &server,
        Some(&carol_token),
        Method::PUT,
        path,
        Some(change("wrong-password", "carol-pass-2")),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body["error"]["fields"],
        json!({ "current_password": "this is not your current password" })
    );
    let (status, body) = call(
        &server,
        Some(&carol_token),
        Method::PUT,
        path,
        Some(change("carol-pass-1", "short")),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]["fields"]["new_password"].is_string(),
        "{body}"
    );
    // A successful change ends every other session of the account (HTTP at once, sockets with
    // their own close code) and answers with a fresh token for this one.
    let elsewhere = token_of(&server, "carol", "carol-pass-1").await;
    let (mut elsewhere_events, _) = socket(&elsewhere).await.unwrap();
    let (status, body) = call(
        &server,
        Some(&carol_token),
        Method::PUT,
        path,
        Some(change("carol-pass-1", "carol-pass-2")),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let fresh = serde_json::from_value::<LoginResponse>(body).unwrap().token;
    let closed = tokio::time::timeout(Duration::from_secs(10), elsewhere_events.next())
        .await
        .expect("the other session's socket closes");
    let Some(Ok(Message::Close(Some(frame)))) = closed else {
        panic!("expected a close frame, got {closed:?}");
    };
    assert_eq!(u16::from(frame.code), app::api::CLOSE_SIGNED_OUT);
    for old in [&carol_token, &elsewhere] {
        let (status, body) = call(&server, Some(old), Method::GET, "/api/me", None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(error_code(&body), "session_ended");
    }
    let (status, _) = call(&server, Some(&fresh), Method::GET, "/api/me", None).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the changing session goes on with its new token"
    );
    let (status, _) = login(&server, "carol", "carol-pass-1").await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the old password no longer works"
    );

    // "Sign out everywhere else": the same, without a password change.
    let other = token_of(&server, "carol", "carol-pass-2").await;
    let (status, body) = call(
        &server,
        Some(&fresh),
        Method::POST,
        "/api/me/sessions/end-others",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let kept = serde_json::from_value::<LoginResponse>(body).unwrap().token;
    for (token, expected) in [
        (&other, StatusCode::UNAUTHORIZED),
        (&fresh, StatusCode::UNAUTHORIZED),
        (&kept, StatusCode::OK),
    ] {
        let (status, _) = call(&server, Some(token), Method::GET, "/api/me", None).await;
        assert_eq!(status, expected);
    }

    // Every change is in the audit trail, with who did it.
    let audit: Value = server.ok(Method::GET, "/api/audit?limit=1000", None).await;
    let mut trail: Vec<(String, String, String)> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"].as_str().unwrap().starts_with("user."))
        .map(|e| {
            (
                e["actor"].as_str().unwrap().to_owned(),
                e["action"].as_str().unwrap().to_owned(),
                e["details"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    trail.reverse();
    let expected: Vec<(String, String, String)> = [
        ("carol", "user.register", "user `carol`"),
        ("admin", "user.approve", "user `carol`"),
        ("admin", "user.disable", "user `carol`"),
        ("admin", "user.enable", "user `carol`"),
        ("admin", "user.create", "user `dave` as an administrator"),
        ("dave", "user.revoke_admin", "user `admin`"),
        ("dave", "user.grant_admin", "user `admin`"),
        ("carol", "user.password", "user `carol`"),
        ("carol", "user.sessions_ended", "user `carol`"),
    ]
    .into_iter()
    .map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()))
    .collect();
    assert_eq!(trail, expected);
    server.stop().await;
}

/// Failed sign-ins are limited per name and address (a 429 with `Retry-After`, even for the right
/// password, while another name still signs in), and so are registrations per address.
#[tokio::test]
async fn sign_in_limits() {
    let server = TestServer::start(0).await;
    let erin = json!({ "username": "erin", "password": "erin-pass-1", "is_admin": false });
    let (status, body) = server.post("/api/users", erin).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    for _ in 0..5 {
        let (status, _) = login(&server, "erin", "guess").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let res = server
        .client
        .post(format!("{}/api/auth/login", server.base))
        .json(&json!({ "username": "erin", "password": "erin-pass-1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((800..=900).contains(&retry_after), "{retry_after}");
    let body: Value = res.json().await.unwrap();
    assert_eq!(error_code(&body), "too_many_attempts");
    assert!(message(&body).contains("try again in 15 min"), "{body}");
    let (status, _) = login(&server, "someone-else", "guess").await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "other names are not limited yet"
    );

    for i in 0..10 {
        let body = json!({ "username": format!("newcomer{i}"), "password": "a-good-password" });
        let (status, body) = register(&server, body).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let body = json!({ "username": "newcomer10", "password": "a-good-password" });
    let (status, body) = register(&server, body).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    server.stop().await;
}

/// A browser socket takes no big messages (browsers send none): one over 64 KiB ends it, while a
/// small one leaves it open.
#[tokio::test]
async fn browser_sockets_refuse_big_messages() {
    use futures_util::SinkExt as _;
    let server = TestServer::start(0).await;
    let url = format!(
        "ws://{}/api/ws/events?access_token={}",
        server.addr, server.token
    );
    let (mut socket, _) = connect_async(&url).await.unwrap();
    socket.send(Message::text("hello")).await.unwrap();
    let quiet = tokio::time::timeout(Duration::from_millis(300), socket.next()).await;
    assert!(quiet.is_err(), "a small message leaves it open: {quiet:?}");
    let big = "x".repeat(100 << 10);
    socket.send(Message::text(big)).await.unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match socket.next().await {
                None | Some(Err(_) | Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "a message over the limit ends the socket");
    server.stop().await;
}

#[tokio::test]
async fn accounts_on_sqlite() {
    story(TestServer::start(0).await).await;
}

#[tokio::test]
async fn accounts_on_postgres() {
    let Some(cluster) = PgCluster::start() else {
        assert!(
            std::env::var("HERA_REQUIRE_PG").is_err(),
            "HERA_REQUIRE_PG is set but PostgreSQL is not installed"
        );
        eprintln!("PostgreSQL is not installed here: the PostgreSQL accounts run is skipped");
        return;
    };
    story(TestServer::start_with(Some(cluster.url.clone()), 0).await).await;
}
