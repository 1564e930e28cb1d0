//! Marquee over HTTP: every test builds the whole app on its own SQLite file and drives it with
//! real requests through the router (no TCP), or, for `serve` and the CLI, runs the binary.

mod accounts;
mod admin;
mod api;
mod browse;
mod cli;
mod devices;
mod helpers;
mod hls;
mod imports;
mod instances;
mod lists;
mod media;
mod migrate;
mod pages;
mod process;
