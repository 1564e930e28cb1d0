//! Poster images on disk under `<data>/posters`. Files get names we make ourselves
//! (`<film id>-<random>.<ext>`), chosen by the image's own bytes, so no name from a request
//! ever reaches the filesystem, and a request for a poster is checked against that pattern.

use std::path::{Path, PathBuf};

pub const MAX_BYTES: usize = 10 * 1024 * 1024;

/// The image kinds accepted, recognised by their first bytes rather than a claimed type.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("jpg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("png")
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("webp")
    } else {
        None
    }
}

pub fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("png") => "image/png",
        Some("webp") => "image/webp",
        _ => "image/jpeg",
    }
}

/// True for names this module makes, and nothing else (no dots but the extension, no slashes).
pub fn is_valid_name(name: &str) -> bool {
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return false;
    };
    matches!(ext, "jpg" | "png" | "webp")
        && !stem.is_empty()
        && stem.len() <= 64
        && stem
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Why an upload was refused.
#[derive(Debug, thiserror::Error)]
pub enum PosterError {
    #[error("The poster must be a JPEG, PNG or WebP image.")]
    NotAnImage,
    #[error("The poster must be at most 10 MB.")]
    TooLarge,
    #[error("could not store the poster: {0}")]
    Io(#[from] std::io::Error),
}

/// Writes the image for a film and returns its new file name. Writes to a temporary name
/// first and renames, so a half-written file is never served.
pub async fn save(dir: &Path, movie_id: i64, bytes: &[u8]) -> Result<String, PosterError> {
    if bytes.len() > MAX_BYTES {
        return Err(PosterError::TooLarge);
    }
    let ext = sniff(bytes).ok_or(PosterError::NotAnImage)?;
    tokio::fs::create_dir_all(dir).await?;
    let token = crate::auth::random_token();
    let name = format!("{movie_id}-{}.{ext}", &token[..12]);
    let tmp = dir.join(format!(".{name}.part"));
    tokio::fs::write(&tmp, bytes).await?;
    tokio::fs::rename(&tmp, dir.join(&name)).await?;
    Ok(name)
}

/// Removes a poster file we stored earlier; a missing file is not an error.
pub async fn remove(dir: &Path, name: &str) {
    if is_valid_name(name) {
        let _ = tokio::fs::remove_file(dir.join(name)).await;
    }
}

pub fn path(dir: &Path, name: &str) -> Option<PathBuf> {
    is_valid_name(name).then(|| dir.join(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_generated_names_are_valid() {
        assert!(is_valid_name("12-abcDEF_123.jpg"));
        for bad in [
            "../x.jpg",
            "a/b.png",
            "x.gif",
            ".jpg",
            "12-a.jpg.exe",
            "a.b.jpg",
            ".hidden.part",
        ] {
            assert!(!is_valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn images_are_recognised_by_their_bytes() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest"), Some("png"));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("jpg"));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some("webp"));
        assert_eq!(sniff(b"<svg onload=alert(1)>"), None);
    }
}
