//! Making test clips with ffmpeg's generated sources (`testsrc2` pictures, `sine` tones), and
//! reading facts back with ffprobe. Clips are small and short so the suite stays quick on two
//! cores.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether ffmpeg and ffprobe can run here. Without them a test should return early; under
/// `CI=true` that is a failure instead.
pub fn ffmpeg_available(test: &str) -> bool {
    let runs = |tool: &str| {
        Command::new(tool)
            .arg("-version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if runs("ffmpeg") && runs("ffprobe") {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{test}: ffmpeg and ffprobe are required when CI=true; install Debian's ffmpeg");
    }
    eprintln!("SKIPPED: {test}: ffmpeg/ffprobe not found");
    false
}

/// Runs ffmpeg with `args`, panicking with its error output if it fails.
pub fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg runs");
    assert!(
        out.status.success(),
        "ffmpeg {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An H.264/AAC MP4 with a keyframe every 2 s (so a remux can cut 4-second segments).
pub fn h264_mp4(dir: &Path, name: &str, width: u32, height: u32, secs: u32) -> PathBuf {
    let path = dir.join(name);
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &format!("testsrc2=size={width}x{height}:rate=25"),
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000",
        "-t",
        &secs.to_string(),
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-g",
        "50",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-b:a",
        "96k",
        path.to_str().unwrap(),
    ]);
    path
}

/// A VP9/Opus WebM, which browsers play directly but HLS devices do not.
pub fn vp9_webm(dir: &Path, name: &str, width: u32, height: u32, secs: u32) -> PathBuf {
    let path = dir.join(name);
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &format!("testsrc2=size={width}x{height}:rate=25"),
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=220:sample_rate=48000",
        "-t",
        &secs.to_string(),
        "-c:v",
        "libvpx-vp9",
        "-deadline",
        "realtime",
        "-cpu-used",
        "8",
        "-b:v",
        "300k",
        "-c:a",
        "libopus",
        path.to_str().unwrap(),
    ]);
    path
}

/// Stream facts of one file as ffprobe's `key=value` lines, e.g. `profile=High`.
pub fn ffprobe_entries(path: &Path, select: &str, entries: &str) -> Vec<String> {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            select,
            "-show_entries",
            entries,
        ])
        .args(["-of", "default=noprint_wrappers=1"])
        .arg(path)
        .output()
        .expect("ffprobe runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Plays `playlist` with ffmpeg as an HLS client for `secs` seconds, decoding everything.
pub fn play_hls(playlist: &Path, secs: u32) -> Result<(), String> {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-v", "error", "-i"])
        .arg(playlist)
        .args(["-t", &secs.to_string(), "-f", "null", "-"])
        .output()
        .expect("ffmpeg runs");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}
