//! Taking media in: probe the file, store it and its subtitles, record them, queue packaging.
//! Shared by `marquee media add` and the admin upload, so both apply the same checks, and a file
//! that fails any of them leaves nothing behind (no record, no stored object).

use marquee_domain::MovieId;
use marquee_domain::time_fmt::now_ms;
use marquee_media::subtitles::{SubtitleError, SubtitleLang, WebVtt, decode_text, srt_to_vtt};
use marquee_media::{ProbeError, Tools, content_type};
use marquee_media_store::{MediaKey, MediaStorage, StorageError};
use marquee_store::{MediaRecord, Movie, NewMedia, Store, StoreError, SubtitleRecord};
use std::path::{Path, PathBuf};

/// The job kind that packages a film's media into HLS.
pub const HLS_JOB: &str = "hls";

/// Largest subtitle file taken in: a feature film's subtitles are a few hundred KB.
pub const MAX_SUBTITLE_BYTES: u64 = 5 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error(transparent)]
    Probe(#[from] ProbeError),
    #[error("subtitles {file}: {source}")]
    Subtitle { file: String, source: SubtitleError },
    #[error("subtitles {file}: {message}")]
    SubtitleFile { file: String, message: String },
    #[error("storing the media failed: {0}")]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A subtitle file to add, in a language.
#[derive(Debug, Clone)]
pub struct SubtitleInput {
    pub path: PathBuf,
    /// What people call the file (the uploaded name); the path's file name when `None`.
    pub name: Option<String>,
    pub lang: SubtitleLang,
}

/// WebVTT from an `.srt` or `.vtt` file (the kind decided by its content, not its name).
pub async fn read_subtitles(input: &SubtitleInput) -> Result<WebVtt, MediaError> {
    let file = input
        .name
        .clone()
        .unwrap_or_else(|| display_name(&input.path));
    let bad = |message: String| MediaError::SubtitleFile {
        file: file.clone(),
        message,
    };
    let meta = tokio::fs::metadata(&input.path)
        .await
        .map_err(|e| bad(e.to_string()))?;
    if meta.len() > MAX_SUBTITLE_BYTES {
        return Err(bad(format!(
            "larger than {} MB",
            MAX_SUBTITLE_BYTES / 1024 / 1024
        )));
    }
    let bytes = tokio::fs::read(&input.path)
        .await
        .map_err(|e| bad(e.to_string()))?;
    let text = decode_text(&bytes);
    let as_error = |source| MediaError::Subtitle {
        file: file.clone(),
        source,
    };
    if text.trim_start_matches('\u{feff}').starts_with("WEBVTT") {
        WebVtt::parse(&text).map_err(as_error)
    } else {
        let converted = srt_to_vtt(&text).map_err(as_error)?;
        for skipped in &converted.skipped {
            tracing::warn!(file = %file, line = skipped.line, problem = %skipped.problem, "subtitle cue skipped");
        }
        Ok(converted.vtt)
    }
}

fn display_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// A fresh folder for one upload of a film's media: replacing the file never overwrites the
/// objects the previous one's viewers are still streaming.
fn upload_folder(movie: MovieId) -> MediaKey {
    let token = crate::auth::random_token();
    let short: String = token
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(12)
        .collect();
    MediaKey::parse(&format!("films/{}/{short}", movie.0)).expect("digits and letters only")
}

/// The folder an upload's objects live in, from its source object's key.
pub fn folder_of(storage_key: &str) -> Option<MediaKey> {
    MediaKey::parse(storage_key).ok()?.parent()
}

pub fn subtitle_key(folder: &MediaKey, lang: &SubtitleLang) -> MediaKey {
    folder
        .join(&format!("subtitles/{}.vtt", lang.as_str()))
        .expect("a language tag is a safe file name")
}

/// Adds (or replaces) a film's media file with its subtitles and queues its HLS packaging.
/// Everything is checked before anything is stored; if storing fails half-way the stored part
/// is removed again.
pub async fn add_media(
    store: &dyn Store,
    storage: &dyn MediaStorage,
    tools: &Tools,
    movie: &Movie,
    file: &Path,
    file_name: &str,
    subtitles: &[SubtitleInput],
) -> Result<MediaRecord, MediaError> {
    let info = marquee_media::probe(tools, file).await?;
    let mut vtts = Vec::with_capacity(subtitles.len());
    for s in subtitles {
        vtts.push((s.lang.clone(), read_subtitles(s).await?));
    }
    let folder = upload_folder(movie.id);
    let ext = Path::new(file_name)
        .extension()
        .and_then(|e| e.to_str())
        .filter(|e| e.len() <= 5 && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(|e| e.to_ascii_lowercase())
        .unwrap_or_else(|| "bin".into());
    let source = folder
        .join(&format!("source.{ext}"))
        .expect("a checked extension");
    let stored = async {
        let size = storage.put_file(&source, file).await?;
        for (lang, vtt) in &vtts {
            storage
                .put_bytes(&subtitle_key(&folder, lang), vtt.as_str().to_owned().into())
                .await?;
        }
        let now = now_ms();
        let old = store
            .put_media(&NewMedia {
                movie_id: movie.id,
                storage_key: source.as_str().to_owned(),
                file_name: file_name.to_owned(),
                content_type: content_type::for_media(&info)
                    .unwrap_or("application/octet-stream")
                    .to_owned(),
                size_bytes: size,
                duration_ms: info.duration_ms,
                width: info.video.display_size().0,
                height: info.video.display_size().1,
                video_codec: info.video.codec.clone(),
                audio_codec: info.default_audio().map(|a| a.codec.clone()),
                probe_json: serde_json::to_string(&info).unwrap_or_default(),
                now_ms: now,
            })
            .await?;
        for (lang, _) in &vtts {
            store
                .put_subtitle(&SubtitleRecord {
                    movie_id: movie.id,
                    lang: lang.as_str().to_owned(),
                    label: lang.display_name(),
                    storage_key: subtitle_key(&folder, lang).as_str().to_owned(),
                    created_ms: now,
                })
                .await?;
        }
        store.enqueue_job(HLS_JOB, movie.id, now).await?;
        Ok::<_, MediaError>(old)
    }
    .await;
    match stored {
        Ok(old) => {
            if let Some(old_folder) = old.and_then(|o| folder_of(&o.storage_key)) {
                remove_folder(storage, &old_folder).await;
            }
            let record = store.media_for(movie.id).await?;
            record.ok_or(MediaError::Store(StoreError::NotFound("media")))
        }
        Err(e) => {
            remove_folder(storage, &folder).await;
            Err(e)
        }
    }
}

/// Adds or replaces one language's subtitles of a film that has media.
pub async fn add_subtitle(
    store: &dyn Store,
    storage: &dyn MediaStorage,
    movie: MovieId,
    input: &SubtitleInput,
) -> Result<SubtitleRecord, MediaError> {
    let media = store
        .media_for(movie)
        .await?
        .ok_or(MediaError::Store(StoreError::NotFound("media")))?;
    let vtt = read_subtitles(input).await?;
    let folder = folder_of(&media.storage_key).ok_or_else(|| MediaError::SubtitleFile {
        file: media.storage_key.clone(),
        message: "the media's storage key has no folder".into(),
    })?;
    let key = subtitle_key(&folder, &input.lang);
    storage
        .put_bytes(&key, vtt.as_str().to_owned().into())
        .await?;
    let record = SubtitleRecord {
        movie_id: movie,
        lang: input.lang.as_str().to_owned(),
        label: input.lang.display_name(),
        storage_key: key.as_str().to_owned(),
        created_ms: now_ms(),
    };
    store.put_subtitle(&record).await?;
    Ok(record)
}

/// Removes a film's media record and every object stored for it.
pub async fn remove_media(
    store: &dyn Store,
    storage: &dyn MediaStorage,
    movie: MovieId,
) -> Result<bool, MediaError> {
    let Some(old) = store.delete_media(movie).await? else {
        return Ok(false);
    };
    if let Some(folder) = folder_of(&old.storage_key) {
        remove_folder(storage, &folder).await;
    }
    Ok(true)
}

/// Best effort: an object left behind wastes space but breaks nothing, so a failure is logged.
pub async fn remove_folder(storage: &dyn MediaStorage, folder: &MediaKey) {
    if let Err(e) = storage.delete_prefix(folder).await {
        tracing::warn!(folder = %folder.as_str(), error = %e, "could not remove stored media");
    }
}
