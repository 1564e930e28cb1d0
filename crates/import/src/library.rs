//! Kodi/Jellyfin movie libraries: a folder tree where each film is a folder holding a video and,
//! around it, an NFO, a poster and subtitles. Scanning finds every such folder at any depth and
//! says which files belong to which film, with a fingerprint of their sizes and times so a
//! re-scan can skip what has not changed.
//!
//! The usual layout is one film per folder, `Title (Year)/Title (Year).mkv`; a folder may also
//! hold one film in several versions or parts (`Film (2010) - 4K.mkv`, `Film cd1.avi`). A folder
//! of unrelated videos (Kodi's "flat" layout) is read as one film per video, keyed by the
//! folder and the video's name. Hidden folders, extras folders inside a film folder (`extras`,
//! `trailers`, ...) and trailer or sample videos are skipped; symbolic links to folders are not
//! followed, so a link loop can not trap the scan.

use crate::fields;
use crate::nfo;
use crate::{ExternalKey, FilmRecord, Origin, Problem};
use marquee_domain::Year;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

/// File extensions (lower case) that count as videos.
pub const VIDEO_EXTENSIONS: &[&str] = &["mkv", "mp4", "m4v", "mov", "webm", "avi", "ts"];

/// Subfolders of a film folder that hold extras rather than films.
const EXTRAS_FOLDERS: &[&str] = &[
    "extras",
    "extra",
    "trailers",
    "featurettes",
    "behind the scenes",
    "deleted scenes",
    "interviews",
    "scenes",
    "shorts",
    "other",
    "sample",
    "samples",
    "subs",
    "subtitles",
];

/// Name endings (after `-`, `.`, `_` or a space) of videos that are extras, not the film.
const EXTRA_SUFFIXES: &[&str] = &[
    "trailer",
    "sample",
    "behindthescenes",
    "deleted",
    "featurette",
    "interview",
    "scene",
    "short",
    "extra",
];

/// Flags in subtitle names that are not the language: `Film.en.forced.srt`.
const SUBTITLE_FLAGS: &[&str] = &["forced", "sdh", "hi", "cc", "default", "foreign"];

/// What a scan found: the films, and the folders or files it could not use.
#[derive(Debug, Default)]
pub struct Scan {
    /// One per film, in path order.
    pub films: Vec<LibraryFilm>,
    /// Folders that could not be read and films that were skipped, with the reason.
    pub problems: Vec<Problem>,
}

/// A film found in the library and the files that go with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryFilm {
    /// The film; its key is `library:<folder relative to the root>`.
    pub record: FilmRecord,
    /// The film's folder.
    pub folder: PathBuf,
    /// The video to play.
    pub video: PathBuf,
    /// `poster.jpg`, `poster.png`, `folder.jpg` or `<video stem>-poster.jpg`, when there is one.
    pub poster: Option<PathBuf>,
    /// `<video stem>[.<lang>][.forced].srt|vtt`.
    pub subtitles: Vec<LibrarySubtitle>,
    /// Changes when the video, the NFO, the poster or a subtitle changes (size, time or name),
    /// so a re-scan can skip unchanged films.
    pub fingerprint: String,
}

/// A subtitle file next to a film's video.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibrarySubtitle {
    /// The file.
    pub path: PathBuf,
    /// The language tag from the name (`en`, `pt-BR`), or `und` when the name has none.
    pub lang: String,
    /// Whether the name marks it forced (only the foreign-language parts).
    pub forced: bool,
}

/// Scans `root` and every folder under it for films.
pub fn scan(root: &Path) -> Scan {
    let mut scan = Scan::default();
    if !root.is_dir() {
        scan.problems
            .push(Problem::file(root, "is not a folder that can be read"));
        return scan;
    }
    let mut folders = vec![root.to_owned()];
    while let Some(folder) = folders.pop() {
        let listing = match list(&folder) {
            Ok(listing) => listing,
            Err(e) => {
                scan.problems.push(Problem::io(&folder, &e));
                continue;
            }
        };
        let videos: Vec<&PathBuf> = listing
            .files
            .values()
            .filter(|p| is_video(p) && !is_extra_video(p))
            .collect();
        let is_film_folder = !videos.is_empty();
        // Push in reverse so folders are visited in name order.
        for sub in listing.folders.iter().rev() {
            let name = file_name(sub).to_lowercase();
            let skip = name.starts_with('.')
                || name == "@eadir"
                || (is_film_folder && EXTRAS_FOLDERS.contains(&name.as_str()));
            if !skip {
                folders.push(sub.clone());
            }
        }
        if !is_film_folder {
            continue;
        }
        let rel = relative(root, &folder);
        let one_film = videos
            .iter()
            .map(|v| base_name(&stem(v)).to_lowercase())
            .collect::<std::collections::BTreeSet<_>>()
            .len()
            == 1;
        if one_film {
            let found = Found {
                folder: &folder,
                listing: &listing,
                video: videos[0],
                key: format!("library:{rel}"),
                name_for_title: file_name(&folder),
                allow_folder_files: true,
            };
            collect(found, &mut scan);
        } else {
            for video in videos {
                let stem = stem(video);
                let key = if rel == "." {
                    format!("library:{stem}")
                } else {
                    format!("library:{rel}/{stem}")
                };
                let found = Found {
                    folder: &folder,
                    listing: &listing,
                    video,
                    key,
                    name_for_title: stem.clone(),
                    allow_folder_files: false,
                };
                collect(found, &mut scan);
            }
        }
    }
    scan.films.sort_by(|a, b| a.video.cmp(&b.video));
    scan
}

/// A folder's files (by lower-case name) and subfolders, each in name order.
struct Listing {
    files: BTreeMap<String, PathBuf>,
    folders: Vec<PathBuf>,
}

fn list(folder: &Path) -> std::io::Result<Listing> {
    let mut files = BTreeMap::new();
    let mut folders = Vec::new();
    for entry in fs::read_dir(folder)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            folders.push(path);
        } else if kind.is_file() || (kind.is_symlink() && path.is_file()) {
            files.insert(file_name(&path).to_lowercase(), path);
        }
    }
    folders.sort();
    Ok(Listing { files, folders })
}

/// One film's video and where to look for the files around it.
struct Found<'a> {
    folder: &'a Path,
    listing: &'a Listing,
    video: &'a Path,
    key: String,
    /// The folder's name, or the video's stem in a flat folder: "Title (Year)".
    name_for_title: String,
    /// Whether folder-wide files (`movie.nfo`, `poster.jpg`) belong to this film.
    allow_folder_files: bool,
}

fn collect(found: Found<'_>, scan: &mut Scan) {
    let video_stem = stem(found.video);
    let file = |name: &str| found.listing.files.get(&name.to_lowercase()).cloned();

    let nfo_path = file(&format!("{video_stem}.nfo")).or_else(|| {
        found
            .allow_folder_files
            .then(|| file("movie.nfo"))
            .flatten()
    });
    let poster = ["poster.jpg", "poster.png", "folder.jpg", "folder.png"]
        .iter()
        .filter(|_| found.allow_folder_files)
        .find_map(|n| file(n))
        .or_else(|| file(&format!("{video_stem}-poster.jpg")))
        .or_else(|| file(&format!("{video_stem}-poster.png")));
    let subtitles: Vec<LibrarySubtitle> = found
        .listing
        .files
        .values()
        .filter_map(|path| subtitle(&video_stem, path))
        .collect();

    let from_name = FolderName::parse(&found.name_for_title);
    let Ok(key) = ExternalKey::parse(&found.key) else {
        scan.problems.push(Problem::file(
            found.folder,
            "its path is too long to be a library key (300 characters at most)",
        ));
        return;
    };

    let (origin, draft, mut other_keys, external_rating) = match &nfo_path {
        Some(path) => {
            let parsed = fs::read(path)
                .map_err(|e| Problem::io(path, &e))
                .and_then(|bytes| {
                    String::from_utf8(bytes)
                        .map_err(|_| Problem::file(path, "is not UTF-8 text; film skipped"))
                })
                .and_then(|text| {
                    nfo::parse(&text).map_err(|e| {
                        Problem::new(
                            Origin {
                                path: path.clone(),
                                line: e.line,
                            },
                            format!("is not a usable NFO ({}); film skipped", e.message),
                        )
                    })
                });
            let nfo = match parsed {
                Ok(nfo) => nfo,
                Err(problem) => {
                    scan.problems.push(problem);
                    return;
                }
            };
            let draft = nfo.draft(&from_name.title, from_name.year);
            (Origin::file(path), draft, nfo.keys(), nfo.external_rating())
        }
        None => {
            let draft = fields::title(&from_name.title)
                .map(|t| fields::draft(t, from_name.year))
                .and_then(fields::check);
            (Origin::file(found.folder), draft, Vec::new(), None)
        }
    };
    let draft = match draft {
        Ok(draft) => draft,
        Err(message) => {
            scan.problems
                .push(Problem::new(origin, format!("{message}; film skipped")));
            return;
        }
    };
    for k in from_name.keys {
        if !other_keys.contains(&k) {
            other_keys.push(k);
        }
    }

    let mut fingerprinted: Vec<&Path> = vec![found.video];
    fingerprinted.extend(nfo_path.as_deref());
    fingerprinted.extend(poster.as_deref());
    fingerprinted.extend(subtitles.iter().map(|s| s.path.as_path()));
    let fingerprint = fingerprint(&fingerprinted);

    scan.films.push(LibraryFilm {
        record: FilmRecord {
            origin,
            key,
            other_keys,
            draft,
            external_rating,
        },
        folder: found.folder.to_owned(),
        video: found.video.to_owned(),
        poster,
        subtitles,
        fingerprint,
    });
}

/// A subtitle for the video with stem `video_stem` (matched ignoring ASCII case): `<stem>.srt`,
/// `<stem>.en.srt`, `<stem>.en.forced.vtt`, ...
fn subtitle(video_stem: &str, path: &Path) -> Option<LibrarySubtitle> {
    let name = file_name(path);
    let rest = name
        .get(..video_stem.len())
        .filter(|head| head.eq_ignore_ascii_case(video_stem))
        .map(|_| &name[video_stem.len()..])?;
    let ext = rest.get(rest.len().checked_sub(4)?..)?;
    if !ext.eq_ignore_ascii_case(".srt") && !ext.eq_ignore_ascii_case(".vtt") {
        return None;
    }
    let inner = &rest[..rest.len() - 4];
    if !(inner.is_empty() || inner.starts_with('.')) {
        return None;
    }
    let mut lang = None;
    let mut forced = false;
    for part in inner.split('.').filter(|p| !p.is_empty()) {
        let lower = part.to_ascii_lowercase();
        if SUBTITLE_FLAGS.contains(&lower.as_str()) {
            forced |= lower == "forced";
        } else if lang.is_none() && is_language_tag(part) {
            lang = Some(part.to_owned());
        }
    }
    Some(LibrarySubtitle {
        path: path.to_owned(),
        lang: lang.unwrap_or_else(|| "und".to_owned()),
        forced,
    })
}

fn is_language_tag(s: &str) -> bool {
    (2..=35).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Title, year and ids from a name such as `Heat (1995) [imdbid-tt0113277]`.
#[derive(Debug, PartialEq)]
struct FolderName {
    title: String,
    year: Option<Year>,
    keys: Vec<ExternalKey>,
}

impl FolderName {
    fn parse(name: &str) -> Self {
        let mut rest = name.trim();
        let mut keys = Vec::new();
        // Trailing tags: Jellyfin's [imdbid-tt...] / [tmdbid-...], Plex's {imdb-tt...} / {tmdb-...}.
        while let Some((open, close)) = [('[', ']'), ('{', '}')]
            .into_iter()
            .find(|(_, close)| rest.ends_with(*close))
        {
            let Some(start) = rest.rfind(open) else { break };
            let tag = &rest[start + 1..rest.len() - close.len_utf8()];
            if let Some((kind, id)) = tag.split_once(['-', '=']) {
                let key = match kind.trim().to_ascii_lowercase().as_str() {
                    "imdb" | "imdbid" => fields::imdb_key(id),
                    "tmdb" | "tmdbid" => fields::tmdb_key(id),
                    _ => None,
                };
                keys.extend(key);
            }
            rest = rest[..start].trim_end();
        }
        let mut year = None;
        if let Some(before) = rest.strip_suffix(')')
            && let Some(open) = before.rfind('(')
            && let inside = &before[open + 1..]
            && inside.len() == 4
            && inside.bytes().all(|b| b.is_ascii_digit())
            && let Ok(y) = Year::parse(inside)
        {
            year = Some(y);
            rest = before[..open].trim_end();
        }
        Self {
            title: rest.to_owned(),
            year,
            keys,
        }
    }
}

/// FNV-1a (64-bit) over each file's name, size and modification time: stable across Rust
/// versions and machines, unlike the standard library's hasher.
fn fingerprint(files: &[&Path]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    for file in files {
        let (size, mtime) = fs::metadata(file)
            .map(|m| {
                let mtime = m
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos());
                (m.len(), mtime)
            })
            .unwrap_or((0, 0));
        eat(file_name(file).as_bytes());
        eat(&[0]);
        eat(&size.to_le_bytes());
        eat(&mtime.to_le_bytes());
    }
    format!("{hash:016x}")
}

fn is_video(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| VIDEO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

fn is_extra_video(path: &Path) -> bool {
    let stem = stem(path).to_lowercase();
    EXTRA_SUFFIXES.iter().any(|suffix| {
        stem == *suffix
            || stem
                .strip_suffix(suffix)
                .is_some_and(|before| before.ends_with(['-', '.', '_', ' ']))
    })
}

/// A video's stem without a version (`Film (2010) - 4K`) or part (`Film cd1`) at the end, to
/// tell one film in several files from several films.
fn base_name(stem: &str) -> &str {
    let s = match stem.find(" - ") {
        Some(i) => &stem[..i],
        None => stem,
    };
    let lower = s.to_ascii_lowercase();
    let trimmed_digits = lower.trim_end_matches(|c: char| c.is_ascii_digit());
    if trimmed_digits.len() < lower.len() {
        let before = trimmed_digits.trim_end_matches([' ', '.', '_', '-']);
        for marker in ["cd", "dvd", "part", "pt", "disc", "disk"] {
            if let Some(b) = before.strip_suffix(marker)
                && (b.is_empty() || b.ends_with([' ', '.', '_', '-']))
            {
                return s[..b.len()].trim_end_matches([' ', '.', '_', '-']);
            }
        }
    }
    s
}

fn relative(root: &Path, folder: &Path) -> String {
    let rel: Vec<String> = folder
        .strip_prefix(root)
        .unwrap_or(folder)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if rel.is_empty() {
        ".".to_owned()
    } else {
        rel.join("/")
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, content: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }

    fn keys(scan: &Scan) -> Vec<&str> {
        scan.films.iter().map(|f| f.record.key.as_str()).collect()
    }

    #[test]
    fn folder_names_give_title_year_and_tagged_ids() {
        let n = FolderName::parse("Heat (1995) [imdbid-tt0113277] {tmdb-949}");
        assert_eq!(n.title, "Heat");
        assert_eq!(n.year.map(Year::get), Some(1995));
        let keys: Vec<_> = n.keys.iter().map(ExternalKey::as_str).collect();
        assert_eq!(keys, ["tmdb:949", "imdb:tt0113277"]);
        assert_eq!(FolderName::parse("Brazil").title, "Brazil");
        assert_eq!(FolderName::parse("1917 (2019)").title, "1917");
        assert_eq!(FolderName::parse("Odd (1500)").title, "Odd (1500)");
    }

    #[test]
    fn subtitles_match_their_video_ignoring_case_even_with_accented_names() {
        let sub = |video: &str, file: &str| subtitle(video, Path::new(file)).map(|s| s.lang);
        assert_eq!(
            sub("Amélie (2001)", "amélie (2001).FR.srt").as_deref(),
            Some("FR")
        );
        assert_eq!(
            sub("Amélie (2001)", "AMéLIE (2001).fr.srt").as_deref(),
            Some("fr")
        );
        assert_eq!(
            sub("Amélie (2001)", "Amélie (2001).vtt").as_deref(),
            Some("und")
        );
        assert_eq!(sub("Amélie (2001)", "Amélie (2001)-poster.jpg"), None);
        assert_eq!(sub("Alien", "Aliens.en.srt"), None);
        assert_eq!(sub("Ä", "a.srt"), None);
    }

    #[test]
    fn versions_and_parts_share_a_base_name() {
        assert_eq!(base_name("Film (2010) - 4K"), "Film (2010)");
        assert_eq!(base_name("Film (2010) cd2"), "Film (2010)");
        assert_eq!(base_name("Film.part1"), "Film");
        assert_eq!(base_name("Apollo 13"), "Apollo 13");
    }

    #[test]
    fn a_library_yields_one_film_per_folder_with_its_poster_subtitles_and_nfo() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        let heat = r.join("Crime/Heat (1995)");
        write(&heat.join("Heat (1995).mkv"), "video");
        write(&heat.join("Heat (1995)-trailer.mp4"), "trailer");
        write(&heat.join("extras/Making of.mkv"), "extra");
        write(
            &heat.join("movie.nfo"),
            "<movie><title>Heat</title><year>1995</year><uniqueid type=\"imdb\">tt0113277</uniqueid></movie>",
        );
        write(&heat.join("Poster.JPG"), "jpeg");
        write(&heat.join("Heat (1995).srt"), "1");
        write(&heat.join("Heat (1995).en.srt"), "1");
        write(&heat.join("Heat (1995).pt-BR.forced.vtt"), "1");
        write(&heat.join("Other.en.srt"), "1");
        // No NFO: the folder name is the title.
        write(&r.join("Brazil (1985)/brazil.mp4"), "video");
        // A malformed NFO: reported and skipped.
        write(&r.join("Broken (2001)/Broken (2001).avi"), "video");
        write(
            &r.join("Broken (2001)/Broken (2001).nfo"),
            "<movie>\n<title>Broken</title>\n<year>2001</yr>\n</movie>",
        );
        // Hidden folders and folders without videos are not films.
        write(&r.join(".trash/Old (1990)/old.mkv"), "video");
        write(&r.join("Empty (2000)/poster.jpg"), "jpeg");

        let scan = scan(r);
        assert_eq!(
            keys(&scan),
            ["library:Brazil (1985)", "library:Crime/Heat (1995)"]
        );
        assert_eq!(scan.problems.len(), 1, "{:?}", scan.problems);
        let problem = scan.problems[0].to_string();
        let nfo = r.join("Broken (2001)/Broken (2001).nfo");
        assert!(
            problem.starts_with(&format!("{}:3: is not a usable NFO", nfo.display())),
            "{problem}"
        );

        let brazil = &scan.films[0];
        assert_eq!(brazil.record.draft.title.as_str(), "Brazil");
        assert_eq!(brazil.record.draft.year.map(Year::get), Some(1985));
        assert_eq!(brazil.poster, None);
        assert!(brazil.subtitles.is_empty());

        let heat_film = &scan.films[1];
        assert_eq!(heat_film.video, heat.join("Heat (1995).mkv"));
        assert_eq!(heat_film.poster, Some(heat.join("Poster.JPG")));
        assert_eq!(heat_film.record.other_keys[0].as_str(), "imdb:tt0113277");
        assert_eq!(
            heat_film.record.origin,
            Origin::file(heat.join("movie.nfo"))
        );
        let subs: Vec<(&str, bool)> = heat_film
            .subtitles
            .iter()
            .map(|s| (s.lang.as_str(), s.forced))
            .collect();
        assert_eq!(subs, [("en", false), ("pt-BR", true), ("und", false)]);
    }

    #[test]
    fn the_fingerprint_changes_when_a_subtitle_is_added_or_the_video_changes() {
        let root = tempfile::tempdir().unwrap();
        let folder = root.path().join("Alien (1979)");
        write(&folder.join("Alien (1979).mkv"), "video");
        let first = scan(root.path()).films[0].fingerprint.clone();
        assert_eq!(scan(root.path()).films[0].fingerprint, first);
        write(&folder.join("Alien (1979).de.srt"), "1");
        let second = scan(root.path()).films[0].fingerprint.clone();
        assert_ne!(first, second);
        write(&folder.join("Alien (1979).mkv"), "a longer video");
        assert_ne!(scan(root.path()).films[0].fingerprint, second);
    }

    #[test]
    fn a_flat_folder_of_films_yields_one_film_per_video() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        write(&r.join("Alien (1979).mkv"), "video");
        write(&r.join("Aliens (1986).mkv"), "video");
        write(
            &r.join("Aliens (1986).nfo"),
            "<movie><title>Aliens</title><runtime>137</runtime></movie>",
        );
        write(&r.join("Aliens (1986)-poster.jpg"), "jpeg");
        let scan = scan(r);
        assert_eq!(
            keys(&scan),
            ["library:Alien (1979)", "library:Aliens (1986)"]
        );
        assert_eq!(scan.films[1].record.draft.year.map(Year::get), Some(1986));
        assert_eq!(
            scan.films[1].poster,
            Some(r.join("Aliens (1986)-poster.jpg"))
        );
        assert_eq!(scan.films[0].poster, None);
    }

    #[test]
    fn a_film_in_two_versions_is_one_film() {
        let root = tempfile::tempdir().unwrap();
        let folder = root.path().join("Dune (2021)");
        write(&folder.join("Dune (2021) - 1080p.mkv"), "video");
        write(&folder.join("Dune (2021) - 4K.mkv"), "video");
        let scan = scan(root.path());
        assert_eq!(keys(&scan), ["library:Dune (2021)"]);
        assert_eq!(scan.films[0].video, folder.join("Dune (2021) - 1080p.mkv"));
    }
}
