//! Running real `marquee` processes in tests, and a minimal HTTP/1.1 client for talking to them.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdout, Command, Stdio};

/// A `marquee serve` process, stopped with SIGTERM when dropped.
pub struct Server {
    pub child: Child,
    pub addr: String,
    /// What it printed before it was ready.
    pub banner: String,
    pub lines: std::io::Lines<BufReader<ChildStdout>>,
}

impl Server {
    /// Starts `marquee --data-dir DIR [global args] serve --listen 127.0.0.1:0 [serve args]` and
    /// waits for its readiness line.
    pub fn start(dir: &std::path::Path, global: &[&str], serve: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_marquee"))
            .arg("--data-dir")
            .arg(dir)
            .args(global)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(serve)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut banner = String::new();
        let addr = loop {
            let line = lines
                .next()
                .expect("the server exited before it was ready")
                .unwrap();
            banner.push_str(&line);
            banner.push('\n');
            if let Some(rest) = line.strip_prefix("Marquee is ready at http://") {
                break rest.trim_end_matches('/').to_owned();
            }
        };
        Self {
            child,
            addr,
            banner,
            lines,
        }
    }

    pub fn terminate(&mut self) -> std::process::ExitStatus {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        self.child.wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.terminate();
        }
    }
}

/// One request on its own connection; returns the status code and the body.
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    req.push_str("\r\n");
    if let Some(b) = body {
        req.push_str(b);
    }
    s.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = out
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, b)| b.to_owned());
    (status, body)
}

pub fn get(addr: &str, path: &str) -> (u16, String) {
    http(addr, "GET", path, &[], None)
}
