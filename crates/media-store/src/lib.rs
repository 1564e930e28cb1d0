//! Where media files live: one [`MediaStorage`] trait with two backends, a local folder
//! ([`LocalStorage`], the default, under the data folder) and S3-compatible object storage
//! ([`S3Storage`], through the `object_store` crate). The server holds an
//! `Arc<dyn MediaStorage>` chosen at start-up by [`open`] from the `--media-url`, so handlers,
//! the packaging job and tests never know which one they have.
//!
//! Objects are named by [`MediaKey`]s, which can only hold safe relative paths: that is the
//! boundary that keeps request paths away from the filesystem. Reads of large objects are
//! streamed in bounded chunks ([`MediaStorage::get_range`] becomes a ranged GET on S3 and a
//! positioned read on disk), and uploads are streamed from a file (multipart on S3), so memory
//! stays flat whatever the file size.

#[cfg(feature = "conformance")]
pub mod conformance;
mod error;
mod key;
mod local;
mod location;
mod s3;
pub mod testing;

pub use error::{OpenError, StorageError};
pub use key::{KeyError, MAX_KEY_LEN, MAX_SEGMENT_LEN, MediaKey};
pub use local::LocalStorage;
pub use location::{MediaLocation, S3Settings};
pub use s3::S3Storage;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::stream::BoxStream;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

/// The largest object [`MediaStorage::get`] reads whole (playlists and subtitles are far
/// smaller; video goes through [`MediaStorage::get_range`]).
pub const MAX_GET_BYTES: u64 = 16 * 1024 * 1024;

/// A stream of an object's bytes, in order, in chunks of bounded size.
pub type ByteStream = BoxStream<'static, Result<Bytes, StorageError>>;

/// What [`MediaStorage::head`] tells about an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    /// Length in bytes.
    pub size: u64,
    pub last_modified: SystemTime,
    /// A strong validator that changes when the content does, without the surrounding quotes
    /// (the HTTP layer adds them).
    pub etag: String,
}

/// One entry of [`MediaStorage::list`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub key: MediaKey,
    pub meta: ObjectMeta,
}

/// Media storage. Object-safe: the server holds an `Arc<dyn MediaStorage>`.
///
/// Prefixes are folders: `list` and `delete_prefix` on `movies/4` see `movies/4/a` but not
/// `movies/42/a`. Writes replace any object under the same key, and a reader sees either the
/// old or the new content, never a mix.
#[async_trait]
pub trait MediaStorage: Send + Sync + std::fmt::Debug {
    /// Where the media lives, for logs and the admin page (`local folder /srv/media`,
    /// `s3://bucket/prefix at http://127.0.0.1:9000`); never holds a credential.
    fn describe(&self) -> String;

    /// The file holding `key` when the backend is a local folder (so ffmpeg can read it
    /// directly), `None` otherwise. Says nothing about whether the file exists.
    fn local_path(&self, key: &MediaKey) -> Option<PathBuf>;

    /// Stores the file at `source` under `key`, streamed (multipart on S3), so files of many
    /// GB are fine. Returns the number of bytes stored.
    async fn put_file(&self, key: &MediaKey, source: &Path) -> Result<u64, StorageError>;

    /// Stores a small object held in memory (a playlist, a subtitle file).
    async fn put_bytes(&self, key: &MediaKey, bytes: Bytes) -> Result<(), StorageError>;

    /// Size, modification time and ETag of an object, or `None` when there is none.
    async fn head(&self, key: &MediaKey) -> Result<Option<ObjectMeta>, StorageError>;

    /// A whole small object; `TooLarge` past [`MAX_GET_BYTES`], `NotFound` when missing.
    async fn get(&self, key: &MediaKey) -> Result<Bytes, StorageError>;

    /// The bytes `range.start..range.end` of an object, streamed. The range must lie within
    /// the object (`RangeNotSatisfiable` otherwise; an empty range at or before the end is
    /// fine). `NotFound` is reported here, before any byte, so a handler can still answer 404.
    async fn get_range(
        &self,
        key: &MediaKey,
        range: Range<u64>,
    ) -> Result<ByteStream, StorageError>;

    /// Copies an object to the local file `dest` (written whole or not at all). Returns the
    /// number of bytes written.
    async fn download_to(&self, key: &MediaKey, dest: &Path) -> Result<u64, StorageError>;

    /// Removes an object; removing a missing one is not an error.
    async fn delete(&self, key: &MediaKey) -> Result<(), StorageError>;

    /// Removes every object under the folder `prefix`; returns how many were removed.
    async fn delete_prefix(&self, prefix: &MediaKey) -> Result<u64, StorageError>;

    /// Every object under the folder `prefix`, at any depth, ordered by key.
    async fn list(&self, prefix: &MediaKey) -> Result<Vec<StoredObject>, StorageError>;
}

/// Opens the media storage named by `url` (the `--media-url` flag):
///
/// * `None` or an empty string: the folder `<data_dir>/media`;
/// * a plain path or a `file:///absolute/path` URL: that folder;
/// * `s3://bucket` or `s3://bucket/prefix`: S3-compatible storage, configured from the
///   environment (see [`S3Settings::from_env`]); the bucket is checked to be reachable with
///   these credentials before this returns.
pub async fn open(url: Option<&str>, data_dir: &Path) -> Result<Arc<dyn MediaStorage>, OpenError> {
    match MediaLocation::parse(url, data_dir)? {
        MediaLocation::Local(root) => Ok(Arc::new(LocalStorage::open(&root).await?)),
        MediaLocation::S3 { bucket, prefix } => {
            let settings = S3Settings::from_env()?;
            Ok(Arc::new(
                S3Storage::connect(&bucket, prefix, &settings).await?,
            ))
        }
    }
}
