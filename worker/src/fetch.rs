//! Puts an attempt's files into its work directory before the script runs: resource-center
//! contents from the server (cached under `cache/` by checksum, verified, copied in so a script
//! cannot damage the cache), `http(s)://` downloads, and other URIs through the worker's fetch
//! command (`hadoop fs -get {uri} {file}` by default).

use std::path::{Path, PathBuf};

use app::protocol::{FetchSource, FileFetch};
use futures_util::StreamExt as _;
use sha2::{Digest as _, Sha256};
use tokio::io::AsyncWriteExt as _;

/// Where and how this worker fetches files.
#[derive(Clone, Debug)]
pub struct Fetcher {
    /// The server's base URL.
    pub server: String,
    /// The worker token (resource contents are served to workers only).
    pub token: String,
    /// The checksum-keyed cache of resource contents.
    pub cache: PathBuf,
    /// Fetches any other URI: `{uri}` and `{file}` are replaced (shell-quoted).
    pub command: String,
    /// HTTP client.
    pub client: reqwest::Client,
}

impl Fetcher {
    /// Fetches every file into `dir`, returning a line per file for the log; the error names
    /// the file that could not be fetched and why.
    pub async fn fetch_all(&self, dir: &Path, files: &[FileFetch]) -> Result<Vec<String>, String> {
        let mut lines = Vec::with_capacity(files.len());
        for file in files {
            let target = dir.join(&file.name);
            if let Some(parent) = target.parent() {
                tokio::fs::create_dir_all(parent)
                    .await
                    .map_err(|err| format!("{}: {err}", file.name))?;
            }
            let line = match &file.source {
                FetchSource::Resource {
                    label,
                    sha256,
                    size,
                } => {
                    let cached = self.cached(sha256, *size).await?;
                    tokio::fs::copy(&cached.0, &target)
                        .await
                        .map_err(|err| format!("{}: {err}", file.name))?;
                    let how = if cached.1 {
                        "from the cache"
                    } else {
                        "downloaded"
                    };
                    format!("fetched {label} as {} ({size} bytes, {how})", file.name)
                }
                FetchSource::Web { url } => {
                    let size = self
                        .download(self.client.get(url), &target, None)
                        .await
                        .map_err(|err| format!("{url}: {err}"))?
                        .1;
                    format!("downloaded {url} as {} ({size} bytes)", file.name)
                }
                FetchSource::Command { uri } => {
                    self.run_command(uri, &target).await?;
                    format!("fetched {uri} as {}", file.name)
                }
            };
            lines.push(line);
        }
        Ok(lines)
    }

    /// The cached content with this checksum (downloaded first if missing), and whether it
    /// was already there.
    async fn cached(&self, sha256: &str, size: u64) -> Result<(PathBuf, bool), String> {
        let path = self.cache.join(sha256);
        if tokio::fs::metadata(&path)
            .await
            .is_ok_and(|m| m.len() == size)
        {
            return Ok((path, true));
        }
        tokio::fs::create_dir_all(&self.cache)
            .await
            .map_err(|err| format!("cannot create the cache: {err}"))?;
        let url = format!(
            "{}/api/worker/files/{sha256}",
            self.server.trim_end_matches('/')
        );
        let request = self.client.get(&url).bearer_auth(&self.token);
        let partial = self.cache.join(format!(
            "{sha256}.part-{}",
            std::process::id() as u64 * 1_000_000 + u64::from(rand_suffix())
        ));
        let (got, got_size) = self
            .download(request, &partial, Some(size))
            .await
            .map_err(|err| format!("resource {sha256}: {err}"))?;
        if got != sha256 || got_size != size {
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(format!(
                "resource {sha256}: the download does not match its checksum"
            ));
        }
        // Another attempt may have put it there meanwhile: same content, either one is right.
        tokio::fs::rename(&partial, &path)
            .await
            .map_err(|err| format!("cannot cache resource {sha256}: {err}"))?;
        Ok((path, false))
    }

    /// Streams a response body into `path`; returns its SHA-256 and size.
    async fn download(
        &self,
        request: reqwest::RequestBuilder,
        path: &Path,
        expected: Option<u64>,
    ) -> Result<(String, u64), String> {
        let response = request.send().await.map_err(|err| err.to_string())?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            let body: String = body.chars().take(300).collect();
            return Err(format!("HTTP {status}: {body}"));
        }
        let mut file = tokio::fs::File::create(path)
            .await
            .map_err(|err| err.to_string())?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut body = response.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|err| err.to_string())?;
            size += chunk.len() as u64;
            if expected.is_some_and(|e| size > e) {
                return Err("more bytes than expected".to_owned());
            }
            hasher.update(&chunk);
            file.write_all(&chunk)
                .await
                .map_err(|err| err.to_string())?;
        }
        file.flush().await.map_err(|err| err.to_string())?;
        Ok((format!("{:x}", hasher.finalize()), size))
    }

    async fn run_command(&self, uri: &str, target: &Path) -> Result<(), String> {
        let command = self
            .command
            .replace("{uri}", &quote(uri))
            .replace("{file}", &quote(&target.to_string_lossy()));
        let output = tokio::process::Command::new(crate::runner::bash())
            .arg("-c")
            .arg(&command)
            .stdin(std::process::Stdio::null())
            .output()
            .await
            .map_err(|err| format!("{uri}: cannot run `{command}`: {err}"))?;
        if output.status.success() && tokio::fs::metadata(target).await.is_ok() {
            return Ok(());
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        Err(format!(
            "{uri}: `{command}` failed ({}){}{}",
            output.status,
            if tail.is_empty() { "" } else { ": " },
            tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
        ))
    }
}

fn rand_suffix() -> u32 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos())
}

/// Single-quotes a word for bash.
fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}
