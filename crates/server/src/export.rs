//! "Download your data": a user's ratings, reviews, diary, watched films and watchlist written as
//! a Letterboxd export (the five CSV files in a zip, through `marquee-import`'s writer), so the
//! same file can be read back by Marquee's importer or by Letterboxd. Used by the account page
//! (`GET /account/export`), the API (`GET /api/v1/me/export`) and `marquee export letterboxd`.
//!
//! What the format can not hold: Marquee's review headlines become the review's first paragraph;
//! stars are whole (Letterboxd's half stars, rounded up on import, come back as whole stars).

use crate::cli::Cli;
use crate::error::AppError;
use crate::lists::{all_diary, all_ratings, all_watchlist};
use anyhow::Context;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use clap::{Args, Subcommand};
use marquee_domain::Year;
use marquee_import::HalfStars;
use marquee_import::letterboxd::{EntryOut, ExportOut, write_zip};
use marquee_store::{Day, MovieCard, Store, User};
use std::collections::BTreeMap;
use std::path::PathBuf;
use time::Date;

/// Gathers everything of `user`'s that the export holds. With `public_url` (the address people
/// use, e.g. `https://films.example.org`) each row links to the film's title page there in the
/// "Letterboxd URI" column; without it the column is empty.
pub async fn letterboxd(
    store: &dyn Store,
    user: &User,
    public_url: Option<&str>,
) -> Result<ExportOut, marquee_store::StoreError> {
    let ratings = all_ratings(store, user.id).await?;
    let diary = all_diary(store, user.id).await?;
    let watchlist = all_watchlist(store, user.id).await?;
    let base = public_url
        .map(|u| u.trim_end_matches('/'))
        .filter(|u| !u.is_empty());
    let film = |card: &MovieCard, date: Date| EntryOut {
        name: card.title.clone(),
        year: card.year.and_then(|y| Year::new(i64::from(y)).ok()),
        uri: base.map_or_else(String::new, |b| format!("{b}/movies/{}", card.slug)),
        date: Some(date),
        ..EntryOut::default()
    };
    let date_of = |ms: i64| Day::of_ms(ms).date();
    let stars = |n: u8| HalfStars::from_halves(n.saturating_mul(2)).ok();

    // The latest viewing of each film: a review's watched date and rewatch flag.
    let mut latest_viewing: BTreeMap<_, (Day, bool)> = BTreeMap::new();
    // The first day each film was watched: the watched list.
    let mut first_watched: BTreeMap<_, (Day, &MovieCard)> = BTreeMap::new();
    for e in &diary {
        latest_viewing
            .entry(e.card.id)
            .or_insert((e.watched_on, e.rewatch));
        first_watched.insert(e.card.id, (e.watched_on, &e.card));
    }

    let mut out = ExportOut::default();
    // Letterboxd lists each file oldest first; the store reads latest first.
    for r in ratings.iter().rev() {
        let rev = &r.review;
        out.ratings.push(EntryOut {
            rating: stars(rev.stars),
            // Dated by its last change (a page shows the review's date, which new words reset).
            ..film(&r.card, date_of(rev.updated_ms.max(rev.created_ms)))
        });
        if let Some(body) = &rev.body {
            let viewing = latest_viewing.get(&r.card.id);
            out.reviews.push(EntryOut {
                rating: stars(rev.stars),
                review: match &rev.headline {
                    Some(h) => format!("{h}\n\n{body}"),
                    None => body.clone(),
                },
                rewatch: viewing.is_some_and(|v| v.1),
                watched_date: viewing.map(|v| v.0.date()),
                ..film(&r.card, date_of(rev.created_ms))
            });
        }
    }
    let mut watched: Vec<_> = first_watched.into_values().collect();
    watched.sort_by_key(|(day, card)| (*day, card.id));
    out.watched = watched
        .into_iter()
        .map(|(day, card)| film(card, day.date()))
        .collect();
    out.watchlist = watchlist
        .iter()
        .rev()
        .map(|w| film(&w.card, date_of(w.added_ms)))
        .collect();
    out.diary = diary
        .iter()
        .rev()
        .map(|e| EntryOut {
            rating: e.stars.and_then(stars),
            rewatch: e.rewatch,
            watched_date: Some(e.watched_on.date()),
            ..film(&e.card, date_of(e.created_ms))
        })
        .collect();
    Ok(out)
}

/// The zip's bytes.
pub fn zip_bytes(export: &ExportOut) -> std::io::Result<Vec<u8>> {
    let mut buf = std::io::Cursor::new(Vec::new());
    write_zip(&mut buf, export)?;
    Ok(buf.into_inner())
}

/// `marquee-<username>-<YYYY-MM-DD>.zip`; usernames are `a-z0-9_-`, safe in a header and a path.
pub fn file_name(user: &User, today: Day) -> String {
    format!("marquee-{}-{today}.zip", user.username)
}

/// The export as a download: what `GET /account/export` and `GET /api/v1/me/export` answer.
pub async fn download(state: &crate::state::AppState, user: &User) -> Result<Response, AppError> {
    let export = letterboxd(state.store.as_ref(), user, Some(&state.settings.public_url)).await?;
    let bytes = tokio::task::spawn_blocking(move || zip_bytes(&export))
        .await
        .map_err(|e| AppError::Internal(e.into()))?
        .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("writing the export zip")))?;
    let disposition = format!(
        "attachment; filename=\"{}\"",
        file_name(user, crate::lists::today())
    );
    let mut res = (StatusCode::OK, bytes).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).map_err(|e| AppError::Internal(e.into()))?,
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    tracing::info!(user.id = %user.id, "data exported");
    Ok(res)
}

/// `marquee export …`
#[derive(Subcommand)]
pub enum ExportCommand {
    /// Write a user's ratings, reviews, diary, watched films and watchlist as a Letterboxd
    /// export zip (the file "Download your data" gives them).
    Letterboxd(LetterboxdArgs),
}

#[derive(Args)]
pub struct LetterboxdArgs {
    /// The account's username.
    #[arg(long)]
    pub user: String,
    /// Where to write the zip; default `marquee-<username>-<date>.zip` here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The address people use (e.g. https://films.example.org), for each film's link in the
    /// "Letterboxd URI" column; without it the column is left empty.
    #[arg(long, env = "MARQUEE_PUBLIC_URL")]
    pub public_url: Option<String>,
}

/// Runs `marquee export letterboxd`.
pub async fn run(cli: &Cli, cmd: &ExportCommand) -> anyhow::Result<()> {
    let ExportCommand::Letterboxd(args) = cmd;
    let store = cli.open_store().await?;
    let result = export_to_file(store.as_ref(), args).await;
    store.close().await;
    let (path, export) = result?;
    println!(
        "wrote {}: {} ratings, {} reviews, {} diary entries, {} watched films, {} on the watchlist",
        path.display(),
        export.ratings.len(),
        export.reviews.len(),
        export.diary.len(),
        export.watched.len(),
        export.watchlist.len()
    );
    Ok(())
}

async fn export_to_file(
    store: &dyn Store,
    args: &LetterboxdArgs,
) -> anyhow::Result<(PathBuf, ExportOut)> {
    let name = args.user.trim().to_lowercase();
    let (user, _) = store
        .credentials(&name)
        .await?
        .with_context(|| format!("no account is called '{}'", args.user))?;
    let export = letterboxd(store, &user, args.public_url.as_deref()).await?;
    let path = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(file_name(&user, crate::lists::today())));
    let bytes = zip_bytes(&export)?;
    tokio::fs::write(&path, bytes)
        .await
        .with_context(|| format!("writing {}", path.display()))?;
    Ok((path, export))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lists::day_ms;

    #[test]
    fn the_file_is_named_after_the_user_and_the_day() {
        let user = User {
            id: marquee_domain::UserId(1),
            username: "ada".into(),
            display_name: "Ada".into(),
            is_admin: false,
            created_ms: 0,
        };
        let day = Day::parse("2024-05-31").unwrap();
        assert_eq!(file_name(&user, day), "marquee-ada-2024-05-31.zip");
        assert_eq!(day_ms(day), 1_717_113_600_000);
    }
}
