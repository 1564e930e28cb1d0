//! Where ffmpeg and ffprobe are, and what can go wrong when running them.
//!
//! Both tools come from the system (Debian's `ffmpeg` package). Marquee never bundles them, so the
//! first thing a person needs when they are missing is a message naming the tool and how to get
//! it, not an `os error 2`.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;

/// The programs to run. `Tools::default()` finds `ffmpeg` and `ffprobe` on `PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tools {
    ffmpeg: PathBuf,
    ffprobe: PathBuf,
}

impl Default for Tools {
    fn default() -> Self {
        Self::new("ffmpeg", "ffprobe")
    }
}

impl Tools {
    /// Uses the given programs: bare names are looked up on `PATH`, paths are run as they are.
    pub fn new(ffmpeg: impl Into<PathBuf>, ffprobe: impl Into<PathBuf>) -> Self {
        Self {
            ffmpeg: ffmpeg.into(),
            ffprobe: ffprobe.into(),
        }
    }

    pub fn ffmpeg(&self) -> &Path {
        &self.ffmpeg
    }

    pub fn ffprobe(&self) -> &Path {
        &self.ffprobe
    }

    /// Runs `-version` on both tools and returns ffmpeg's first line (e.g. `ffmpeg version
    /// 5.1.9-0+deb12u1 ...`), so a server can refuse to start, or warn, before the first upload.
    pub async fn check(&self) -> Result<String, ToolError> {
        let mut first_line = String::new();
        for (tool, program) in [("ffprobe", &self.ffprobe), ("ffmpeg", &self.ffmpeg)] {
            let out = tokio::process::Command::new(program)
                .arg("-version")
                .stdin(std::process::Stdio::null())
                .kill_on_drop(true)
                .output()
                .await
                .map_err(|e| ToolError::from_spawn(tool, program, e))?;
            if !out.status.success() {
                return Err(ToolError::Failed {
                    tool,
                    status: out.status,
                    stderr_tail: tail_of(&out.stderr),
                });
            }
            first_line = String::from_utf8_lossy(&out.stdout)
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned();
        }
        Ok(first_line)
    }
}

/// A tool that could not be started or that failed.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error(
        "{tool} was not found (looked for `{program}`); install ffmpeg \
         (Debian: `apt-get install ffmpeg`) or give the path to {tool}"
    )]
    Missing { tool: &'static str, program: String },
    #[error("could not start {tool}: {source}")]
    Spawn {
        tool: &'static str,
        #[source]
        source: io::Error,
    },
    /// The tool ran and exited with an error; `stderr_tail` holds its last lines, which is where
    /// ffmpeg says what went wrong.
    #[error("{tool} failed ({status}): {stderr_tail}")]
    Failed {
        tool: &'static str,
        status: ExitStatus,
        stderr_tail: String,
    },
    #[error("lost contact with {tool}: {source}")]
    Io {
        tool: &'static str,
        #[source]
        source: io::Error,
    },
}

impl ToolError {
    pub(crate) fn from_spawn(tool: &'static str, program: &Path, e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::NotFound {
            Self::Missing {
                tool,
                program: program.display().to_string(),
            }
        } else {
            Self::Spawn { tool, source: e }
        }
    }
}

/// A path as an ffmpeg argument. ffmpeg reads `name:rest` as a protocol (`concat:`, `http:`), so a
/// relative path such as `a:b.mp4` gets a `./` in front; absolute paths start with `/` and are
/// safe as they are.
pub(crate) fn path_arg(path: &Path) -> OsString {
    if path.is_absolute() || path.starts_with(".") || path.starts_with("..") {
        path.as_os_str().to_owned()
    } else {
        Path::new(".").join(path).into_os_string()
    }
}

/// How much of a tool's error output to keep: enough for ffmpeg's reason, little enough for a log
/// line or an admin page.
const TAIL_LINES: usize = 12;
const TAIL_LINE_CHARS: usize = 400;

/// The last lines a tool wrote to stderr, kept while it runs so a long job does not hold all of it.
#[derive(Debug, Default)]
pub(crate) struct StderrTail {
    lines: VecDeque<String>,
}

impl StderrTail {
    pub(crate) fn push(&mut self, line: &str) {
        let line = line.trim_end();
        if line.is_empty() {
            return;
        }
        if self.lines.len() == TAIL_LINES {
            self.lines.pop_front();
        }
        self.lines
            .push_back(line.chars().take(TAIL_LINE_CHARS).collect());
    }

    pub(crate) fn into_string(self) -> String {
        if self.lines.is_empty() {
            return "(it printed nothing)".to_owned();
        }
        Vec::from(self.lines).join("\n")
    }
}

pub(crate) fn tail_of(stderr: &[u8]) -> String {
    let mut tail = StderrTail::default();
    for line in String::from_utf8_lossy(stderr).lines() {
        tail.push(line);
    }
    tail.into_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_cannot_be_read_as_protocols() {
        assert_eq!(path_arg(Path::new("a:b.mp4")), OsString::from("./a:b.mp4"));
        assert_eq!(
            path_arg(Path::new("/x/a:b.mp4")),
            OsString::from("/x/a:b.mp4")
        );
        assert_eq!(path_arg(Path::new("./a.mp4")), OsString::from("./a.mp4"));
        assert_eq!(path_arg(Path::new("../a.mp4")), OsString::from("../a.mp4"));
    }

    #[test]
    fn the_stderr_tail_keeps_the_last_lines_only() {
        let mut tail = StderrTail::default();
        for i in 0..30 {
            tail.push(&format!("line {i}"));
        }
        tail.push("   ");
        let s = tail.into_string();
        assert!(s.starts_with("line 18\n"), "{s}");
        assert!(s.ends_with("line 29"), "{s}");
    }

    #[test]
    fn an_empty_stderr_says_so() {
        assert_eq!(tail_of(b""), "(it printed nothing)");
    }

    #[tokio::test]
    async fn a_missing_tool_is_named_in_the_error() {
        let tools = Tools::new("/nonexistent/ffmpeg-xyz", "/nonexistent/ffprobe-xyz");
        let err = tools.check().await.unwrap_err();
        assert!(matches!(
            err,
            ToolError::Missing {
                tool: "ffprobe",
                ..
            }
        ));
        let msg = err.to_string();
        assert!(msg.contains("ffprobe was not found"), "{msg}");
        assert!(msg.contains("/nonexistent/ffprobe-xyz"), "{msg}");
    }
}
