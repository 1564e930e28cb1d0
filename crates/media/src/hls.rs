//! HLS (RFC 8216) for every device: plan a ladder of H.264/AAC renditions from what the source
//! holds, package each with ffmpeg into 4-second MPEG-TS segments, measure what was written, and
//! write the master and subtitle playlists ourselves.
//!
//! ffmpeg's own master playlist is not used: with `-c copy` it leaves out `CODECS`, and with
//! subtitles it marks every rendition `DEFAULT=YES` and leaves out `LANGUAGE`. MPEG-TS rather than
//! fMP4 segments, because ffmpeg 5.1 as an HLS client can not seek in fMP4 and TS plays everywhere.
//!
//! An output folder looks like this (the names are what `package_ladder` writes and
//! `master_playlist` refers to; subtitles are the caller's to place):
//! ```text
//! master.m3u8
//! 1080p/index.m3u8  1080p/seg_00000.ts ...
//! 720p/index.m3u8   720p/seg_00000.ts ...
//! subs/en.m3u8      subs/en.vtt
//! ```

mod command;
mod ladder;
mod master;
mod media_playlist;
mod package;
mod progress;
mod subtitles;

pub use command::ffmpeg_args;
pub use ladder::{AUDIO_KBPS, AudioPlan, LADDER, Rendition, Rung, VideoPlan, plan_ladder};
pub use master::master_playlist;
pub use media_playlist::{
    Bandwidth, Measurement, MediaPlaylist, PlaylistError, Segment, SegmentMeasure, bandwidth,
    measure_rendition,
};
pub use package::{PackageError, RenditionOutput, package_ladder, package_rendition};
pub use subtitles::{SubtitleTrack, TS_START_OFFSET_90KHZ, subtitle_playlist, with_timestamp_map};

/// Target segment length. Encoded renditions get a keyframe exactly every this many seconds, so
/// segments of different renditions line up and a player can switch between them at any boundary.
pub const SEGMENT_SECONDS: u32 = 4;

/// Each rendition's media playlist, inside the rendition's folder.
pub const PLAYLIST_NAME: &str = "index.m3u8";

/// Segment file names, as an ffmpeg pattern: `seg_00000.ts`, `seg_00001.ts`, ...
pub const SEGMENT_PATTERN: &str = "seg_%05d.ts";

/// The master playlist's usual name next to the rendition folders.
pub const MASTER_NAME: &str = "master.m3u8";
