//! The S3-compatible backend, on the `object_store` crate (Apache Arrow's): it signs requests,
//! retries transient failures, resumes an interrupted ranged read where it stopped (checking
//! the ETag), and turns a large upload into a multipart upload. This module maps keys to
//! object paths under the configured prefix and object-store errors to ours.

use crate::location::check_endpoint;
use crate::{ByteStream, MAX_GET_BYTES, MediaKey, MediaStorage, ObjectMeta, OpenError};
use crate::{ChooseRange, ChosenRange, RangeBytes, S3Settings, StorageError, StoredObject};
use async_trait::async_trait;
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::buffered::BufWriter;
use object_store::client::{HttpError, HttpErrorKind};
use object_store::path::Path as ObjectPath;
use object_store::{BackoffConfig, ClientOptions, GetOptions, GetRange, ObjectStore};
use object_store::{ObjectStoreExt, PutPayload, RetryConfig};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncWriteExt, BufReader};

/// Size of each part of a multipart upload (S3's minimum is 5 MiB); files up to this size go
/// up in one PUT.
const PART_SIZE: usize = 8 * 1024 * 1024;
/// Parts in flight at once, which bounds an upload's memory to about `PART_SIZE` times this.
const PARTS_IN_FLIGHT: usize = 4;
/// The longest wait for an answer, or between two chunks of one, before a request fails (and
/// is retried); range streams only wait this long for their first answer (see `reads`).
const STALL_TIMEOUT: Duration = Duration::from_secs(60);

/// Media in a bucket of an S3-compatible service, optionally under a prefix.
#[derive(Clone)]
pub struct S3Storage {
    /// For every request but range streams: a stalled request fails after [`STALL_TIMEOUT`].
    store: Arc<dyn ObjectStore>,
    /// For range streams, which the viewer paces: a paused video stops reading for minutes,
    /// so a read timeout would break it (and `object_store` only resumes a broken stream
    /// within its 60 s retry window). A stalled stream ends when the viewer's connection does.
    reads: Arc<dyn ObjectStore>,
    bucket: String,
    prefix: Option<MediaKey>,
    endpoint: String,
}

impl S3Storage {
    /// Builds the client and checks, with one listing request, that the endpoint answers, the
    /// credentials are accepted and the bucket exists.
    pub async fn connect(
        bucket: &str,
        prefix: Option<MediaKey>,
        settings: &S3Settings,
    ) -> Result<Self, OpenError> {
        let endpoint = settings.endpoint_for_display();
        let build = |read_timeout| {
            client_builder(bucket, settings, read_timeout)?
                .build()
                .map_err(|e| OpenError::S3 {
                    bucket: bucket.to_owned(),
                    endpoint: endpoint.clone(),
                    source: Box::new(e),
                })
        };
        let storage = Self {
            store: Arc::new(build(Some(STALL_TIMEOUT))?),
            reads: Arc::new(build(None)?),
            bucket: bucket.to_owned(),
            prefix,
            endpoint,
        };
        storage.check().await?;
        Ok(storage)
    }

    async fn check(&self) -> Result<(), OpenError> {
        let probe = self.prefix.as_ref().map(|p| ObjectPath::from(p.as_str()));
        let Err(e) = self.store.list_with_delimiter(probe.as_ref()).await else {
            return Ok(());
        };
        let (bucket, endpoint) = (self.bucket.clone(), self.endpoint.clone());
        // A failed listing comes back as a generic error whose message carries the HTTP status
        // and S3's XML answer; they tell the cases apart. Any 401 or 403 means the key,
        // signature or token was refused (InvalidAccessKeyId, SignatureDoesNotMatch,
        // NotSignedUp, AccessDenied, ExpiredToken, …).
        let answer = e.to_string();
        let status_is = |status: &str| answer.contains(&format!("non-2xx status code: {status}"));
        Err(if answer.contains("<Code>NoSuchBucket</Code>") {
            OpenError::NoSuchBucket { bucket, endpoint }
        } else if status_is("401")
            || status_is("403")
            || matches!(
                e,
                object_store::Error::Unauthenticated { .. }
                    | object_store::Error::PermissionDenied { .. }
            )
        {
            OpenError::CredentialsRejected { endpoint }
        } else if let Some(reason) = connection_failure(&e) {
            OpenError::Unreachable { endpoint, reason }
        } else {
            OpenError::S3 {
                bucket,
                endpoint,
                source: Box::new(e),
            }
        })
    }

    fn object_path(&self, key: &MediaKey) -> ObjectPath {
        match &self.prefix {
            Some(prefix) => ObjectPath::from(format!("{prefix}/{key}")),
            None => ObjectPath::from(key.as_str()),
        }
    }

    /// The key of a listed object, or `None` for one outside the prefix or not a valid key
    /// (put there by something other than Marquee).
    fn key_of(&self, path: &ObjectPath) -> Option<MediaKey> {
        let full = path.as_ref();
        let relative = match &self.prefix {
            Some(prefix) => full.strip_prefix(prefix.as_str())?.strip_prefix('/')?,
            None => full,
        };
        MediaKey::parse(relative).ok()
    }

    /// Explains a failed read: `NotFound`, or `RangeNotSatisfiable` against the object's
    /// actual size, or the original error.
    async fn explain_failed_read(
        &self,
        key: &MediaKey,
        range: Range<u64>,
        error: object_store::Error,
    ) -> StorageError {
        if let object_store::Error::NotFound { .. } = error {
            return StorageError::NotFound(key.to_string());
        }
        match self.head(key).await {
            Ok(None) => StorageError::NotFound(key.to_string()),
            Ok(Some(meta)) if range.start > range.end || range.end > meta.size => {
                StorageError::RangeNotSatisfiable {
                    key: key.to_string(),
                    range,
                    size: meta.size,
                }
            }
            _ => backend("get", key, error),
        }
    }
}

/// The client configuration shared by [`S3Storage::connect`] and the test helpers.
pub(crate) fn client_builder(
    bucket: &str,
    settings: &S3Settings,
    read_timeout: Option<Duration>,
) -> Result<AmazonS3Builder, OpenError> {
    install_tls_provider();
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(bucket)
        .with_region(&settings.region)
        .with_access_key_id(&settings.access_key_id)
        .with_secret_access_key(&settings.secret_access_key)
        .with_retry(RetryConfig {
            backoff: BackoffConfig::default(),
            max_retries: 4,
            retry_timeout: Duration::from_secs(60),
        })
        .with_client_options({
            // No limit on a whole request: a large upload part or download takes as long as it
            // takes; the read timeout (time to the answer, then between chunks) catches stalls.
            let options = ClientOptions::new()
                .with_connect_timeout(Duration::from_secs(5))
                .with_timeout_disabled();
            match read_timeout {
                Some(timeout) => options.with_read_timeout(timeout),
                None => options.with_read_timeout_disabled(),
            }
        });
    if let Some(token) = &settings.session_token {
        builder = builder.with_token(token);
    }
    Ok(match &settings.endpoint {
        // MinIO, Garage, Ceph, moto, …: path-style, and plain HTTP when the URL says so.
        Some(url) => {
            check_endpoint(url)?;
            builder
                .with_endpoint(url)
                .with_allow_http(url.starts_with("http://"))
                .with_virtual_hosted_style_request(false)
        }
        None => builder.with_virtual_hosted_style_request(true),
    })
}

/// Makes ring the process's TLS provider unless one is installed already. The HTTP client is
/// built with rustls but without a bundled provider, so that the workspace compiles one crypto
/// library (ring, which `object_store` also signs with) instead of two; whichever provider was
/// installed first stays, so this is harmless when the server installs one itself.
pub(crate) fn install_tls_provider() {
    let _already_installed = rustls::crypto::ring::default_provider().install_default();
}

impl fmt::Debug for S3Storage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not derived: the client's own `Debug` would show the access key id.
        f.debug_struct("S3Storage")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl MediaStorage for S3Storage {
    fn describe(&self) -> String {
        match &self.prefix {
            Some(prefix) => format!("s3://{}/{prefix} at {}", self.bucket, self.endpoint),
            None => format!("s3://{} at {}", self.bucket, self.endpoint),
        }
    }

    fn local_path(&self, _key: &MediaKey) -> Option<PathBuf> {
        None
    }

    #[tracing::instrument(level = "debug", skip_all, fields(media.key = %key))]
    async fn put_file(&self, key: &MediaKey, source: &Path) -> Result<u64, StorageError> {
        let file = tokio::fs::File::open(source)
            .await
            .map_err(|e| StorageError::io(key, e))?;
        let mut reader = BufReader::with_capacity(1024 * 1024, file);
        let mut writer =
            BufWriter::with_capacity(self.store.clone(), self.object_path(key), PART_SIZE)
                .with_max_concurrency(PARTS_IN_FLIGHT);
        let copied = match tokio::io::copy_buf(&mut reader, &mut writer).await {
            Ok(n) => writer.shutdown().await.map(|()| n),
            Err(e) => Err(e),
        };
        match copied {
            Ok(n) => Ok(n),
            Err(e) => {
                if let Err(abort) = writer.abort().await {
                    tracing::warn!(media.key = %key, "abandoned multipart upload left behind: {abort}");
                }
                Err(backend("put", key, e))
            }
        }
    }

    #[tracing::instrument(level = "debug", skip_all, fields(media.key = %key))]
    async fn put_bytes(&self, key: &MediaKey, bytes: Bytes) -> Result<(), StorageError> {
        self.store
            .put(&self.object_path(key), PutPayload::from(bytes))
            .await
            .map(drop)
            .map_err(|e| backend("put", key, e))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(media.key = %key))]
    async fn head(&self, key: &MediaKey) -> Result<Option<ObjectMeta>, StorageError> {
        match self.store.head(&self.object_path(key)).await {
            Ok(meta) => Ok(Some(object_meta(&meta))),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(backend("head", key, e)),
        }
    }

    #[tracing::instrument(level = "debug", skip_all, fields(media.key = %key))]
    async fn get(&self, key: &MediaKey) -> Result<Bytes, StorageError> {
        let result = self
            .store
            .get(&self.object_path(key))
            .await
            .map_err(|e| match e {
                object_store::Error::NotFound { .. } => StorageError::NotFound(key.to_string()),
                e => backend("get", key, e),
            })?;
        if result.meta.size > MAX_GET_BYTES {
            return Err(StorageError::TooLarge {
                key: key.to_string(),
                size: result.meta.size,
            });
        }
        result.bytes().await.map_err(|e| backend("get", key, e))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(media.key = %key))]
    async fn get_range(
        &self,
        key: &MediaKey,
        range: Range<u64>,
    ) -> Result<ByteStream, StorageError> {
        if range.start >= range.end {
            // S3 has no empty range; answer from the object's size.
            return match self.head(key).await? {
                None => Err(StorageError::NotFound(key.to_string())),
                Some(meta) if range.start > range.end || range.start > meta.size => {
                    Err(StorageError::RangeNotSatisfiable {
                        key: key.to_string(),
                        range,
                        size: meta.size,
                    })
                }
                Some(_) => Ok(futures_util::stream::empty().boxed()),
            };
        }
        let options = GetOptions {
            range: Some(GetRange::Bounded(range.clone())),
            ..GetOptions::default()
        };
        let answer = tokio::time::timeout(
            STALL_TIMEOUT,
            self.reads.get_opts(&self.object_path(key), options),
        )
        .await
        .map_err(|elapsed| backend("get", key, elapsed))?;
        let result = match answer {
            Ok(result) => result,
            Err(e) => return Err(self.explain_failed_read(key, range, e).await),
        };
        // S3 shortens a range that runs past the end; the contract is to refuse it.
        if range.end > result.meta.size {
            return Err(StorageError::RangeNotSatisfiable {
                key: key.to_string(),
                range,
                size: result.meta.size,
            });
        }
        let key = key.to_string();
        Ok(result
            .into_stream()
            .map_err(move |e| StorageError::Backend {
                op: "get",
                key: key.clone(),
                source: Box::new(e),
            })
            .boxed())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(media.key = %key))]
    async fn get_chosen_range(
        &self,
        key: &MediaKey,
        choose: ChooseRange,
    ) -> Result<Option<ChosenRange>, StorageError> {
        // A HEAD, then a ranged GET of what was chosen, streamed as it arrives: collecting even
        // a small range into one buffer would only delay its first byte. Keys of media are
        // never rewritten, so the object the GET finds is the one the HEAD described.
        let Some(meta) = self.head(key).await? else {
            return Ok(None);
        };
        let bytes = match choose(&meta) {
            None => None,
            Some(range) if range.start > range.end || range.end > meta.size => {
                return Err(StorageError::RangeNotSatisfiable {
                    key: key.to_string(),
                    range,
                    size: meta.size,
                });
            }
            Some(range) if range.is_empty() => Some(RangeBytes::Whole(Bytes::new())),
            Some(range) => Some(RangeBytes::Stream(self.get_range(key, range).await?)),
        };
        Ok(Some(ChosenRange { meta, bytes }))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(media.key = %key))]
    async fn download_to(&self, key: &MediaKey, dest: &Path) -> Result<u64, StorageError> {
        let result = self
            .store
            .get(&self.object_path(key))
            .await
            .map_err(|e| match e {
                object_store::Error::NotFound { .. } => StorageError::NotFound(key.to_string()),
                e => backend("get", key, e),
            })?;
        let io = |e| StorageError::io(key, e);
        let folder = dest.parent().unwrap_or(Path::new(".")).to_owned();
        let name = dest.file_name().unwrap_or_default().to_string_lossy();
        let prefix = format!(".{name}.");
        let temp = tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&folder)?;
            tempfile::Builder::new()
                .prefix(&prefix)
                .suffix(".part")
                .tempfile_in(&folder)
        })
        .await
        .map_err(std::io::Error::other)
        .and_then(|r| r)
        .map_err(io)?;
        let mut file = tokio::fs::File::from_std(temp.as_file().try_clone().map_err(io)?);
        let mut stream = result.into_stream();
        let mut written = 0;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| backend("get", key, e))?;
            file.write_all(&chunk).await.map_err(io)?;
            written += chunk.len() as u64;
        }
        file.sync_all().await.map_err(io)?;
        drop(file);
        let dest = dest.to_owned();
        tokio::task::spawn_blocking(move || temp.persist(dest).map(drop).map_err(|e| e.error))
            .await
            .map_err(std::io::Error::other)
            .and_then(|r| r)
            .map_err(io)?;
        Ok(written)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(media.key = %key))]
    async fn delete(&self, key: &MediaKey) -> Result<(), StorageError> {
        match self.store.delete(&self.object_path(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(backend("delete", key, e)),
        }
    }

    #[tracing::instrument(level = "debug", skip_all, fields(media.prefix = %prefix))]
    async fn delete_prefix(&self, prefix: &MediaKey) -> Result<u64, StorageError> {
        let listed = self
            .store
            .list(Some(&self.object_path(prefix)))
            .map_ok(|meta| meta.location)
            .boxed();
        self.store
            .delete_stream(listed)
            .try_fold(0, |count, _| async move { Ok(count + 1) })
            .await
            .map_err(|e| backend("delete", prefix, e))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(media.prefix = %prefix))]
    async fn list(&self, prefix: &MediaKey) -> Result<Vec<StoredObject>, StorageError> {
        let metas: Vec<_> = self
            .store
            .list(Some(&self.object_path(prefix)))
            .try_collect()
            .await
            .map_err(|e| backend("list", prefix, e))?;
        let mut found: Vec<_> = metas
            .iter()
            .filter_map(|meta| {
                let key = self.key_of(&meta.location);
                if key.is_none() {
                    tracing::warn!(object = %meta.location, "skipping an object whose name is not a media key");
                }
                Some(StoredObject {
                    key: key?,
                    meta: object_meta(meta),
                })
            })
            .collect();
        found.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(found)
    }
}

fn object_meta(meta: &object_store::ObjectMeta) -> ObjectMeta {
    let last_modified = SystemTime::from(meta.last_modified);
    let etag = match &meta.e_tag {
        Some(tag) => tag.trim_start_matches("W/").trim_matches('"').to_owned(),
        None => format!("{:x}-{:x}", meta.last_modified.timestamp(), meta.size),
    };
    ObjectMeta {
        size: meta.size,
        last_modified,
        etag,
    }
}

fn backend(
    op: &'static str,
    key: &MediaKey,
    source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> StorageError {
    StorageError::Backend {
        op,
        key: key.to_string(),
        source: source.into(),
    }
}

/// When `error` comes from failing to connect (or time out) rather than from an answer, the
/// reason, found by walking the chain of sources.
fn connection_failure(error: &object_store::Error) -> Option<String> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = cause {
        if let Some(http) = e.downcast_ref::<HttpError>() {
            return match http.kind() {
                HttpErrorKind::Connect => Some("connection failed".to_owned()),
                HttpErrorKind::Timeout => Some("timed out".to_owned()),
                _ => None,
            }
            .map(|what| match http_root_cause(http) {
                Some(root) => format!("{what} ({root})"),
                None => what,
            });
        }
        cause = e.source();
    }
    None
}

fn http_root_cause(error: &HttpError) -> Option<String> {
    let mut cause = std::error::Error::source(error);
    let mut last = None;
    while let Some(e) = cause {
        last = Some(e.to_string());
        cause = e.source();
    }
    last
}
