//! `marquee`: parse the command line and run it.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = marquee_server::cli::Cli::parse();
    match marquee_server::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("marquee: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
