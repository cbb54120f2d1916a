//! The `hera` command line: `hera cron` output and errors, and `hera standalone` printing where
//! to log in.

use std::{
    io::{BufRead as _, BufReader},
    process::{Command, Stdio},
    time::Duration,
};

fn hera(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hera"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn cron_prints_the_next_fire_times_in_the_zone() {
    let (ok, out, _) = hera(&[
        "cron",
        "0 30 2 * * ?",
        "--tz",
        "America/New_York",
        "--from",
        "2027-03-13T12:00:00Z",
        "-n",
        "3",
    ]);
    assert!(ok);
    assert_eq!(
        out,
        "2027-03-14T03:00:00-04:00\n2027-03-15T02:30:00-04:00\n2027-03-16T02:30:00-04:00\n"
    );
    let (ok, out, _) = hera(&[
        "cron",
        "*/15 9-10 * * 1-5",
        "--from",
        "2026-11-27T10:40:00Z",
        "-n",
        "2",
    ]);
    assert!(ok);
    assert_eq!(
        out,
        "2026-11-27T10:45:00+00:00\n2026-11-30T09:00:00+00:00\n"
    );
}

#[test]
fn cron_refuses_bad_input_with_a_reason() {
    let (ok, _, err) = hera(&["cron", "0 61 * * * ?"]);
    assert!(!ok);
    assert!(err.contains("invalid cron expression"), "{err}");
    let (ok, _, err) = hera(&["cron", "* * *"]);
    assert!(!ok && err.contains("has 3"), "{err}");
    let (ok, _, err) = hera(&["cron", "0 0 * * *", "--tz", "Nowhere/City"]);
    assert!(!ok && err.contains("unknown time zone"), "{err}");
    let (ok, _, err) = hera(&["cron", "0 0 * * *", "--from", "yesterday"]);
    assert!(!ok && err.contains("RFC 3339"), "{err}");
}

#[test]
fn standalone_prints_the_url_and_where_the_password_is() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let data = dir.path().join("data");
    let mut child = Command::new(env!("CARGO_BIN_EXE_hera"))
        .args([
            "standalone",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        let done = line.starts_with("Log in as `admin`");
        seen.push(line);
        if done {
            break;
        }
    }
    let _ = nix_kill(child.id());
    let status = child.wait().unwrap();
    let text = seen.join("\n");
    assert!(
        text.contains(&format!("Hera is running at http://127.0.0.1:{port}")),
        "{text}"
    );
    assert!(text.contains("initial-admin-password"), "{text}");
    let password = std::fs::read_to_string(data.join("initial-admin-password")).unwrap();
    assert!(password.trim().len() >= 16);
    // SIGTERM is a clean shutdown.
    assert!(status.success(), "{status}");
}

fn nix_kill(pid: u32) -> std::io::Result<std::process::ExitStatus> {
    Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
}
