//! SQL jobs against real PostgreSQL and MariaDB servers on loopback (throwaway ones):
//! statements split the way psql and mysql would, result tables and row counts in the log, the
//! first failing statement failing the attempt, and a cancel that stops the statement on the
//! database server too.

mod common;

use app::{
    api::Instance,
    domain::{AttemptState, InstanceState},
};
use common::{MySqlServer, PgCluster, TestServer};
use reqwest::StatusCode;
use serde_json::json;

fn cluster() -> Option<PgCluster> {
    let cluster = PgCluster::start();
    if cluster.is_none() {
        assert!(
            std::env::var("HERA_REQUIRE_PG").is_err(),
            "HERA_REQUIRE_PG is set but PostgreSQL is not installed"
        );
        eprintln!("PostgreSQL is not installed here: the SQL job tests are skipped");
    }
    cluster
}

/// `postgres://hera@…` with a password added (the test cluster trusts loopback, so it is not
/// checked, but it must never reach the log).
fn url_with_password(cluster: &PgCluster) -> String {
    cluster.url.replacen("hera@", "hera:S3cret%2Bpw@", 1)
}

async fn sql_job(server: &TestServer, folder: i64, name: &str, script: &str, url: &str) -> i64 {
    let job = server
        .job(
            folder,
            name,
            script,
            json!({ "job_type": "sql",
                    "configs": { "hera.sql.datasource": "DW", "hera.sql.max_rows": "2" } }),
        )
        .await;
    let res = server
        .client
        .put(format!("{}/api/folders/{folder}/secrets/DW", server.base))
        .bearer_auth(&server.token)
        .json(&json!({ "value": url }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    job
}

#[tokio::test]
async fn statements_run_in_order_with_tables_and_counts_in_the_log() {
    let Some(cluster) = cluster() else { return };
    let server = TestServer::start(1).await;
    let folder = server.folder("sql").await;
    let url = url_with_password(&cluster);
    let script = "-- a load with every kind of statement\n\
        create table sales (id int primary key, note text);\n\
        insert into sales values (1, 'a;b'), (2, 'it''s'), (3, $$x; y$$);\n\
        do $body$ begin perform 1; update sales set note = note || '!' where id = 3; end $body$;\n\
        /* the day's rows */ select id, note from sales order by id;\n\
        update sales set note = 'z' where id > ${min_id};\n\
        select count(*) as n from sales where note = 'z'";
    let job = sql_job(&server, folder, "load", script, &url).await;
    server
        .put(
            &format!("/api/jobs/{job}"),
            json!({ "name": "load", "folder_id": folder, "job_type": "sql", "script": script,
                    "configs": { "hera.sql.datasource": "DW", "hera.sql.max_rows": "2", "min_id": "1" } }),
        )
        .await;
    let instance = server.run_to_end(job).await;
    let log = server.log_page(instance.attempts[0].id).await.text;
    assert_eq!(instance.state, InstanceState::Success, "{log}");
    for expected in [
        "statement 1 of 6 (line 2): create table sales (id int primary key, note text)",
        "statement 2 of 6 (line 3): insert into sales",
        "3 row(s) affected",
        "statement 4 of 6 (line 5): select id, note from sales order by id",
        "id | note\n",
        "-+-",
        "1  | a;b\n",
        "2  | it's\n",
        "3 row(s) (1 not shown; hera.sql.max_rows = 2)",
        "update sales set note = 'z' where id > 1",
        "2 row(s) affected",
        "n\n",
        "2\n",
        "6 statement(s) succeeded; succeeded after",
    ] {
        assert!(log.contains(expected), "missing {expected:?} in:\n{log}");
    }
    assert!(!log.contains("x; y!"), "the third row is not shown:\n{log}");
    assert!(!log.contains("S3cret"), "{log}");

    // The first failing statement fails the attempt; nothing after it runs.
    let broken = sql_job(
        &server,
        folder,
        "broken",
        "insert into sales values (10, 'kept');\nselect * from no_such_table;\ninsert into sales values (11, 'never');",
        &url,
    )
    .await;
    let instance = server.run_to_end(broken).await;
    let log = server.log_page(instance.attempts[0].id).await.text;
    assert_eq!(instance.state, InstanceState::Failed, "{log}");
    assert!(
        log.contains("statement 2 (line 2) failed:") && log.contains("no_such_table"),
        "{log}"
    );
    assert!(!log.contains("statement 3 of 3"), "{log}");
    assert_eq!(instance.attempts[0].exit_code, Some(1));

    // A datasource that is not set is a clear error before anything runs.
    let unset = server
        .job(
            folder,
            "unset",
            "select 1",
            json!({ "job_type": "sql", "configs": { "hera.sql.datasource": "NOPE" } }),
        )
        .await;
    let instance = server.run_to_end(unset).await;
    let log = server.log_page(instance.attempts[0].id).await.text;
    assert!(
        log.contains("hera.sql.datasource names the secret NOPE, which this job does not have"),
        "{log}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_cancel_stops_the_statement_on_the_database_server() {
    let Some(cluster) = cluster() else { return };
    let server = TestServer::start(1).await;
    let folder = server.folder("sqlcancel").await;
    let job = sql_job(
        &server,
        folder,
        "slow",
        "select pg_sleep(60) as hera_marker",
        &cluster.url,
    )
    .await;
    let id = server.run_job(job).await;
    // Wait until the statement runs on the server.
    let mut conn = {
        use sqlx::Connection as _;
        sqlx::PgConnection::connect(&cluster.url).await.unwrap()
    };
    let running = "select count(*) from pg_stat_activity where query like '%hera_marker%' \
                   and pid <> pg_backend_pid() and state = 'active'";
    let mut seen = false;
    for _ in 0..100 {
        let n: i64 = sqlx::query_scalar(running)
            .fetch_one(&mut conn)
            .await
            .unwrap();
        if n == 1 {
            seen = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(seen, "the statement never ran on the server");
    let started = std::time::Instant::now();
    server
        .post(&format!("/api/instances/{id}/cancel"), json!({}))
        .await;
    let instance: Instance = server.wait_terminal(id).await;
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(instance.state, InstanceState::Cancelled);
    assert_eq!(instance.attempts[0].state, AttemptState::Cancelled);
    let log = server.log_page(instance.attempts[0].id).await.text;
    assert!(
        log.contains("asked the database to cancel the running statement"),
        "{log}"
    );
    let mut gone = false;
    for _ in 0..100 {
        let n: i64 = sqlx::query_scalar(running)
            .fetch_one(&mut conn)
            .await
            .unwrap();
        if n == 0 {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(gone, "pg_sleep still runs on the server after the cancel");
    server.stop().await;
}

fn mysql() -> Option<MySqlServer> {
    let server = MySqlServer::start();
    if server.is_none() {
        assert!(
            std::env::var("HERA_REQUIRE_MYSQL").is_err(),
            "HERA_REQUIRE_MYSQL is set but MariaDB is not installed"
        );
        eprintln!("MariaDB is not installed here: the MySQL job tests are skipped");
    }
    server
}

#[tokio::test]
async fn mysql_statements_procedures_and_cancel() {
    let Some(mysql) = mysql() else { return };
    let server = TestServer::start(1).await;
    let folder = server.folder("mysql").await;
    let script = "create table `order` (id int primary key, note text); # a comment; here\n\
        insert into `order` values (1, 'it\\'s; ok'), (2, \"dq\"), (3, 'x');\n\
        DELIMITER //\n\
        create procedure bump() begin update `order` set note = concat(note, '!'); select 1; end//\n\
        DELIMITER ;\n\
        call bump();\n\
        select id, note from `order` order by id;";
    let job = sql_job(&server, folder, "load", script, &mysql.url).await;
    let instance = server.run_to_end(job).await;
    let log = server.log_page(instance.attempts[0].id).await.text;
    assert_eq!(instance.state, InstanceState::Success, "{log}");
    for expected in [
        "statement 2 of 5 (line 2): insert into `order`",
        "3 row(s) affected",
        "statement 3 of 5 (line 4): create procedure bump() begin update",
        "1  | it's; ok!\n",
        "3 row(s) (1 not shown; hera.sql.max_rows = 2)",
        "5 statement(s) succeeded",
    ] {
        assert!(log.contains(expected), "missing {expected:?} in:\n{log}");
    }

    // A cancel stops the statement on the server too.
    let slow = sql_job(
        &server,
        folder,
        "slow",
        "select sleep(60) as hera_marker",
        &mysql.url,
    )
    .await;
    let id = server.run_job(slow).await;
    let mut conn = {
        use sqlx::Connection as _;
        sqlx::MySqlConnection::connect(&mysql.url).await.unwrap()
    };
    let running = "select count(*) from information_schema.processlist \
                   where info like '%hera_marker%' and id <> connection_id()";
    let mut seen = false;
    for _ in 0..100 {
        let n: i64 = sqlx::query_scalar(running)
            .fetch_one(&mut conn)
            .await
            .unwrap();
        if n == 1 {
            seen = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(seen, "the statement never ran on the server");
    server
        .post(&format!("/api/instances/{id}/cancel"), json!({}))
        .await;
    let instance = server.wait_terminal(id).await;
    assert_eq!(instance.state, InstanceState::Cancelled);
    let mut gone = false;
    for _ in 0..100 {
        let n: i64 = sqlx::query_scalar(running)
            .fetch_one(&mut conn)
            .await
            .unwrap();
        if n == 0 {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(gone, "sleep still runs on the server after the cancel");
    server.stop().await;
}
