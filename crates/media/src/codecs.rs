//! Codec facts players ask about: H.264 profiles and levels, the RFC 6381 `CODECS` strings that go
//! into an HLS master playlist (`avc1.64001F`, `mp4a.40.2`), and the smallest H.264 level a picture
//! size, frame rate and bit rate need.
//!
//! A player decides from `CODECS` whether it can play a variant at all before fetching a byte, so
//! these strings must describe what is really in the segments.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A positive fraction such as a frame rate (`30000/1001`) or a sample aspect ratio (`32:27`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Ratio {
    num: u32,
    den: u32,
}

impl Ratio {
    /// `None` when either part is zero; ffprobe writes `0/0` for "unknown".
    pub fn new(num: u32, den: u32) -> Option<Self> {
        (num > 0 && den > 0).then_some(Self { num, den })
    }

    /// Reads `a/b` or `a:b` as ffprobe writes them.
    pub fn parse(s: &str) -> Option<Self> {
        let (a, b) = s.trim().split_once(['/', ':'])?;
        Self::new(a.trim().parse().ok()?, b.trim().parse().ok()?)
    }

    pub fn num(self) -> u32 {
        self.num
    }

    pub fn den(self) -> u32 {
        self.den
    }

    pub fn as_f64(self) -> f64 {
        f64::from(self.num) / f64::from(self.den)
    }
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.num, self.den)
    }
}

/// The RFC 6381 codec string for AAC Low Complexity, the only AAC flavour Marquee copies or makes.
pub const AAC_LC: &str = "mp4a.40.2";

/// The H.264 profiles every browser and HLS device decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum H264Profile {
    Baseline,
    ConstrainedBaseline,
    Main,
    High,
}

impl H264Profile {
    /// Reads ffprobe's profile name; `None` for profiles browsers do not promise to play
    /// (`High 10`, `High 4:2:2`, `Extended`, ...).
    pub fn from_ffprobe(name: &str) -> Option<Self> {
        match name.trim() {
            "Baseline" => Some(Self::Baseline),
            "Constrained Baseline" => Some(Self::ConstrainedBaseline),
            "Main" => Some(Self::Main),
            "High" => Some(Self::High),
            _ => None,
        }
    }

    /// `profile_idc` from the H.264 spec, the first byte of the `avc1` codec string.
    pub fn profile_idc(self) -> u8 {
        match self {
            Self::Baseline | Self::ConstrainedBaseline => 66,
            Self::Main => 77,
            Self::High => 100,
        }
    }

    /// The constraint-flags byte as encoders commonly write it: Constrained Baseline sets
    /// constraint_set0..2 (the `E0` of the familiar `avc1.42E01E`), Main sets constraint_set1.
    fn constraint_flags(self) -> u8 {
        match self {
            Self::Baseline | Self::High => 0x00,
            Self::ConstrainedBaseline => 0xE0,
            Self::Main => 0x40,
        }
    }

    /// The name x264 takes in `-profile:v`.
    pub fn ffmpeg_name(self) -> &'static str {
        match self {
            Self::Baseline | Self::ConstrainedBaseline => "baseline",
            Self::Main => "main",
            Self::High => "high",
        }
    }

    /// The most a level allows, in kbit/s, is 1.25 times higher for High (Table A-1 and A.3.3).
    fn bitrate_factor(self) -> f64 {
        match self {
            Self::High => 1.25,
            _ => 1.0,
        }
    }
}

/// An H.264 level as `level_idc` (31 for level 3.1), the way ffprobe reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct H264Level(u8);

/// Limits per level from H.264 Table A-1: (level_idc, MaxMBPS, MaxFS, MaxBR in kbit/s for
/// Baseline/Main). Level 1b is left out; nothing Marquee makes is that small.
const LEVELS: [(u8, u64, u64, u64); 19] = [
    (10, 1_485, 99, 64),
    (11, 3_000, 396, 192),
    (12, 6_000, 396, 384),
    (13, 11_880, 396, 768),
    (20, 11_880, 396, 2_000),
    (21, 19_800, 792, 4_000),
    (22, 20_250, 1_620, 4_000),
    (30, 40_500, 1_620, 10_000),
    (31, 108_000, 3_600, 14_000),
    (32, 216_000, 5_120, 20_000),
    (40, 245_760, 8_192, 20_000),
    (41, 245_760, 8_192, 50_000),
    (42, 522_240, 8_704, 50_000),
    (50, 589_824, 22_080, 135_000),
    (51, 983_040, 36_864, 240_000),
    (52, 2_073_600, 36_864, 240_000),
    (60, 4_177_920, 139_264, 240_000),
    (61, 8_355_840, 139_264, 480_000),
    (62, 16_711_680, 139_264, 800_000),
];

impl H264Level {
    /// Takes ffprobe's `level` field; `None` for unknown (`-99`) or a value that is no level.
    pub fn from_idc(idc: i64) -> Option<Self> {
        LEVELS
            .iter()
            .find(|(l, ..)| i64::from(*l) == idc)
            .map(|(l, ..)| Self(*l))
    }

    pub fn idc(self) -> u8 {
        self.0
    }

    /// `3.1` for level_idc 31: the form x264 takes in `-level:v`.
    pub fn dotted(self) -> String {
        format!("{}.{}", self.0 / 10, self.0 % 10)
    }

    /// The smallest level that holds a `width`x`height` picture at `fps` frames a second with a
    /// peak of `max_kbps`, never below 3.0 (below that only matters to devices long gone).
    /// Pictures beyond every level get the highest.
    pub fn smallest_for(
        width: u32,
        height: u32,
        fps: f64,
        max_kbps: u32,
        profile: H264Profile,
    ) -> Self {
        let mbs_w = u64::from(width.div_ceil(16));
        let mbs_h = u64::from(height.div_ceil(16));
        let frame_size = mbs_w * mbs_h;
        let fps = if fps.is_finite() && fps > 0.0 {
            fps
        } else {
            30.0
        };
        let mb_rate = frame_size as f64 * fps;
        let found = LEVELS.iter().find(|&&(idc, max_mbps, max_fs, max_br)| {
            // A frame side may not exceed sqrt(8 * MaxFS) macroblocks (A.3.1 h/i).
            let max_side = ((8 * max_fs) as f64).sqrt();
            idc >= 30
                && frame_size <= max_fs
                && mb_rate <= max_mbps as f64
                && (mbs_w as f64) <= max_side
                && (mbs_h as f64) <= max_side
                && f64::from(max_kbps) <= max_br as f64 * profile.bitrate_factor()
        });
        Self(found.map_or(62, |&(idc, ..)| idc))
    }
}

impl TryFrom<u8> for H264Level {
    type Error = String;

    fn try_from(idc: u8) -> Result<Self, Self::Error> {
        Self::from_idc(i64::from(idc)).ok_or_else(|| format!("{idc} is not an H.264 level_idc"))
    }
}

impl From<H264Level> for u8 {
    fn from(level: H264Level) -> Self {
        level.0
    }
}

/// The RFC 6381 string for H.264: `avc1.` then profile_idc, constraint flags and level_idc as
/// hex, e.g. `avc1.64001F` for High 3.1.
pub fn avc1_codec(profile: H264Profile, level: H264Level) -> String {
    format!(
        "avc1.{:02X}{:02X}{:02X}",
        profile.profile_idc(),
        profile.constraint_flags(),
        level.idc()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(idc: i64) -> H264Level {
        H264Level::from_idc(idc).unwrap()
    }

    #[test]
    fn codec_strings_match_the_well_known_ones() {
        assert_eq!(avc1_codec(H264Profile::High, level(40)), "avc1.640028");
        assert_eq!(avc1_codec(H264Profile::High, level(31)), "avc1.64001F");
        assert_eq!(avc1_codec(H264Profile::Main, level(30)), "avc1.4D401E");
        assert_eq!(
            avc1_codec(H264Profile::ConstrainedBaseline, level(30)),
            "avc1.42E01E"
        );
        assert_eq!(avc1_codec(H264Profile::Baseline, level(21)), "avc1.420015");
    }

    #[test]
    fn ffprobe_profile_names_map_to_browser_safe_profiles_only() {
        assert_eq!(H264Profile::from_ffprobe("High"), Some(H264Profile::High));
        assert_eq!(
            H264Profile::from_ffprobe("Constrained Baseline"),
            Some(H264Profile::ConstrainedBaseline)
        );
        assert_eq!(H264Profile::from_ffprobe("High 10"), None);
        assert_eq!(H264Profile::from_ffprobe("High 4:4:4 Predictive"), None);
        assert_eq!(H264Profile::from_ffprobe("Extended"), None);
    }

    #[test]
    fn levels_are_known_values_only() {
        assert_eq!(H264Level::from_idc(-99), None);
        assert_eq!(H264Level::from_idc(35), None);
        assert_eq!(level(41).dotted(), "4.1");
        assert!(H264Level::try_from(7u8).is_err());
    }

    #[test]
    fn the_smallest_level_follows_size_rate_and_bitrate() {
        use H264Profile::{High, Main};
        let cases = [
            (640, 360, 25.0, 1_200, High, 30),
            (1280, 720, 30.0, 4_200, High, 31),
            (1280, 720, 60.0, 4_200, High, 32),
            (1920, 1080, 30.0, 7_500, High, 40),
            (1920, 1080, 60.0, 7_500, High, 42),
            // 3.1 allows 14 Mbit/s for Main and 17.5 for High.
            (1280, 720, 25.0, 15_000, Main, 32),
            (1280, 720, 25.0, 15_000, High, 31),
            // Tiny pictures still get 3.0, and unknown rates count as 30 fps.
            (160, 90, f64::NAN, 200, Main, 30),
            // 256 macroblocks across needs sqrt(8 * MaxFS) >= 256, first met by 4.0, though
            // the area alone would fit 3.0.
            (4096, 64, 25.0, 1_000, High, 40),
        ];
        for (w, h, fps, kbps, profile, want) in cases {
            let got = H264Level::smallest_for(w, h, fps, kbps, profile).idc();
            assert_eq!(
                got, want,
                "{w}x{h} at {fps} fps, {kbps} kbit/s, {profile:?}"
            );
        }
    }

    #[test]
    fn ratios_read_ffprobe_forms_and_reject_unknowns() {
        assert_eq!(
            Ratio::parse("30000/1001").unwrap().to_string(),
            "30000/1001"
        );
        assert_eq!(Ratio::parse("32:27"), Ratio::new(32, 27));
        assert_eq!(Ratio::parse("0/0"), None);
        assert_eq!(Ratio::parse("0:1"), None);
        assert_eq!(Ratio::parse("25"), None);
        assert!((Ratio::parse("25/1").unwrap().as_f64() - 25.0).abs() < 1e-9);
    }
}
