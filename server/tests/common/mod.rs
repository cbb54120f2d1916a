//! Test harness: a real server on 127.0.0.1:0 with a fresh data directory (SQLite, or PostgreSQL
//! when given a URL), optionally a real worker running real processes, and an HTTP client logged
//! in as the administrator. Also starts throwaway PostgreSQL clusters for the conformance suite.
#![allow(dead_code)]

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use app::api::{ErrorBody, Instance, LoginResponse};
use reqwest::{Method, StatusCode};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;
use server::{ServerConfig, auth};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

pub struct TestServer {
    pub addr: SocketAddr,
    pub base: String,
    pub client: reqwest::Client,
    pub token: String,
    pub store: std::sync::Arc<dyn server::store::Store>,
    pub shutdown: CancellationToken,
    pub tracker: TaskTracker,
    pub dir: tempfile::TempDir,
}

impl TestServer {
    /// A server on SQLite with one local worker of `slots` slots (none if 0).
    pub async fn start(slots: u32) -> TestServer {
        Self::start_with(None, slots).await
    }

    pub async fn start_with(database_url: Option<String>, slots: u32) -> TestServer {
        Self::start_configured(slots, |config| config.database_url = database_url).await
    }

    /// A server on SQLite with settings changed by `configure`.
    pub async fn start_configured(
        slots: u32,
        configure: impl FnOnce(&mut ServerConfig),
    ) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let shutdown = CancellationToken::new();
        let tracker = TaskTracker::new();
        let mut config = ServerConfig {
            worker_grace: chrono::Duration::seconds(5),
            // No load limits: a busy CI machine must not hold the tests' attempts back (the
            // limits have their own scenario tests in the engine).
            max_memory_percent: f32::INFINITY,
            max_load_per_core: f64::INFINITY,
            ..ServerConfig::new(dir.path().join("data"))
        };
        configure(&mut config);
        let running = server::start(config, listener, shutdown.clone(), &tracker)
            .await
            .unwrap();
        let base = format!("http://{}", running.addr);
        let password =
            std::fs::read_to_string(dir.path().join("data/initial-admin-password")).unwrap();
        let client = reqwest::Client::new();
        let login: LoginResponse = client
            .post(format!("{base}/api/auth/login"))
            .json(&serde_json::json!({ "username": "admin", "password": password.trim() }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let server = TestServer {
            addr: running.addr,
            base,
            client,
            token: login.token,
            store: running.store,
            shutdown,
            tracker,
            dir,
        };
        if slots > 0 {
            server.add_worker("local", "default", slots).await;
        }
        server
    }

    /// Registers a worker token and runs a real worker with it.
    pub async fn add_worker(&self, name: &str, group: &str, slots: u32) {
        self.add_worker_with(name, group, slots, Default::default())
            .await;
    }

    /// Like [`TestServer::add_worker`], with the commands of the job types' tools.
    pub async fn add_worker_with(
        &self,
        name: &str,
        group: &str,
        slots: u32,
        tools: worker::jobtypes::Tools,
    ) {
        let token = auth::random_secret(32);
        self.store
            .upsert_worker_token(name, &auth::hash_token(&token), chrono::Utc::now())
            .await
            .unwrap();
        let config = worker::WorkerConfig {
            server: self.base.clone(),
            token,
            host_group: group.to_owned(),
            slots,
            work_dir: self.dir.path().join(format!("work-{name}")),
            kill_grace: Duration::from_secs(2),
            yarn_kill_command: None,
            tools,
            fence_after: Duration::from_secs(45),
        };
        let shutdown = self.shutdown.clone();
        self.tracker
            .spawn(async move { worker::run(config, shutdown).await.unwrap() });
        // Wait until it is connected.
        for _ in 0..100 {
            let workers: Value = self.get("/api/workers").await.1;
            if workers
                .as_array()
                .unwrap()
                .iter()
                .any(|w| w["name"] == name && w["connected"] == true)
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("worker {name} did not connect");
    }

    pub async fn request<B: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            req = req.json(body);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        let value =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
        (status, value)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.request::<()>(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.request(Method::POST, path, Some(&body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.request(Method::PUT, path, Some(&body)).await
    }

    pub async fn ok<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> T {
        let (status, value) = self.request(method, path, body.as_ref()).await;
        assert!(status.is_success(), "{path}: {status} {value}");
        serde_json::from_value(value).unwrap()
    }

    pub async fn folder(&self, name: &str) -> i64 {
        let (status, folder) = self
            .post("/api/folders", serde_json::json!({ "name": name }))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{folder}");
        folder["id"].as_i64().unwrap()
    }

    pub async fn job(&self, folder: i64, name: &str, script: &str, extra: Value) -> i64 {
        let mut body = serde_json::json!({ "name": name, "folder_id": folder, "job_type": "shell", "script": script });
        for (k, v) in extra.as_object().cloned().unwrap_or_default() {
            body[k] = v;
        }
        let (status, job) = self.post("/api/jobs", body).await;
        assert_eq!(status, StatusCode::CREATED, "{job}");
        job["id"].as_i64().unwrap()
    }

    /// The first page of an attempt's log.
    pub async fn log_page(&self, attempt: app::ids::AttemptId) -> app::api::LogPage {
        self.ok(
            Method::GET,
            &format!("/api/attempts/{attempt}/log?offset=0"),
            None,
        )
        .await
    }

    /// Runs a job now (`POST /api/jobs/{job}/run`); returns the instance id.
    pub async fn run_job(&self, job: i64) -> i64 {
        let (status, created) = self
            .post(&format!("/api/jobs/{job}/run"), serde_json::json!({}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        created["id"].as_i64().unwrap()
    }

    /// Runs a job now and waits for the instance to end.
    pub async fn run_to_end(&self, job: i64) -> Instance {
        let id = self.run_job(job).await;
        self.wait_terminal(id).await
    }

    /// Polls an instance until it is in a terminal state.
    pub async fn wait_terminal(&self, instance: i64) -> Instance {
        for _ in 0..400 {
            let it: Instance = self
                .ok(Method::GET, &format!("/api/instances/{instance}"), None)
                .await;
            if it.state.is_terminal() {
                return it;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("instance {instance} did not finish");
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        self.tracker.close();
        tokio::time::timeout(Duration::from_secs(20), self.tracker.wait())
            .await
            .expect("clean shutdown");
    }
}

pub fn error_code(body: &Value) -> String {
    serde_json::from_value::<ErrorBody>(body.clone())
        .map(|b| b.error.code)
        .unwrap_or_default()
}

/// A throwaway PostgreSQL cluster on a free loopback port, removed on drop. Uses
/// `HERA_TEST_PG_URL` if set; otherwise Debian's binaries (`postgresql` package) if installed.
pub struct PgCluster {
    pub url: String,
    dir: Option<PathBuf>,
    bin: PathBuf,
}

fn pg_bin() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .map(|e| e.path().join("bin"))
        .collect();
    versions.sort();
    versions
        .into_iter()
        .rev()
        .find(|bin| bin.join("initdb").exists())
}

fn as_postgres(bin: &Path, args: &str) -> bool {
    let is_root = nix_is_root();
    let status = if is_root {
        Command::new("su")
            .args([
                "postgres",
                "-s",
                "/bin/sh",
                "-c",
                &format!("{}/{args}", bin.display()),
            ])
            .status()
    } else {
        Command::new("sh")
            .args(["-c", &format!("{}/{args}", bin.display())])
            .status()
    };
    status.is_ok_and(|s| s.success())
}

fn nix_is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl PgCluster {
    pub fn start() -> Option<PgCluster> {
        if let Ok(url) = std::env::var("HERA_TEST_PG_URL") {
            return Some(PgCluster {
                url,
                dir: None,
                bin: PathBuf::new(),
            });
        }
        let bin = pg_bin()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let dir = std::env::temp_dir().join(format!("hera-pg-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).ok()?;
        if nix_is_root() {
            Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status()
                .ok()?;
        }
        let data = dir.join("data");
        let ok = as_postgres(
            &bin,
            &format!(
                "initdb -D {} -A trust -U hera > {}/initdb.log 2>&1",
                data.display(),
                dir.display()
            ),
        ) && as_postgres(
            &bin,
            &format!(
                "pg_ctl -D {} -l {}/server.log -o \"-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off\" -w start > /dev/null",
                data.display(),
                dir.display(),
                dir.display()
            ),
        );
        if !ok {
            panic!(
                "could not start PostgreSQL from {}; see {}",
                bin.display(),
                dir.display()
            );
        }
        Some(PgCluster {
            url: format!("postgres://hera@127.0.0.1:{port}/postgres"),
            dir: Some(dir),
            bin,
        })
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            as_postgres(
                &self.bin,
                &format!(
                    "pg_ctl -D {} -m immediate stop > /dev/null 2>&1",
                    dir.join("data").display()
                ),
            );
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// A throwaway MariaDB server on a free loopback port (Debian's `mariadb-server` binaries, no
/// grant tables: any user connects), removed on drop; `None` when MariaDB is not installed.
pub struct MySqlServer {
    /// `mysql://root@127.0.0.1:<port>/hera`.
    pub url: String,
    dir: tempfile::TempDir,
    child: std::process::Child,
}

impl MySqlServer {
    pub fn start() -> Option<MySqlServer> {
        let (install, server) = (
            Path::new("/usr/bin/mariadb-install-db"),
            Path::new("/usr/sbin/mariadbd"),
        );
        if !install.exists() || !server.exists() {
            return None;
        }
        let dir = tempfile::tempdir().ok()?;
        let data = dir.path().join("data");
        let user = if nix_is_root() {
            "root".to_owned()
        } else {
            whoami()
        };
        let installed = Command::new(install)
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--user={user}"))
            .args(["--auth-root-authentication-method=normal", "--skip-test-db"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            installed,
            "mariadb-install-db failed in {}",
            dir.path().display()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let log = std::fs::File::create(dir.path().join("server.log")).ok()?;
        let child = Command::new(server)
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--port={port}"))
            .arg(format!("--socket={}", dir.path().join("sock").display()))
            .arg(format!("--user={user}"))
            .args([
                "--bind-address=127.0.0.1",
                "--skip-grant-tables",
                "--skip-log-bin",
                "--innodb-buffer-pool-size=16M",
            ])
            .stdout(log.try_clone().ok()?)
            .stderr(log)
            .spawn()
            .ok()?;
        let server = MySqlServer {
            url: format!("mysql://root@127.0.0.1:{port}/hera"),
            dir,
            child,
        };
        // Ready once the client can create the tests' database.
        for _ in 0..200 {
            let created = Command::new("mariadb")
                .args(["--no-defaults", "-h", "127.0.0.1", "-u", "root"])
                .arg(format!("-P{port}"))
                .args(["-e", "create database if not exists hera"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if created {
                return Some(server);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "MariaDB did not start; see {}",
            server.dir.path().join("server.log").display()
        );
    }
}

fn whoami() -> String {
    Command::new("id")
        .arg("-un")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

impl Drop for MySqlServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
