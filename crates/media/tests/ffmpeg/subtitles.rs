//! Converted subtitles checked against ffmpeg's own WebVTT reader.

use crate::clips::{ffmpeg, ffmpeg_available};
use marquee_media::WebVtt;
use marquee_media::subtitles::{decode_text, srt_to_vtt};

/// ffmpeg's own WebVTT reader is the second opinion: what we write, it must read with the same
/// cues and times.
#[test]
fn converted_subtitles_read_back_in_ffmpeg_with_the_same_times() {
    if !ffmpeg_available("converted_subtitles_read_back_in_ffmpeg_with_the_same_times") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Windows-1252 with CRLF and a BOM-less start, as old subtitle editors saved them.
    let srt: &[u8] = b"1\r\n00:00:01,000 --> 00:00:02,500\r\nCaf\xe9 <i>au lait</i>\r\n\r\n\
                       2\r\n00:01:00,250 --> 00:01:03,000\r\nSecond\r\nline\r\n";
    let vtt = srt_to_vtt(&decode_text(srt)).unwrap().vtt;
    assert!(vtt.as_str().contains("Café <i>au lait</i>"));
    let vtt_path = dir.path().join("subs.vtt");
    std::fs::write(&vtt_path, vtt.as_str()).unwrap();

    // ffmpeg turns it back into SubRip; the times must survive the round trip.
    let back = dir.path().join("back.srt");
    ffmpeg(&["-i", vtt_path.to_str().unwrap(), back.to_str().unwrap()]);
    let back = std::fs::read_to_string(back).unwrap();
    assert!(back.contains("00:00:01,000 --> 00:00:02,500"), "{back}");
    assert!(back.contains("00:01:00,250 --> 00:01:03,000"), "{back}");
    assert!(back.contains("Café"), "{back}");

    // And ffmpeg's WebVTT output is accepted as an upload.
    let from_ffmpeg = dir.path().join("from-ffmpeg.vtt");
    ffmpeg(&[
        "-i",
        vtt_path.to_str().unwrap(),
        from_ffmpeg.to_str().unwrap(),
    ]);
    let checked = WebVtt::parse(&std::fs::read_to_string(from_ffmpeg).unwrap()).unwrap();
    assert_eq!(checked.cue_count(), 2);
}
