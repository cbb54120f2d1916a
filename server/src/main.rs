//! The `hera` binary: `standalone` (server + local worker + SQLite), `server`, `worker`, and
//! `cron` (preview fire times). Parses flags and environment, sets up logging, and hands over.

use std::{net::SocketAddr, path::PathBuf, process::ExitCode, time::Duration};

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};
use server::ServerConfig;
use tokio::net::TcpListener;
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use worker::WorkerConfig;

/// Hera: a distributed job scheduler for data platforms.
#[derive(Parser)]
#[command(name = "hera", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Server, one local worker and SQLite in one process: the zero-set-up way to run Hera.
    Standalone {
        #[command(flatten)]
        server: ServerArgs,
        /// Attempts the local worker runs at once.
        #[arg(long, env = "HERA_SLOTS", default_value_t = 4)]
        slots: u32,
        #[command(flatten)]
        run: RunArgs,
    },
    /// The server alone (API, UI, scheduler); workers connect to it.
    Server {
        #[command(flatten)]
        server: ServerArgs,
    },
    /// A worker that connects to a server and runs attempts.
    Worker(WorkerArgs),
    /// Measures Hera against its targets on this machine (starts its own standalone in a
    /// temporary directory).
    Bench {
        /// Comma-separated: w1,w2,w3,s1,s2,s3,l0,idle (default all).
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "l0,idle,w1,w2,w3,s1,s3,s2"
        )]
        workloads: Vec<server::bench::Workload>,
        /// Also write the figures as flat JSON to this file.
        #[arg(long)]
        json: Option<PathBuf>,
        /// `postgres://…` to measure on PostgreSQL instead of SQLite.
        #[arg(long, env = "HERA_DATABASE_URL")]
        database: Option<String>,
        /// Small sizes: checks the harness works in well under a minute.
        #[arg(long)]
        smoke: bool,
        /// Attempts the local worker runs at once.
        #[arg(long, default_value_t = 32)]
        slots: u32,
        /// The local worker puts no attempt in a cgroup (to measure what cgroups cost).
        #[arg(long)]
        no_cgroups: bool,
    },
    /// Prints the next fire times of a cron expression.
    Cron {
        /// Quartz (6/7 fields, seconds first) or Unix (5 fields).
        expression: String,
        /// IANA time zone.
        #[arg(long, default_value = "UTC")]
        tz: String,
        /// Start after this instant (RFC 3339); default now.
        #[arg(long)]
        from: Option<String>,
        /// How many fire times.
        #[arg(short = 'n', default_value_t = 5)]
        n: usize,
    },
}

#[derive(Args)]
struct ServerArgs {
    /// Where the database file, keys and the initial admin password live.
    #[arg(long, env = "HERA_DATA_DIR", default_value = "hera-data")]
    data_dir: PathBuf,
    /// Address to serve the UI and API on.
    #[arg(long, env = "HERA_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// `postgres://user:password@host/db` to use PostgreSQL instead of SQLite.
    #[arg(long, env = "HERA_DATABASE_URL")]
    database: Option<String>,
    /// Seconds a disconnected worker may stay away before its attempts run elsewhere.
    #[arg(long, env = "HERA_WORKER_GRACE_SECS", default_value_t = 60)]
    worker_grace_secs: u32,
    /// A file holding the key of secret configs (32 bytes, base64); default `secret-key` in the
    /// data directory, created on first start.
    #[arg(long, env = "HERA_SECRET_KEY_FILE")]
    secret_key_file: Option<PathBuf>,
    /// A worker using this much of its memory (percent) or more gets no new attempts.
    #[arg(long, env = "HERA_MAX_MEMORY_PERCENT", default_value_t = 90.0)]
    max_memory_percent: f32,
    /// A worker whose one-minute load average per core is this or more gets no new attempts.
    #[arg(long, env = "HERA_MAX_LOAD_PER_CORE", default_value_t = 4.0)]
    max_load_per_core: f64,
    /// Where resource-center files live: an object store URL such as `s3://bucket/prefix`
    /// (credentials and endpoint from the AWS_* environment variables); default `resources/`
    /// in the data directory.
    #[arg(long, env = "HERA_RESOURCE_STORE")]
    resource_store: Option<String>,
    /// The largest resource upload accepted, in MiB.
    #[arg(long, env = "HERA_RESOURCE_MAX_MB", default_value_t = 100)]
    resource_max_mb: u64,
    /// OS users a host group's jobs may run as with `hera.run_as`: GROUP=USER[,USER…]; repeat
    /// the flag per group (in the environment, separate groups with `;`). Workers switch user
    /// only when they run as root.
    #[arg(long = "run-as", env = "HERA_RUN_AS", value_delimiter = ';', value_parser = parse_run_as)]
    run_as: Vec<(String, Vec<String>)>,
}

fn parse_run_as(text: &str) -> Result<(String, Vec<String>), String> {
    let (group, users) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not GROUP=USER[,USER…]"))?;
    let users: Vec<String> = users
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_owned)
        .collect();
    if group.trim().is_empty() || users.is_empty() {
        return Err(format!("`{text}` is not GROUP=USER[,USER…]"));
    }
    Ok((group.trim().to_owned(), users))
}

/// How the worker runs jobs: the commands of the job types' tools and the YARN kill command.
#[derive(Args)]
struct RunArgs {
    /// Kills a YARN application whose id a cancelled attempt printed; `{}` is replaced by the id,
    /// e.g. "yarn application -kill {}".
    #[arg(long, env = "HERA_YARN_KILL_COMMAND")]
    yarn_kill_command: Option<String>,
    /// Runs a Python job's script (`{file}`).
    #[arg(long, env = "HERA_PYTHON", default_value = "python3 {file}")]
    python: String,
    /// Runs a Hive job's script (`{file}`), e.g. "beeline -u jdbc:hive2://host:10000 -f {file}".
    #[arg(long, env = "HERA_HIVE", default_value = "hive -f {file}")]
    hive: String,
    /// Runs a Spark SQL job's script (`{file}`) with the job's `hera.spark.conf` (`{conf}`).
    #[arg(
        long,
        env = "HERA_SPARK_SQL",
        default_value = "spark-sql {conf} -f {file}"
    )]
    spark_sql: String,
    /// Submits a spark-submit job: `{conf}` as above, `{args}` the job's script.
    #[arg(
        long,
        env = "HERA_SPARK_SUBMIT",
        default_value = "spark-submit {conf} {args}"
    )]
    spark_submit: String,
    /// Fetches a job's file named by a URI that is neither a resource (`hera:`) nor a web
    /// address, e.g. `hdfs://…` from a `download[…]` directive: `{uri}`, `{file}`.
    #[arg(
        long,
        env = "HERA_FETCH_COMMAND",
        default_value = "hadoop fs -get {uri} {file}"
    )]
    fetch_command: String,
    /// More environment variables of the worker that attempts inherit (comma-separated, e.g.
    /// JAVA_HOME,HADOOP_CONF_DIR), besides PATH, HOME, USER, LOGNAME, SHELL, LANG, LC_ALL, TZ and
    /// TMPDIR; all others are cleared.
    #[arg(long = "pass-env", env = "HERA_PASS_ENV", value_delimiter = ',')]
    pass_env: Vec<String>,
    /// Days an attempt's work directory is kept after it ends.
    #[arg(long, env = "HERA_KEEP_WORK_DAYS", default_value_t = 7)]
    keep_work_days: u32,
    /// Do not put attempts in cgroups of their own even where the host allows it (cancel then
    /// relies on the process group and a scan for the attempt's token). A cgroup costs about
    /// 0.1 ms of CPU per attempt, and moving a process into one briefly holds up every fork on
    /// the host.
    #[arg(long, env = "HERA_NO_CGROUPS")]
    no_cgroups: bool,
}

impl RunArgs {
    fn tools(&self) -> worker::jobtypes::Tools {
        worker::jobtypes::Tools {
            python: self.python.clone(),
            hive: self.hive.clone(),
            spark_sql: self.spark_sql.clone(),
            spark_submit: self.spark_submit.clone(),
            fetch: self.fetch_command.clone(),
            pass_env: worker::jobtypes::DEFAULT_PASS_ENV
                .iter()
                .map(|v| (*v).to_owned())
                .chain(self.pass_env.iter().cloned())
                .collect(),
            keep_work_days: self.keep_work_days,
            cgroups: !self.no_cgroups,
        }
    }
}

#[derive(Args)]
struct WorkerArgs {
    /// The server's URL, e.g. http://scheduler:8080.
    #[arg(long, env = "HERA_SERVER")]
    server: String,
    /// The worker token an administrator issued (POST /api/worker-tokens).
    #[arg(long, env = "HERA_WORKER_TOKEN", hide_env_values = true)]
    token: String,
    /// The host group this worker serves.
    #[arg(long, env = "HERA_GROUP", default_value = "default")]
    group: String,
    /// Attempts run at once.
    #[arg(long, env = "HERA_SLOTS", default_value_t = 4)]
    slots: u32,
    /// Where attempts get their work directories.
    #[arg(long, env = "HERA_WORK_DIR", default_value = "hera-work")]
    work_dir: PathBuf,
    #[command(flatten)]
    run: RunArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Cron {
        expression,
        tz,
        from,
        n,
    } = &cli.command
    {
        return cron(expression, tz, from.as_deref(), *n);
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=warn".into()),
        )
        .init();
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn cron(expression: &str, tz: &str, from: Option<&str>, n: usize) -> ExitCode {
    let schedule = match app::cron::Schedule::parse(expression, tz) {
        Ok(schedule) => schedule,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    let from = match from {
        None => Utc::now(),
        Some(text) => match DateTime::parse_from_rfc3339(text) {
            Ok(t) => t.with_timezone(&Utc),
            Err(err) => {
                eprintln!("error: --from `{text}` is not RFC 3339 ({err})");
                return ExitCode::FAILURE;
            }
        },
    };
    let zone = schedule.zone();
    for at in schedule.upcoming(from, n) {
        println!("{}", at.with_timezone(&zone).to_rfc3339());
    }
    ExitCode::SUCCESS
}

async fn run(command: Command) -> anyhow::Result<()> {
    let shutdown = CancellationToken::new();
    let tracker = TaskTracker::new();
    tracker.spawn({
        let shutdown = shutdown.clone();
        async move {
            wait_for_signal().await;
            tracing::info!("shutting down");
            shutdown.cancel();
        }
    });
    match command {
        Command::Standalone { server, slots, run } => {
            let work_dir = server.data_dir.join("work");
            let running = start_server(server, &shutdown, &tracker).await?;
            server::standalone::start_local_worker(
                &running,
                work_dir,
                slots,
                run.yarn_kill_command.clone(),
                run.tools(),
                shutdown.clone(),
                &tracker,
            )
            .await?;
        }
        Command::Server { server } => {
            start_server(server, &shutdown, &tracker).await?;
        }
        Command::Worker(args) => {
            let config = WorkerConfig {
                server: args.server,
                token: args.token,
                host_group: args.group,
                slots: args.slots.max(1),
                work_dir: args.work_dir,
                kill_grace: Duration::from_secs(10),
                tools: args.run.tools(),
                yarn_kill_command: args.run.yarn_kill_command,
                fence_after: Duration::from_secs(45),
            };
            worker::run(config, shutdown.clone()).await?;
            shutdown.cancel();
        }
        Command::Bench {
            workloads,
            json,
            database,
            smoke,
            slots,
            no_cgroups,
        } => {
            let options = server::bench::BenchOptions {
                workloads,
                json,
                database,
                smoke,
                slots,
                cgroups: !no_cgroups,
            };
            server::bench::run(options).await?;
            return Ok(());
        }
        Command::Cron { .. } => unreachable!("handled before the runtime starts"),
    }
    shutdown.cancelled().await;
    tracker.close();
    if tokio::time::timeout(Duration::from_secs(30), tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!("some tasks did not stop within 30 s");
    }
    Ok(())
}

async fn start_server(
    args: ServerArgs,
    shutdown: &CancellationToken,
    tracker: &TaskTracker,
) -> anyhow::Result<server::RunningServer> {
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let config = ServerConfig {
        data_dir: args.data_dir.clone(),
        database_url: args.database,
        worker_grace: chrono::Duration::seconds(i64::from(args.worker_grace_secs)),
        secret_key_file: args.secret_key_file,
        max_memory_percent: args.max_memory_percent,
        max_load_per_core: args.max_load_per_core,
        resource_store: args.resource_store,
        resource_max_bytes: args.resource_max_mb << 20,
        run_as_users: args.run_as.into_iter().fold(
            server::scheduler::RunAsUsers::new(),
            |mut map, (group, users)| {
                map.entry(group).or_default().extend(users);
                map
            },
        ),
    };
    let running = server::start(config, listener, shutdown.clone(), tracker).await?;
    let password_file = args.data_dir.join("initial-admin-password");
    println!("Hera is running at http://{}", running.addr);
    if password_file.exists() {
        println!(
            "Log in as `admin` with the password in {}",
            password_file.display()
        );
    }
    Ok(running)
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("a SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
}
