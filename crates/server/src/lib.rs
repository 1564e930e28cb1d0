//! The Marquee server: HTTP pages and API over a [`marquee_store::Store`]. `main.rs` only parses
//! the command line and calls [`cli::run`]; tests build the app with [`web::router`].

pub mod access;
pub mod accounts;
pub mod app;
pub mod auth;
pub mod browse;
pub mod cache;
pub mod catalog;
pub mod cli;
pub mod database;
pub mod demo;
pub mod devices;
pub mod error;
pub mod export;
pub mod import;
pub mod lists;
pub mod media;
pub mod packaging;
pub mod posters;
pub mod ratings;
pub mod render;
pub mod results;
pub mod signed_urls;
pub mod state;
pub mod telemetry;
pub mod token_cache;
pub mod transfer;
pub mod votes;
pub mod web;
