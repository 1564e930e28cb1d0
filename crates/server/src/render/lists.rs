//! View models of a viewer's lists and account: the title page's per-viewer "Your lists" part
//! (never in the shared signed-out cache), the watchlist, diary, profile and account-deletion
//! pages.

use super::{Chrome, facts_line, helpful_line, plural};
use crate::lists::day_ms;
use askama::Template;
use marquee_domain::ReviewText;
use marquee_domain::time_fmt::long_date;
use marquee_store::{Day, DiaryEntry, MovieCard, RatedFilm, WatchlistEntry};

/// "★★★★☆" for 4 of 5 stars.
pub fn star_glyphs(stars: u8) -> String {
    let n = usize::from(stars.min(5));
    "★".repeat(n) + &"☆".repeat(5 - n)
}

/// A day as pages show dates: "May 31, 2024".
pub fn long_day(day: Day) -> String {
    long_date(day_ms(day))
}

/// A film in a list: its title page link and "2017 • 89 minutes".
pub struct FilmRowView {
    pub url: String,
    pub title: String,
    pub facts_line: String,
}

impl FilmRowView {
    pub fn new(card: &MovieCard) -> Self {
        Self {
            url: format!("/movies/{}", card.slug),
            title: card.title.clone(),
            facts_line: facts_line(card.year, card.runtime_minutes),
        }
    }
}

/// The "Log a viewing" form: today's date and nothing else, or what was sent with its errors.
pub struct DiaryFormView {
    /// `YYYY-MM-DD` as typed (or today).
    pub watched_on: String,
    /// The latest day the date picker offers.
    pub max: String,
    pub rewatch: bool,
    /// 0 for no stars.
    pub stars: u8,
    pub errors: Vec<String>,
    /// Said after a viewing was logged.
    pub notice: Option<String>,
}

impl DiaryFormView {
    pub fn fresh(today: Day) -> Self {
        Self {
            watched_on: today.to_string(),
            max: today
                .date()
                .next_day()
                .map_or_else(|| today.to_string(), |d| Day::new(d).to_string()),
            rewatch: false,
            stars: 0,
            errors: Vec::new(),
            notice: None,
        }
    }
}

/// The title page's part about the viewer's own lists.
pub struct TitleListsView {
    pub on_watchlist: bool,
    pub diary: DiaryFormView,
}

pub struct WatchlistRowView {
    pub film: FilmRowView,
    pub slug: String,
    pub added: String,
}

impl WatchlistRowView {
    pub fn new(e: &WatchlistEntry) -> Self {
        Self {
            film: FilmRowView::new(&e.card),
            slug: e.card.slug.clone(),
            added: long_date(e.added_ms),
        }
    }
}

#[derive(Template)]
#[template(path = "watchlist.html")]
pub struct WatchlistPage {
    pub chrome: Chrome,
    pub csrf: String,
    pub rows: Vec<WatchlistRowView>,
    pub next_url: Option<String>,
    pub first_page_url: Option<String>,
}

pub struct DiaryRowView {
    pub id: i64,
    pub film: FilmRowView,
    pub watched_on: String,
    pub watched_on_iso: String,
    pub rewatch: bool,
    pub stars: u8,
    pub star_glyphs: String,
}

impl DiaryRowView {
    pub fn new(e: &DiaryEntry) -> Self {
        let stars = e.stars.unwrap_or(0);
        Self {
            id: e.id,
            film: FilmRowView::new(&e.card),
            watched_on: long_day(e.watched_on),
            watched_on_iso: e.watched_on.to_string(),
            rewatch: e.rewatch,
            stars,
            star_glyphs: star_glyphs(stars),
        }
    }
}

#[derive(Template)]
#[template(path = "diary.html")]
pub struct DiaryPage {
    pub chrome: Chrome,
    pub csrf: String,
    pub rows: Vec<DiaryRowView>,
    pub next_url: Option<String>,
    pub first_page_url: Option<String>,
}

/// A rating or review on a profile.
pub struct ProfileRatingView {
    pub film: FilmRowView,
    /// The review on the film's reviews, e.g. `/movies/the-work/reviews#review-3`.
    pub review_id: i64,
    pub stars: u8,
    pub star_glyphs: String,
    pub headline: Option<String>,
    /// Paragraphs, each a list of lines.
    pub paragraphs: Vec<Vec<String>>,
    pub date: String,
    pub date_iso: String,
    pub helpful_line: String,
}

impl ProfileRatingView {
    pub fn new(r: &RatedFilm) -> Self {
        let rev = &r.review;
        Self {
            film: FilmRowView::new(&r.card),
            review_id: rev.id.0,
            stars: rev.stars,
            star_glyphs: star_glyphs(rev.stars),
            headline: rev.headline.clone(),
            paragraphs: ReviewText::paragraphs(rev.body.as_deref().unwrap_or(""))
                .map(|p| p.lines().map(str::to_owned).collect())
                .collect(),
            date: long_date(rev.created_ms),
            date_iso: Day::of_ms(rev.created_ms).to_string(),
            helpful_line: helpful_line(rev.helpful_yes),
        }
    }
}

#[derive(Template)]
#[template(path = "profile.html")]
pub struct ProfilePage {
    pub chrome: Chrome,
    pub display_name: String,
    pub username: String,
    pub joined: String,
    /// "12 ratings · 3 reviews".
    pub counts_line: String,
    pub ratings: Vec<ProfileRatingView>,
    pub next_url: Option<String>,
    pub first_page_url: Option<String>,
    /// The viewer is looking at their own profile.
    pub is_self: bool,
}

/// "12 ratings · 3 reviews".
pub fn counts_line(ratings: u64, reviews: u64) -> String {
    format!(
        "{} · {}",
        plural(ratings, "rating", "ratings"),
        plural(reviews, "review", "reviews")
    )
}

/// The account page's "Delete account" form, blank or with what went wrong.
#[derive(Default)]
pub struct DeleteAccountView {
    pub error: Option<String>,
    /// `remove`, `keep` or empty, as chosen.
    pub choice: String,
}

#[derive(Template)]
#[template(path = "account_deleted.html")]
pub struct AccountDeletedPage {
    pub chrome: Chrome,
    /// The reviews stay, signed "A Marquee user".
    pub kept: bool,
}
