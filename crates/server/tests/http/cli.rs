//! The `marquee` binary: catalog commands and `serve` (demo, readiness line, graceful stop).

use crate::process::{Server, get};
use std::process::Command;

pub fn marquee(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_marquee"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn movies_are_added_listed_edited_and_removed_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let add = marquee(
        dir.path(),
        &[
            "movie",
            "add",
            "--title",
            "The Work",
            "--year",
            "2017",
            "--runtime",
            "89",
            "--genre",
            "Documentary",
            "--director",
            "Jairus McLeary",
            "--director",
            "Gethin Aldous",
            "--cast",
            "Chris Dowd as Himself",
        ],
    );
    assert!(
        add.status.success(),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
    assert!(stdout(&add).contains("/movies/the-work-2017"));
    let bad = marquee(
        dir.path(),
        &[
            "movie",
            "add",
            "--title",
            "Broken",
            "--year",
            "1200",
            "--runtime",
            "zero",
        ],
    );
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("--year: must be between 1888 and 2100") && err.contains("--runtime-minutes"),
        "{err}"
    );
    let edit = marquee(
        dir.path(),
        &["movie", "edit", "the-work-2017", "--runtime", "90"],
    );
    assert!(
        edit.status.success(),
        "{}",
        String::from_utf8_lossy(&edit.stderr)
    );
    let list = stdout(&marquee(dir.path(), &["movie", "list"]));
    assert!(
        list.contains("The Work") && list.contains("/movies/the-work-2017"),
        "{list}"
    );
    assert!(!list.contains("Broken"));
    let missing = marquee(dir.path(), &["movie", "remove", "nope"]);
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("no film has the id or address 'nope'")
    );
    assert!(
        marquee(dir.path(), &["movie", "remove", "the-work-2017"])
            .status
            .success()
    );
    assert!(!stdout(&marquee(dir.path(), &["movie", "list"])).contains("The Work"));
}

#[test]
fn serve_with_demo_prints_its_address_serves_the_catalog_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &[], &["--demo"]);
    let addr = server.addr.clone();
    assert!(
        server.banner.contains("Demo admin:     username 'admin'"),
        "{}",
        server.banner
    );
    let (status, page) = get(&addr, "/movies/the-work");
    assert_eq!(status, 200);
    assert!(
        page.contains("2017 • 89 minutes") && page.contains("See all 9 reviews"),
        "{page}"
    );
    // An edit from the command line while the server runs reaches the cached page quickly.
    let edit = marquee(
        dir.path(),
        &["movie", "edit", "the-work", "--runtime", "90"],
    );
    assert!(
        edit.status.success(),
        "{}",
        String::from_utf8_lossy(&edit.stderr)
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !get(&addr, "/movies/the-work")
        .1
        .contains("2017 • 90 minutes")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the edit never showed"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let home = get(&addr, "/").1;
    assert!(home.matches("<li>").count() >= 12, "at least 12 demo films");
    let status = server.terminate();
    assert!(status.success(), "graceful shutdown exits 0");
    let rest: Vec<String> = server.lines.by_ref().map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.contains("Marquee stopped.")));
    // A second --demo start leaves the catalog alone.
    let again = marquee(dir.path(), &["movie", "list"]);
    assert_eq!(stdout(&again).matches("/movies/").count(), 16);
}
