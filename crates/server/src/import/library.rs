//! A Kodi/Jellyfin library folder: films from their NFO files (or folder names), with posters,
//! video and subtitles going through the same ingestion as `marquee media add`. A re-run skips
//! unchanged folders, refreshes changed ones and takes the media off films whose folder is gone
//! (the film, with its ratings and reviews, stays).

use super::{LibraryArgs, Report, import_film, progress};
use crate::media::{self, SubtitleInput};
use crate::posters;
use anyhow::{Context, bail};
use marquee_import::Problem;
use marquee_import::library::LibraryFilm;
use marquee_media::SubtitleLang;
use marquee_media_store::MediaStorage;
use marquee_store::{FilmOutcome, Store};
use std::collections::HashSet;

/// Films per transaction; each may then copy a large video, so batches stay small.
const BATCH: usize = 100;

struct Files<'a> {
    storage: &'a dyn MediaStorage,
    tools: marquee_media::Tools,
    posters: std::path::PathBuf,
}

pub async fn run(
    cli: &crate::cli::Cli,
    store: &dyn Store,
    args: &LibraryArgs,
) -> anyhow::Result<Report> {
    if !args.path.is_dir() {
        bail!("{} is not a folder", args.path.display());
    }
    let root = args.path.clone();
    let scan = tokio::task::spawn_blocking(move || marquee_import::library::scan(&root))
        .await
        .context("scanning the library")?;
    let mut report = Report {
        problems: scan.problems,
        ..Report::default()
    };
    let storage = if args.no_media {
        None
    } else {
        Some(marquee_media_store::open(cli.media_url.as_deref(), &cli.data_dir).await?)
    };
    let files = storage.as_deref().map(|storage| Files {
        storage,
        tools: marquee_media::Tools::default(),
        posters: cli.data_dir.join("posters"),
    });

    let bar = progress("library", Some(scan.films.len() as u64));
    for chunk in scan.films.chunks(BATCH) {
        let batch: Vec<_> = chunk
            .iter()
            .map(|f| import_film(&f.record, &f.fingerprint))
            .collect();
        let outcomes = store
            .import_films(&batch, marquee_domain::time_fmt::now_ms())
            .await?;
        for (film, outcome) in chunk.iter().zip(outcomes) {
            report.count(outcome);
            let (FilmOutcome::Added(id) | FilmOutcome::Updated(id)) = outcome else {
                continue;
            };
            let Some(files) = &files else { continue };
            if let Err(problem) = attach_files(store, files, id, film).await {
                report.problems.push(problem);
                // Store a fingerprint that can not match, so the next run tries again.
                let mut retry = import_film(&film.record, "retry");
                retry.fingerprint = format!("retry-{}", retry.fingerprint);
                store
                    .import_films(&[retry], marquee_domain::time_fmt::now_ms())
                    .await?;
            }
            store.announce(id).await?;
        }
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();

    // Folders that are gone: their films lose their media and their library key.
    let present: HashSet<&str> = scan.films.iter().map(|f| f.record.key.as_str()).collect();
    let mut removed = 0u64;
    for (key, id) in store.keys_with_prefix("library:").await? {
        if present.contains(key.as_str()) {
            continue;
        }
        if let Some(files) = &files {
            media::remove_media(store, files.storage, id).await?;
        }
        store.forget_key(&key).await?;
        store.announce(id).await?;
        removed += 1;
    }
    if removed > 0 {
        report.parts.push((
            "folders gone (media removed, films kept)".into(),
            marquee_store::ImportCounts {
                updated: removed,
                ..Default::default()
            },
        ));
    }
    Ok(report)
}

/// Poster, video and subtitles of one film; a failure names the file that caused it.
async fn attach_files(
    store: &dyn Store,
    files: &Files<'_>,
    id: marquee_domain::MovieId,
    film: &LibraryFilm,
) -> Result<(), Problem> {
    let movie = store
        .movie_by_id(id)
        .await
        .map_err(|e| Problem::file(&film.folder, e.to_string()))?
        .ok_or_else(|| Problem::file(&film.folder, "the film vanished during the import"))?;
    if let Some(poster) = &film.poster {
        let bytes = tokio::fs::read(poster)
            .await
            .map_err(|e| Problem::file(poster, format!("can not be read: {e}")))?;
        let name = posters::save(&files.posters, id.0, &bytes)
            .await
            .map_err(|e| Problem::file(poster, e.to_string()))?;
        store
            .set_poster(id, Some(&name))
            .await
            .map_err(|e| Problem::file(poster, e.to_string()))?;
        if let Some(old) = movie.poster.as_deref().filter(|old| *old != name) {
            posters::remove(&files.posters, old).await;
        }
    }
    let mut subtitles = Vec::new();
    for s in &film.subtitles {
        match SubtitleLang::parse(&s.lang) {
            Ok(lang) => subtitles.push(SubtitleInput {
                path: s.path.clone(),
                name: None,
                lang,
            }),
            Err(e) => {
                return Err(Problem::file(
                    &s.path,
                    format!("language '{}': {e}", s.lang),
                ));
            }
        }
    }
    let name = film
        .video
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "video".into());
    media::add_media(
        store,
        files.storage,
        &files.tools,
        &movie,
        &film.video,
        &name,
        &subtitles,
    )
    .await
    .map_err(|e| Problem::file(&film.video, e.to_string()))?;
    Ok(())
}
