//! The resource center's file contents in an object store: a local directory (`resources/` in
//! the data directory) by default, or any `object_store` URL such as `s3://bucket/prefix` (AWS
//! settings from the `AWS_*` environment variables, e.g. `AWS_ENDPOINT` for an S3-compatible
//! store). Contents are keyed by their SHA-256, so equal uploads share one object and workers
//! cache by the same key. Uploads stream through: hashed and written in parts, never held whole.

use std::{path::Path, sync::Arc};

use anyhow::Context as _;
use bytes::Bytes;
use futures_util::{Stream, StreamExt as _};
use object_store::{ObjectStore, WriteMultipart, local::LocalFileSystem, path::Path as Key};
use sha2::{Digest as _, Sha256};

/// Why an upload was not stored.
#[derive(Debug, thiserror::Error)]
pub enum PutError {
    /// More than the limit arrived.
    #[error("the file is larger than the limit of {0} bytes")]
    TooLarge(u64),
    /// The request body broke off.
    #[error("the upload broke off: {0}")]
    Body(String),
    /// The object store failed.
    #[error(transparent)]
    Store(#[from] object_store::Error),
}

/// Where resource contents live. Cheap to clone.
#[derive(Clone, Debug)]
pub struct ContentStore {
    store: Arc<dyn ObjectStore>,
    /// The largest upload accepted.
    pub max_bytes: u64,
}

fn content_key(sha256: &str) -> Key {
    Key::from(format!("sha256/{sha256}"))
}

impl ContentStore {
    /// Opens `url`, or the `resources/` directory under `data_dir` when there is none.
    pub fn open(url: Option<&str>, data_dir: &Path, max_bytes: u64) -> anyhow::Result<Self> {
        let store: Arc<dyn ObjectStore> = match url {
            None => {
                let dir = data_dir.join("resources");
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
                Arc::new(LocalFileSystem::new_with_prefix(&dir)?)
            }
            Some(url) => {
                let parsed = url::Url::parse(url)
                    .with_context(|| format!("`{url}` is not an object store URL"))?;
                // object_store's option names are the lower-case environment variable names.
                let options = std::env::vars()
                    .filter(|(k, _)| k.starts_with("AWS_"))
                    .map(|(k, v)| (k.to_ascii_lowercase(), v));
                let (store, prefix) = object_store::parse_url_opts(&parsed, options)
                    .with_context(|| format!("cannot open the object store {url}"))?;
                Arc::new(object_store::prefix::PrefixStore::new(store, prefix))
            }
        };
        Ok(ContentStore { store, max_bytes })
    }

    /// Stores a stream of bytes; returns its SHA-256 (lower-case hex) and size. Nothing is kept
    /// of an upload that fails or is too large.
    pub async fn put<E: std::fmt::Display>(
        &self,
        body: impl Stream<Item = Result<Bytes, E>>,
    ) -> Result<(String, u64), PutError> {
        let staging = Key::from(format!("staging/{}", crate::auth::random_secret(16)));
        let upload = self.store.put_multipart(&staging).await?;
        let mut writer = WriteMultipart::new(upload);
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        let mut body = std::pin::pin!(body);
        while let Some(chunk) = body.next().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(err) => {
                    let _ = writer.abort().await;
                    return Err(PutError::Body(err.to_string()));
                }
            };
            size += chunk.len() as u64;
            if size > self.max_bytes {
                let _ = writer.abort().await;
                return Err(PutError::TooLarge(self.max_bytes));
            }
            hasher.update(&chunk);
            writer.wait_for_capacity(4).await?;
            writer.write(&chunk);
        }
        writer.finish().await?;
        let sha256 = format!("{:x}", hasher.finalize());
        self.store.rename(&staging, &content_key(&sha256)).await?;
        Ok((sha256, size))
    }

    /// The content with this checksum, as a stream.
    pub async fn get(
        &self,
        sha256: &str,
    ) -> Result<impl Stream<Item = Result<Bytes, object_store::Error>> + use<>, object_store::Error>
    {
        Ok(self.store.get(&content_key(sha256)).await?.into_stream())
    }

    /// Removes the content with this checksum (nothing if it is already gone).
    pub async fn delete(&self, sha256: &str) -> Result<(), object_store::Error> {
        match self.store.delete(&content_key(sha256)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(parts: &[&'static [u8]]) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
        futures_util::stream::iter(
            parts
                .iter()
                .map(|p| Ok(Bytes::from_static(p)))
                .collect::<Vec<_>>(),
        )
    }

    #[tokio::test]
    async fn uploads_are_content_addressed_and_limited() {
        let dir = tempfile::tempdir().unwrap();
        let store = ContentStore::open(None, dir.path(), 10).unwrap();
        let (sha, size) = store.put(chunks(&[b"hello ", b"you"])).await.unwrap();
        assert_eq!(size, 9);
        assert_eq!(
            sha,
            format!("{:x}", Sha256::digest(b"hello you")),
            "the checksum of all the chunks"
        );
        let stored = std::fs::read(dir.path().join("resources/sha256").join(&sha)).unwrap();
        assert_eq!(stored, b"hello you");
        let again = store.put(chunks(&[b"hello you"])).await.unwrap();
        assert_eq!(again, (sha.clone(), 9), "the same content, the same object");

        let err = store
            .put(chunks(&[b"0123456", b"89abc"]))
            .await
            .unwrap_err();
        assert!(matches!(err, PutError::TooLarge(10)), "{err}");
        let broken = futures_util::stream::iter(vec![
            Ok(Bytes::from_static(b"ab")),
            Err(std::io::Error::other("connection reset")),
        ]);
        let err = store.put(broken).await.unwrap_err();
        assert_eq!(err.to_string(), "the upload broke off: connection reset");
        let staging = dir.path().join("resources/staging");
        let left = std::fs::read_dir(&staging).map_or(0, |d| d.count());
        assert_eq!(left, 0, "failed uploads leave nothing behind");

        store.delete(&sha).await.unwrap();
        store.delete(&sha).await.unwrap();
        assert!(store.get(&sha).await.is_err());
    }
}
