//! Reading back a rendition's media playlist (the `index.m3u8` ffmpeg wrote) to measure it: the
//! master playlist's `BANDWIDTH` must be the peak segment bit rate (RFC 8216 §4.3.4.2), which only
//! the finished segments can tell.

use super::PLAYLIST_NAME;
use serde::{Deserialize, Serialize};
use std::io;
use std::path::Path;

/// The parts of a VOD media playlist Marquee needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaPlaylist {
    /// `EXT-X-TARGETDURATION`, whole seconds.
    pub target_duration: u64,
    pub segments: Vec<Segment>,
    /// Whether `EXT-X-ENDLIST` closes it; a playlist without it is still being written.
    pub ended: bool,
}

/// One `#EXTINF` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    pub uri: String,
    pub duration_secs: f64,
}

/// A segment with its size on disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentMeasure {
    pub uri: String,
    pub duration_secs: f64,
    pub size_bytes: u64,
}

/// Bit rates for `EXT-X-STREAM-INF`, in bits per second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bandwidth {
    /// The largest segment's bytes * 8 / its duration, rounded up (`BANDWIDTH` is an upper bound).
    pub peak: u64,
    /// All bytes * 8 / all seconds (`AVERAGE-BANDWIDTH`).
    pub average: u64,
}

/// A playlist that can not be read or is not what ffmpeg writes.
#[derive(Debug, thiserror::Error)]
pub enum PlaylistError {
    #[error("could not read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("playlist line {line}: {problem}")]
    Invalid { line: usize, problem: String },
    #[error("segment `{0}` is not a file next to the playlist")]
    SegmentOutsideFolder(String),
}

/// A finished rendition as found on disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    pub playlist: MediaPlaylist,
    pub segments: Vec<SegmentMeasure>,
    pub bandwidth: Bandwidth,
}

impl MediaPlaylist {
    pub fn parse(text: &str) -> Result<Self, PlaylistError> {
        let invalid = |line: usize, problem: &str| PlaylistError::Invalid {
            line,
            problem: problem.to_owned(),
        };
        let mut lines = text.lines().map(str::trim).enumerate();
        match lines.next() {
            Some((_, "#EXTM3U")) => {}
            _ => return Err(invalid(1, "a playlist must start with #EXTM3U")),
        }
        let mut target_duration = None;
        let mut segments = Vec::new();
        let mut ended = false;
        let mut pending: Option<f64> = None;
        for (i, line) in lines {
            let n = i + 1;
            if line.is_empty() {
                continue;
            }
            if let Some(v) = line.strip_prefix("#EXT-X-TARGETDURATION:") {
                target_duration = Some(
                    v.parse::<u64>()
                        .map_err(|_| invalid(n, "EXT-X-TARGETDURATION is not a whole number"))?,
                );
            } else if let Some(v) = line.strip_prefix("#EXTINF:") {
                let secs = v.split(',').next().unwrap_or("").trim();
                let secs: f64 = secs
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s >= 0.0)
                    .ok_or_else(|| invalid(n, "EXTINF has no duration"))?;
                pending = Some(secs);
            } else if line == "#EXT-X-ENDLIST" {
                ended = true;
            } else if line.starts_with('#') {
                // Other tags (VERSION, MEDIA-SEQUENCE, PLAYLIST-TYPE) change nothing measured.
            } else {
                let duration_secs = pending
                    .take()
                    .ok_or_else(|| invalid(n, "a segment URI without #EXTINF"))?;
                segments.push(Segment {
                    uri: line.to_owned(),
                    duration_secs,
                });
            }
        }
        let target_duration =
            target_duration.ok_or_else(|| invalid(1, "EXT-X-TARGETDURATION is missing"))?;
        Ok(Self {
            target_duration,
            segments,
            ended,
        })
    }

    pub fn total_secs(&self) -> f64 {
        self.segments.iter().map(|s| s.duration_secs).sum()
    }
}

/// Computes the bit rates of a list of segments.
pub fn bandwidth(segments: &[SegmentMeasure]) -> Bandwidth {
    let peak = segments
        .iter()
        .filter(|s| s.duration_secs > 0.0)
        .map(|s| (s.size_bytes as f64 * 8.0 / s.duration_secs).ceil() as u64)
        .max()
        .unwrap_or(0);
    let secs: f64 = segments.iter().map(|s| s.duration_secs).sum();
    let bytes: u64 = segments.iter().map(|s| s.size_bytes).sum();
    let average = if secs > 0.0 {
        (bytes as f64 * 8.0 / secs).round() as u64
    } else {
        0
    };
    Bandwidth { peak, average }
}

/// Reads `dir/index.m3u8` and the size of each segment it lists.
///
/// Only plain file names next to the playlist are accepted as segment URIs (which is what ffmpeg
/// writes), so a tampered playlist can not make this read outside `dir`.
pub async fn measure_rendition(dir: &Path) -> Result<Measurement, PlaylistError> {
    let path = dir.join(PLAYLIST_NAME);
    let io_err = |p: &Path| {
        let p = p.display().to_string();
        move |source| PlaylistError::Io { path: p, source }
    };
    let text = tokio::fs::read_to_string(&path)
        .await
        .map_err(io_err(&path))?;
    let playlist = MediaPlaylist::parse(&text)?;
    if !playlist.ended {
        return Err(PlaylistError::Invalid {
            line: text.lines().count(),
            problem: "the playlist has no #EXT-X-ENDLIST; packaging did not finish".to_owned(),
        });
    }
    let mut measured = Vec::with_capacity(playlist.segments.len());
    for seg in &playlist.segments {
        let plain = !seg.uri.is_empty()
            && !seg.uri.contains(['/', '\\', '?', '#'])
            && seg.uri != ".."
            && seg.uri != ".";
        if !plain {
            return Err(PlaylistError::SegmentOutsideFolder(seg.uri.clone()));
        }
        let seg_path = dir.join(&seg.uri);
        let meta = tokio::fs::metadata(&seg_path)
            .await
            .map_err(io_err(&seg_path))?;
        measured.push(SegmentMeasure {
            uri: seg.uri.clone(),
            duration_secs: seg.duration_secs,
            size_bytes: meta.len(),
        });
    }
    Ok(Measurement {
        bandwidth: bandwidth(&measured),
        playlist,
        segments: measured,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FFMPEG_OUTPUT: &str = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n\
        #EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:4.000000,\nseg_00000.ts\n\
        #EXTINF:4.000000,\nseg_00001.ts\n#EXTINF:2.000000,\nseg_00002.ts\n#EXT-X-ENDLIST\n";

    #[test]
    fn ffmpegs_playlist_is_read() {
        let p = MediaPlaylist::parse(FFMPEG_OUTPUT).unwrap();
        assert_eq!(p.target_duration, 4);
        assert!(p.ended);
        assert_eq!(p.segments.len(), 3);
        assert_eq!(p.segments[2].uri, "seg_00002.ts");
        assert!((p.total_secs() - 10.0).abs() < 1e-9);
    }

    #[test]
    fn malformed_playlists_are_rejected_with_the_line() {
        let err = |t: &str| match MediaPlaylist::parse(t).unwrap_err() {
            PlaylistError::Invalid { line, problem } => (line, problem),
            e => panic!("{e:?}"),
        };
        assert_eq!(err("hello").0, 1);
        assert_eq!(err("#EXTM3U\n#EXT-X-TARGETDURATION:4\nseg.ts\n").0, 3);
        assert_eq!(err("#EXTM3U\n#EXT-X-TARGETDURATION:x\n").0, 2);
        assert_eq!(err("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:abc,\n").0, 3);
        assert!(err("#EXTM3U\n").1.contains("TARGETDURATION"));
    }

    #[test]
    fn bandwidth_is_the_peak_segment_rate_and_the_overall_average() {
        let seg = |bytes: u64, secs: f64| SegmentMeasure {
            uri: "s.ts".into(),
            duration_secs: secs,
            size_bytes: bytes,
        };
        let bw = bandwidth(&[seg(500_000, 4.0), seg(700_000, 4.0), seg(100_000, 2.0)]);
        assert_eq!(bw.peak, 1_400_000);
        assert_eq!(bw.average, 1_040_000);
        // A peak is rounded up so BANDWIDTH never understates it.
        assert_eq!(bandwidth(&[seg(1, 3.0)]).peak, 3);
        assert_eq!(
            bandwidth(&[]),
            Bandwidth {
                peak: 0,
                average: 0
            }
        );
        assert_eq!(
            bandwidth(&[seg(10, 0.0)]),
            Bandwidth {
                peak: 0,
                average: 0
            }
        );
    }

    #[tokio::test]
    async fn a_rendition_folder_is_measured_from_its_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.m3u8"), FFMPEG_OUTPUT).unwrap();
        for (name, size) in [
            ("seg_00000.ts", 1000),
            ("seg_00001.ts", 3000),
            ("seg_00002.ts", 500),
        ] {
            std::fs::write(dir.path().join(name), vec![0u8; size]).unwrap();
        }
        let m = measure_rendition(dir.path()).await.unwrap();
        assert_eq!(m.playlist.segments.len(), 3);
        assert_eq!(m.segments[1].size_bytes, 3000);
        assert_eq!(m.bandwidth.peak, 6000);
        assert_eq!(m.bandwidth.average, 3600);
    }

    #[tokio::test]
    async fn a_playlist_pointing_outside_its_folder_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let text = "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\n../secret\n#EXT-X-ENDLIST\n";
        std::fs::write(dir.path().join("index.m3u8"), text).unwrap();
        let err = measure_rendition(dir.path()).await.unwrap_err();
        assert!(
            err.to_string().contains("not a file next to the playlist"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn an_unfinished_playlist_or_a_missing_segment_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let unfinished = "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\nseg_00000.ts\n";
        std::fs::write(dir.path().join("index.m3u8"), unfinished).unwrap();
        let err = measure_rendition(dir.path()).await.unwrap_err();
        assert!(err.to_string().contains("ENDLIST"), "{err}");

        std::fs::write(dir.path().join("index.m3u8"), FFMPEG_OUTPUT).unwrap();
        let err = measure_rendition(dir.path()).await.unwrap_err();
        assert!(matches!(err, PlaylistError::Io { .. }), "{err}");
        assert!(err.to_string().contains("seg_00000.ts"), "{err}");
    }
}
