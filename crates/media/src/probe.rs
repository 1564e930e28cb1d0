//! What a media file holds, as ffprobe reports it: duration, container, the video stream, audio
//! and subtitle tracks. A `MediaInfo` only comes out of `probe` for a file that has a picture and
//! a duration, so everything downstream (the ladder, the film's runtime) can rely on both.

use crate::codecs::{H264Level, H264Profile, Ratio};
use crate::tools::{ToolError, Tools, path_arg, tail_of};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

/// ffprobe reads headers and a few packets; a file that takes longer than this is on a stalled
/// disk or network share, and a worker should not wait on it forever.
const PROBE_TIMEOUT: Duration = Duration::from_secs(120);

/// A playable media file: it has a video stream and a duration above zero.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaInfo {
    pub duration_ms: u64,
    /// ffprobe's container name list, e.g. `mov,mp4,m4a,3gp,3g2,mj2` or `matroska,webm`.
    pub format_name: String,
    pub size_bytes: u64,
    /// Overall bits per second, when the container says.
    pub bit_rate: Option<u64>,
    pub video: VideoStream,
    pub audio: Vec<AudioStream>,
    pub subtitles: Vec<SubtitleStream>,
}

impl MediaInfo {
    pub fn duration(&self) -> Duration {
        Duration::from_millis(self.duration_ms)
    }

    /// The audio track a player starts with: the one marked default, else the first.
    pub fn default_audio(&self) -> Option<&AudioStream> {
        self.audio
            .iter()
            .find(|a| a.default)
            .or_else(|| self.audio.first())
    }
}

/// The film's picture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoStream {
    /// The stream's index in the file, as `-map 0:{index}` takes it.
    pub index: u32,
    /// ffprobe's codec name: `h264`, `hevc`, `vp9`, `av1`, ...
    pub codec: String,
    /// ffprobe's profile name, e.g. `High` or `Profile 0`.
    pub profile: Option<String>,
    /// ffprobe's level (H.264: level_idc, 31 for 3.1); `None` when unknown.
    pub level: Option<u32>,
    /// Stored (coded) picture size; see `display_size` for what a viewer sees.
    pub width: u32,
    pub height: u32,
    /// Pixel shape; `None` means square or unknown.
    pub sample_aspect_ratio: Option<Ratio>,
    /// Clockwise degrees a player turns the picture (phones store portrait video this way): 0, 90,
    /// 180 or 270.
    pub rotation: u16,
    /// e.g. `yuv420p`, `yuv420p10le`.
    pub pix_fmt: Option<String>,
    pub frame_rate: Option<Ratio>,
    pub bit_rate: Option<u64>,
}

impl VideoStream {
    /// The picture as shown: non-square pixels stretched and a quarter turn applied.
    pub fn display_size(&self) -> (u32, u32) {
        let width = match self.sample_aspect_ratio {
            Some(sar) if sar.num() != sar.den() => {
                let w = u64::from(self.width) * u64::from(sar.num()) / u64::from(sar.den());
                u32::try_from(w).unwrap_or(u32::MAX).max(1)
            }
            _ => self.width,
        };
        if self.rotation % 180 == 90 {
            (self.height, width)
        } else {
            (width, self.height)
        }
    }

    pub fn h264_profile(&self) -> Option<H264Profile> {
        if self.codec != "h264" {
            return None;
        }
        self.profile.as_deref().and_then(H264Profile::from_ffprobe)
    }

    pub fn h264_level(&self) -> Option<H264Level> {
        if self.codec != "h264" {
            return None;
        }
        self.level.and_then(|l| H264Level::from_idc(i64::from(l)))
    }
}

/// One audio track.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AudioStream {
    pub index: u32,
    /// ffprobe's codec name: `aac`, `opus`, `ac3`, ...
    pub codec: String,
    /// e.g. `LC` or `HE-AAC` for AAC.
    pub profile: Option<String>,
    pub channels: u32,
    pub sample_rate: Option<u32>,
    /// The language tag as the file gives it (often ISO 639-2, `eng`); `None` for `und` or none.
    pub language: Option<String>,
    pub title: Option<String>,
    pub default: bool,
}

impl AudioStream {
    /// AAC Low Complexity: the audio every HLS client plays, so it can be copied as it is.
    pub fn is_aac_lc(&self) -> bool {
        self.codec == "aac" && self.profile.as_deref() == Some("LC")
    }
}

/// A subtitle track inside the media file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubtitleStream {
    pub index: u32,
    /// `subrip`, `ass`, `mov_text`, `webvtt`, `hdmv_pgs_subtitle` (a picture format), ...
    pub codec: String,
    pub language: Option<String>,
    pub title: Option<String>,
    pub default: bool,
    pub forced: bool,
}

/// Why a file could not be probed.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// ffprobe is missing or failed to start.
    #[error(transparent)]
    Tool(#[from] ToolError),
    #[error("{file} could not be read: {source}")]
    Unreadable {
        file: String,
        #[source]
        source: io::Error,
    },
    #[error("{file} is not a playable video: {reason}")]
    NotPlayable { file: String, reason: String },
    #[error("ffprobe took longer than {}s to read {file}", PROBE_TIMEOUT.as_secs())]
    TimedOut { file: String },
    #[error("ffprobe's report on {file} could not be understood: {source}")]
    BadReport {
        file: String,
        #[source]
        source: serde_json::Error,
    },
}

/// Runs ffprobe on `file` and returns what it holds, or why it is not a playable video.
#[tracing::instrument(skip_all, fields(file = %file.display()))]
pub async fn probe(tools: &Tools, file: &Path) -> Result<MediaInfo, ProbeError> {
    let name = file_label(file);
    // Checked first so a missing or unreadable file is reported as such, not as ffprobe's
    // "Invalid data" or "No such file".
    let meta = tokio::fs::metadata(file)
        .await
        .map_err(|source| ProbeError::Unreadable {
            file: name.clone(),
            source,
        })?;
    if !meta.is_file() {
        return Err(ProbeError::NotPlayable {
            file: name,
            reason: "it is not a regular file".to_owned(),
        });
    }

    let mut cmd = tokio::process::Command::new(tools.ffprobe());
    cmd.args([
        "-v",
        "error",
        "-print_format",
        "json",
        "-show_format",
        "-show_streams",
    ])
    .arg(path_arg(file))
    .stdin(Stdio::null())
    .kill_on_drop(true);
    let run = cmd.output();
    let out = match tokio::time::timeout(PROBE_TIMEOUT, run).await {
        Ok(out) => out.map_err(|e| ToolError::from_spawn("ffprobe", tools.ffprobe(), e))?,
        Err(_) => return Err(ProbeError::TimedOut { file: name }),
    };
    if !out.status.success() {
        // ffprobe says `<path>: Invalid data found when processing input`; the path is ours.
        let tail = tail_of(&out.stderr);
        let reason = tail
            .lines()
            .last()
            .map(|l| {
                l.strip_prefix(&format!("{}: ", path_arg(file).to_string_lossy()))
                    .unwrap_or(l)
            })
            .unwrap_or("ffprobe could not read it")
            .to_owned();
        return Err(ProbeError::NotPlayable { file: name, reason });
    }
    let mut info = parse_ffprobe_json(&out.stdout, &name)?;
    if info.size_bytes == 0 {
        info.size_bytes = meta.len();
    }
    tracing::debug!(
        duration_ms = info.duration_ms,
        video.codec = %info.video.codec,
        video.height = info.video.height,
        "probed"
    );
    Ok(info)
}

/// Reads the JSON of `ffprobe -print_format json -show_format -show_streams`. `file` names the
/// file in errors.
pub fn parse_ffprobe_json(json: &[u8], file: &str) -> Result<MediaInfo, ProbeError> {
    let report: Report = serde_json::from_slice(json).map_err(|source| ProbeError::BadReport {
        file: file.to_owned(),
        source,
    })?;
    let not_playable = |reason: &str| ProbeError::NotPlayable {
        file: file.to_owned(),
        reason: reason.to_owned(),
    };
    let format = report.format.unwrap_or_default();
    let format_name = format.format_name.unwrap_or_default();
    // ffprobe opens pictures through the image2 and *_pipe demuxers; a poster is not a film.
    if format_name == "image2" || format_name.ends_with("_pipe") {
        return Err(not_playable("it is a still image"));
    }

    let mut video = None;
    let mut audio = Vec::new();
    let mut subtitles = Vec::new();
    for s in &report.streams {
        match s.codec_type.as_deref() {
            // Cover art in MP3, M4A or MKV files shows up as a one-picture video stream.
            Some("video") if video.is_none() && s.disposition.attached_pic == 0 => {
                video = Some(s);
            }
            Some("audio") => audio.push(AudioStream {
                index: s.index,
                codec: s.codec_name.clone().unwrap_or_default(),
                profile: s.profile.clone(),
                channels: s.channels.unwrap_or(0),
                sample_rate: s.sample_rate.as_deref().and_then(|r| r.parse().ok()),
                language: s.language(),
                title: s.tag("title").map(str::to_owned),
                default: s.disposition.default != 0,
            }),
            Some("subtitle") => subtitles.push(SubtitleStream {
                index: s.index,
                codec: s.codec_name.clone().unwrap_or_default(),
                language: s.language(),
                title: s.tag("title").map(str::to_owned),
                default: s.disposition.default != 0,
                forced: s.disposition.forced != 0,
            }),
            _ => {}
        }
    }
    let Some(v) = video else {
        return Err(not_playable("it has no video stream"));
    };
    let (width, height) = (v.width.unwrap_or(0), v.height.unwrap_or(0));
    if width == 0 || height == 0 {
        return Err(not_playable("its video stream has no picture size"));
    }

    let duration_secs = parse_secs(format.duration.as_deref())
        .or_else(|| {
            report
                .streams
                .iter()
                .filter_map(|s| parse_secs(s.duration.as_deref()).or_else(|| s.tag_duration()))
                .reduce(f64::max)
        })
        .unwrap_or(0.0);
    let duration_ms = (duration_secs * 1000.0).round();
    if duration_ms < 1.0 {
        return Err(not_playable("it has no duration"));
    }

    let video = VideoStream {
        index: v.index,
        codec: v.codec_name.clone().unwrap_or_default(),
        profile: v.profile.clone(),
        level: v
            .level
            .and_then(|l| u32::try_from(l).ok())
            .filter(|&l| l > 0),
        width,
        height,
        sample_aspect_ratio: v
            .sample_aspect_ratio
            .as_deref()
            .and_then(Ratio::parse)
            .filter(|r| r.num() != r.den()),
        rotation: v.rotation(),
        pix_fmt: v.pix_fmt.clone(),
        frame_rate: v
            .avg_frame_rate
            .as_deref()
            .and_then(Ratio::parse)
            .or_else(|| v.r_frame_rate.as_deref().and_then(Ratio::parse)),
        bit_rate: parse_u64(v.bit_rate.as_deref()),
    };
    Ok(MediaInfo {
        duration_ms: duration_ms as u64,
        format_name,
        size_bytes: parse_u64(format.size.as_deref()).unwrap_or(0),
        bit_rate: parse_u64(format.bit_rate.as_deref()),
        video,
        audio,
        subtitles,
    })
}

/// Whether browsers and HLS devices decode this stream as it is, so it can be copied rather than
/// re-encoded: H.264 in a profile every decoder has, 8-bit 4:2:0, with a known level (the level
/// goes into the `CODECS` attribute).
pub fn browser_safe_h264(video: &VideoStream) -> bool {
    video.h264_profile().is_some()
        && video.h264_level().is_some()
        && video.pix_fmt.as_deref() == Some("yuv420p")
}

/// The file's name for messages: what a person uploaded, without the folder it sits in here.
fn file_label(path: &Path) -> String {
    path.file_name()
        .unwrap_or(path.as_os_str())
        .to_string_lossy()
        .into_owned()
}

fn parse_u64(s: Option<&str>) -> Option<u64> {
    s?.trim().parse().ok()
}

fn parse_secs(s: Option<&str>) -> Option<f64> {
    let v: f64 = s?.trim().parse().ok()?;
    (v.is_finite() && v > 0.0).then_some(v)
}

// ffprobe's JSON, as far as Marquee reads it. Every field is optional because ffprobe leaves out
// what it does not know.

#[derive(Deserialize)]
struct Report {
    #[serde(default)]
    streams: Vec<RawStream>,
    format: Option<RawFormat>,
}

#[derive(Deserialize, Default)]
struct RawFormat {
    format_name: Option<String>,
    duration: Option<String>,
    size: Option<String>,
    bit_rate: Option<String>,
}

#[derive(Deserialize)]
struct RawStream {
    index: u32,
    codec_type: Option<String>,
    codec_name: Option<String>,
    profile: Option<String>,
    level: Option<i64>,
    width: Option<u32>,
    height: Option<u32>,
    pix_fmt: Option<String>,
    sample_aspect_ratio: Option<String>,
    avg_frame_rate: Option<String>,
    r_frame_rate: Option<String>,
    bit_rate: Option<String>,
    duration: Option<String>,
    channels: Option<u32>,
    sample_rate: Option<String>,
    #[serde(default)]
    disposition: Disposition,
    #[serde(default)]
    tags: HashMap<String, String>,
    #[serde(default)]
    side_data_list: Vec<SideData>,
}

#[derive(Deserialize, Default)]
struct Disposition {
    #[serde(default)]
    default: i64,
    #[serde(default)]
    forced: i64,
    #[serde(default)]
    attached_pic: i64,
}

#[derive(Deserialize)]
struct SideData {
    rotation: Option<f64>,
}

impl RawStream {
    /// Matroska writes tag names in capitals (`DURATION`, `LANGUAGE`), MP4 in lower case.
    fn tag(&self, name: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    fn language(&self) -> Option<String> {
        self.tag("language")
            .filter(|l| !l.eq_ignore_ascii_case("und"))
            .map(str::to_owned)
    }

    /// Matroska keeps stream durations as a `DURATION` tag: `00:00:06.007000000`.
    fn tag_duration(&self) -> Option<f64> {
        let mut parts = self.tag("duration")?.split(':');
        let h: f64 = parts.next()?.parse().ok()?;
        let m: f64 = parts.next()?.parse().ok()?;
        let s: f64 = parts.next()?.parse().ok()?;
        let secs = h * 3600.0 + m * 60.0 + s;
        (secs.is_finite() && secs > 0.0).then_some(secs)
    }

    /// ffmpeg 5 reports rotation in the display matrix side data (counter-clockwise, so often
    /// negative); older files carry a `rotate` tag. Both become clockwise degrees 0..360.
    fn rotation(&self) -> u16 {
        let degrees = self
            .side_data_list
            .iter()
            .find_map(|d| d.rotation)
            .map(|r| -r)
            .or_else(|| self.tag("rotate").and_then(|r| r.parse::<f64>().ok()))
            .unwrap_or(0.0);
        let quarter_turns = (degrees / 90.0).round() as i64;
        (quarter_turns.rem_euclid(4) * 90) as u16
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MP4: &str = r#"{
      "streams": [
        {"index": 0, "codec_name": "h264", "profile": "High", "codec_type": "video",
         "width": 1280, "height": 720, "sample_aspect_ratio": "1:1", "pix_fmt": "yuv420p",
         "level": 31, "r_frame_rate": "25/1", "avg_frame_rate": "25/1", "duration": "10.000000",
         "bit_rate": "2000000", "disposition": {"default": 1, "attached_pic": 0},
         "tags": {"language": "und"}},
        {"index": 1, "codec_name": "aac", "profile": "LC", "codec_type": "audio",
         "sample_rate": "48000", "channels": 2, "duration": "10.000000",
         "disposition": {"default": 1}, "tags": {"language": "eng", "title": "Stereo"}},
        {"index": 2, "codec_name": "mov_text", "codec_type": "subtitle",
         "disposition": {"default": 0, "forced": 1}, "tags": {"language": "fre"}}
      ],
      "format": {"format_name": "mov,mp4,m4a,3gp,3g2,mj2", "duration": "10.010000",
                 "size": "2600000", "bit_rate": "2077922"}
    }"#;

    fn parse(json: &str) -> Result<MediaInfo, ProbeError> {
        parse_ffprobe_json(json.as_bytes(), "film.mp4")
    }

    fn reason(err: ProbeError) -> String {
        match err {
            ProbeError::NotPlayable { file, reason } => {
                assert_eq!(file, "film.mp4");
                reason
            }
            other => panic!("expected NotPlayable, got {other:?}"),
        }
    }

    #[test]
    fn an_mp4_report_becomes_media_info() {
        let info = parse(MP4).unwrap();
        assert_eq!(info.duration_ms, 10_010);
        assert_eq!(info.size_bytes, 2_600_000);
        assert_eq!(info.bit_rate, Some(2_077_922));
        let v = &info.video;
        assert_eq!((v.codec.as_str(), v.width, v.height), ("h264", 1280, 720));
        assert_eq!(v.profile.as_deref(), Some("High"));
        assert_eq!(v.level, Some(31));
        assert_eq!(v.frame_rate, Ratio::new(25, 1));
        assert_eq!(v.sample_aspect_ratio, None);
        assert_eq!(v.rotation, 0);
        assert!(browser_safe_h264(v));

        assert_eq!(info.audio.len(), 1);
        let a = &info.audio[0];
        assert_eq!((a.index, a.codec.as_str(), a.channels), (1, "aac", 2));
        assert_eq!(a.language.as_deref(), Some("eng"));
        assert_eq!(a.title.as_deref(), Some("Stereo"));
        assert!(a.is_aac_lc() && a.default);

        assert_eq!(info.subtitles.len(), 1);
        let s = &info.subtitles[0];
        assert_eq!(s.language.as_deref(), Some("fre"));
        assert!(s.forced && !s.default);
    }

    #[test]
    fn a_webm_takes_its_duration_from_matroska_tags_when_the_format_has_none() {
        let json = r#"{
          "streams": [
            {"index": 0, "codec_name": "vp9", "profile": "Profile 0", "codec_type": "video",
             "width": 320, "height": 180, "pix_fmt": "yuv420p", "level": -99,
             "avg_frame_rate": "0/0", "r_frame_rate": "30000/1001",
             "tags": {"DURATION": "00:01:06.007000000"}},
            {"index": 1, "codec_name": "opus", "codec_type": "audio", "channels": 6,
             "tags": {"LANGUAGE": "ger", "DURATION": "00:01:06.008000000"}}
          ],
          "format": {"format_name": "matroska,webm"}
        }"#;
        let info = parse(json).unwrap();
        assert_eq!(info.duration_ms, 66_008);
        assert_eq!(info.video.level, None);
        assert_eq!(info.video.frame_rate, Ratio::new(30000, 1001));
        assert_eq!(info.audio[0].language.as_deref(), Some("ger"));
        assert_eq!(info.size_bytes, 0);
        assert!(!browser_safe_h264(&info.video));
    }

    #[test]
    fn a_file_without_a_video_stream_is_not_playable() {
        let json = r#"{"streams": [{"index": 0, "codec_type": "audio", "codec_name": "mp3"}],
                       "format": {"format_name": "mp3", "duration": "3.0"}}"#;
        assert_eq!(reason(parse(json).unwrap_err()), "it has no video stream");
    }

    #[test]
    fn cover_art_is_not_a_video_stream() {
        let json = r#"{"streams": [
            {"index": 0, "codec_type": "audio", "codec_name": "mp3"},
            {"index": 1, "codec_type": "video", "codec_name": "mjpeg", "width": 500,
             "height": 500, "disposition": {"attached_pic": 1}}],
          "format": {"format_name": "mp3", "duration": "3.0"}}"#;
        assert_eq!(reason(parse(json).unwrap_err()), "it has no video stream");
    }

    #[test]
    fn a_still_image_is_not_playable() {
        let json = r#"{"streams": [{"index": 0, "codec_type": "video", "codec_name": "png",
                       "width": 64, "height": 64}], "format": {"format_name": "png_pipe"}}"#;
        assert_eq!(reason(parse(json).unwrap_err()), "it is a still image");
    }

    #[test]
    fn a_video_without_duration_is_not_playable() {
        let json = r#"{"streams": [{"index": 0, "codec_type": "video", "codec_name": "h264",
                       "width": 64, "height": 64}],
                       "format": {"format_name": "mpegts", "duration": "0.000000"}}"#;
        assert_eq!(reason(parse(json).unwrap_err()), "it has no duration");
    }

    #[test]
    fn a_video_without_a_picture_size_is_not_playable() {
        let json = r#"{"streams": [{"index": 0, "codec_type": "video", "codec_name": "h264",
                       "width": 0, "height": 0}],
                       "format": {"format_name": "mpegts", "duration": "5"}}"#;
        assert_eq!(
            reason(parse(json).unwrap_err()),
            "its video stream has no picture size"
        );
    }

    #[test]
    fn an_empty_report_is_not_playable_and_garbage_is_a_bad_report() {
        assert_eq!(reason(parse("{}").unwrap_err()), "it has no video stream");
        assert!(matches!(
            parse("not json").unwrap_err(),
            ProbeError::BadReport { .. }
        ));
    }

    #[test]
    fn rotation_and_pixel_shape_change_the_display_size() {
        let mut info = parse(MP4).unwrap();
        let v = &mut info.video;
        assert_eq!(v.display_size(), (1280, 720));
        v.rotation = 90;
        assert_eq!(v.display_size(), (720, 1280));
        v.rotation = 0;
        (v.width, v.height, v.sample_aspect_ratio) = (720, 480, Ratio::new(32, 27));
        assert_eq!(v.display_size(), (853, 480));
    }

    #[test]
    fn rotation_is_read_from_the_display_matrix_or_the_rotate_tag() {
        let stream = |extra: &str| {
            let json = format!(
                r#"{{"streams": [{{"index": 0, "codec_type": "video", "codec_name": "h264",
                   "width": 1920, "height": 1080 {extra}}}], "format": {{"duration": "1"}}}}"#
            );
            parse(&json).unwrap().video.rotation
        };
        assert_eq!(stream(r#", "side_data_list": [{"rotation": -90}]"#), 90);
        assert_eq!(stream(r#", "side_data_list": [{"rotation": 90}]"#), 270);
        assert_eq!(stream(r#", "side_data_list": [{"rotation": 180}]"#), 180);
        assert_eq!(stream(r#", "tags": {"rotate": "90"}"#), 90);
        assert_eq!(stream(""), 0);
    }

    #[test]
    fn only_8_bit_4_2_0_h264_in_common_profiles_is_browser_safe() {
        let base = parse(MP4).unwrap().video;
        let with = |f: &dyn Fn(&mut VideoStream)| {
            let mut v = base.clone();
            f(&mut v);
            browser_safe_h264(&v)
        };
        assert!(with(&|_| {}));
        assert!(with(&|v| v.profile = Some("Constrained Baseline".into())));
        assert!(with(&|v| v.profile = Some("Main".into())));
        assert!(!with(&|v| v.profile = Some("High 10".into())));
        assert!(!with(&|v| v.pix_fmt = Some("yuv420p10le".into())));
        assert!(!with(&|v| v.pix_fmt = Some("yuv444p".into())));
        assert!(!with(&|v| v.codec = "hevc".into()));
        assert!(!with(&|v| v.level = None));
    }

    #[test]
    fn the_default_audio_is_the_marked_one_or_else_the_first() {
        let mut info = parse(MP4).unwrap();
        let mut second = info.audio[0].clone();
        second.index = 5;
        info.audio[0].default = false;
        second.default = true;
        info.audio.push(second);
        assert_eq!(info.default_audio().unwrap().index, 5);
        info.audio[1].default = false;
        assert_eq!(info.default_audio().unwrap().index, 1);
        info.audio.clear();
        assert!(info.default_audio().is_none());
    }
}
