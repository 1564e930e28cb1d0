//! Running ffmpeg to package renditions, with progress and cancellation.
//!
//! Cancelling is dropping the future: the child is spawned with `kill_on_drop`, so a job that is
//! stopped (a timeout, a shutdown, a deleted film) leaves no ffmpeg running. What it had written
//! stays on disk; a new attempt clears its own segment files first.

use super::PLAYLIST_NAME;
use super::command::ffmpeg_args;
use super::ladder::{Rendition, VideoPlan};
use super::media_playlist::{PlaylistError, measure_rendition};
use super::progress::ProgressParser;
use crate::codecs::Ratio;
use crate::tools::{StderrTail, ToolError, Tools};
use serde::{Deserialize, Serialize};
use std::io;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, BufReader};

/// Why packaging failed.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// ffmpeg is missing, could not start, or failed (with the end of what it said).
    #[error(transparent)]
    Tool(#[from] ToolError),
    #[error("could not prepare {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error(
        "the output folder {0} has a '%' in its path, which ffmpeg's HLS muxer reads as a \
         pattern; choose a folder without '%'"
    )]
    UnsupportedPath(String),
    #[error("ffmpeg finished but its output could not be measured: {0}")]
    Output(#[from] PlaylistError),
}

/// A packaged rendition, measured, with what the master playlist says about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RenditionOutput {
    pub name: String,
    /// The media playlist relative to the master playlist: `720p/index.m3u8`.
    pub uri: String,
    pub width: u32,
    pub height: u32,
    pub frame_rate: Option<Ratio>,
    /// RFC 6381 codecs, e.g. `avc1.64001F,mp4a.40.2`.
    pub codecs: String,
    /// Bits per second: the peak segment rate (`BANDWIDTH`) and the overall average
    /// (`AVERAGE-BANDWIDTH`).
    pub peak_bandwidth: u64,
    pub average_bandwidth: u64,
    pub segment_count: usize,
    pub duration_secs: f64,
}

impl RenditionOutput {
    /// Measures a rendition already packaged into `dir` (which the master playlist reaches as
    /// `{name}/`), e.g. when a job resumes after a restart and finds its work done.
    pub async fn measure(rendition: &Rendition, dir: &Path) -> Result<Self, PlaylistError> {
        let m = measure_rendition(dir).await?;
        Ok(Self {
            name: rendition.name.clone(),
            uri: format!("{}/{PLAYLIST_NAME}", rendition.name),
            width: rendition.width,
            height: rendition.height,
            frame_rate: rendition.frame_rate,
            codecs: rendition.codecs(),
            peak_bandwidth: m.bandwidth.peak,
            average_bandwidth: m.bandwidth.average,
            segment_count: m.segments.len(),
            duration_secs: m.playlist.total_secs(),
        })
    }
}

/// Packages one rendition of `input` into `out_dir` (created if missing) and measures the result.
///
/// `on_progress` gets the share done, from 0.0 to 1.0, about twice a second; `source_duration`
/// (from `MediaInfo`) is what the share is of. Dropping the returned future kills ffmpeg.
#[tracing::instrument(skip_all, fields(rendition = %rendition.name, remux = rendition.is_remux()))]
pub async fn package_rendition<F>(
    tools: &Tools,
    input: &Path,
    rendition: &Rendition,
    out_dir: &Path,
    source_duration: Duration,
    mut on_progress: F,
) -> Result<RenditionOutput, PackageError>
where
    F: FnMut(f64),
{
    if out_dir.as_os_str().to_string_lossy().contains('%') {
        return Err(PackageError::UnsupportedPath(out_dir.display().to_string()));
    }
    let io_err = |source| PackageError::Io {
        path: out_dir.display().to_string(),
        source,
    };
    tokio::fs::create_dir_all(out_dir).await.map_err(io_err)?;
    clear_previous_attempt(out_dir).await.map_err(io_err)?;

    let args = ffmpeg_args(input, rendition, out_dir);
    tracing::debug!(args = ?args, "starting ffmpeg");
    let started = std::time::Instant::now();
    let mut child = tokio::process::Command::new(tools.ffmpeg())
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| ToolError::from_spawn("ffmpeg", tools.ffmpeg(), e))?;
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        unreachable!("stdout and stderr are piped above");
    };

    let mut parser = ProgressParser::new(source_duration);
    let read_progress = for_each_line(BufReader::new(stdout), |line| {
        if let Some(fraction) = parser.feed(line) {
            on_progress(fraction);
        }
    });
    // stderr is drained at the same time as stdout: a full pipe would stall ffmpeg.
    let mut tail = StderrTail::default();
    let read_stderr = for_each_line(BufReader::new(stderr), |line| tail.push(line));
    let (progress_read, stderr_read) = tokio::join!(read_progress, read_stderr);

    let lost = |source| ToolError::Io {
        tool: "ffmpeg",
        source,
    };
    let status = child.wait().await.map_err(lost)?;
    if !status.success() {
        return Err(ToolError::Failed {
            tool: "ffmpeg",
            status,
            stderr_tail: tail.into_string(),
        }
        .into());
    }
    progress_read.and(stderr_read).map_err(lost)?;
    let output = RenditionOutput::measure(rendition, out_dir).await?;
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        segments = output.segment_count,
        peak_bps = output.peak_bandwidth,
        "packaged rendition"
    );
    Ok(output)
}

/// Packages every rendition into `out_root/{name}/`, one after another, and reports overall
/// progress. Encodes weigh far more than remuxes (about 40 times on the machines measured), so the
/// share reported moves with the time actually spent.
pub async fn package_ladder<F>(
    tools: &Tools,
    input: &Path,
    renditions: &[Rendition],
    out_root: &Path,
    source_duration: Duration,
    mut on_progress: F,
) -> Result<Vec<RenditionOutput>, PackageError>
where
    F: FnMut(f64),
{
    let weight = |r: &Rendition| {
        let pixels = f64::from(r.width) * f64::from(r.height);
        match r.video {
            VideoPlan::Remux { .. } => pixels / 40.0,
            VideoPlan::Encode { .. } => pixels,
        }
    };
    let total: f64 = renditions.iter().map(weight).sum::<f64>().max(1.0);
    let mut done = 0.0;
    let mut outputs = Vec::with_capacity(renditions.len());
    for r in renditions {
        let w = weight(r);
        let dir = out_root.join(&r.name);
        let output = package_rendition(tools, input, r, &dir, source_duration, |f| {
            on_progress(((done + f * w) / total).min(1.0));
        })
        .await?;
        done += w;
        outputs.push(output);
    }
    on_progress(1.0);
    Ok(outputs)
}

/// Calls `f` with each line, lossily decoded: ffmpeg may print file names or metadata that are not
/// UTF-8, and stopping early on such a line would leave its pipe full.
async fn for_each_line<R: AsyncBufRead + Unpin>(
    mut reader: R,
    mut f: impl FnMut(&str),
) -> io::Result<()> {
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf).await? == 0 {
            return Ok(());
        }
        f(String::from_utf8_lossy(&buf).trim_end());
    }
}

/// Removes the playlist and segments of an earlier, interrupted attempt, so segments it wrote
/// beyond what this attempt writes do not linger. Only Marquee's own names are touched.
async fn clear_previous_attempt(dir: &Path) -> io::Result<()> {
    let mut entries = tokio::fs::read_dir(dir).await?;
    while let Some(entry) = entries.next_entry().await? {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let ours = name == PLAYLIST_NAME
            || name == format!("{PLAYLIST_NAME}.tmp")
            || (name.starts_with("seg_") && name.ends_with(".ts"));
        if ours {
            tokio::fs::remove_file(entry.path()).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lines_are_read_even_when_they_are_not_utf8() {
        let data: &[u8] = b"one\n\xff\xfe two\nthree";
        let mut seen = Vec::new();
        for_each_line(data, |l| seen.push(l.to_owned()))
            .await
            .unwrap();
        assert_eq!(seen, ["one", "\u{fffd}\u{fffd} two", "three"]);
    }

    #[tokio::test]
    async fn an_earlier_attempt_is_cleared_but_other_files_stay() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "index.m3u8",
            "seg_00000.ts",
            "seg_00099.ts",
            "keep.txt",
            "poster.jpg",
        ] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        clear_previous_attempt(dir.path()).await.unwrap();
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["keep.txt", "poster.jpg"]);
    }

    #[tokio::test]
    async fn a_folder_with_a_percent_sign_is_refused_before_anything_runs() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("100%");
        let rendition = Rendition {
            name: "x".into(),
            width: 2,
            height: 2,
            frame_rate: None,
            video: VideoPlan::Remux {
                stream_index: 0,
                profile: crate::H264Profile::High,
                level: crate::H264Level::from_idc(30).unwrap(),
            },
            audio: None,
        };
        let tools = Tools::new("/nonexistent/ffmpeg", "/nonexistent/ffprobe");
        let err = package_rendition(
            &tools,
            Path::new("in.mp4"),
            &rendition,
            &out,
            Duration::from_secs(1),
            |_| {},
        )
        .await
        .unwrap_err();
        assert!(matches!(err, PackageError::UnsupportedPath(_)), "{err}");
        assert!(!out.exists());
    }
}
