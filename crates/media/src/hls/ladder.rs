//! The rendition ladder: which sizes and bit rates to offer for a source, and for each whether the
//! video can be copied (remux, a fraction of a second per minute of film) or must be encoded.
//!
//! Rungs are bounding boxes (1920x1080, 1280x720, 854x480, 640x360) rather than heights, so a
//! 1920x800 scope film counts as 1080p-class and is remuxed at its own size instead of being
//! squeezed into a 720p rung; a portrait source turns the boxes on their side. A source is never
//! scaled up: rungs above it collapse into one rendition at the source's own size.

use crate::codecs::{AAC_LC, H264Level, H264Profile, Ratio, avc1_codec};
use crate::probe::{MediaInfo, browser_safe_h264};
use serde::{Deserialize, Serialize};

/// One step of the ladder: a bounding box (landscape) and the video bit rate for a picture that
/// fills it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rung {
    pub width: u32,
    pub height: u32,
    pub video_kbps: u32,
}

/// The ladder, largest first. Bit rates follow common practice for H.264 at 24–30 fps; they are
/// averages, with peaks allowed up to 1.5 times (see `VideoPlan::Encode`).
pub const LADDER: [Rung; 4] = [
    Rung {
        width: 1920,
        height: 1080,
        video_kbps: 5000,
    },
    Rung {
        width: 1280,
        height: 720,
        video_kbps: 2800,
    },
    Rung {
        width: 854,
        height: 480,
        video_kbps: 1400,
    },
    Rung {
        width: 640,
        height: 360,
        video_kbps: 800,
    },
];

/// AAC bit rate when audio has to be encoded.
pub const AUDIO_KBPS: u32 = 128;

/// Below this no picture is worth its bytes; tiny sources get at least this much.
const MIN_VIDEO_KBPS: u32 = 200;

/// A smaller rendition within this share of the height above it adds a choice no one notices.
const MIN_STEP: f64 = 0.9;

/// One variant of the film: its own folder of segments and its own media playlist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rendition {
    /// Folder and label, from the shorter side: `720p`.
    pub name: String,
    /// Picture size as displayed (square pixels, rotation applied).
    pub width: u32,
    pub height: u32,
    pub frame_rate: Option<Ratio>,
    pub video: VideoPlan,
    /// `None` for a silent film.
    pub audio: Option<AudioPlan>,
}

/// How the picture gets into the segments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum VideoPlan {
    /// The source's H.264 copied as it is.
    Remux {
        stream_index: u32,
        profile: H264Profile,
        level: H264Level,
    },
    /// Scaled and encoded with x264 at `kbps` on average, `max_kbps` at most, with keyframes every
    /// `SEGMENT_SECONDS`.
    Encode {
        stream_index: u32,
        profile: H264Profile,
        level: H264Level,
        kbps: u32,
        max_kbps: u32,
        buffer_kbits: u32,
    },
}

/// How the sound gets into the segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AudioPlan {
    /// AAC-LC from the source, copied.
    Copy { stream_index: u32 },
    /// Anything else (Opus, AC-3, DTS, HE-AAC, ...) encoded to stereo (or mono) AAC-LC.
    Encode {
        stream_index: u32,
        kbps: u32,
        channels: u32,
    },
}

impl Rendition {
    /// The RFC 6381 `CODECS` value for the master playlist, e.g. `avc1.64001F,mp4a.40.2`.
    pub fn codecs(&self) -> String {
        let (profile, level) = match &self.video {
            VideoPlan::Remux { profile, level, .. } | VideoPlan::Encode { profile, level, .. } => {
                (*profile, *level)
            }
        };
        let video = avc1_codec(profile, level);
        match self.audio {
            Some(_) => format!("{video},{AAC_LC}"),
            None => video,
        }
    }

    pub fn is_remux(&self) -> bool {
        matches!(self.video, VideoPlan::Remux { .. })
    }
}

/// Plans the renditions for a source, largest first; never empty.
///
/// The top rendition is a remux when the source is browser-safe H.264, upright, and no larger than
/// the top rung; every other rendition is encoded with keyframes on the 4-second grid. Audio is
/// the source's default track, copied when it is AAC-LC and encoded otherwise.
pub fn plan_ladder(info: &MediaInfo) -> Vec<Rendition> {
    let video = &info.video;
    let (src_w, src_h) = video.display_size();
    let (src_w, src_h) = (src_w.max(2), src_h.max(2));
    let portrait = src_h > src_w;
    let fps = video.frame_rate.map_or(30.0, Ratio::as_f64);
    // A rotated stream copied into TS loses its rotation (TS has no display matrix), so it plays
    // sideways; only an encode (ffmpeg turns the picture upright) is safe.
    let remux_top = browser_safe_h264(video) && video.rotation == 0;

    let audio = info.default_audio().map(|a| {
        if a.is_aac_lc() {
            AudioPlan::Copy {
                stream_index: a.index,
            }
        } else {
            AudioPlan::Encode {
                stream_index: a.index,
                kbps: AUDIO_KBPS,
                // Unknown (0) counts as stereo, so nothing is folded down to mono by mistake.
                channels: if a.channels == 0 {
                    2
                } else {
                    a.channels.min(2)
                },
            }
        }
    });

    let mut out: Vec<Rendition> = Vec::new();
    for rung in LADDER {
        let (box_w, box_h) = oriented(rung, portrait);
        let scale = (f64::from(box_w) / f64::from(src_w))
            .min(f64::from(box_h) / f64::from(src_h))
            .min(1.0);
        let fits = scale >= 1.0;
        let remux = fits && out.is_empty() && remux_top;
        let (w, h) = if remux {
            (src_w, src_h)
        } else {
            (
                even(f64::from(src_w) * scale),
                even(f64::from(src_h) * scale),
            )
        };
        if let Some(prev) = out.last() {
            let too_close = f64::from(h.min(w)) > f64::from(prev.height.min(prev.width)) * MIN_STEP;
            if too_close {
                continue;
            }
        }
        let video_plan = if remux {
            VideoPlan::Remux {
                stream_index: video.index,
                profile: video.h264_profile().unwrap_or(H264Profile::High),
                level: video
                    .h264_level()
                    .unwrap_or_else(|| H264Level::smallest_for(w, h, fps, 0, H264Profile::High)),
            }
        } else {
            encode_plan(video.index, w, h, fps, portrait)
        };
        out.push(Rendition {
            name: format!("{}p", w.min(h)),
            width: w,
            height: h,
            frame_rate: video.frame_rate,
            video: video_plan,
            audio,
        });
    }
    out
}

fn encode_plan(stream_index: u32, w: u32, h: u32, fps: f64, portrait: bool) -> VideoPlan {
    // The bit rate comes from the smallest box the picture fits, scaled by how much of it the
    // picture fills: a 1920x800 picture needs less than a full 1920x1080 one.
    let rung = LADDER
        .iter()
        .rev()
        .find(|r| {
            let (bw, bh) = oriented(**r, portrait);
            w <= bw && h <= bh
        })
        .unwrap_or(&LADDER[0]);
    let (bw, bh) = oriented(*rung, portrait);
    let fill = (f64::from(w) * f64::from(h)) / (f64::from(bw) * f64::from(bh));
    let kbps = ((f64::from(rung.video_kbps) * fill / 50.0).round() as u32 * 50).max(MIN_VIDEO_KBPS);
    let max_kbps = kbps * 3 / 2;
    // Older and smaller devices decode Main; High saves bits where pictures are large.
    let profile = if w.min(h) >= 720 {
        H264Profile::High
    } else {
        H264Profile::Main
    };
    VideoPlan::Encode {
        stream_index,
        profile,
        level: H264Level::smallest_for(w, h, fps, max_kbps, profile),
        kbps,
        max_kbps,
        buffer_kbits: kbps * 2,
    }
}

fn oriented(rung: Rung, portrait: bool) -> (u32, u32) {
    if portrait {
        (rung.height, rung.width)
    } else {
        (rung.width, rung.height)
    }
}

/// H.264 with 4:2:0 chroma needs even sides.
fn even(x: f64) -> u32 {
    ((x / 2.0).round() as u32 * 2).max(2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::{AudioStream, VideoStream};

    fn source(codec: &str, width: u32, height: u32) -> MediaInfo {
        MediaInfo {
            duration_ms: 60_000,
            format_name: "mov,mp4,m4a,3gp,3g2,mj2".into(),
            size_bytes: 1,
            bit_rate: None,
            video: VideoStream {
                index: 0,
                codec: codec.into(),
                profile: Some("High".into()),
                level: Some(40),
                width,
                height,
                sample_aspect_ratio: None,
                rotation: 0,
                pix_fmt: Some("yuv420p".into()),
                frame_rate: Ratio::new(25, 1),
                bit_rate: None,
            },
            audio: vec![AudioStream {
                index: 1,
                codec: "aac".into(),
                profile: Some("LC".into()),
                channels: 2,
                sample_rate: Some(48_000),
                language: None,
                title: None,
                default: true,
            }],
            subtitles: vec![],
        }
    }

    fn sizes(ladder: &[Rendition]) -> Vec<(u32, u32)> {
        ladder.iter().map(|r| (r.width, r.height)).collect()
    }

    #[test]
    fn a_1080p_h264_source_gets_a_remuxed_top_and_three_encodes() {
        let ladder = plan_ladder(&source("h264", 1920, 1080));
        assert_eq!(
            sizes(&ladder),
            [(1920, 1080), (1280, 720), (854, 480), (640, 360)]
        );
        let names: Vec<&str> = ladder.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["1080p", "720p", "480p", "360p"]);
        assert!(ladder[0].is_remux());
        assert!(ladder[1..].iter().all(|r| !r.is_remux()));
        assert_eq!(ladder[0].codecs(), "avc1.640028,mp4a.40.2");
        assert!(
            ladder
                .iter()
                .all(|r| r.audio == Some(AudioPlan::Copy { stream_index: 1 }))
        );
    }

    #[test]
    fn encoded_rungs_get_their_bit_rates_profiles_and_levels() {
        let ladder = plan_ladder(&source("hevc", 1920, 1080));
        let plans: Vec<(u32, H264Profile, u8)> = ladder
            .iter()
            .map(|r| match &r.video {
                VideoPlan::Encode {
                    kbps,
                    max_kbps,
                    buffer_kbits,
                    profile,
                    level,
                    ..
                } => {
                    assert_eq!(*max_kbps, kbps * 3 / 2);
                    assert_eq!(*buffer_kbits, kbps * 2);
                    (*kbps, *profile, level.idc())
                }
                VideoPlan::Remux { .. } => panic!("HEVC can not be remuxed"),
            })
            .collect();
        assert_eq!(
            plans,
            [
                (5000, H264Profile::High, 40),
                (2800, H264Profile::High, 31),
                (1400, H264Profile::Main, 30),
                (800, H264Profile::Main, 30),
            ]
        );
        assert_eq!(ladder[1].codecs(), "avc1.64001F,mp4a.40.2");
        assert_eq!(ladder[3].codecs(), "avc1.4D401E,mp4a.40.2");
    }

    #[test]
    fn the_ladder_is_capped_at_the_source_size() {
        let ladder = plan_ladder(&source("h264", 1280, 720));
        assert_eq!(sizes(&ladder), [(1280, 720), (854, 480), (640, 360)]);
        assert!(ladder[0].is_remux());
        // Bit rates follow the box the picture fits in, not the first box that held it.
        assert!(matches!(
            ladder[1].video,
            VideoPlan::Encode { kbps: 1400, .. }
        ));
    }

    #[test]
    fn a_4k_source_is_encoded_at_every_rung() {
        let ladder = plan_ladder(&source("h264", 3840, 2160));
        assert_eq!(ladder.len(), 4);
        assert_eq!(sizes(&ladder)[0], (1920, 1080));
        assert!(ladder.iter().all(|r| !r.is_remux()));
    }

    #[test]
    fn a_scope_film_stays_in_the_1080p_class() {
        let ladder = plan_ladder(&source("h264", 1920, 800));
        assert_eq!(
            sizes(&ladder),
            [(1920, 800), (1280, 534), (854, 356), (640, 266)]
        );
        assert!(ladder[0].is_remux());
        assert_eq!(ladder[0].name, "800p");
        // 1280x534 fills 74% of the 720p box.
        assert!(matches!(
            ladder[1].video,
            VideoPlan::Encode { kbps: 2100, .. }
        ));
    }

    #[test]
    fn a_source_below_360p_gets_one_rendition_at_its_own_even_size() {
        let ladder = plan_ladder(&source("vp9", 321, 179));
        assert_eq!(sizes(&ladder), [(322, 180)]);
        assert_eq!(ladder[0].name, "180p");
        assert!(matches!(
            ladder[0].video,
            VideoPlan::Encode {
                kbps: MIN_VIDEO_KBPS,
                profile: H264Profile::Main,
                ..
            }
        ));
    }

    #[test]
    fn a_small_h264_source_is_remuxed_at_its_exact_size() {
        let ladder = plan_ladder(&source("h264", 320, 180));
        assert_eq!(sizes(&ladder), [(320, 180)]);
        assert!(ladder[0].is_remux());
    }

    #[test]
    fn rungs_barely_smaller_than_the_one_above_are_dropped() {
        let ladder = plan_ladder(&source("h264", 1300, 730));
        assert_eq!(sizes(&ladder), [(1300, 730), (854, 480), (640, 360)]);
    }

    #[test]
    fn a_portrait_source_turns_the_boxes() {
        let ladder = plan_ladder(&source("h264", 1080, 1920));
        assert_eq!(
            sizes(&ladder),
            [(1080, 1920), (720, 1280), (480, 854), (360, 640)]
        );
        assert_eq!(ladder[1].name, "720p");
        assert!(ladder[0].is_remux());
    }

    #[test]
    fn a_rotated_phone_video_is_encoded_upright() {
        let mut info = source("h264", 1920, 1080);
        info.video.rotation = 90;
        let ladder = plan_ladder(&info);
        assert_eq!(sizes(&ladder)[0], (1080, 1920));
        assert!(!ladder[0].is_remux());
    }

    #[test]
    fn non_square_pixels_are_made_square() {
        let mut info = source("mpeg2video", 720, 576);
        info.video.sample_aspect_ratio = Ratio::new(64, 45);
        let ladder = plan_ladder(&info);
        assert_eq!(sizes(&ladder), [(1024, 576), (854, 480), (640, 360)]);
    }

    #[test]
    fn audio_that_is_not_aac_lc_is_encoded_to_at_most_stereo() {
        let mut info = source("h264", 1280, 720);
        info.audio[0].codec = "ac3".into();
        info.audio[0].channels = 6;
        let ladder = plan_ladder(&info);
        assert_eq!(
            ladder[0].audio,
            Some(AudioPlan::Encode {
                stream_index: 1,
                kbps: AUDIO_KBPS,
                channels: 2
            })
        );
        info.audio[0].codec = "aac".into();
        info.audio[0].profile = Some("HE-AAC".into());
        assert!(matches!(
            plan_ladder(&info)[0].audio,
            Some(AudioPlan::Encode { .. })
        ));
    }

    #[test]
    fn a_silent_film_has_video_only_codecs() {
        let mut info = source("h264", 640, 360);
        info.audio.clear();
        let ladder = plan_ladder(&info);
        assert_eq!(ladder[0].audio, None);
        assert_eq!(ladder[0].codecs(), "avc1.640028");
    }

    #[test]
    fn a_high_10_source_is_not_remuxed() {
        let mut info = source("h264", 1920, 1080);
        info.video.profile = Some("High 10".into());
        info.video.pix_fmt = Some("yuv420p10le".into());
        assert!(!plan_ladder(&info)[0].is_remux());
    }

    #[test]
    fn plans_survive_a_trip_through_json() {
        let ladder = plan_ladder(&source("h264", 1920, 1080));
        let json = serde_json::to_string(&ladder).unwrap();
        let back: Vec<Rendition> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, ladder);
    }
}
