//! View models of the pages that find films: the home page's shelves, the catalog with filters
//! (`/movies`), search results, a person's films and the page that explains "Top rated".

use super::{Chrome, ContinueView, facts_line, plural};
use askama::Template;
use marquee_store::{MovieCard, SearchHit, SearchMatch};

/// A film in a grid or a list: link, title, "2017 • 89 minutes", poster and rating.
pub struct CardView {
    pub url: String,
    pub title: String,
    pub facts_line: String,
    pub poster_url: Option<String>,
    /// "★ 4.2 · 1,234 ratings", or "Not rated yet".
    pub rating_line: String,
}

impl CardView {
    pub fn new(card: &MovieCard) -> Self {
        Self {
            url: format!("/movies/{}", card.slug),
            title: card.title.clone(),
            facts_line: facts_line(card.year, card.runtime_minutes),
            poster_url: card.poster.as_ref().map(|p| format!("/posters/{p}")),
            rating_line: match card.average() {
                Some(avg) => format!(
                    "★ {avg:.1} · {}",
                    plural(card.rating_count, "rating", "ratings")
                ),
                None => "Not rated yet".to_owned(),
            },
        }
    }
}

pub struct ShelfView {
    pub id: String,
    pub title: String,
    pub link: String,
    pub cards: Vec<CardView>,
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub chrome: Chrome,
    /// Films the viewer started and has not finished, most recent first.
    pub continue_watching: Vec<ContinueView>,
    pub shelves: Vec<ShelfView>,
    pub catalog_empty: bool,
}

/// One `<option>` of a select.
pub struct OptionView {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The catalog's filter form as sent (or empty).
#[derive(Default)]
pub struct BrowseFormView {
    pub year_min: String,
    pub year_max: String,
    pub runtime_min: String,
    pub runtime_max: String,
}

#[derive(Template)]
#[template(path = "movies.html")]
pub struct BrowsePage {
    pub chrome: Chrome,
    pub heading: String,
    pub genres: Vec<OptionView>,
    pub sorts: Vec<OptionView>,
    pub ratings: Vec<OptionView>,
    pub form: BrowseFormView,
    pub errors: Vec<String>,
    pub cards: Vec<CardView>,
    pub next_url: Option<String>,
    pub first_page_url: Option<String>,
}

pub struct HitView {
    pub card: CardView,
    /// Why it matched, when not by title: "Directed by …", "With …", "Close to your search".
    pub why: Option<String>,
}

impl HitView {
    pub fn new(hit: &SearchHit) -> Self {
        let why = match &hit.matched {
            SearchMatch::ExactTitle | SearchMatch::Title => None,
            SearchMatch::Person(name) => Some(format!("With {name}")),
            SearchMatch::Text => Some("Mentions your search".to_owned()),
            SearchMatch::Similar => Some("Close to your search".to_owned()),
        };
        Self {
            card: CardView::new(&hit.card),
            why,
        }
    }
}

#[derive(Template)]
#[template(path = "search.html")]
pub struct SearchPage {
    pub chrome: Chrome,
    pub q: String,
    pub hits: Vec<HitView>,
    pub searched: bool,
}

pub struct CreditView {
    pub card: CardView,
    /// "Director", or "as Ben" (or "Cast" without a character).
    pub part: String,
}

#[derive(Template)]
#[template(path = "person.html")]
pub struct PersonPage {
    pub chrome: Chrome,
    pub name: String,
    pub credits: Vec<CreditView>,
}

#[derive(Template)]
#[template(path = "about_ratings.html")]
pub struct AboutRatingsPage {
    pub chrome: Chrome,
    pub weight: String,
    pub mean: String,
    /// Worked examples: (ratings, average, Bayesian average).
    pub examples: Vec<(String, String, String)>,
}
