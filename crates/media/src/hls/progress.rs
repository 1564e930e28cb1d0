//! Reading ffmpeg's `-progress` output: blocks of `key=value` lines, each ending in
//! `progress=continue` or, once, `progress=end`.

use std::time::Duration;

/// Turns `-progress` lines into the share of the source done so far.
#[derive(Debug)]
pub(crate) struct ProgressParser {
    total_us: u64,
    out_time_us: Option<u64>,
}

impl ProgressParser {
    pub(crate) fn new(total: Duration) -> Self {
        Self {
            total_us: u64::try_from(total.as_micros()).unwrap_or(u64::MAX),
            out_time_us: None,
        }
    }

    /// Feeds one line; at the end of each block returns the fraction done, below 1.0 until
    /// `progress=end`, which returns exactly 1.0.
    pub(crate) fn feed(&mut self, line: &str) -> Option<f64> {
        let (key, value) = line.trim().split_once('=')?;
        match key {
            // Despite its name, `out_time_ms` is in microseconds too (an old ffmpeg mistake kept
            // for compatibility); ffmpeg 5.1 writes both, older builds only `out_time_ms`.
            "out_time_us" | "out_time_ms" => {
                // `N/A` before the first frame, and negative while audio priming is skipped.
                if let Ok(us) = value.parse::<u64>() {
                    self.out_time_us = Some(us);
                }
                None
            }
            "progress" if value == "end" => Some(1.0),
            "progress" => {
                let done = self.out_time_us? as f64;
                (self.total_us > 0).then(|| (done / self.total_us as f64).clamp(0.0, 0.999))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(total_secs: u64, text: &str) -> Vec<f64> {
        let mut p = ProgressParser::new(Duration::from_secs(total_secs));
        text.lines().filter_map(|l| p.feed(l)).collect()
    }

    #[test]
    fn each_block_reports_the_share_done_and_the_end_reports_one() {
        let text = "frame=10\nout_time_us=N/A\nout_time_ms=N/A\nprogress=continue\n\
                    frame=100\nout_time_us=2500000\nout_time_ms=2500000\nout_time=00:00:02.5\n\
                    progress=continue\n\
                    out_time_us=10005333\nprogress=continue\n\
                    out_time_us=10005333\nprogress=end\n";
        assert_eq!(run(10, text), [0.25, 0.999, 1.0]);
    }

    #[test]
    fn older_builds_with_only_out_time_ms_are_read_as_microseconds() {
        assert_eq!(run(4, "out_time_ms=1000000\nprogress=continue\n"), [0.25]);
    }

    #[test]
    fn negative_times_and_noise_are_ignored() {
        let text = "out_time_us=-23220\nprogress=continue\nbitrate=N/A\nnonsense\n";
        assert_eq!(run(10, text), Vec::<f64>::new());
    }

    #[test]
    fn an_unknown_total_reports_only_the_end() {
        assert_eq!(
            run(0, "out_time_us=5\nprogress=continue\nprogress=end\n"),
            [1.0]
        );
    }
}
