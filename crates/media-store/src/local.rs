//! The local-folder backend, written directly on `std::fs` (run on Tokio's blocking pool)
//! rather than `object_store`'s `LocalFileSystem`, for four reasons: a key maps to exactly the
//! file of the same relative path (so ffmpeg can be handed [`LocalStorage::local_path`]
//! without any name encoding); every write goes to a temporary file that is fsynced and then
//! renamed over the target (and the folder fsynced), so a crash never leaves half a segment
//! under a real name; range reads are positioned reads of bounded chunks from one open file
//! handle, so a reader keeps seeing the file it opened even if it is replaced meanwhile; and
//! uploads use `std::io::copy`, which Linux turns into `copy_file_range`.

use crate::{ByteStream, MAX_GET_BYTES, MediaKey, MediaStorage, ObjectMeta, OpenError};
use crate::{StorageError, StoredObject};
use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use std::fs::{File, Metadata};
use std::io::{self, Write};
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

/// Bytes read per chunk of a range stream: large enough to keep the blocking-pool round
/// trips cheap, small enough that 32 concurrent streams stay within a few MiB.
const READ_CHUNK: usize = 256 * 1024;

/// Media in a folder on this machine.
#[derive(Debug, Clone)]
pub struct LocalStorage {
    root: PathBuf,
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
        Ok(Self { root })
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
            let (file, size) = open_file(&path)?;
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
        let (file, size) = blocking(move || open_file(&path))
            .await
            .map_err(|e| map_missing(key, e))?;
        if range.start > range.end || range.end > size {
            return Err(StorageError::RangeNotSatisfiable {
                key: key.to_string(),
                range,
                size,
            });
        }
        Ok(range_stream(Arc::new(file), range, key.to_string()))
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

/// Streams `range` of `file` as chunks of at most [`READ_CHUNK`] bytes, each read with one
/// positioned read on the blocking pool; nothing else is buffered.
fn range_stream(file: Arc<File>, range: Range<u64>, key: String) -> ByteStream {
    futures_util::stream::try_unfold(range.start, move |pos| {
        let (file, key, end) = (file.clone(), key.clone(), range.end);
        async move {
            if pos >= end {
                return Ok(None);
            }
            let len = (end - pos).min(READ_CHUNK as u64) as usize;
            let chunk = blocking(move || {
                let mut buf = BytesMut::zeroed(len);
                let mut filled = 0;
                while filled < len {
                    match file.read_at(&mut buf[filled..], pos + filled as u64) {
                        Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                        Ok(n) => filled += n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(buf.freeze())
            })
            .await
            .map_err(|e| StorageError::io(&key, e))?;
            Ok(Some((chunk, pos + len as u64)))
        }
    })
    .boxed()
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

/// Opens the regular file at `path` with its size; anything else (a folder) is `NotFound`.
fn open_file(path: &Path) -> io::Result<(File, u64)> {
    let file = File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::ErrorKind::NotFound.into());
    }
    Ok((file, meta.len()))
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
