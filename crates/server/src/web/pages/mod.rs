//! Server-rendered pages. Every form posts and redirects, so the site works without
//! JavaScript; `assets/app.js` only makes rating and voting update in place.

pub mod accounts;
pub mod admin;
pub mod admin_media;
pub mod browse;
pub mod devices;
pub mod jobs;
pub mod lists;
pub mod movies;
pub mod watch;
