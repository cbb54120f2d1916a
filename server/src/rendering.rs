//! Scripts as their attempts see them: the job's configs over its folders' (nearest wins), then
//! `app::render` (variables, date macros, run-time parameters) at the instance's business time in
//! the job's zone.

use std::collections::BTreeMap;

use app::{
    api::{ConfigView, Folder, InheritedConfig},
    cron::parse_zone,
    files::{self, FileRef, Source},
    ids::FolderId,
    protocol::{FetchSource, FileFetch},
    render::{RenderContext, effective_configs, render},
};

/// The config listing a job's (or a folder's) files: `<uri> [name]` per line or comma.
pub const RESOURCES_KEY: &str = "hera.resources";
use chrono::{DateTime, Utc};

use crate::store::{Store, StoreError, StoreResult};

/// The configs a script in `folder` with `own` configs sees, each with where it comes from.
pub async fn config_view(
    store: &dyn Store,
    folder: FolderId,
    own: &BTreeMap<String, String>,
) -> StoreResult<ConfigView> {
    let path = store.folder_path(folder).await?;
    Ok(configs_along(&path, own))
}

/// The config view of something holding `own` configs below the folders of `path` (outermost
/// first).
pub fn configs_along(path: &[Folder], own: &BTreeMap<String, String>) -> ConfigView {
    let mut chain: Vec<&BTreeMap<String, String>> = path.iter().map(|f| &f.configs).collect();
    chain.push(own);
    let mut inherited = Vec::new();
    for (level, folder) in path.iter().enumerate() {
        for (key, value) in &folder.configs {
            let overridden = chain[level + 1..]
                .iter()
                .any(|nearer| nearer.contains_key(key));
            inherited.push(InheritedConfig {
                key: key.clone(),
                value: value.clone(),
                folder_id: folder.id,
                folder_name: folder.name.clone(),
                overridden,
            });
        }
    }
    ConfigView {
        own: own.clone(),
        inherited,
        effective: effective_configs(&chain),
    }
}

/// What a script renders to; `Err` says why it cannot (for the attempt's log and the user).
pub struct Script<'a> {
    /// The script as written.
    pub text: &'a str,
    /// The job's own configs.
    pub configs: &'a BTreeMap<String, String>,
    /// The job's folder.
    pub folder: Option<FolderId>,
    /// The job's zone.
    pub timezone: &'a str,
    /// The instance's business time.
    pub business_time: DateTime<Utc>,
    /// The trigger's run-time parameters.
    pub params: &'a BTreeMap<String, String>,
}

/// A rendered script with the job's `hera.*` settings (how its type runs it).
pub struct RenderedScript {
    /// The script to run.
    pub text: String,
    /// The effective configs whose key starts with `hera.`.
    pub settings: BTreeMap<String, String>,
    /// Files for the work directory: the `hera.resources` of the folders and the job (merged,
    /// nearest first per name), then the script's `download[…]` directives (taken out of it).
    pub files: Vec<FileRef>,
}

/// Renders a script, reading its folders' configs; the outer error is the store's, the inner
/// one the script's.
pub async fn render_script(
    store: &dyn Store,
    script: &Script<'_>,
) -> StoreResult<Result<RenderedScript, String>> {
    let path = match script.folder {
        Some(folder) => store.folder_path(folder).await?,
        None => Vec::new(),
    };
    Ok(render_in(script, &path))
}

/// Renders a script in a folder path (outermost first) already read.
pub fn render_in(script: &Script<'_>, path: &[Folder]) -> Result<RenderedScript, String> {
    let mut chain: Vec<&BTreeMap<String, String>> = path.iter().map(|f| &f.configs).collect();
    chain.push(script.configs);
    let configs = effective_configs(&chain);
    let zone = parse_zone(script.timezone).map_err(|err| err.to_string())?;
    let context = RenderContext {
        business_time: script.business_time,
        zone,
        now: Utc::now(),
        configs: &configs,
        params: script.params,
    };
    let settings = configs
        .iter()
        .filter(|(key, _)| key.starts_with("hera."))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let listed = chain
        .iter()
        .filter_map(|level| level.get(RESOURCES_KEY))
        .map(|list| files::parse_list(list).map_err(|err| format!("{RESOURCES_KEY}: {err}")))
        .collect::<Result<Vec<_>, _>>()?;
    let text = render(script.text, &context).map_err(|err| err.to_string())?;
    let (text, downloads) = files::take_downloads(&text)?;
    let files = files::merge(listed.into_iter().chain([downloads]));
    Ok(RenderedScript {
        text,
        settings,
        files,
    })
}

/// Resolves an attempt's files: resource-center names to their version's checksum and size.
/// The outer error is the store's; the inner one names what the job asked for that does not
/// exist.
pub async fn resolve_files(
    store: &dyn Store,
    files: &[FileRef],
) -> StoreResult<Result<Vec<FileFetch>, String>> {
    let mut out = Vec::with_capacity(files.len());
    for file in files {
        let source = match file.source() {
            Err(err) => return Ok(Err(err)),
            Ok(Source::Web(url)) => FetchSource::Web {
                url: url.to_owned(),
            },
            Ok(Source::Other(uri)) => FetchSource::Command {
                uri: uri.to_owned(),
            },
            Ok(Source::Resource { name, version }) => {
                let resource = match store.resource_by_name(name).await {
                    Ok(resource) => resource,
                    Err(StoreError::NotFound) => {
                        return Ok(Err(format!(
                            "{}: the resource center has no file named {name}",
                            file.uri
                        )));
                    }
                    Err(err) => return Err(err),
                };
                let chosen = match version {
                    None => Some(&resource.latest),
                    Some(v) => resource.versions.iter().find(|rv| rv.version == v),
                };
                let Some(chosen) = chosen else {
                    return Ok(Err(format!(
                        "{}: {name} has no version {} (latest: {})",
                        file.uri,
                        version.unwrap_or_default(),
                        resource.latest.version
                    )));
                };
                FetchSource::Resource {
                    label: format!("hera:{name}@{}", chosen.version),
                    sha256: chosen.sha256.clone(),
                    size: chosen.size,
                }
            }
        };
        out.push(FileFetch {
            name: file.name.clone(),
            source,
        });
    }
    Ok(Ok(out))
}
