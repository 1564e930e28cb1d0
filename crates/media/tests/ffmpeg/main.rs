//! Tests against the real tools: clips are made by ffmpeg inside each test, then probed, planned,
//! packaged and played back by ffmpeg as an HLS client.
//!
//! Without ffmpeg the tests print `SKIPPED: ...` and pass, so a laptop without it can still run
//! the suite; with `CI=true` a missing ffmpeg fails them, so CI can not silently test nothing.

mod clips;
mod packaging;
mod probing;
mod subtitles;
