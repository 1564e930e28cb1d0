//! A Letterboxd export into one account. Films are matched by title and year (Letterboxd's
//! export has no other id we share); the ones not in the catalog are listed, not created,
//! because a title and year are not enough to describe a film.
//!
//! ratings.csv and reviews.csv become the account's ratings (a review needs stars here, so a
//! review without a rating keeps the stars already given or is reported); diary.csv and
//! watched.csv become diary entries; watchlist.csv the watchlist. Every part is idempotent:
//! a re-run changes nothing that is already there.

use super::{LetterboxdArgs, RATING_BATCH, Report, progress};
use anyhow::{Context, bail};
use marquee_domain::{MovieId, Stars};
use marquee_import::Problem;
use marquee_import::letterboxd::{self, Entry};
use marquee_store::{Day, ImportCounts, ImportRating, NewDiaryEntry, Store};
use std::collections::HashMap;

/// Finds films by title and year, remembering the answers.
struct Matcher<'a> {
    store: &'a dyn Store,
    seen: HashMap<(String, Option<u16>), Option<MovieId>>,
}

impl Matcher<'_> {
    async fn find(&mut self, e: &Entry, report: &mut Report) -> anyhow::Result<Option<MovieId>> {
        let year = e.year.map(|y| y.get());
        let key = (e.name.to_lowercase(), year);
        if let Some(found) = self.seen.get(&key) {
            return Ok(*found);
        }
        let found = self
            .store
            .films_by_title(&e.name, year)
            .await?
            .first()
            .copied();
        if found.is_none() {
            report.unmatched.push(match year {
                Some(y) => format!("{} ({y})", e.name),
                None => e.name.clone(),
            });
        }
        self.seen.insert(key, found);
        Ok(found)
    }
}

fn day_ms(d: Option<time::Date>) -> Option<i64> {
    d.map(|d| d.midnight().assume_utc().unix_timestamp() * 1000)
}

pub async fn run(store: &dyn Store, args: &LetterboxdArgs) -> anyhow::Result<Report> {
    let Some((user, _)) = store.credentials(&args.user).await? else {
        bail!("there is no account named '{}'", args.user);
    };
    let path = args.path.clone();
    let export = tokio::task::spawn_blocking(move || letterboxd::read(&path))
        .await
        .context("reading the export")?
        .map_err(|p| anyhow::anyhow!("{p}"))?;
    let mut report = Report {
        problems: export.problems.clone(),
        ..Report::default()
    };
    let mut matcher = Matcher {
        store,
        seen: HashMap::new(),
    };
    let total = export.ratings.len()
        + export.reviews.len()
        + export.diary.len()
        + export.watched.len()
        + export.watchlist.len();
    let bar = progress("letterboxd", Some(total as u64));
    let now = marquee_domain::time_fmt::now_ms();

    // Ratings, then reviews (whose text goes with their rating).
    let mut ratings: Vec<ImportRating> = Vec::new();
    for e in &export.ratings {
        bar.inc(1);
        let (Some(movie), Some(stars)) = (matcher.find(e, &mut report).await?, e.rating) else {
            continue;
        };
        ratings.push(ImportRating {
            movie,
            user: user.id,
            stars: stars.stars(),
            body: None,
            at_ms: day_ms(e.date).unwrap_or(now),
        });
    }
    let mut given: HashMap<MovieId, Stars> = ratings.iter().map(|r| (r.movie, r.stars)).collect();
    for e in &export.reviews {
        bar.inc(1);
        let Some(movie) = matcher.find(e, &mut report).await? else {
            continue;
        };
        let stars = match (e.rating.map(|r| r.stars()), given.get(&movie)) {
            (Some(s), _) => s,
            (None, Some(s)) => *s,
            (None, None) => match store.rating_by_user(movie, user.id).await? {
                Some(r) => Stars::new(i64::from(r.stars))?,
                None => {
                    report.problems.push(Problem::new(
                        e.origin.clone(),
                        "a review needs a star rating in Marquee, and this one has none",
                    ));
                    continue;
                }
            },
        };
        given.insert(movie, stars);
        ratings.push(ImportRating {
            movie,
            user: user.id,
            stars,
            body: e.review.clone(),
            at_ms: day_ms(e.watched_date.or(e.date)).unwrap_or(now),
        });
    }
    let mut counts = ImportCounts::default();
    for chunk in ratings.chunks(RATING_BATCH) {
        counts += store.import_ratings(chunk).await?;
    }
    report.parts.push(("ratings and reviews".into(), counts));

    // Diary entries, then films marked watched without a diary entry.
    let mut diary = ImportCounts::default();
    let mut logged: std::collections::HashSet<MovieId> = std::collections::HashSet::new();
    let mut already = std::collections::HashSet::new();
    let mut after = None;
    loop {
        let page = store.diary(user.id, after, 500).await?;
        let Some(last) = page.last() else { break };
        after = Some((last.watched_on, last.id));
        already.extend(page.iter().map(|d| (d.card.id, d.watched_on)));
    }
    for (e, is_diary) in export
        .diary
        .iter()
        .map(|e| (e, true))
        .chain(export.watched.iter().map(|e| (e, false)))
    {
        bar.inc(1);
        let Some(movie) = matcher.find(e, &mut report).await? else {
            continue;
        };
        if !is_diary && logged.contains(&movie) {
            diary.unchanged += 1;
            continue;
        }
        let Some(day) = e.watched_date.or(e.date) else {
            report
                .problems
                .push(Problem::new(e.origin.clone(), "has no date"));
            continue;
        };
        let before = !already.insert((movie, Day::new(day)));
        store
            .add_diary_entry(
                user.id,
                &NewDiaryEntry {
                    movie,
                    watched_on: Day::new(day),
                    rewatch: e.rewatch,
                    stars: e.rating.map(|r| r.stars()),
                    now_ms: day_ms(e.date).unwrap_or(now),
                },
            )
            .await?;
        logged.insert(movie);
        if before {
            diary.unchanged += 1;
        } else {
            diary.added += 1;
        }
    }
    report.parts.push(("diary".into(), diary));

    let mut watchlist = ImportCounts::default();
    for e in &export.watchlist {
        bar.inc(1);
        let Some(movie) = matcher.find(e, &mut report).await? else {
            continue;
        };
        if store
            .add_to_watchlist(user.id, movie, day_ms(e.date).unwrap_or(now))
            .await?
        {
            watchlist.added += 1;
        } else {
            watchlist.unchanged += 1;
        }
    }
    report.parts.push(("watchlist".into(), watchlist));
    bar.finish_and_clear();
    report.unmatched.sort();
    Ok(report)
}
