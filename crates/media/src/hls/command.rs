//! The ffmpeg command line that packages one rendition. Kept apart from running it so the exact
//! arguments can be read in a test, logged, and copied into a shell when something goes wrong.

use super::ladder::{AudioPlan, Rendition, VideoPlan};
use super::{PLAYLIST_NAME, SEGMENT_PATTERN, SEGMENT_SECONDS};
use crate::tools::path_arg;
use std::ffi::OsString;
use std::path::Path;

/// Arguments (without the program name) that turn `input` into `out_dir/index.m3u8` and
/// `out_dir/seg_%05d.ts`, reporting progress as `key=value` lines on stdout.
///
/// `out_dir` must not contain `%`: ffmpeg 5.1's HLS muxer reads the segment path as a pattern and
/// does not undo `%%` (checked by hand), so `package_rendition` refuses such folders.
pub fn ffmpeg_args(input: &Path, rendition: &Rendition, out_dir: &Path) -> Vec<OsString> {
    let (video_index, video_args) = video_args(rendition);
    let audio = rendition.audio.map(|a| audio_args(&a));

    let mut args: Vec<OsString> = ["-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
        .map(OsString::from)
        .to_vec();
    args.push("-i".into());
    args.push(path_arg(input));
    args.push("-map".into());
    args.push(format!("0:{video_index}").into());
    if let Some((audio_index, _)) = &audio {
        args.push("-map".into());
        args.push(format!("0:{audio_index}").into());
    }
    args.extend(video_args.into_iter().map(OsString::from));
    match audio {
        Some((_, a)) => args.extend(a.into_iter().map(OsString::from)),
        None => args.push("-an".into()),
    }
    let segment_seconds = SEGMENT_SECONDS.to_string();
    args.extend(
        [
            // Copying streams with sparse packets (subtitled or variable-rate sources) can fill
            // ffmpeg's default 128-packet queue and abort the run.
            "-max_muxing_queue_size",
            "4096",
            "-f",
            "hls",
            "-hls_time",
            &segment_seconds,
            "-hls_playlist_type",
            "vod",
            "-hls_segment_type",
            "mpegts",
            "-hls_segment_filename",
        ]
        .map(OsString::from),
    );
    args.push(path_arg(&out_dir.join(SEGMENT_PATTERN)));
    args.extend(["-progress", "pipe:1", "-nostats"].map(OsString::from));
    args.push(path_arg(&out_dir.join(PLAYLIST_NAME)));
    args
}

fn video_args(rendition: &Rendition) -> (u32, Vec<String>) {
    match &rendition.video {
        VideoPlan::Remux { stream_index, .. } => {
            (*stream_index, vec!["-c:v".into(), "copy".into()])
        }
        VideoPlan::Encode {
            stream_index,
            profile,
            level,
            kbps,
            max_kbps,
            buffer_kbits,
        } => {
            let args = [
                "-c:v",
                "libx264",
                "-preset",
                "veryfast",
                "-profile:v",
                profile.ffmpeg_name(),
                "-level:v",
                &level.dotted(),
                "-pix_fmt",
                "yuv420p",
                // setsar=1: the ladder's sizes are in square pixels, so anamorphic sources are
                // stretched here and marked as square.
                "-vf",
                &format!(
                    "scale={}:{}:flags=bicubic,setsar=1",
                    rendition.width, rendition.height
                ),
                "-b:v",
                &format!("{kbps}k"),
                "-maxrate",
                &format!("{max_kbps}k"),
                "-bufsize",
                &format!("{buffer_kbits}k"),
                // Keyframes exactly on the segment grid, and none elsewhere from scene cuts, so
                // every rendition's segments start at the same instants.
                "-force_key_frames",
                &format!("expr:gte(t,n_forced*{SEGMENT_SECONDS})"),
                "-sc_threshold",
                "0",
            ]
            .map(str::to_owned)
            .to_vec();
            (*stream_index, args)
        }
    }
}

fn audio_args(plan: &AudioPlan) -> (u32, Vec<String>) {
    match *plan {
        AudioPlan::Copy { stream_index } => (stream_index, vec!["-c:a".into(), "copy".into()]),
        AudioPlan::Encode {
            stream_index,
            kbps,
            channels,
        } => (
            stream_index,
            [
                "-c:a".into(),
                "aac".into(),
                "-b:a".into(),
                format!("{kbps}k"),
                "-ac".into(),
                channels.to_string(),
            ]
            .to_vec(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codecs::{H264Level, H264Profile, Ratio};

    fn rendition(video: VideoPlan, audio: Option<AudioPlan>) -> Rendition {
        Rendition {
            name: "720p".into(),
            width: 1280,
            height: 720,
            frame_rate: Ratio::new(25, 1),
            video,
            audio,
        }
    }

    fn encode() -> VideoPlan {
        VideoPlan::Encode {
            stream_index: 0,
            profile: H264Profile::High,
            level: H264Level::from_idc(31).unwrap(),
            kbps: 2800,
            max_kbps: 4200,
            buffer_kbits: 5600,
        }
    }

    fn joined(args: &[OsString]) -> String {
        args.iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn an_encode_has_aligned_keyframes_and_the_planned_rates() {
        let args = ffmpeg_args(
            Path::new("/films/in.mkv"),
            &rendition(
                encode(),
                Some(AudioPlan::Encode {
                    stream_index: 2,
                    kbps: 128,
                    channels: 2,
                }),
            ),
            Path::new("/out/720p"),
        );
        let cmd = joined(&args);
        for part in [
            "-i /films/in.mkv -map 0:0 -map 0:2",
            "-c:v libx264 -preset veryfast -profile:v high -level:v 3.1 -pix_fmt yuv420p",
            "-vf scale=1280:720:flags=bicubic,setsar=1",
            "-b:v 2800k -maxrate 4200k -bufsize 5600k",
            "-force_key_frames expr:gte(t,n_forced*4) -sc_threshold 0",
            "-c:a aac -b:a 128k -ac 2",
            "-f hls -hls_time 4 -hls_playlist_type vod -hls_segment_type mpegts",
            "-hls_segment_filename /out/720p/seg_%05d.ts",
            "-progress pipe:1 -nostats /out/720p/index.m3u8",
        ] {
            assert!(cmd.contains(part), "missing `{part}` in `{cmd}`");
        }
        assert!(cmd.ends_with("/out/720p/index.m3u8"));
    }

    #[test]
    fn a_remux_copies_video_and_aac_audio() {
        let args = ffmpeg_args(
            Path::new("in.mp4"),
            &rendition(
                VideoPlan::Remux {
                    stream_index: 1,
                    profile: H264Profile::High,
                    level: H264Level::from_idc(40).unwrap(),
                },
                Some(AudioPlan::Copy { stream_index: 0 }),
            ),
            Path::new("out"),
        );
        let cmd = joined(&args);
        assert!(
            cmd.contains("-i ./in.mp4 -map 0:1 -map 0:0 -c:v copy -c:a copy"),
            "{cmd}"
        );
        assert!(!cmd.contains("libx264") && !cmd.contains("force_key_frames"));
        assert!(
            cmd.contains("-hls_segment_filename ./out/seg_%05d.ts"),
            "{cmd}"
        );
    }

    #[test]
    fn a_silent_film_gets_no_audio_stream() {
        let cmd = joined(&ffmpeg_args(
            Path::new("/in.mp4"),
            &rendition(encode(), None),
            Path::new("/o"),
        ));
        assert!(cmd.contains("-map 0:0 -c:v libx264"), "{cmd}");
        assert!(cmd.contains(" -an "), "{cmd}");
        assert_eq!(cmd.matches("-map").count(), 1);
    }
}
