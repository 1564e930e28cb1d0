//! Where media files live: one [`MediaStorage`] trait with two backends, a local folder
//! ([`LocalStorage`], the default, under the data folder) and S3-compatible object storage
//! ([`S3Storage`], through the `object_store` crate). The server holds an
//! `Arc<dyn MediaStorage>` chosen at start-up by [`open`] from the `--media-url`, so handlers,
//! the packaging job and tests never know which one they have.
//!
//! Objects are named by [`MediaKey`]s, which can only hold safe relative paths: that is the
//! boundary that keeps request paths away from the filesystem. Reads of large objects are
//! streamed in bounded chunks ([`MediaStorage::get_range`] becomes a ranged GET on S3 and a
//! read of one open file on disk; [`MediaStorage::get_chosen_range`] hands back ranges of up to
//! [`MAX_WHOLE_READ`] bytes in one buffer), and uploads are streamed from a file (multipart on
//! S3), so memory stays flat whatever the file size.

#[cfg(feature = "conformance")]
pub mod conformance;
mod error;
mod key;
mod local;
mod location;
mod mapped;
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

/// The largest range [`MediaStorage::get_chosen_range`] may answer in one buffer
/// ([`RangeBytes::Whole`]) rather than as a stream: what a player asks for when it seeks,
/// and little enough that one per connection stays a bounded buffer.
pub const MAX_WHOLE_READ: u64 = 1024 * 1024;

/// Picks, from an object's metadata, the bytes of it to read (`None` for none: a `HEAD`, a
/// `304`, a `416`). Called at most once, possibly on a blocking thread.
pub type ChooseRange = Box<dyn FnOnce(&ObjectMeta) -> Option<Range<u64>> + Send>;

/// What [`MediaStorage::get_chosen_range`] found: the object's metadata and, when a range was
/// chosen, its bytes.
#[derive(Debug)]
pub struct ChosenRange {
    pub meta: ObjectMeta,
    pub bytes: Option<RangeBytes>,
}

/// The bytes of a [`ChosenRange`].
pub enum RangeBytes {
    /// All of them in one buffer, read at once; never more than [`MAX_WHOLE_READ`] bytes.
    Whole(Bytes),
    /// Streamed in bounded chunks.
    Stream(ByteStream),
}

impl std::fmt::Debug for RangeBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Whole(bytes) => write!(f, "Whole({} bytes)", bytes.len()),
            Self::Stream(_) => f.write_str("Stream"),
        }
    }
}

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

    /// An object's metadata and the range `choose` picks from it, in one step: what serving
    /// a request for a range costs (one open, one `fstat` and one read on disk, where `head`
    /// then `get_range` would open and stat the file twice and hop to a blocking thread for
    /// each). On disk the metadata and the bytes come from the same open file, so a validator
    /// always matches the bytes sent under it even if the object is replaced meanwhile; on S3
    /// it is a `HEAD` and a ranged `GET`, as with `head` and `get_range`.
    ///
    /// `Ok(None)` when there is no object; `RangeNotSatisfiable` when the chosen range does not
    /// lie within it (an empty range at or before the end is fine). A range of at most
    /// [`MAX_WHOLE_READ`] bytes may come back [`RangeBytes::Whole`]; a larger one is streamed.
    async fn get_chosen_range(
        &self,
        key: &MediaKey,
        choose: ChooseRange,
    ) -> Result<Option<ChosenRange>, StorageError>;

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

/// [`MediaStorage::get_chosen_range`] on both backends: the local folder always, S3 when the
/// test server is set up (see `testing`). They belong with the conformance suite; they sit
/// here because this method's change was confined to this crate's `lib.rs`, `local.rs` and
/// `s3.rs`.
#[cfg(test)]
mod chosen_range_tests {
    use super::*;
    use futures_util::StreamExt;

    fn key(s: &str) -> MediaKey {
        MediaKey::parse(s).unwrap()
    }

    /// Bytes whose value depends on their offset, so a shifted range is caught.
    fn pattern(len: usize) -> Vec<u8> {
        (0..len)
            .map(|i| (i % 251) as u8 ^ (i >> 16) as u8)
            .collect()
    }

    fn choose(range: Option<Range<u64>>) -> ChooseRange {
        Box::new(move |_: &ObjectMeta| range)
    }

    /// The bytes of a read, checking that a stream's chunks stay bounded.
    async fn collect(bytes: RangeBytes) -> Vec<u8> {
        match bytes {
            RangeBytes::Whole(bytes) => {
                assert!(
                    bytes.len() as u64 <= MAX_WHOLE_READ,
                    "{} bytes",
                    bytes.len()
                );
                bytes.to_vec()
            }
            RangeBytes::Stream(mut stream) => {
                let mut all = Vec::new();
                while let Some(chunk) = stream.next().await {
                    let chunk = chunk.expect("reading a range");
                    assert!(chunk.len() <= 4 * 1024 * 1024, "{} bytes", chunk.len());
                    all.extend_from_slice(&chunk);
                }
                all
            }
        }
    }

    async fn each_range_comes_back_exactly_with_the_metadata_head_gives(
        storage: &dyn MediaStorage,
    ) {
        let k = key("films/1/source.mp4");
        let data = pattern(3 * 1024 * 1024 + 17);
        let size = data.len() as u64;
        storage.put_bytes(&k, data.clone().into()).await.unwrap();
        let head = storage.head(&k).await.unwrap().unwrap();
        let whole = MAX_WHOLE_READ;
        for range in [
            0..100,
            1000..1000 + 64 * 1024,
            1000..1000 + 64 * 1024 + 1,
            12345..12345 + whole,
            size - whole..size,
            7..7 + whole + 1,
            0..size,
            size..size,
            5..5,
        ] {
            let found = storage
                .get_chosen_range(&k, choose(Some(range.clone())))
                .await
                .unwrap_or_else(|e| panic!("{range:?}: {e}"))
                .expect("the object is there");
            assert_eq!(found.meta, head, "{range:?}");
            let bytes = collect(found.bytes.expect("a range was chosen")).await;
            let want = &data[range.start as usize..range.end as usize];
            assert!(bytes == want, "{range:?}: {} bytes", bytes.len());
        }
        // Reads after reads of other lengths (so reused buffers) are still exact.
        for start in [0, 999_999, 2_000_000, 5] {
            let range = start..start + whole - start % 3;
            let found = storage
                .get_chosen_range(&k, choose(Some(range.clone())))
                .await
                .unwrap()
                .unwrap();
            let bytes = collect(found.bytes.unwrap()).await;
            assert!(
                bytes == data[range.start as usize..range.end as usize],
                "{range:?}"
            );
        }

        let nothing = storage.get_chosen_range(&k, choose(None)).await.unwrap();
        let nothing = nothing.expect("the object is there");
        assert_eq!(nothing.meta, head);
        assert!(nothing.bytes.is_none());

        // The chooser sees the object's metadata.
        let seen = storage
            .get_chosen_range(
                &k,
                Box::new(|meta: &ObjectMeta| Some(meta.size - 3..meta.size)),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(collect(seen.bytes.unwrap()).await, data[data.len() - 3..]);
    }

    async fn a_missing_object_is_none_and_a_range_outside_one_is_refused(
        storage: &dyn MediaStorage,
    ) {
        let missing = storage
            .get_chosen_range(&key("films/2/none.mp4"), choose(Some(0..10)))
            .await
            .unwrap();
        assert!(missing.is_none());

        let k = key("films/2/short.vtt");
        storage.put_bytes(&k, pattern(100).into()).await.unwrap();
        for range in [0..101, 100..101, 101..101, 200..300] {
            match storage
                .get_chosen_range(&k, choose(Some(range.clone())))
                .await
            {
                Err(StorageError::RangeNotSatisfiable { size: 100, .. }) => {}
                other => panic!("{range:?}: {other:?}"),
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn local_reads_chosen_ranges_exactly() {
        let (storage, _dir) = testing::fresh_local().await;
        each_range_comes_back_exactly_with_the_metadata_head_gives(&storage).await;
        a_missing_object_is_none_and_a_range_outside_one_is_refused(&storage).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn s3_reads_chosen_ranges_exactly() {
        let Some(storage) = testing::fresh_s3().await else {
            return;
        };
        each_range_comes_back_exactly_with_the_metadata_head_gives(&storage).await;
        a_missing_object_is_none_and_a_range_outside_one_is_refused(&storage).await;
    }

    /// On disk the metadata and the bytes come from the one open file: a read that began
    /// before the object was replaced sends the old bytes to the end.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn local_streams_the_version_it_opened_even_when_it_is_replaced() {
        let (storage, _dir) = testing::fresh_local().await;
        let k = key("films/3/source.mp4");
        let old = pattern(3 * 1024 * 1024);
        storage.put_bytes(&k, old.clone().into()).await.unwrap();
        let found = storage
            .get_chosen_range(&k, choose(Some(0..old.len() as u64)))
            .await
            .unwrap()
            .unwrap();
        storage.put_bytes(&k, vec![7; 10].into()).await.unwrap();
        assert!(collect(found.bytes.unwrap()).await == old);
        let new = storage.get_chosen_range(&k, choose(Some(0..10))).await;
        let new = new.unwrap().unwrap();
        assert_ne!(new.meta, found.meta);
        assert_eq!(collect(new.bytes.unwrap()).await, vec![7; 10]);
    }
}
