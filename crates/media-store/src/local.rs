//! The local-folder backend, written directly on `std::fs` (run on Tokio's blocking pool)
//! rather than `object_store`'s `LocalFileSystem`, for four reasons: a key maps to exactly the
//! file of the same relative path (so ffmpeg can be handed [`LocalStorage::local_path`]
//! without any name encoding); every write goes to a temporary file that is fsynced and then
//! renamed over the target (and the folder fsynced), so a crash never leaves half a segment
//! under a real name; range reads are reads of bounded chunks from one open file handle, so a
//! reader keeps seeing the file it opened even if it is replaced meanwhile; and uploads use
//! `std::io::copy`, which Linux turns into `copy_file_range`.
//!
//! Serving a range is the hot path (a player seeking through a film): `get_chosen_range` opens
//! the file, takes its metadata from the open handle and reads a range of up to
//! [`MAX_WHOLE_READ`] bytes in the same blocking task, mapped from the page cache rather than
//! copied (`mapped.rs`); larger ranges are streamed in chunks read into buffers that are not
//! zeroed first and are reused once the response that carried them is gone ([`BufferPool`]).

use crate::{ByteStream, MAX_GET_BYTES, MAX_WHOLE_READ, MediaKey, MediaStorage, ObjectMeta};
use crate::{ChooseRange, ChosenRange, OpenError, RangeBytes, StorageError, StoredObject};
use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt;
use std::fs::{File, Metadata};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::UNIX_EPOCH;

/// Bytes read per chunk of a range stream (a range larger than [`MAX_WHOLE_READ`], such as a
/// whole film): each chunk is one blocking-pool round trip, and hyper holds up to about three
/// of them per connection (it takes more while it has less than ~400 KiB to write), so this
/// bounds a streaming client's memory.
const READ_CHUNK: u64 = 256 * 1024;

/// Whole reads longer than this take a buffer from a [`BufferPool`]; shorter ones (a subtitle
/// file, a playlist, the few bytes a player probes) get one of their own size.
const POOLED_READ_MIN: u64 = 64 * 1024;

/// Idle buffers of [`READ_CHUNK`] bytes kept for range streams: three for each of 32 streaming
/// connections (24 MiB).
const CHUNK_BUFFERS_IDLE: usize = 96;

/// Media in a folder on this machine.
#[derive(Debug, Clone)]
pub struct LocalStorage {
    root: PathBuf,
    /// Buffers of [`READ_CHUNK`] bytes, for the chunks of range streams.
    chunks: Arc<BufferPool>,
}

impl LocalStorage {
    /// Uses (and creates if needed) the folder `root`, and checks that a file can be written
    /// there, so a read-only or mistyped folder is reported at start-up.
    pub async fn open(root: &Path) -> Result<Self, OpenError> {
        let folder_error = |source| OpenError::LocalFolder {
            path: root.to_owned(),
            source,
        };
        let root = std::path::absolute(root).map_err(folder_error)?;
        let probe_root = root.clone();
        blocking(move || {
            std::fs::create_dir_all(&probe_root)?;
            tempfile::Builder::new()
                .prefix(".probe")
                .tempfile_in(&probe_root)
                .map(drop)
        })
        .await
        .map_err(folder_error)?;
        Ok(Self {
            root,
            chunks: BufferPool::new(READ_CHUNK, CHUNK_BUFFERS_IDLE),
        })
    }

    /// The folder holding the media.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &MediaKey) -> PathBuf {
        // Safe by construction: every segment of a `MediaKey` is a plain file name.
        let mut path = self.root.clone();
        path.extend(key.segments());
        path
    }
}

#[async_trait]
impl MediaStorage for LocalStorage {
    fn describe(&self) -> String {
        format!("local folder {}", self.root.display())
    }

    fn local_path(&self, key: &MediaKey) -> Option<PathBuf> {
        Some(self.path(key))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(media.key = %key))]
    async fn put_file(&self, key: &MediaKey, source: &Path) -> Result<u64, StorageError> {
        let (dest, source) = (self.path(key), source.to_owned());
        blocking(move || {
            let mut from = File::open(&source)?;
            write_atomically(&dest, |to| io::copy(&mut from, to))
        })
        .await
        .map_err(|e| StorageError::io(key, e))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(media.key = %key))]
    async fn put_bytes(&self, key: &MediaKey, bytes: Bytes) -> Result<(), StorageError> {
        let dest = self.path(key);
        blocking(move || write_atomically(&dest, |to| to.write_all(&bytes)))
            .await
            .map_err(|e| StorageError::io(key, e))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(media.key = %key))]
    async fn head(&self, key: &MediaKey) -> Result<Option<ObjectMeta>, StorageError> {
        match tokio::fs::metadata(self.path(key)).await {
            Ok(m) if m.is_file() => Ok(Some(object_meta(&m))),
            Ok(_) => Ok(None),
            Err(e) if is_missing(&e) => Ok(None),
            Err(e) => Err(StorageError::io(key, e)),
        }
    }

    #[tracing::instrument(level = "debug", skip_all, fields(media.key = %key))]
    async fn get(&self, key: &MediaKey) -> Result<Bytes, StorageError> {
        let path = self.path(key);
        let read = blocking(move || {
            let (file, meta) = open_file(&path)?;
            let size = meta.len();
            if size > MAX_GET_BYTES {
                return Ok(Err(size));
            }
            let mut buf = Vec::with_capacity(size as usize);
            io::Read::read_to_end(&mut &file, &mut buf)?;
            Ok(Ok(Bytes::from(buf)))
        })
        .await;
        match read {
            Ok(Ok(bytes)) => Ok(bytes),
            Ok(Err(size)) => Err(StorageError::TooLarge {
                key: key.to_string(),
                size,
            }),
            Err(e) => Err(map_missing(key, e)),
        }
    }

    #[tracing::instrument(level = "debug", skip_all, fields(media.key = %key))]
    async fn get_range(
        &self,
        key: &MediaKey,
        range: Range<u64>,
    ) -> Result<ByteStream, StorageError> {
        let path = self.path(key);
        let (file, meta) = blocking(move || open_file(&path))
            .await
            .map_err(|e| map_missing(key, e))?;
        if range.start > range.end || range.end > meta.len() {
            return Err(StorageError::RangeNotSatisfiable {
                key: key.to_string(),
                range,
                size: meta.len(),
            });
        }
        Ok(range_stream(
            file,
            range,
            self.chunks.clone(),
            key.to_string(),
        ))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(media.key = %key))]
    async fn get_chosen_range(
        &self,
        key: &MediaKey,
        choose: ChooseRange,
    ) -> Result<Option<ChosenRange>, StorageError> {
        let path = self.path(key);
        let chunks = self.chunks.clone();
        // One blocking task for the lot: open, fstat, choose, and read a small range whole (or
        // a large one's first chunk), so a request costs one round trip to the blocking pool.
        let found = blocking(move || {
            let (file, meta) = match open_file(&path) {
                Ok(opened) => opened,
                Err(e) if is_missing(&e) || e.kind() == io::ErrorKind::IsADirectory => {
                    return Ok(None);
                }
                Err(e) => return Err(e),
            };
            let meta = object_meta(&meta);
            let read = match choose(&meta) {
                None => Found::Nothing,
                Some(range) if range.start > range.end || range.end > meta.size => {
                    Found::Outside(range)
                }
                Some(range) if range.end - range.start <= POOLED_READ_MIN => {
                    Found::Whole(read_new(&file, range.start, range.end - range.start)?)
                }
                Some(range) if range.end - range.start <= MAX_WHOLE_READ => Found::Whole(
                    crate::mapped::map_range(&file, range.start, range.end - range.start)?,
                ),
                Some(range) => {
                    let first_len = READ_CHUNK.min(range.end - range.start);
                    let first = chunks.read(&file, range.start, first_len)?;
                    Found::Stream(file, first, range)
                }
            };
            Ok(Some((meta, read)))
        })
        .await
        .map_err(|e| StorageError::io(key, e))?;
        let Some((meta, read)) = found else {
            return Ok(None);
        };
        let bytes = match read {
            Found::Nothing => None,
            Found::Outside(range) => {
                return Err(StorageError::RangeNotSatisfiable {
                    key: key.to_string(),
                    range,
                    size: meta.size,
                });
            }
            Found::Whole(bytes) => Some(RangeBytes::Whole(bytes)),
            Found::Stream(file, first, range) => {
                let rest = range.start + first.len() as u64..range.end;
                let first = futures_util::stream::once(async { Ok(first) });
                let rest = range_stream(file, rest, self.chunks.clone(), key.to_string());
                Some(RangeBytes::Stream(first.chain(rest).boxed()))
            }
        };
        Ok(Some(ChosenRange { meta, bytes }))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(media.key = %key))]
    async fn download_to(&self, key: &MediaKey, dest: &Path) -> Result<u64, StorageError> {
        let source = self.path(key);
        let (mut from, _) = blocking(move || open_file(&source))
            .await
            .map_err(|e| map_missing(key, e))?;
        let dest = dest.to_owned();
        blocking(move || write_atomically(&dest, |to| io::copy(&mut from, to)))
            .await
            .map_err(|e| StorageError::io(key, e))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(media.key = %key))]
    async fn delete(&self, key: &MediaKey) -> Result<(), StorageError> {
        match tokio::fs::remove_file(self.path(key)).await {
            // A folder is not an object, so there was nothing to delete.
            Err(e) if !is_missing(&e) && e.kind() != io::ErrorKind::IsADirectory => {
                Err(StorageError::io(key, e))
            }
            _ => Ok(()),
        }
    }

    #[tracing::instrument(level = "debug", skip_all, fields(media.prefix = %prefix))]
    async fn delete_prefix(&self, prefix: &MediaKey) -> Result<u64, StorageError> {
        let folder = self.path(prefix);
        blocking(move || {
            let count = walk(&folder, &mut |_, _| {})?;
            match std::fs::remove_dir_all(&folder) {
                Err(e) if !is_missing(&e) => Err(e),
                _ => Ok(count),
            }
        })
        .await
        .map_err(|e| StorageError::io(prefix, e))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(media.prefix = %prefix))]
    async fn list(&self, prefix: &MediaKey) -> Result<Vec<StoredObject>, StorageError> {
        let (folder, base) = (self.path(prefix), prefix.clone());
        let mut found = blocking(move || {
            let mut found = Vec::new();
            walk(&folder, &mut |relative, meta| {
                match base.join(relative) {
                    Ok(key) => found.push(StoredObject {
                        key,
                        meta: object_meta(meta),
                    }),
                    Err(e) => {
                        tracing::warn!(media.key = %base, file = relative, "skipping a file whose name is not a media key: {e}");
                    }
                }
            })?;
            Ok(found)
        })
        .await
        .map_err(|e| StorageError::io(prefix, e))?;
        found.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(found)
    }
}

/// Runs blocking filesystem work off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(io::Error::other)?
}

/// Writes `dest` through a temporary file in the same folder that is fsynced, then renamed
/// over `dest`; the folder is fsynced too so the rename survives a crash. Creates the folder.
/// The temporary name starts with `.`, which no key can, so readers and `list` never see it;
/// it is removed if anything fails.
fn write_atomically<T>(
    dest: &Path,
    write: impl FnOnce(&mut File) -> io::Result<T>,
) -> io::Result<T> {
    let folder = dest
        .parent()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no parent folder"))?;
    std::fs::create_dir_all(folder)?;
    let name = dest.file_name().unwrap_or_default().to_string_lossy();
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".part")
        .tempfile_in(folder)?;
    let written = write(temp.as_file_mut())?;
    temp.as_file().sync_all()?;
    temp.persist(dest).map_err(|e| e.error)?;
    File::open(folder)?.sync_all()?;
    Ok(written)
}

/// What the blocking part of `get_chosen_range` found in the file it opened.
enum Found {
    /// No range was chosen.
    Nothing,
    /// The chosen range does not lie within the file.
    Outside(Range<u64>),
    /// A range of at most [`MAX_WHOLE_READ`] bytes, read whole.
    Whole(Bytes),
    /// A larger range: the file, its first [`READ_CHUNK`] bytes, and the whole range.
    Stream(File, Bytes, Range<u64>),
}

/// Streams `range` of `file` as chunks of at most [`READ_CHUNK`] bytes in buffers from
/// `chunks`, each read on the blocking pool when the previous one has been taken; nothing else
/// is buffered. The file moves into each blocking task and back, and is closed at the end of
/// the range.
fn range_stream(file: File, range: Range<u64>, chunks: Arc<BufferPool>, key: String) -> ByteStream {
    futures_util::stream::try_unfold((Some(file), range.start), move |(file, pos)| {
        let (chunks, key, end) = (chunks.clone(), key.clone(), range.end);
        async move {
            let Some(file) = file.filter(|_| pos < end) else {
                return Ok(None);
            };
            let len = (end - pos).min(READ_CHUNK);
            let (file, chunk) = blocking(move || {
                let chunk = chunks.read(&file, pos, len)?;
                Ok((file, chunk))
            })
            .await
            .map_err(|e| StorageError::io(&key, e))?;
            Ok(Some((chunk, (Some(file), pos + len))))
        }
    })
    .boxed()
}

/// Reads `len` bytes of `file` from `pos` into a new buffer of that size.
fn read_new(file: &File, pos: u64, len: u64) -> io::Result<Bytes> {
    let mut buf = Vec::with_capacity(usize::try_from(len).map_err(io::Error::other)?);
    read_exact_at(file, pos, len, &mut buf)?;
    Ok(Bytes::from(buf))
}

/// Reads `len` bytes of `file` from `pos` into the empty `buf`, or fails with `UnexpectedEof`
/// if the file ends first. The buffer is not zeroed before the read: given a `Vec`'s spare
/// capacity, `read_to_end` has `File` read into it as it is.
fn read_exact_at(mut file: &File, pos: u64, len: u64, buf: &mut Vec<u8>) -> io::Result<()> {
    debug_assert!(buf.is_empty());
    file.seek(SeekFrom::Start(pos))?;
    file.take(len).read_to_end(buf)?;
    if buf.len() as u64 != len {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(())
}

/// Read buffers of one size, each given back when the last `Bytes` of its read is dropped
/// (when hyper has written it), and kept, up to a number, for the next read. Without them
/// every read allocates fresh memory on whichever blocking thread ran it and frees it on an
/// async worker; spread over malloc's per-thread arenas, that took Marquee from 16 to 130 MB
/// within 20 s of random 1 MiB range reads on the benchmark machine, where pooled buffers hold
/// it at about 45 MB. Reused memory also spares the page faults of new memory, and the most
/// recently given back buffer, taken first, may still be in the CPU's cache.
#[derive(Debug)]
struct BufferPool {
    /// The capacity of every buffer.
    size: usize,
    max_idle: usize,
    idle: Mutex<Vec<Vec<u8>>>,
}

impl BufferPool {
    fn new(size: u64, max_idle: usize) -> Arc<Self> {
        Arc::new(Self {
            size: usize::try_from(size).expect("a buffer size that fits in memory"),
            max_idle,
            idle: Mutex::default(),
        })
    }

    /// Reads `len` bytes (at most the pool's buffer size) of `file` from `pos` into a buffer
    /// of the pool.
    fn read(self: &Arc<Self>, file: &File, pos: u64, len: u64) -> io::Result<Bytes> {
        debug_assert!(len <= self.size as u64);
        let reused = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut buf = reused.unwrap_or_else(|| Vec::with_capacity(self.size));
        read_exact_at(file, pos, len, &mut buf)?;
        Ok(Bytes::from_owner(Pooled {
            buf,
            pool: self.clone(),
        }))
    }

    /// Keeps `buf` for the next read, unless `max_idle` buffers are idle already.
    fn give_back(&self, mut buf: Vec<u8>) {
        buf.clear();
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < self.max_idle {
            idle.push(buf);
        }
    }
}

/// A pooled buffer as the owner of a `Bytes`: goes back to its pool when dropped.
struct Pooled {
    buf: Vec<u8>,
    pool: Arc<BufferPool>,
}

impl AsRef<[u8]> for Pooled {
    fn as_ref(&self) -> &[u8] {
        &self.buf
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        self.pool.give_back(std::mem::take(&mut self.buf));
    }
}

/// Calls `visit` with the path relative to `folder` (with `/` separators) and metadata of
/// every regular file under it, skipping hidden names; returns how many it visited. A missing
/// folder holds nothing.
fn walk(folder: &Path, visit: &mut dyn FnMut(&str, &Metadata)) -> io::Result<u64> {
    fn go(dir: &Path, relative: &str, visit: &mut dyn FnMut(&str, &Metadata)) -> io::Result<u64> {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if is_missing(&e) => return Ok(0),
            Err(e) => return Err(e),
        };
        let mut count = 0;
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                continue;
            };
            if name.starts_with('.') {
                continue;
            }
            let path = if relative.is_empty() {
                name.to_owned()
            } else {
                format!("{relative}/{name}")
            };
            let file_type = entry.file_type()?;
            if file_type.is_dir() {
                count += go(&entry.path(), &path, visit)?;
            } else if file_type.is_file() {
                visit(&path, &entry.metadata()?);
                count += 1;
            }
        }
        Ok(count)
    }
    go(folder, "", visit)
}

fn object_meta(meta: &Metadata) -> ObjectMeta {
    let last_modified = meta.modified().unwrap_or(UNIX_EPOCH);
    let nanos = last_modified
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    ObjectMeta {
        size: meta.len(),
        last_modified,
        // Like nginx's: changes whenever the file is replaced (every write is a rename of a
        // new file, so the modification time moves) or its size changes.
        etag: format!("{nanos:x}-{:x}", meta.len()),
    }
}

/// Opens the regular file at `path` with its metadata (one `fstat` of the open handle);
/// anything else (a folder) is `NotFound`.
fn open_file(path: &Path) -> io::Result<(File, Metadata)> {
    let file = File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::ErrorKind::NotFound.into());
    }
    Ok((file, meta))
}

/// No such file, or a path through a file (`a/b` when `a` is a file): no object either way.
fn is_missing(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

fn map_missing(key: &MediaKey, e: io::Error) -> StorageError {
    if is_missing(&e) || e.kind() == io::ErrorKind::IsADirectory {
        StorageError::NotFound(key.to_string())
    } else {
        StorageError::io(key, e)
    }
}
