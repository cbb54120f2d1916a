//! How each job type runs. Every type but HTTP becomes a bash script in the attempt's work
//! directory (so process groups, output capture and cancel work the same for all): a shell job
//! is its own script; Python, Hive, Spark SQL and spark-submit jobs write their script to a file
//! and run the worker's configured command on it. An HTTP job is one request made by the worker;
//! an SQL job's statements run on the worker's own connection to the database (see
//! [`crate::sql`]).
//!
//! Commands are templates: `{file}` is the job's script file, `{conf}` the job's
//! `hera.spark.conf` config, `{args}` (spark-submit) the job's script as arguments.

use std::{collections::BTreeMap, path::Path, time::Duration};

use app::{domain::JobType, protocol::AttemptSpec};

/// The commands of the tools this worker's host group has, and what else shapes an attempt's
/// process: the environment it inherits and how long its work directory stays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tools {
    /// Runs a Python script.
    pub python: String,
    /// Runs a Hive script (`hive -f {file}`, or beeline).
    pub hive: String,
    /// Runs a Spark SQL script.
    pub spark_sql: String,
    /// Submits a Spark application.
    pub spark_submit: String,
    /// Fetches a file named by a URI that is neither a resource nor a web address
    /// (`{uri}`, `{file}`).
    pub fetch: String,
    /// The worker's environment variables an attempt inherits; every other one is cleared (the
    /// attempt also gets its secrets, run-time parameters and `HERA_*` variables).
    pub pass_env: Vec<String>,
    /// Days an attempt's work directory is kept after it ends.
    pub keep_work_days: u32,
    /// Whether attempts get a cgroup of their own where the host allows it (see
    /// [`crate::cgroup`]).
    pub cgroups: bool,
}

/// The environment variables attempts inherit unless the worker is told otherwise.
pub const DEFAULT_PASS_ENV: &[&str] = &[
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LC_ALL", "TZ", "TMPDIR",
];

impl Default for Tools {
    fn default() -> Self {
        Tools {
            python: "python3 {file}".to_owned(),
            hive: "hive -f {file}".to_owned(),
            spark_sql: "spark-sql {conf} -f {file}".to_owned(),
            spark_submit: "spark-submit {conf} {args}".to_owned(),
            fetch: "hadoop fs -get {uri} {file}".to_owned(),
            pass_env: DEFAULT_PASS_ENV.iter().map(|v| (*v).to_owned()).collect(),
            keep_work_days: 7,
            cgroups: true,
        }
    }
}

/// What to run for an attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Launch {
    /// `bash <file>` in the work directory.
    Bash(std::path::PathBuf),
    /// An HTTP request.
    Http(HttpCall),
    /// SQL statements against a database.
    Sql(crate::sql::SqlCall),
}

/// An HTTP job's request and what counts as success.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpCall {
    /// The method.
    pub method: String,
    /// The URL.
    pub url: String,
    /// Header lines.
    pub headers: Vec<(String, String)>,
    /// The body (may be empty).
    pub body: String,
    /// Accepted statuses; empty: any 2xx.
    pub expect: Vec<u16>,
    /// The whole request's time limit.
    pub timeout: Duration,
}

/// Writes `text` as a private file with Unix line ends.
fn write(path: &Path, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::write(path, text.replace("\r\n", "\n"))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
}

/// Writes the attempt's files into `dir` and says how to run them. The inner error is the
/// user's (a bad HTTP request text), for the attempt's log.
pub fn prepare(
    dir: &Path,
    spec: &AttemptSpec,
    tools: &Tools,
) -> std::io::Result<Result<Launch, String>> {
    let (file, template) = match spec.job_type {
        JobType::Shell => {
            let script = dir.join("script.sh");
            write(&script, &spec.script)?;
            return Ok(Ok(Launch::Bash(script)));
        }
        JobType::Http => return Ok(parse_http(&spec.script, &spec.settings).map(Launch::Http)),
        JobType::Sql => return Ok(crate::sql::parse(spec).map(Launch::Sql)),
        JobType::Python => ("job.py", &tools.python),
        JobType::Hive => ("job.hql", &tools.hive),
        JobType::SparkSql => ("job.sql", &tools.spark_sql),
        JobType::SparkSubmit => ("job.args", &tools.spark_submit),
    };
    write(&dir.join(file), &spec.script)?;
    let conf = spec
        .settings
        .get("hera.spark.conf")
        .map(String::as_str)
        .unwrap_or_default();
    // spark-submit's script is its argument list; lines may be continued with a backslash.
    let args = spec.script.replace("\\\r\n", " ").replace("\\\n", " ");
    let args = args.split_whitespace().collect::<Vec<_>>().join(" ");
    let command = template
        .replace("{file}", file)
        .replace("{conf}", conf)
        .replace("{args}", &args);
    let wrapper = dir.join("run.sh");
    write(&wrapper, &format!("exec {command}\n"))?;
    Ok(Ok(Launch::Bash(wrapper)))
}

/// Reads an HTTP job's script: `METHOD URL`, header lines `Name: value`, a blank line, the body.
/// `hera.http.expect_status` (e.g. `200,201`) and `hera.http.timeout_secs` (default 60) come from
/// the job's configs.
pub fn parse_http(script: &str, settings: &BTreeMap<String, String>) -> Result<HttpCall, String> {
    let script = script.replace("\r\n", "\n");
    let mut lines = script.lines().skip_while(|l| l.trim().is_empty());
    let request = lines
        .next()
        .ok_or("the script is empty: write `METHOD URL` on the first line")?;
    let (method, url) = request
        .trim()
        .split_once(char::is_whitespace)
        .ok_or_else(|| format!("the first line `{request}` is not `METHOD URL`"))?;
    let method = method.to_ascii_uppercase();
    if !matches!(
        method.as_str(),
        "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS"
    ) {
        return Err(format!("`{method}` is not an HTTP method"));
    }
    let url = url.trim();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(format!("`{url}` is not an http:// or https:// URL"));
    }
    let mut headers = Vec::new();
    for line in lines.by_ref() {
        if line.trim().is_empty() {
            break;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("the header line `{line}` has no `:`"))?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let body = lines.collect::<Vec<_>>().join("\n");
    let expect = match settings.get("hera.http.expect_status") {
        None => Vec::new(),
        Some(text) => text
            .split(',')
            .map(|code| {
                code.trim()
                    .parse::<u16>()
                    .map_err(|_| format!("hera.http.expect_status: `{code}` is not a status"))
            })
            .collect::<Result<_, _>>()?,
    };
    let timeout = match settings.get("hera.http.timeout_secs") {
        None => Duration::from_secs(60),
        Some(text) => Duration::from_secs(
            text.trim()
                .parse()
                .map_err(|_| format!("hera.http.timeout_secs: `{text}` is not a number"))?,
        ),
    };
    Ok(HttpCall {
        method,
        url: url.to_owned(),
        headers,
        body,
        expect,
        timeout,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_http_request() {
        let settings = BTreeMap::from([
            ("hera.http.expect_status".to_owned(), "200, 201".to_owned()),
            ("hera.http.timeout_secs".to_owned(), "5".to_owned()),
        ]);
        let call = parse_http(
            "\npost https://api.example.com/v1/load?day=20261124\r\nContent-Type: application/json\nX-Token:  abc:def \n\n{\"a\": 1}\n{\"b\": 2}\n",
            &settings,
        )
        .unwrap();
        assert_eq!(
            call,
            HttpCall {
                method: "POST".to_owned(),
                url: "https://api.example.com/v1/load?day=20261124".to_owned(),
                headers: vec![
                    ("Content-Type".to_owned(), "application/json".to_owned()),
                    ("X-Token".to_owned(), "abc:def".to_owned()),
                ],
                body: "{\"a\": 1}\n{\"b\": 2}".to_owned(),
                expect: vec![200, 201],
                timeout: Duration::from_secs(5),
            }
        );
        let plain = parse_http("GET http://h/x", &BTreeMap::new()).unwrap();
        assert_eq!((plain.body.as_str(), plain.expect.len()), ("", 0));
    }

    #[test]
    fn says_what_is_wrong_with_an_http_request() {
        let none = BTreeMap::new();
        assert_eq!(
            parse_http("FETCH http://h", &none).unwrap_err(),
            "`FETCH` is not an HTTP method"
        );
        assert_eq!(
            parse_http("GET ftp://h", &none).unwrap_err(),
            "`ftp://h` is not an http:// or https:// URL"
        );
        assert_eq!(
            parse_http("GET http://h\nbad header", &none).unwrap_err(),
            "the header line `bad header` has no `:`"
        );
        let bad = BTreeMap::from([("hera.http.expect_status".to_owned(), "ok".to_owned())]);
        assert_eq!(
            parse_http("GET http://h", &bad).unwrap_err(),
            "hera.http.expect_status: `ok` is not a status"
        );
    }
}
