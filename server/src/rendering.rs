//! Scripts as their attempts see them: the job's configs over its folders' (nearest wins), then
//! `app::render` (variables, date macros, run-time parameters) at the instance's business time in
//! the job's zone.

use std::collections::BTreeMap;

use app::{
    api::{ConfigView, Folder, InheritedConfig},
    cron::parse_zone,
    ids::FolderId,
    render::{RenderContext, effective_configs, render},
};
use chrono::{DateTime, Utc};

use crate::store::{Store, StoreResult};

/// The configs a script in `folder` with `own` configs sees, each with where it comes from.
pub async fn config_view(
    store: &dyn Store,
    folder: FolderId,
    own: &BTreeMap<String, String>,
) -> StoreResult<ConfigView> {
    let path = store.folder_path(folder).await?;
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
    Ok(ConfigView {
        own: own.clone(),
        inherited,
        effective: effective_configs(&chain),
    })
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
    render(script.text, &context)
        .map(|text| RenderedScript { text, settings })
        .map_err(|err| err.to_string())
}
