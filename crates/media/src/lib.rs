//! Building blocks for playing films: what a media file holds (`probe`), subtitles for browsers
//! (`subtitles`), HLS packaging with ffmpeg and the playlists around it (`hls`), and the HTTP
//! byte-range rules a progressive stream needs (`range`, `http_date`, `content_type`).
//!
//! Nothing here knows about the store, HTTP frameworks or where files live: functions take paths
//! and strings and return values, so the server, the CLI and a background job can share them, and
//! tests can run them against clips made by ffmpeg on the spot.

pub mod codecs;
pub mod content_type;
pub mod hls;
pub mod http_date;
pub mod probe;
pub mod range;
pub mod subtitles;
pub mod tools;

pub use codecs::{H264Level, H264Profile, Ratio};
pub use probe::{
    AudioStream, MediaInfo, ProbeError, SubtitleStream, VideoStream, browser_safe_h264, probe,
};
pub use range::ByteRange;
pub use subtitles::{SubtitleError, SubtitleLang, WebVtt};
pub use tools::{ToolError, Tools};
