//! Readers for the files people bring when they move their films to Marquee: Kodi/Jellyfin
//! library folders, Letterboxd exports, MovieLens, IMDb's public TSV files and generic CSV/JSON
//! catalogs.
//!
//! Everything here is pure and synchronous and knows no database: each reader turns a file into
//! checked records built from `marquee-domain` types, and a caller (the server's import command)
//! stores them in batches. Large files are streamed through iterators rather than loaded whole,
//! and a bad row never stops a file: it becomes a [`Problem`] naming the file and line, and the
//! rest goes on.

#![warn(missing_docs)]

pub mod catalog;
mod fields;
mod half_stars;
pub mod imdb;
pub mod letterboxd;
pub mod library;
pub mod movielens;
pub mod nfo;
mod record;
pub mod source;

pub use half_stars::HalfStars;
pub use record::{ExternalKey, ExternalRating, FilmRecord, InvalidKey, Origin, Problem};
