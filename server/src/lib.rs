//! Hera's server: REST API, WebSocket hubs for workers and browsers, the scheduler driver, the
//! store, and the embedded web UI.
//!
//! Layout:
//! - [`store`]: the `Store` trait with SQLite and PostgreSQL backends (the only SQL).
//! - [`definitions`]: the scheduler's cache of job versions, folder paths and secrets.
//! - [`secrets`]: secret configs encrypted at rest, decrypted for attempts.
//! - [`rendering`]: scripts as their attempts see them (configs inherited, macros rendered).
//! - [`scheduler`]: the driver task that owns the engine and applies its effects write-ahead.
//! - [`hub`]: worker connections (`/api/ws/worker`).
//! - [`live`]: fan-out of events and log chunks to browsers.
//! - [`api`]: REST routes, browser sockets, the OpenAPI document.
//! - [`auth`]: passwords, sessions, worker tokens, the auth layer.
//! - [`ui`]: the embedded frontend.
//! - [`standalone`]: the worker that runs inside a standalone server.
//! - [`bench`]: `hera bench`, the benchmark harness.

pub mod api;
pub mod auth;
pub mod bench;
pub mod content;
pub mod definitions;
pub mod error;
pub mod hub;
pub mod live;
pub mod rendering;
pub mod scheduler;
pub mod secrets;
pub mod standalone;
pub mod store;
pub mod throttle;
pub mod ui;

use std::{net::SocketAddr, os::unix::fs::PermissionsExt as _, path::PathBuf, sync::Arc};

use anyhow::Context as _;
use app::engine::{Config as EngineConfig, Engine};
use axum::{Router, serve::ListenerExt as _};
use chrono::{Duration, Utc};
use tokio::net::TcpListener;
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tower_http::{compression::CompressionLayer, trace::TraceLayer};

use crate::{auth::Sessions, hub::Hub, live::Live, scheduler::SchedulerHandle, store::Store};

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// Persistence.
    pub store: Arc<dyn Store>,
    /// The scheduler driver.
    pub scheduler: SchedulerHandle,
    /// Connected workers.
    pub hub: Hub,
    /// Live updates for browsers.
    pub live: Live,
    /// Session tokens.
    pub sessions: Sessions,
    /// Encrypts secret configs.
    pub secrets: secrets::SecretBox,
    /// Bumped after folder configs or secrets change (the scheduler's cache reads them again).
    pub generation: definitions::Generation,
    /// Serialises job saves, so concurrent edits cannot create a dependency cycle together.
    pub definitions: Arc<tokio::sync::Mutex<()>>,
    /// Serialises changes of user accounts, so two administrators cannot leave none together.
    pub accounts: Arc<tokio::sync::Mutex<()>>,
    /// Bumped after an account was disabled or its sessions ended: open browser sockets check
    /// their session again (HTTP requests check it on every request anyway).
    pub account_revision: Arc<tokio::sync::watch::Sender<u64>>,
    /// Failed sign-ins and registrations per client address, for the 429s.
    pub sign_in_limits: Arc<throttle::SignInLimits>,
    /// Cancelled when the server shuts down (long-lived sockets end then).
    pub shutdown: CancellationToken,
    /// Resource-center contents.
    pub content: content::ContentStore,
}

/// Server settings.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Where the SQLite file, keys and the initial admin password live.
    pub data_dir: PathBuf,
    /// `postgres://…` to use PostgreSQL; default SQLite in the data directory.
    pub database_url: Option<String>,
    /// How long a disconnected worker may be away before its attempts are retried elsewhere.
    pub worker_grace: Duration,
    /// The key of secret configs (base64, 32 bytes); default the data directory's `secret-key`.
    pub secret_key_file: Option<PathBuf>,
    /// A worker at or above this memory use (percent) gets no new attempts.
    pub max_memory_percent: f32,
    /// A worker at or above this one-minute load per core gets no new attempts.
    pub max_load_per_core: f64,
    /// Where resource-center contents live (an `object_store` URL such as `s3://bucket/prefix`);
    /// default `resources/` in the data directory.
    pub resource_store: Option<String>,
    /// The largest resource upload accepted, in bytes.
    pub resource_max_bytes: u64,
    /// Per host group, the OS users its jobs may run as (`hera.run_as`).
    pub run_as_users: scheduler::RunAsUsers,
}

impl ServerConfig {
    /// The defaults, with the data directory given.
    pub fn new(data_dir: PathBuf) -> Self {
        let engine = EngineConfig::default();
        ServerConfig {
            data_dir,
            database_url: None,
            worker_grace: engine.worker_grace,
            secret_key_file: None,
            max_memory_percent: engine.max_memory_percent,
            max_load_per_core: engine.max_load_per_core,
            resource_store: None,
            resource_max_bytes: 100 << 20,
            run_as_users: scheduler::RunAsUsers::new(),
        }
    }
}

/// A started server.
pub struct RunningServer {
    /// The bound address.
    pub addr: SocketAddr,
    /// The store (standalone registers its local worker through it).
    pub store: Arc<dyn Store>,
    /// Set on first start: the file holding the generated admin password.
    pub admin_password_file: Option<PathBuf>,
    /// The events bus (the benchmark waits on it rather than polling the store).
    pub live: Live,
}

/// Opens the store, recovers the scheduler, and serves on `listener` until `shutdown` is
/// cancelled. Every task is spawned on `tracker`.
pub async fn start(
    config: ServerConfig,
    listener: TcpListener,
    shutdown: CancellationToken,
    tracker: &TaskTracker,
) -> anyhow::Result<RunningServer> {
    std::fs::create_dir_all(&config.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {}",
            config.data_dir.display()
        )
    })?;
    std::fs::set_permissions(&config.data_dir, std::fs::Permissions::from_mode(0o700))?;
    let url = match &config.database_url {
        Some(url) => url.clone(),
        None => format!(
            "sqlite://{}?mode=rwc",
            config.data_dir.join("hera.db").display()
        ),
    };
    let store = store::open(&url).await?;
    tracing::info!(database = %store::redact(&url), "store ready");
    let sessions = Sessions::load_or_create(&config.data_dir)?;
    let secrets = secrets::SecretBox::load(&config.data_dir, config.secret_key_file.as_deref())?;
    let generation = definitions::Generation::default();
    let admin_password_file =
        auth::ensure_admin(store.as_ref(), &config.data_dir, Utc::now()).await?;

    let engine_config = EngineConfig {
        worker_grace: config.worker_grace,
        max_memory_percent: config.max_memory_percent,
        max_load_per_core: config.max_load_per_core,
        ..EngineConfig::default()
    };
    let now = Utc::now();
    let snapshot = store.snapshot(now - engine_config.retention).await?;
    let backfills: Vec<_> = snapshot.backfills.iter().map(|b| b.id).collect();
    let mut engine = Engine::recover(engine_config, snapshot, now);
    let context = scheduler::backfill_context(store.as_ref(), &backfills).await?;
    if !context.is_empty() {
        engine
            .handle(now, app::engine::Input::Adopt(context))
            .context("cannot restore the context of the running backfills")?;
    }
    let hub = Hub::default();
    let live = Live::default();
    let (scheduler, driver) = scheduler::driver(
        engine,
        store.clone(),
        hub.clone(),
        live.clone(),
        scheduler::Access {
            secrets: secrets.clone(),
            run_as: config.run_as_users.clone(),
        },
        generation.clone(),
        shutdown.clone(),
    );
    tracker.spawn(driver);

    let state = AppState {
        store: store.clone(),
        scheduler,
        hub,
        live: live.clone(),
        sessions,
        secrets,
        generation,
        definitions: Arc::default(),
        accounts: Arc::default(),
        account_revision: Arc::new(tokio::sync::watch::Sender::new(0)),
        sign_in_limits: Arc::default(),
        shutdown: shutdown.clone(),
        content: content::ContentStore::open(
            config.resource_store.as_deref(),
            &config.data_dir,
            config.resource_max_bytes,
        )?,
    };
    // The UI's assets go out gzipped (the wasm shrinks to about a third).
    let ui = Router::new()
        .fallback(ui::serve)
        .layer(CompressionLayer::new());
    let app: Router = api::router(state)
        .fallback_service(ui)
        .layer(TraceLayer::new_for_http());
    let addr = listener.local_addr()?;
    tracker.spawn(async move {
        // Small messages (a dispatch, a result) go out at once: without TCP_NODELAY, Nagle and
        // delayed ACKs hold each for about 40 ms.
        let listener = listener.tap_io(|tcp| {
            if let Err(err) = tcp.set_nodelay(true) {
                tracing::debug!(error = %err, "cannot set TCP_NODELAY");
            }
        });
        // Handlers may read the client's address (`ConnectInfo`): the sign-in limits count per
        // address.
        let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await;
        if let Err(err) = served {
            tracing::error!(error = %err, "HTTP server failed");
        }
    });
    Ok(RunningServer {
        addr,
        store,
        admin_password_file,
        live,
    })
}
