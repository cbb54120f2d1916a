//! Files an attempt needs in its work directory before it runs: resources from the resource
//! center (`hera:<name>` or `hera:<name>@<version>`), web addresses (`http://`, `https://`), and
//! anything else (`hdfs://…`, `s3://…`) fetched by the worker's configured fetch command.
//!
//! They come from the `hera.resources` config of the job and of its folders (merged along the
//! path, the nearest entry winning per local name) and from the original's
//! `download[<uri> <name>]` directives in the script, which are taken out of the script.

use serde::{Deserialize, Serialize};

/// One file to put into the work directory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    /// Where it comes from.
    pub uri: String,
    /// Its name in the work directory.
    pub name: String,
}

/// Where a [`FileRef`] points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source<'a> {
    /// A resource-center file: its name and version (none: the latest).
    Resource {
        /// The resource's name.
        name: &'a str,
        /// The version asked for.
        version: Option<u32>,
    },
    /// An `http://` or `https://` address the worker downloads.
    Web(&'a str),
    /// Any other URI, fetched by the worker's fetch command.
    Other(&'a str),
}

impl FileRef {
    /// What kind of address this is; an error for a malformed `hera:` one.
    pub fn source(&self) -> Result<Source<'_>, String> {
        if let Some(rest) = self.uri.strip_prefix("hera:") {
            let rest = rest.trim_start_matches("//");
            let (name, version) = match rest.rsplit_once('@') {
                Some((name, v)) => {
                    let version = v.parse::<u32>().ok().filter(|v| *v > 0).ok_or_else(|| {
                        format!(
                            "`{}`: the version after @ must be a number from 1",
                            self.uri
                        )
                    })?;
                    (name, Some(version))
                }
                None => (rest, None),
            };
            if name.is_empty() {
                return Err(format!("`{}` names no resource", self.uri));
            }
            return Ok(Source::Resource { name, version });
        }
        if self.uri.starts_with("http://") || self.uri.starts_with("https://") {
            return Ok(Source::Web(&self.uri));
        }
        Ok(Source::Other(&self.uri))
    }
}

/// Whether `name` may be a file name in a work directory: relative, no `..`, no empty parts.
pub fn check_local_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && !name.starts_with('/')
        && name
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
        && !name.chars().any(char::is_control);
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a file name inside the work directory"
        ))
    }
}

/// `<uri> [name]`: the name defaults to the last part of the URI's path.
fn entry(text: &str) -> Result<FileRef, String> {
    let mut words = text.split_whitespace();
    let uri = words.next().unwrap_or_default().to_owned();
    let name = match words.next() {
        Some(name) => name.to_owned(),
        None => {
            let path = uri.split(['?', '#']).next().unwrap_or_default();
            let path = path.rsplit_once('@').map_or(path, |(p, v)| {
                if uri.starts_with("hera:") && v.chars().all(|c| c.is_ascii_digit()) {
                    p
                } else {
                    path
                }
            });
            path.rsplit(['/', ':'])
                .next()
                .unwrap_or_default()
                .to_owned()
        }
    };
    if let Some(extra) = words.next() {
        return Err(format!(
            "`{text}`: unexpected `{extra}` (write `<uri> [name]`)"
        ));
    }
    check_local_name(&name).map_err(|err| format!("`{text}`: {err}"))?;
    Ok(FileRef { uri, name })
}

/// The entries of a `hera.resources` config: one per line or separated by commas, each
/// `<uri> [name]`.
pub fn parse_list(text: &str) -> Result<Vec<FileRef>, String> {
    text.split(['\n', ','])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(entry)
        .collect()
}

/// Takes the `download[<uri> <name>]` directives out of a script; a line left blank by them
/// goes too.
pub fn take_downloads(script: &str) -> Result<(String, Vec<FileRef>), String> {
    const OPEN: &str = "download[";
    if !script.contains(OPEN) {
        return Ok((script.to_owned(), Vec::new()));
    }
    let mut files = Vec::new();
    let mut out = String::with_capacity(script.len());
    for line in script.split_inclusive('\n') {
        let mut rest = line;
        let mut kept = String::new();
        let mut found = false;
        while let Some(start) = rest.find(OPEN) {
            let body = &rest[start + OPEN.len()..];
            let Some(end) = body.find(']') else {
                return Err(format!("`{}`: download[ without its ]", line.trim()));
            };
            files.push(entry(&body[..end])?);
            kept.push_str(&rest[..start]);
            rest = &body[end + 1..];
            found = true;
        }
        kept.push_str(rest);
        if found && kept.trim().is_empty() {
            continue;
        }
        out.push_str(&kept);
    }
    Ok((out, files))
}

/// Merges file lists from the outermost level to the nearest: one file per local name, the
/// nearest level's entry winning, in first-seen order.
pub fn merge(levels: impl IntoIterator<Item = Vec<FileRef>>) -> Vec<FileRef> {
    let mut out: Vec<FileRef> = Vec::new();
    for level in levels {
        for file in level {
            match out.iter_mut().find(|f| f.name == file.name) {
                Some(existing) => *existing = file,
                None => out.push(file),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(uri: &str, name: &str) -> FileRef {
        FileRef {
            uri: uri.into(),
            name: name.into(),
        }
    }

    #[test]
    fn download_directives_leave_the_script_and_become_files() {
        let script = "download[hdfs://nn/lib/udf.jar udf.jar]\n\
                      echo start\n\
                      cp download[hera:map.csv@2 data/map.csv] . # inline\n";
        let (text, files) = take_downloads(script).unwrap();
        assert_eq!(text, "echo start\ncp  . # inline\n");
        assert_eq!(
            files,
            [
                file("hdfs://nn/lib/udf.jar", "udf.jar"),
                file("hera:map.csv@2", "data/map.csv")
            ]
        );
        assert_eq!(
            take_downloads("download[hera:x").unwrap_err(),
            "`download[hera:x`: download[ without its ]"
        );
        assert!(take_downloads("download[http://h/x ../../etc/passwd]").is_err());
    }

    #[test]
    fn lists_parse_with_default_names_and_sources() {
        let files = parse_list("hera:udf.jar@3, https://h/a/b.csv?x=1\n  hdfs://nn/x.py job.py \n")
            .unwrap();
        assert_eq!(
            files,
            [
                file("hera:udf.jar@3", "udf.jar"),
                file("https://h/a/b.csv?x=1", "b.csv"),
                file("hdfs://nn/x.py", "job.py"),
            ]
        );
        assert_eq!(
            files[0].source(),
            Ok(Source::Resource {
                name: "udf.jar",
                version: Some(3)
            })
        );
        assert_eq!(files[1].source(), Ok(Source::Web("https://h/a/b.csv?x=1")));
        assert_eq!(files[2].source(), Ok(Source::Other("hdfs://nn/x.py")));
        assert!(file("hera:a@x", "a").source().is_err());
        assert!(parse_list("hera:a b c").is_err());
    }

    #[test]
    fn nearer_levels_win_per_name() {
        let merged = merge([
            vec![file("hera:a", "a"), file("hera:b", "b")],
            vec![file("hera:a@2", "a")],
        ]);
        assert_eq!(merged, [file("hera:a@2", "a"), file("hera:b", "b")]);
    }
}
