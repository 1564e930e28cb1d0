//! A viewer's lists and account, shared by the pages, the API, the player's progress reports and
//! the command line so each applies the same rules: the watchlist, the diary (with the entry a
//! finished playback adds), the public profile (which never shows an anonymous rating), and
//! deleting an account with the title-page caches it touched refreshed.

use crate::accounts;
use crate::error::AppError;
use crate::state::AppState;
use marquee_domain::time_fmt::now_ms;
use marquee_domain::{MovieId, Stars, UserId, ValidationError};
use marquee_store::import::LOCKED_PASSWORD;
use marquee_store::lists::DELETED_AUTHOR;
use marquee_store::{
    Day, DiaryEntry, LeavingReviews, NewDiaryEntry, PlaybackPosition, RatedFilm, Store,
    StoreResult, User, WatchlistEntry,
};
use std::collections::BTreeSet;

/// The most rows a store answers in one call; whole-list reads page with it.
const BATCH: u32 = 500;

/// Today, as the server's clock has it in UTC (viewers' time zones are not known).
pub fn today() -> Day {
    Day::of_ms(now_ms())
}

/// Midnight UTC of a day, in Unix milliseconds, for formatting it like other dates.
pub fn day_ms(day: Day) -> i64 {
    day.date().midnight().assume_utc().unix_timestamp() * 1000
}

fn bad_cursor() -> ValidationError {
    ValidationError::new("after", "is not a position in this list")
}

/// Splits an opaque `<key>.<id>` position.
fn split_cursor(raw: &str) -> Result<(&str, i64), ValidationError> {
    let (key, id) = raw.rsplit_once('.').ok_or_else(bad_cursor)?;
    Ok((key, id.parse().map_err(|_| bad_cursor())?))
}

/// The position after a watchlist entry: `<added ms>.<film id>`.
pub fn watchlist_cursor(e: &WatchlistEntry) -> String {
    format!("{}.{}", e.added_ms, e.card.id.0)
}

pub fn parse_watchlist_cursor(raw: &str) -> Result<(i64, MovieId), ValidationError> {
    let (key, id) = split_cursor(raw)?;
    Ok((key.parse().map_err(|_| bad_cursor())?, MovieId(id)))
}

/// The position after a diary entry: `<day>.<entry id>`.
pub fn diary_cursor(e: &DiaryEntry) -> String {
    format!("{}.{}", e.watched_on, e.id)
}

pub fn parse_diary_cursor(raw: &str) -> Result<(Day, i64), ValidationError> {
    let (key, id) = split_cursor(raw)?;
    Ok((Day::parse(key).map_err(|_| bad_cursor())?, id))
}

/// The position after a rating on a profile: `<created ms>.<review id>`.
pub fn rating_cursor(r: &RatedFilm) -> String {
    format!("{}.{}", r.review.created_ms, r.review.id.0)
}

pub fn parse_rating_cursor(raw: &str) -> Result<(i64, i64), ValidationError> {
    let (key, id) = split_cursor(raw)?;
    Ok((key.parse().map_err(|_| bad_cursor())?, id))
}

/// Reads an optional `after` parameter with one of the parsers above; empty means the start.
pub fn parse_after<T>(
    raw: Option<&str>,
    parse: fn(&str) -> Result<T, ValidationError>,
) -> Result<Option<T>, ValidationError> {
    raw.filter(|s| !s.is_empty()).map(parse).transpose()
}

/// Parses a viewing to log, reporting every bad field. No date means today; a day after
/// tomorrow is refused (a viewer a time zone ahead may already be on tomorrow).
pub fn parse_viewing(
    movie: MovieId,
    watched_on: Option<&str>,
    rewatch: bool,
    stars: Result<Option<Stars>, ValidationError>,
) -> Result<NewDiaryEntry, Vec<ValidationError>> {
    let today = today();
    let day = match watched_on.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(today),
        Some(raw) => Day::parse(raw)
            .map_err(|e| ValidationError::new("watched_on", e.message))
            .and_then(|d| match today.date().next_day() {
                Some(tomorrow) if d.date() > tomorrow => Err(ValidationError::new(
                    "watched_on",
                    "can not be in the future",
                )),
                _ => Ok(d),
            }),
    };
    match (day, stars) {
        (Ok(watched_on), Ok(stars)) => Ok(NewDiaryEntry {
            movie,
            watched_on,
            rewatch,
            stars,
            now_ms: now_ms(),
        }),
        (d, s) => Err([d.err(), s.err()].into_iter().flatten().collect()),
    }
}

/// Optional stars from a form: empty means none.
pub fn form_stars(raw: Option<&str>) -> Result<Option<Stars>, ValidationError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => Stars::parse(s).map(Some),
    }
}

/// Logs a viewing; true when it made a new entry, false when it updated that day's entry.
pub async fn log_viewing(
    state: &AppState,
    user: &User,
    entry: &NewDiaryEntry,
) -> Result<(DiaryEntry, bool), AppError> {
    let saved = state.store.add_diary_entry(user.id, entry).await?;
    // The store keeps the first entry's creation time when the day already had one.
    let created = saved.created_ms == entry.now_ms;
    tracing::info!(movie.id = %entry.movie, user.id = %user.id, created, "viewing logged");
    Ok((saved, created))
}

/// After a progress report: a position past 90 % puts the film in today's diary, once per film
/// and day. The player reports every few seconds, so an entry already there is left alone (it
/// may be one the viewer logged by hand, with stars and a rewatch flag). It is a rewatch when the
/// film was first finished on an earlier day.
pub async fn log_finished_playback(
    state: &AppState,
    user: &User,
    position: &PlaybackPosition,
) -> Result<Option<DiaryEntry>, AppError> {
    if !position.is_finished() {
        return Ok(None);
    }
    let today = today();
    let todays = state
        .store
        .diary(user.id, Some((today, i64::MAX)), 50)
        .await?;
    if todays
        .iter()
        .take_while(|e| e.watched_on == today)
        .any(|e| e.card.id == position.movie_id)
    {
        return Ok(None);
    }
    let entry = NewDiaryEntry {
        movie: position.movie_id,
        watched_on: today,
        rewatch: position.watched_ms.is_some_and(|w| Day::of_ms(w) < today),
        stars: None,
        now_ms: now_ms(),
    };
    let (saved, _) = log_viewing(state, user, &entry).await?;
    Ok(Some(saved))
}

/// The account behind a public profile: `None` for nobody, and for a deleted account whose
/// reviews were kept (its page would gather "A Marquee user"'s reviews back together).
pub async fn find_member(state: &AppState, username: &str) -> Result<Option<User>, AppError> {
    let name = username.trim().to_lowercase();
    let Some((user, hash)) = state.store.credentials(&name).await? else {
        return Ok(None);
    };
    let departed = user.username == format!("deleted-{}", user.id.0)
        && user.display_name == DELETED_AUTHOR
        && hash == LOCKED_PASSWORD;
    Ok((!departed).then_some(user))
}

/// One page of a user's public ratings, latest first, and the position after it when more
/// follow. Anonymous ratings are never among them: they were posted as "A Marquee user", and a
/// profile must not say whose they are.
pub async fn public_ratings(
    state: &AppState,
    user: UserId,
    after: Option<(i64, i64)>,
    limit: u32,
) -> Result<(Vec<RatedFilm>, Option<String>), AppError> {
    let limit = limit as usize;
    let mut shown = Vec::new();
    let mut position = after;
    loop {
        // Anonymous ratings are skipped, so read past them until the page is full.
        let batch = state
            .store
            .ratings_by_user(user, position, (limit as u32 + 1).max(100))
            .await?;
        let exhausted = batch.len() < (limit + 1).max(100);
        position = batch
            .last()
            .map(|r| (r.review.created_ms, r.review.id.0))
            .or(position);
        shown.extend(batch.into_iter().filter(|r| !r.review.anonymous));
        if shown.len() > limit || exhausted {
            break;
        }
    }
    let next = (shown.len() > limit).then(|| {
        shown.truncate(limit);
        shown.last().map(rating_cursor).unwrap_or_default()
    });
    Ok((shown, next))
}

/// What a profile counts: public ratings, and those of them with text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProfileCounts {
    pub ratings: u64,
    pub reviews: u64,
}

/// Counts a user's public ratings and reviews (reading them all: the store keeps no per-user
/// counters).
pub async fn public_counts(store: &dyn Store, user: UserId) -> StoreResult<ProfileCounts> {
    let mut counts = ProfileCounts::default();
    for r in all_ratings(store, user).await? {
        if !r.review.anonymous {
            counts.ratings += 1;
            counts.reviews += u64::from(r.review.body.is_some());
        }
    }
    Ok(counts)
}

/// Every rating of a user, anonymous ones included, latest first.
pub async fn all_ratings(store: &dyn Store, user: UserId) -> StoreResult<Vec<RatedFilm>> {
    let mut all: Vec<RatedFilm> = Vec::new();
    loop {
        let after = all.last().map(|r| (r.review.created_ms, r.review.id.0));
        let batch = store.ratings_by_user(user, after, BATCH).await?;
        let done = batch.len() < BATCH as usize;
        all.extend(batch);
        if done {
            return Ok(all);
        }
    }
}

/// A user's whole diary, latest day first.
pub async fn all_diary(store: &dyn Store, user: UserId) -> StoreResult<Vec<DiaryEntry>> {
    let mut all: Vec<DiaryEntry> = Vec::new();
    loop {
        let after = all.last().map(|e| (e.watched_on, e.id));
        let batch = store.diary(user, after, BATCH).await?;
        let done = batch.len() < BATCH as usize;
        all.extend(batch);
        if done {
            return Ok(all);
        }
    }
}

/// A user's whole watchlist, latest first.
pub async fn all_watchlist(store: &dyn Store, user: UserId) -> StoreResult<Vec<WatchlistEntry>> {
    let mut all: Vec<WatchlistEntry> = Vec::new();
    loop {
        let after = all.last().map(|e| (e.added_ms, e.card.id));
        let batch = store.watchlist(user, after, BATCH).await?;
        let done = batch.len() < BATCH as usize;
        all.extend(batch);
        if done {
            return Ok(all);
        }
    }
}

/// What a leaving user chose for their ratings and reviews, from a form or JSON value.
pub fn parse_leaving(raw: Option<&str>) -> Result<LeavingReviews, ValidationError> {
    match raw.map(str::trim) {
        Some("remove") => Ok(LeavingReviews::Remove),
        Some("keep") => Ok(LeavingReviews::KeepAnonymous),
        _ => Err(ValidationError::new(
            "reviews",
            "choose whether your ratings and reviews are removed or kept as \u{201c}A Marquee user\u{201d}",
        )),
    }
}

/// Deletes the signed-in user's account once their password checks out (failures count towards
/// the sign-in throttle, so this is no way around it), then refreshes every title page that
/// showed their ratings. Removing them also withdraws their helpful votes on other films'
/// reviews, which the store can not list, so every instance drops every cached page.
pub async fn delete_account(
    state: &AppState,
    user: &User,
    password: &str,
    client: &str,
    reviews: LeavingReviews,
) -> Result<(), AppError> {
    if user.is_admin {
        return Err(AppError::Conflict(
            "The administrator's account can not be deleted: the site would be left without one."
                .into(),
        ));
    }
    match accounts::verify_sign_in(state, &user.username, password, client).await {
        Ok(_) => {}
        Err(AppError::Forbidden(_)) => {
            return Err(AppError::Forbidden(
                "That password is not right, so your account was not deleted.".into(),
            ));
        }
        Err(e) => return Err(e),
    }
    let films: BTreeSet<MovieId> = all_ratings(state.store.as_ref(), user.id)
        .await?
        .iter()
        .map(|r| r.card.id)
        .collect();
    state.store.delete_account(user.id, reviews).await?;
    state.tokens.forget_all();
    if reviews == LeavingReviews::Remove {
        state.changed_everything().await;
    }
    for film in &films {
        state.changed(*film).await;
    }
    tracing::info!(
        user.id = %user.id,
        kept = reviews == LeavingReviews::KeepAnonymous,
        films = films.len(),
        "account deleted"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_read_back_and_garbage_is_refused() {
        assert_eq!(
            parse_watchlist_cursor("1700000000000.42").unwrap(),
            (1_700_000_000_000, MovieId(42))
        );
        let (day, id) = parse_diary_cursor("2024-05-31.7").unwrap();
        assert_eq!((day.to_string().as_str(), id), ("2024-05-31", 7));
        assert_eq!(parse_rating_cursor("-5.3").unwrap(), (-5, 3));
        for bad in ["", "x", "1.", ".1", "2024-13-01.1", "1.2.x"] {
            assert!(parse_diary_cursor(bad).is_err(), "{bad}");
        }
        assert!(parse_watchlist_cursor("a.1").is_err());
        assert_eq!(parse_after(Some(""), parse_rating_cursor).unwrap(), None);
    }

    #[test]
    fn a_viewing_defaults_to_today_and_refuses_bad_or_future_dates() {
        let entry = parse_viewing(MovieId(1), None, false, Ok(None)).unwrap();
        assert_eq!(entry.watched_on, today());
        let entry = parse_viewing(MovieId(1), Some(" 2024-05-31 "), true, Ok(None)).unwrap();
        assert_eq!(entry.watched_on.to_string(), "2024-05-31");
        let errors = parse_viewing(MovieId(1), Some("31/05/2024"), false, form_stars(Some("9")))
            .unwrap_err();
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].field, "watched_on");
        assert_eq!(errors[1].field, "stars");
        let far = today().date().next_day().unwrap().next_day().unwrap();
        let errors = parse_viewing(
            MovieId(1),
            Some(&Day::new(far).to_string()),
            false,
            Ok(None),
        )
        .unwrap_err();
        assert_eq!(errors[0].message, "can not be in the future");
    }

    #[test]
    fn the_leaving_choice_must_be_made() {
        assert_eq!(
            parse_leaving(Some("remove")).unwrap(),
            LeavingReviews::Remove
        );
        assert_eq!(
            parse_leaving(Some("keep")).unwrap(),
            LeavingReviews::KeepAnonymous
        );
        assert!(parse_leaving(None).is_err() && parse_leaving(Some("both")).is_err());
    }
}
