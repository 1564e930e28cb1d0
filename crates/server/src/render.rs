//! Page templates (askama, escaped by default) and the view models that feed them. Everything a
//! template shows is prepared here as plain strings, so templates hold layout, not logic.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Html;
use marquee_domain::ReviewText;
use marquee_domain::time_fmt::long_date;
use marquee_store::{Movie, MovieStats, Review, User};

/// The site header's view of the visitor.
#[derive(Debug, Clone, Default)]
pub struct Chrome {
    pub user_name: Option<String>,
    pub is_admin: bool,
    pub csrf_token: Option<String>,
}

impl Chrome {
    pub fn for_user(user: Option<&User>, csrf_token: Option<String>) -> Self {
        Self {
            user_name: user.map(|u| u.display_name.clone()),
            is_admin: user.is_some_and(|u| u.is_admin),
            csrf_token,
        }
    }
}

/// "1 rating", "23 ratings", "100,000 ratings".
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// 1234567 as "1,234,567".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_with_thousands_separators_and_the_right_plural() {
        assert_eq!(plural(1, "rating", "ratings"), "1 rating");
        assert_eq!(plural(0, "review", "reviews"), "0 reviews");
        assert_eq!(plural(100_000, "rating", "ratings"), "100,000 ratings");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
    }

    #[test]
    fn the_facts_line_reads_year_dot_runtime() {
        assert_eq!(facts_line(Some(2017), Some(89)), "2017 • 89 minutes");
        assert_eq!(facts_line(None, Some(1)), "1 minute");
        assert_eq!(facts_line(Some(1922), None), "1922");
    }
}

/// "2017 • 89 minutes", or whichever half is known.
pub fn facts_line(year: Option<u16>, runtime: Option<u16>) -> String {
    let mut parts = Vec::new();
    if let Some(y) = year {
        parts.push(y.to_string());
    }
    if let Some(m) = runtime {
        parts.push(plural(u64::from(m), "minute", "minutes"));
    }
    parts.join(" • ")
}

fn to_html<T: Template>(t: &T) -> Result<Html<String>, askama::Error> {
    t.render().map(Html)
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub chrome: Chrome,
    pub heading: String,
    pub message: String,
}

impl ErrorPage {
    pub fn new(status: StatusCode, message: &str) -> Self {
        let heading = match status {
            StatusCode::NOT_FOUND => "Not found".to_owned(),
            StatusCode::FORBIDDEN => "Not allowed".to_owned(),
            StatusCode::CONFLICT => "Already done".to_owned(),
            StatusCode::TOO_MANY_REQUESTS => "Too many attempts".to_owned(),
            s => s.canonical_reason().unwrap_or("Error").to_owned(),
        };
        Self {
            chrome: Chrome::default(),
            heading,
            message: message.to_owned(),
        }
    }

    pub fn into_html(self) -> Html<String> {
        to_html(&self).unwrap_or_else(|_| {
            Html(format!(
                "<!doctype html><title>Error</title><p>{}</p>",
                self.heading
            ))
        })
    }
}

/// A film as its pages show it.
pub struct MovieView {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub original_title: Option<String>,
    pub year: Option<u16>,
    pub facts_line: String,
    /// Each genre with the catalog page listing it.
    pub genres: Vec<(String, String)>,
    pub content_rating: String,
    pub language: String,
    pub synopsis: Vec<String>,
    pub directors: Vec<PersonLink>,
    pub cast: Vec<PersonLink>,
    pub poster_url: Option<String>,
}

/// A credited person, linking to their page.
pub struct PersonLink {
    pub name: String,
    pub url: String,
    /// The character, for cast; empty for directors.
    pub character: String,
}

impl PersonLink {
    pub fn new(name: &str, character: &str) -> Self {
        Self {
            name: name.to_owned(),
            url: person_url(name),
            character: character.to_owned(),
        }
    }
}

/// `/people/{name}`, the name percent-encoded as one path segment.
pub fn person_url(name: &str) -> String {
    format!(
        "/people/{}",
        percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC)
    )
}

/// `/movies?genre=…`: the catalog filtered to a genre.
pub fn genre_url(genre: &str) -> String {
    format!(
        "/movies?{}",
        serde_urlencoded::to_string([("genre", genre), ("sort", "rating")]).unwrap_or_default()
    )
}

impl MovieView {
    pub fn new(m: &Movie) -> Self {
        Self {
            id: m.id.0,
            slug: m.slug.clone(),
            title: m.title.clone(),
            original_title: m.original_title.clone().filter(|o| *o != m.title),
            year: m.year,
            facts_line: facts_line(m.year, m.runtime_minutes),
            genres: m.genres.iter().map(|g| (g.clone(), genre_url(g))).collect(),
            content_rating: m.content_rating.clone(),
            language: m.language.clone(),
            synopsis: ReviewText::paragraphs(&m.synopsis)
                .map(str::to_owned)
                .collect(),
            directors: m.directors.iter().map(|d| PersonLink::new(d, "")).collect(),
            cast: m
                .cast
                .iter()
                .map(|c| PersonLink::new(&c.name, &c.character))
                .collect(),
            poster_url: m.poster.as_ref().map(|p| format!("/posters/{p}")),
        }
    }
}

pub struct Bar {
    pub stars: u8,
    pub count: u64,
}

pub struct StatsView {
    pub average: Option<String>,
    pub ratings_line: String,
    pub reviews_line: String,
    pub review_count: u64,
    pub total: u64,
    /// 5 stars first.
    pub bars: Vec<Bar>,
}

impl StatsView {
    pub fn new(s: &MovieStats) -> Self {
        Self {
            average: s.average().map(|a| format!("{a:.1}")),
            ratings_line: plural(s.rating_count, "rating", "ratings"),
            reviews_line: plural(s.review_count, "review", "reviews"),
            review_count: s.review_count,
            // A progress element needs max > 0.
            total: s.rating_count.max(1),
            bars: (1..=5u8)
                .rev()
                .map(|n| Bar {
                    stars: n,
                    count: s.histogram[usize::from(n - 1)],
                })
                .collect(),
        }
    }
}

pub struct ReviewView {
    pub id: i64,
    pub author: String,
    pub stars: u8,
    pub star_glyphs: String,
    pub headline: Option<String>,
    /// Paragraphs, each a list of lines.
    pub paragraphs: Vec<Vec<String>>,
    pub date: String,
    pub date_iso: String,
    pub helpful_line: String,
    pub is_own: bool,
    pub voted_yes: bool,
    pub voted_no: bool,
}

pub const ANONYMOUS_AUTHOR: &str = "A Marquee user";

pub fn helpful_line(yes: u64) -> String {
    match yes {
        0 => String::new(),
        1 => "1 person found this helpful".to_owned(),
        n => format!("{} people found this helpful", thousands(n)),
    }
}

impl ReviewView {
    pub fn new(r: &Review, viewer: Option<&User>, my_vote: Option<bool>) -> Self {
        let body = r.body.as_deref().unwrap_or("");
        Self {
            id: r.id.0,
            author: if r.anonymous {
                ANONYMOUS_AUTHOR.to_owned()
            } else {
                r.author_name.clone()
            },
            stars: r.stars,
            star_glyphs: "★".repeat(usize::from(r.stars)) + &"☆".repeat(5 - usize::from(r.stars)),
            headline: r.headline.clone(),
            paragraphs: ReviewText::paragraphs(body)
                .map(|p| p.lines().map(str::to_owned).collect())
                .collect(),
            date: long_date(r.created_ms),
            date_iso: iso_date(r.created_ms),
            helpful_line: helpful_line(r.helpful_yes),
            is_own: viewer.is_some_and(|u| u.id == r.user_id),
            voted_yes: my_vote == Some(true),
            voted_no: my_vote == Some(false),
        }
    }
}

fn iso_date(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .map(|t| t.date().to_string())
        .unwrap_or_default()
}

/// The rating form's contents: what the viewer has stored, or what they just sent with errors.
#[derive(Default)]
pub struct RatingFormView {
    pub existing: bool,
    pub stars: u8,
    pub headline: String,
    pub body: String,
    pub anonymous: bool,
    pub errors: Vec<String>,
}

impl RatingFormView {
    pub fn from_review(r: &Review) -> Self {
        Self {
            existing: true,
            stars: r.stars,
            headline: r.headline.clone().unwrap_or_default(),
            body: r.body.clone().unwrap_or_default(),
            anonymous: r.anonymous,
            errors: Vec::new(),
        }
    }
}

#[derive(Template)]
#[template(path = "movie.html")]
pub struct TitlePage {
    /// What the Watch section offers, when the film has media.
    pub watch: Option<WatchView>,
    pub chrome: Chrome,
    pub m: MovieView,
    pub stats: StatsView,
    pub reviews: Vec<ReviewView>,
    pub signed_in: bool,
    pub csrf: String,
    pub form: RatingFormView,
    /// The viewer's watchlist and diary forms; `None` signed out, so the shared page never
    /// holds anyone's lists.
    pub lists: Option<lists::TitleListsView>,
    pub return_to: String,
    pub return_to_encoded: String,
}

pub struct SortOption {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "reviews.html")]
pub struct ReviewsPage {
    pub chrome: Chrome,
    pub m: MovieView,
    pub stats: StatsView,
    pub reviews: Vec<ReviewView>,
    pub sorts: Vec<SortOption>,
    pub stars_filter: u8,
    pub next_url: Option<String>,
    pub first_page_url: String,
    pub signed_in: bool,
    pub csrf: String,
    pub return_to: String,
    pub return_to_encoded: String,
}

#[derive(Template)]
#[template(path = "signin.html")]
pub struct SignInPage {
    pub chrome: Chrome,
    pub csrf: String,
    pub next: String,
    pub next_encoded: String,
    pub username: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "signup.html")]
pub struct SignUpPage {
    pub chrome: Chrome,
    pub csrf: String,
    pub next: String,
    pub next_encoded: String,
    pub username: String,
    pub display_name: String,
    pub errors: Vec<String>,
    pub first_account: bool,
}

pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub created: String,
    pub last_used: String,
}

#[derive(Template)]
#[template(path = "tokens.html")]
pub struct TokensPage {
    pub chrome: Chrome,
    pub csrf: String,
    pub username: String,
    pub display_name: String,
    pub tokens: Vec<TokenRow>,
    pub new_token: Option<String>,
    pub error: Option<String>,
    /// The "Delete account" form.
    pub delete: lists::DeleteAccountView,
}

pub struct AdminMovieRow {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub year: String,
}

#[derive(Template)]
#[template(path = "admin_movies.html")]
pub struct AdminMoviesPage {
    pub chrome: Chrome,
    pub csrf: String,
    pub movies: Vec<AdminMovieRow>,
    pub next_url: Option<String>,
    pub notice: Option<String>,
}

/// The admin film form's fields, as text.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(default)]
pub struct MovieFormFields {
    pub title: String,
    pub original_title: String,
    pub slug: String,
    pub year: String,
    pub runtime_minutes: String,
    pub genres: String,
    pub directors: String,
    pub cast: String,
    pub content_rating: String,
    pub language: String,
    pub synopsis: String,
}

#[derive(Template)]
#[template(path = "admin_movie_form.html")]
pub struct AdminMovieFormPage {
    pub chrome: Chrome,
    pub csrf: String,
    pub heading: String,
    pub action: String,
    pub movie_id: Option<i64>,
    pub f: MovieFormFields,
    pub ratings: Vec<&'static str>,
    pub errors: Vec<String>,
}

/// Renders any page template into an HTML response body.
pub fn page<T: Template>(t: &T) -> Result<Html<String>, crate::error::AppError> {
    Ok(to_html(t)?)
}

/// The Watch section of a title page.
#[derive(Debug, Clone)]
pub struct WatchView {
    pub url: String,
    /// Only signed-in viewers may watch.
    pub members_only: bool,
    /// "1:29:10 · 1280×720 · Subtitles" and the like.
    pub facts: String,
}

impl WatchView {
    pub fn new(movie: &Movie, media: &marquee_store::MediaRecord) -> Self {
        Self {
            url: format!("/watch/{}", movie.slug),
            members_only: movie.members_only,
            facts: format!(
                "{} · {}p",
                marquee_domain::time_fmt::clock(media.duration_ms),
                media.height
            ),
        }
    }
}

/// A film on the "Continue watching" shelf.
#[derive(Debug, Clone)]
pub struct ContinueView {
    pub slug: String,
    pub title: String,
    /// How far in, 0–100.
    pub percent: u32,
    pub left: String,
}

#[derive(Debug, Clone)]
pub struct SubtitleTrackView {
    pub lang: String,
    pub label: String,
    pub url: String,
}

#[derive(Template)]
#[template(path = "watch.html")]
pub struct WatchPage {
    pub chrome: Chrome,
    pub title: String,
    pub slug: String,
    pub movie_id: i64,
    pub facts_line: String,
    pub poster_url: Option<String>,
    pub direct_url: String,
    pub content_type: String,
    /// The HLS master playlist, once packaged.
    pub hls_url: Option<String>,
    pub subtitles: Vec<SubtitleTrackView>,
    /// Where to start, in seconds (from the viewer's saved position).
    pub resume_s: f64,
    pub signed_in: bool,
}

#[derive(Template)]
#[template(path = "admin_media.html")]
pub struct AdminMediaPage {
    pub chrome: Chrome,
    pub csrf: String,
    pub movie_id: i64,
    pub title: String,
    pub slug: String,
    pub members_only: bool,
    /// A line describing the current file, when there is one.
    pub media: Option<String>,
    pub subtitles: Vec<String>,
    pub jobs: Vec<String>,
    pub notice: Option<String>,
    pub error: Option<String>,
}

// Lists, profiles and the account's end: view models in their own module.
pub mod browse;
pub mod lists;
