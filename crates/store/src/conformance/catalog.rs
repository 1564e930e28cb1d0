//! Conformance checks for finding films: browse orders, keyset pages and filters, genre counts,
//! a person's films, and search with its match classes, prefixes, folding and typos.

use super::{draft, rating, user};
use crate::catalog::{MAX_BROWSE_PAGE, SIMILAR_BELOW};
use crate::transfer::{TABLES, Table, Value};
use crate::*;
use marquee_domain::*;
use std::cmp::Ordering;
use std::collections::HashSet;
use std::sync::Arc;

fn table(name: &str) -> &'static Table {
    TABLES
        .iter()
        .find(|t| t.name == name)
        .expect("a known table")
}

/// A film written as a raw row, so a test can choose every sort key (ties included).
#[derive(Clone)]
struct Spec {
    id: i64,
    title: &'static str,
    year: Option<i64>,
    runtime: Option<i64>,
    count: i64,
    sum: i64,
    reviews: i64,
    created: i64,
    genres: &'static [&'static str],
}

impl Spec {
    fn row(&self) -> Vec<Value> {
        let opt = |v: Option<i64>| v.map_or(Value::Null, Value::Int);
        table("movies")
            .columns
            .iter()
            .map(|(name, _)| match *name {
                "id" => Value::Int(self.id),
                "slug" => Value::Text(format!("film-{}", self.id)),
                "title" => Value::Text(self.title.into()),
                "year" => opt(self.year),
                "runtime_minutes" => opt(self.runtime),
                "synopsis" | "language" => Value::Text(String::new()),
                "content_rating" => Value::Text("NR".into()),
                "rating_count" => Value::Int(self.count),
                "rating_sum" => Value::Int(self.sum),
                "review_count" => Value::Int(self.reviews),
                "created_ms" | "updated_ms" => Value::Int(self.created),
                "original_title" | "poster" => Value::Null,
                _ => Value::Int(0),
            })
            .collect()
    }

    fn average(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum as f64 / self.count as f64)
    }
}

/// Writes the films (and their genres) as raw rows, the way `migrate-data` copies them.
async fn put_specs(store: &dyn Store, specs: &[Spec]) {
    let rows: Vec<_> = specs.iter().map(Spec::row).collect();
    store.import_rows(table("movies"), &rows).await.unwrap();
    let genres: Vec<Vec<Value>> = specs
        .iter()
        .flat_map(|s| {
            s.genres.iter().enumerate().map(|(i, g)| {
                vec![
                    Value::Int(s.id),
                    Value::Int(i as i64),
                    Value::Text((*g).into()),
                ]
            })
        })
        .collect();
    store
        .import_rows(table("movie_genres"), &genres)
        .await
        .unwrap();
}

/// Forty films with many equal keys: five titles (two differ only in case), four years and no
/// year, equal Bayesian averages from different counts, three review counts, six add times.
fn catalog() -> Vec<Spec> {
    const TITLES: [&str; 5] = ["Alpha", "alpha", "Beta", "Gamma", "delta"];
    const GENRES: [&[&str]; 3] = [&["Drama"], &["Comedy"], &["Drama", "Comedy"]];
    (1..=40)
        .map(|i: i64| {
            let count = [0, 10, 2, 20][(i % 4) as usize];
            Spec {
                id: i,
                title: TITLES[(i % 5) as usize],
                year: (i % 7 != 0).then_some(1990 + i % 4),
                runtime: (i % 11 != 0).then_some(80 + 10 * (i % 3)),
                count,
                // A mean of 3 for every fourth film gives the prior's value: equal keys.
                sum: count * [3, 1, 5, 4, 2][(i % 5) as usize],
                reviews: i % 3,
                created: 1000 + i % 6,
                genres: GENRES[(i % 3) as usize],
            }
        })
        .collect()
}

/// The order a sort promises, with its tie-break on id.
fn order(sort: BrowseSort, a: &MovieCard, b: &MovieCard) -> Ordering {
    let desc = |x: Ordering| x.reverse();
    match sort {
        BrowseSort::Title => a
            .title
            .to_lowercase()
            .cmp(&b.title.to_lowercase())
            .then(a.id.cmp(&b.id)),
        BrowseSort::Year => desc(
            a.year
                .unwrap_or(0)
                .cmp(&b.year.unwrap_or(0))
                .then(a.id.cmp(&b.id)),
        ),
        BrowseSort::Rating => desc(a.bayesian().total_cmp(&b.bayesian()).then(a.id.cmp(&b.id))),
        BrowseSort::Reviews => desc(a.review_count.cmp(&b.review_count).then(a.id.cmp(&b.id))),
        BrowseSort::Added => desc(a.created_ms.cmp(&b.created_ms).then(a.id.cmp(&b.id))),
    }
}

/// Every page of a query, following cursors (encoded and decoded, as a URL carries them).
async fn all_pages(
    store: &dyn Store,
    filter: BrowseFilter,
    sort: BrowseSort,
    limit: u32,
) -> Vec<MovieCard> {
    let mut out: Vec<MovieCard> = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .browse_movies(&BrowseQuery {
                filter: filter.clone(),
                sort,
                after: after.clone(),
                limit,
            })
            .await
            .unwrap();
        assert!(page.len() <= limit as usize);
        let Some(last) = page.last() else { break };
        let cursor = BrowseCursor::after(last, sort);
        after = Some(BrowseCursor::decode(&cursor.encode(), sort).unwrap());
        out.extend(page);
        assert!(out.len() <= 1000, "paging does not end");
    }
    out
}

fn ids(cards: &[MovieCard]) -> Vec<i64> {
    cards.iter().map(|c| c.id.0).collect()
}

pub async fn every_browse_order_pages_through_all_films_once_with_ties_and_films_added_between_pages(
    store: Arc<dyn Store>,
) {
    let specs = catalog();
    put_specs(&*store, &specs).await;
    store.finish_import().await.unwrap();
    let originals: HashSet<i64> = specs.iter().map(|s| s.id).collect();
    for (n, sort) in BrowseSort::ALL.into_iter().enumerate() {
        // A film that sorts before any page's cursor and one that sorts after every film.
        let mut first = Spec {
            id: 1000 + 10 * n as i64,
            title: "Beta",
            year: Some(1991),
            runtime: Some(90),
            count: 2,
            sum: 8,
            reviews: 1,
            created: 1003,
            genres: &[],
        };
        let mut last = Spec {
            id: first.id + 1,
            ..first.clone()
        };
        match sort {
            BrowseSort::Title => (first.title, last.title) = ("Aardvark", "Zulu"),
            BrowseSort::Year => (first.year, last.year) = (Some(2099), None),
            BrowseSort::Rating => {
                (first.count, first.sum) = (100, 500);
                (last.count, last.sum) = (100, 100);
            }
            BrowseSort::Reviews => (first.reviews, last.reviews) = (999, 0),
            BrowseSort::Added => (first.created, last.created) = (99_999, 0),
        }

        let mut seen: Vec<MovieCard> = Vec::new();
        let mut after = None;
        let mut pages = 0;
        loop {
            let page = store
                .browse_movies(&BrowseQuery {
                    filter: BrowseFilter::default(),
                    sort,
                    after: after.clone(),
                    limit: 7,
                })
                .await
                .unwrap();
            assert!(page.len() <= 7);
            let Some(end) = page.last() else { break };
            let cursor = BrowseCursor::after(end, sort);
            after = Some(BrowseCursor::decode(&cursor.encode(), sort).unwrap());
            seen.extend(page);
            pages += 1;
            if pages == 2 {
                put_specs(&*store, &[first.clone(), last.clone()]).await;
            }
            assert!(seen.len() <= 100, "{sort:?}: paging does not end");
        }
        for pair in seen.windows(2) {
            assert_eq!(
                order(sort, &pair[0], &pair[1]),
                Ordering::Less,
                "{sort:?}: {} then {} (a repeat or out of order)",
                pair[0].id.0,
                pair[1].id.0
            );
        }
        let got: HashSet<i64> = seen.iter().map(|c| c.id.0).collect();
        assert!(originals.is_subset(&got), "{sort:?}: a film was skipped");
        assert!(
            got.contains(&last.id),
            "{sort:?}: a film added after the cursor is listed"
        );
        assert!(
            !got.contains(&first.id),
            "{sort:?}: the cursor's position holds"
        );
        // The next order starts again from the original films.
        for id in [first.id, last.id] {
            store.delete_movie(MovieId(id)).await.unwrap();
        }
    }
    let none = BrowseQuery {
        limit: 0,
        ..BrowseQuery::default()
    };
    assert!(store.browse_movies(&none).await.unwrap().is_empty());
}

pub async fn browse_filters_select_exactly_the_matching_films(store: Arc<dyn Store>) {
    let specs = catalog();
    put_specs(&*store, &specs).await;
    store.finish_import().await.unwrap();
    let drama = |s: &Spec| s.genres.contains(&"Drama");
    type Check = (BrowseFilter, Box<dyn Fn(&Spec) -> bool>);
    let checks: Vec<Check> = vec![
        (BrowseFilter::default(), Box::new(|_| true)),
        (
            BrowseFilter {
                genre: Some("dRAMA".into()),
                ..Default::default()
            },
            Box::new(drama),
        ),
        (
            BrowseFilter {
                genre: Some("Western".into()),
                ..Default::default()
            },
            Box::new(|_| false),
        ),
        (
            BrowseFilter {
                year_min: Some(1991),
                ..Default::default()
            },
            Box::new(|s| s.year.is_some_and(|y| y >= 1991)),
        ),
        (
            BrowseFilter {
                year_min: Some(1991),
                year_max: Some(1992),
                ..Default::default()
            },
            Box::new(|s| s.year.is_some_and(|y| (1991..=1992).contains(&y))),
        ),
        (
            BrowseFilter {
                runtime_min: Some(85),
                runtime_max: Some(95),
                ..Default::default()
            },
            Box::new(|s| s.runtime.is_some_and(|r| (85..=95).contains(&r))),
        ),
        (
            BrowseFilter {
                runtime_max: Some(80),
                ..Default::default()
            },
            Box::new(|s| s.runtime.is_some_and(|r| r <= 80)),
        ),
        (
            BrowseFilter {
                min_rating: Some(3.0),
                ..Default::default()
            },
            Box::new(|s| s.average().is_some_and(|a| a >= 3.0)),
        ),
        (
            BrowseFilter {
                min_rating: Some(1.0),
                ..Default::default()
            },
            Box::new(|s| s.count > 0),
        ),
        (
            BrowseFilter {
                genre: Some("comedy".into()),
                year_max: Some(1992),
                runtime_min: Some(90),
                min_rating: Some(2.5),
                ..Default::default()
            },
            Box::new(|s| {
                s.genres.contains(&"Comedy")
                    && s.year.is_some_and(|y| y <= 1992)
                    && s.runtime.is_some_and(|r| r >= 90)
                    && s.average().is_some_and(|a| a >= 2.5)
            }),
        ),
    ];
    for (filter, wanted) in &checks {
        let mut expected: Vec<i64> = specs.iter().filter(|s| wanted(s)).map(|s| s.id).collect();
        expected.sort_unstable();
        for sort in BrowseSort::ALL {
            let cards = all_pages(&*store, filter.clone(), sort, 4).await;
            for pair in cards.windows(2) {
                assert_eq!(
                    order(sort, &pair[0], &pair[1]),
                    Ordering::Less,
                    "{sort:?} {filter:?}"
                );
            }
            let mut got = ids(&cards);
            got.sort_unstable();
            assert_eq!(got, expected, "{sort:?} {filter:?}");
        }
    }
    // A page is capped.
    let many = BrowseQuery {
        limit: 10_000,
        ..BrowseQuery::default()
    };
    assert!(store.browse_movies(&many).await.unwrap().len() <= MAX_BROWSE_PAGE as usize);
}

fn film(slug: &str, title: &str, year: Option<i64>) -> MovieDraft {
    let mut d = draft(slug);
    d.title = Title::parse(title).unwrap();
    d.year = year.map(|y| Year::new(y).unwrap());
    d.directors = vec![];
    d.cast = vec![];
    d.genres = vec![];
    d.synopsis = Synopsis::parse("").unwrap();
    d
}

pub async fn top_rated_follows_the_bayesian_average_of_real_ratings(store: Arc<dyn Store>) {
    let mut voters = Vec::new();
    for i in 0..12 {
        voters.push(user(&*store, &format!("voter{i}")).await);
    }
    // (stars given, one per voter): one perfect rating, many good ones, mixed, none.
    let plans: [&[i64]; 6] = [
        &[5],
        &[4, 4, 5, 4, 4, 5, 4, 4, 4, 5, 4, 4],
        &[5, 5, 5],
        &[1, 2, 1],
        &[],
        &[3, 3],
    ];
    for (i, stars) in plans.iter().enumerate() {
        let m = store
            .create_movie(&film(
                &format!("rated-{i}"),
                &format!("Rated {i}"),
                Some(2000),
            ))
            .await
            .unwrap();
        for (v, s) in voters.iter().zip(stars.iter()) {
            store
                .put_rating(m.id, v.id, &rating(*s, None, 1))
                .await
                .unwrap();
        }
    }
    let cards = all_pages(&*store, BrowseFilter::default(), BrowseSort::Rating, 2).await;
    let mut expected = cards.clone();
    expected.sort_by(|a, b| {
        bayesian_average(b.rating_sum, b.rating_count)
            .total_cmp(&bayesian_average(a.rating_sum, a.rating_count))
            .then(b.id.cmp(&a.id))
    });
    assert_eq!(ids(&cards), ids(&expected));
    assert_eq!(cards.len(), 6);
    // Many good ratings beat one perfect one; the unrated film sits at the prior.
    assert_eq!(cards[0].title, "Rated 1");
    let good = BrowseFilter {
        min_rating: Some(4.0),
        ..Default::default()
    };
    let titles: Vec<_> = all_pages(&*store, good, BrowseSort::Rating, 10)
        .await
        .into_iter()
        .map(|c| c.title)
        .collect();
    assert_eq!(titles, ["Rated 1", "Rated 2", "Rated 0"]);
}

pub async fn genre_counts_count_each_genre_case_insensitively_most_films_first(
    store: Arc<dyn Store>,
) {
    assert!(store.genre_counts().await.unwrap().is_empty());
    let sets: [&[&str]; 5] = [
        &["Drama", "Romance"],
        &["Drama"],
        &["Comedy", "Romance"],
        &["drama", "Horror"],
        &["Comedy"],
    ];
    for (i, genres) in sets.iter().enumerate() {
        let mut d = film(&format!("g-{i}"), &format!("Genre film {i}"), None);
        d.genres = genres.iter().map(|g| Genre::parse(g).unwrap()).collect();
        store.create_movie(&d).await.unwrap();
    }
    assert_eq!(
        store.genre_counts().await.unwrap(),
        [
            ("Drama".to_string(), 3),
            ("Comedy".to_string(), 2),
            ("Romance".to_string(), 2),
            ("Horror".to_string(), 1),
        ]
    );
}

pub async fn a_persons_films_cover_both_roles_newest_first(store: Arc<dyn Store>) {
    let who = "Greta Lind";
    let mut directed = film("directed", "Directed Only", Some(1990));
    directed.directors = vec![PersonName::parse(who).unwrap()];
    let mut acted = film("acted", "Acted Only", Some(2001));
    acted.cast = vec![
        CastMember::new("Someone Else", "Lead").unwrap(),
        CastMember::new(who, "The Aunt").unwrap(),
    ];
    let mut both = film("both", "Both Ways", Some(2010));
    both.directors = vec![PersonName::parse(who).unwrap()];
    both.cast = vec![CastMember::new(who, "Herself").unwrap()];
    let mut undated = film("undated", "Undated", None);
    undated.cast = vec![CastMember::new(who, "Cameo").unwrap()];
    let mut other = film("other", "Other People", Some(2020));
    other.directors = vec![PersonName::parse("Greta Lindqvist").unwrap()];
    for d in [&directed, &acted, &both, &undated, &other] {
        store.create_movie(d).await.unwrap();
    }
    let credits = store.person_credits(who).await.unwrap();
    let got: Vec<(&str, CreditRole, &str)> = credits
        .iter()
        .map(|c| (c.card.title.as_str(), c.role, c.character.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("Both Ways", CreditRole::Director, ""),
            ("Both Ways", CreditRole::Cast, "Herself"),
            ("Acted Only", CreditRole::Cast, "The Aunt"),
            ("Directed Only", CreditRole::Director, ""),
            ("Undated", CreditRole::Cast, "Cameo"),
        ]
    );
    assert!(
        store
            .person_credits("Nobody Here")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.person_credits("greta lind").await.unwrap().is_empty());
}

async fn search(store: &dyn Store, q: &str) -> Vec<(String, SearchMatch)> {
    store
        .search_movies(&SearchTerms::parse(q), 20)
        .await
        .unwrap()
        .into_iter()
        .map(|h| (h.card.title, h.matched))
        .collect()
}

/// The hits that matched the words themselves (typo suggestions, which fill a short list, left
/// out).
async fn matches(store: &dyn Store, q: &str) -> Vec<(String, SearchMatch)> {
    let mut hits = search(store, q).await;
    hits.retain(|(_, m)| *m != SearchMatch::Similar);
    hits
}

/// Gives a film `n` ratings (of 4 stars) from the first `n` voters.
async fn rate(store: &dyn Store, id: MovieId, voters: &[User], n: usize) {
    for v in &voters[..n] {
        store
            .put_rating(id, v.id, &rating(4, None, 1))
            .await
            .unwrap();
    }
}

/// The search catalog: each film matches "godfather" in one way.
async fn search_catalog(store: &dyn Store) -> Vec<Movie> {
    let mut films = Vec::new();
    films.push(film("godfather", "Godfather", Some(1972)));
    films.push(film(
        "the-godfather-part-ii",
        "The Godfather Part II",
        Some(1974),
    ));
    films.push(film(
        "the-godfather-part-iii",
        "The Godfather Part III",
        Some(1990),
    ));
    let mut person = film("family-business", "Family Business", Some(1989));
    person.directors = vec![PersonName::parse("Anna Keller").unwrap()];
    person.cast = vec![
        CastMember::new("Sean Connery", "Jessie").unwrap(),
        CastMember::new("Johnny Godfather", "Vito").unwrap(),
    ];
    films.push(person);
    let mut text = film("quiet-streets", "Quiet Streets", Some(2003));
    text.synopsis = Synopsis::parse("An old godfather retires to the coast.").unwrap();
    films.push(text);
    let mut amelie = film("amelie", "Amélie", Some(2001));
    amelie.original_title = Some(Title::parse("Le Fabuleux Destin d'Amélie Poulain").unwrap());
    amelie.directors = vec![PersonName::parse("Jean-Pierre Jeunet").unwrap()];
    films.push(amelie);
    films.push(film("unrelated", "Completely Unrelated", Some(2010)));
    let mut out = Vec::new();
    for d in &films {
        out.push(store.create_movie(d).await.unwrap());
    }
    out
}

pub async fn search_ranks_exact_title_then_title_words_then_people_then_text(
    store: Arc<dyn Store>,
) {
    let films = search_catalog(&*store).await;
    let voters: Vec<User> = {
        let mut v = Vec::new();
        for i in 0..3 {
            v.push(user(&*store, &format!("fan{i}")).await);
        }
        v
    };
    // Within a class, more ratings first: Part III has more than Part II.
    rate(&*store, films[2].id, &voters, 2).await;
    rate(&*store, films[1].id, &voters, 1).await;
    // Ratings never lift a film out of its class.
    rate(&*store, films[4].id, &voters, 3).await;
    assert_eq!(
        matches(&*store, "godfather").await,
        [
            ("Godfather".to_string(), SearchMatch::ExactTitle),
            ("The Godfather Part III".to_string(), SearchMatch::Title),
            ("The Godfather Part II".to_string(), SearchMatch::Title),
            (
                "Family Business".to_string(),
                SearchMatch::Person("Johnny Godfather".into())
            ),
            ("Quiet Streets".to_string(), SearchMatch::Text),
        ]
    );
    // Every term must match, in any order; "ii" is also the start of "iii".
    assert_eq!(
        matches(&*store, "part godfather ii").await,
        [
            ("The Godfather Part III".to_string(), SearchMatch::Title),
            ("The Godfather Part II".to_string(), SearchMatch::Title),
        ]
    );
    assert_eq!(
        matches(&*store, "The Godfather: Part II").await,
        [
            ("The Godfather Part II".to_string(), SearchMatch::ExactTitle),
            ("The Godfather Part III".to_string(), SearchMatch::Title),
        ]
    );
    // All terms in one person's name; spread over two people it is only text.
    assert_eq!(
        matches(&*store, "sean conn").await,
        [(
            "Family Business".to_string(),
            SearchMatch::Person("Sean Connery".into())
        )]
    );
    assert_eq!(
        matches(&*store, "sean godfather").await,
        [("Family Business".to_string(), SearchMatch::Text)]
    );
    // Title and synopsis words together are a text match too.
    assert_eq!(
        matches(&*store, "quiet coast").await,
        [("Quiet Streets".to_string(), SearchMatch::Text)]
    );
    // A limit is a limit, and a film appears once.
    let two = store
        .search_movies(&SearchTerms::parse("godfather"), 2)
        .await
        .unwrap();
    assert_eq!(two.len(), 2);
    let all = store
        .search_movies(&SearchTerms::parse("godfather"), 1000)
        .await
        .unwrap();
    let distinct: HashSet<MovieId> = all.iter().map(|h| h.card.id).collect();
    assert_eq!(distinct.len(), all.len());
}

pub async fn search_matches_word_prefixes_and_folds_accents(store: Arc<dyn Store>) {
    search_catalog(&*store).await;
    let titles = |hits: Vec<(String, SearchMatch)>| -> Vec<String> {
        hits.into_iter().map(|(t, _)| t).collect()
    };
    assert_eq!(
        search(&*store, "godf").await[..3],
        [
            ("Godfather".to_string(), SearchMatch::Title),
            ("The Godfather Part II".to_string(), SearchMatch::Title),
            ("The Godfather Part III".to_string(), SearchMatch::Title),
        ]
    );
    assert_eq!(
        titles(matches(&*store, "god par").await),
        ["The Godfather Part II", "The Godfather Part III"]
    );
    for q in ["amelie", "Amélie", "AMELIE!"] {
        assert_eq!(
            matches(&*store, q).await,
            [("Amélie".to_string(), SearchMatch::ExactTitle)],
            "{q}"
        );
    }
    // The original title counts as a title, exactly or word by word.
    assert_eq!(
        matches(&*store, "le fabuleux destin d amelie poulain").await,
        [("Amélie".to_string(), SearchMatch::ExactTitle)]
    );
    assert_eq!(
        matches(&*store, "fabul dest").await,
        [("Amélie".to_string(), SearchMatch::Title)]
    );
    assert_eq!(
        matches(&*store, "jeunet").await,
        [(
            "Amélie".to_string(),
            SearchMatch::Person("Jean-Pierre Jeunet".into())
        )]
    );
    // One and two letters still find films, quickly (see the stores' caps).
    assert!(titles(search(&*store, "g").await).contains(&"Godfather".to_string()));
    assert!(titles(search(&*store, "q s").await).contains(&"Quiet Streets".to_string()));
}

pub async fn search_forgives_a_typo_with_similar_titles_after_real_matches(store: Arc<dyn Store>) {
    search_catalog(&*store).await;
    let typo = search(&*store, "godfater").await;
    let titles: Vec<&str> = typo.iter().map(|(t, _)| t.as_str()).collect();
    assert!(titles.contains(&"Godfather"), "{typo:?}");
    assert!(
        typo.iter().all(|(_, m)| *m == SearchMatch::Similar),
        "{typo:?}"
    );
    assert!(!titles.contains(&"Completely Unrelated"));
    assert_eq!(
        search(&*store, "amelei").await,
        [("Amélie".to_string(), SearchMatch::Similar)]
    );
    // Similar titles come after every real match, and never repeat one.
    assert_eq!(
        search(&*store, "godfather part").await,
        [
            ("The Godfather Part II".to_string(), SearchMatch::Title),
            ("The Godfather Part III".to_string(), SearchMatch::Title),
            ("Godfather".to_string(), SearchMatch::Similar),
        ]
    );
    // Once the words as typed find enough films, nothing is looked up by trigrams.
    for (slug, title) in [
        ("the-godfather-part-iv", "The Godfather Part IV"),
        ("the-godfather-part-v", "The Godfather Part V"),
        ("the-godfather-part-vi", "The Godfather Part VI"),
    ] {
        store
            .create_movie(&film(slug, title, Some(2030)))
            .await
            .unwrap();
    }
    let many = search(&*store, "godfather part").await;
    assert_eq!(many.len(), SIMILAR_BELOW, "{many:?}");
    assert!(
        many.iter().all(|(_, m)| *m == SearchMatch::Title),
        "{many:?}"
    );
}

pub async fn a_search_with_no_match_or_no_words_finds_nothing(store: Arc<dyn Store>) {
    assert!(
        search(&*store, "godfather").await.is_empty(),
        "an empty catalog"
    );
    search_catalog(&*store).await;
    for q in ["zzyzx qqq", "", "  ?! ", "xq"] {
        assert!(search(&*store, q).await.is_empty(), "{q:?}");
    }
    assert!(
        store
            .search_movies(&SearchTerms::parse("godfather"), 0)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn search_and_browse_follow_edits_and_removals(store: Arc<dyn Store>) {
    let films = search_catalog(&*store).await;
    let godfather = &films[0];
    let mut renamed = film("il-padrino", "Il Padrino", Some(1972));
    renamed.cast = vec![CastMember::new("Marlon Brando", "Vito").unwrap()];
    store.update_movie(godfather.id, &renamed).await.unwrap();
    assert_eq!(
        matches(&*store, "padrino").await,
        [("Il Padrino".to_string(), SearchMatch::Title)]
    );
    assert_eq!(
        matches(&*store, "brando").await,
        [(
            "Il Padrino".to_string(),
            SearchMatch::Person("Marlon Brando".into())
        )]
    );
    let hits = search(&*store, "godfather").await;
    assert!(
        hits.iter()
            .all(|(t, _)| t != "Il Padrino" && t != "Godfather"),
        "{hits:?}"
    );
    let by_title = all_pages(&*store, BrowseFilter::default(), BrowseSort::Title, 3).await;
    let titles: Vec<&str> = by_title.iter().map(|c| c.title.as_str()).collect();
    assert!(titles.contains(&"Il Padrino") && !titles.contains(&"Godfather"));

    store.delete_movie(godfather.id).await.unwrap();
    assert!(search(&*store, "padrino").await.is_empty());
    assert!(search(&*store, "brando").await.is_empty());
    assert!(search(&*store, "padrimo").await.is_empty(), "nor as a typo");
    for sort in BrowseSort::ALL {
        let cards = all_pages(&*store, BrowseFilter::default(), sort, 4).await;
        assert_eq!(cards.len(), films.len() - 1, "{sort:?}");
        assert!(cards.iter().all(|c| c.id != godfather.id));
    }
}

pub async fn a_copied_catalog_is_searchable_once_the_import_finishes(store: Arc<dyn Store>) {
    let films = search_catalog(&*store).await;
    // Read the raw rows as `migrate-data` does, empty the catalog, and write them back.
    let mut saved = Vec::new();
    for name in ["movies", "movie_genres", "movie_credits"] {
        let rows = store.export_rows(table(name), None, 1000).await.unwrap();
        saved.push((name, rows));
    }
    for m in &films {
        store.delete_movie(m.id).await.unwrap();
    }
    assert!(search(&*store, "godfather").await.is_empty());
    for (name, rows) in &saved {
        store.import_rows(table(name), rows).await.unwrap();
    }
    store.finish_import().await.unwrap();
    assert_eq!(
        search(&*store, "godfather").await[0],
        ("Godfather".to_string(), SearchMatch::ExactTitle)
    );
    assert_eq!(
        matches(&*store, "connery").await,
        [(
            "Family Business".to_string(),
            SearchMatch::Person("Sean Connery".into())
        )]
    );
    assert_eq!(search(&*store, "amelei").await.len(), 1);
    // Finishing again (a resumed copy) changes nothing.
    store.finish_import().await.unwrap();
    assert_eq!(search(&*store, "jeunet").await.len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Benchmark support, not part of the suite: the backends' ignored `catalog_timings` tests fill a
// store with a catalog of realistic size and time browse and search on it.
// ---------------------------------------------------------------------------------------------

/// A small deterministic generator (xorshift), so every run builds the same catalog.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const WORDS: &[&str] = &[
    "love", "night", "man", "day", "life", "time", "world", "story", "last", "city", "house",
    "war", "girl", "blood", "dark", "dead", "black", "king", "big", "death", "little", "return",
    "american", "blue", "star", "heart", "game", "lost", "secret", "summer", "red", "white",
    "family", "dream", "road", "home", "child", "devil", "island", "kill", "light", "lady",
    "money", "moon", "murder", "paradise", "power", "shadow", "sky", "song", "street", "sun",
    "wild", "woman", "young", "angel", "brother", "daughter", "father", "mother", "ghost", "gold",
    "hell", "hero", "journey", "kiss", "legend", "midnight", "mission", "ocean", "prince", "queen",
    "rain", "river", "runner", "school", "sea", "silent", "sister", "snow", "stranger", "tale",
    "thief", "train", "truth", "west", "wind", "winter", "wolf", "zone", "café", "été", "über",
    "niño", "señor", "amour", "cœur", "vie", "nuit", "jour",
];
const FIRST: &[&str] = &[
    "Ada", "Alan", "Alice", "Amara", "Ana", "Anton", "Arjun", "Ben", "Carla", "Chen", "David",
    "Diego", "Elena", "Emil", "Eva", "Farah", "Felix", "Grace", "Hana", "Hugo", "Ines", "Ivan",
    "Jae", "Jonas", "Julia", "Kai", "Lars", "Lea", "Leo", "Lina", "Luca", "Maya", "Mei", "Nadia",
    "Noor", "Olga", "Omar", "Oscar", "Paula", "Priya", "Rafael", "Rosa", "Sam", "Sofia", "Tom",
    "Tomás", "Vera", "Wen", "Yara", "Zoë",
];
const LAST: &[&str] = &[
    "Abe", "Adeyemi", "Alvarez", "Andersen", "Bauer", "Bianchi", "Brown", "Castro", "Costa",
    "Dubois", "Eriksson", "Fischer", "Garcia", "Gomez", "Haddad", "Hansen", "Hanks", "Ito",
    "Jensen", "Kaplan", "Kim", "Kowalski", "Larsen", "Lee", "Lopez", "Martin", "Meyer", "Moreau",
    "Müller", "Nakamura", "Nguyen", "Novak", "Okafor", "Park", "Patel", "Perez", "Petrov", "Quinn",
    "Rahman", "Rossi", "Sato", "Schmidt", "Silva", "Singh", "Smith", "Tanaka", "Torres", "Wagner",
    "Weber", "Zhang",
];

/// `n` made-up titles of one to four words (a few famous ones among them).
pub fn synthetic_titles(n: usize) -> Vec<String> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let famous = [
        "The Godfather",
        "The Godfather: Part II",
        "Amélie",
        "Star Wars",
        "Casablanca",
        "Pulp Fiction",
        "The Shawshank Redemption",
        "Love Actually",
    ];
    let mut out: Vec<String> = famous.iter().map(|t| t.to_string()).collect();
    while out.len() < n {
        let words = 1 + rng.below(4);
        let mut t: Vec<String> = (0..words).map(|_| rng.pick(WORDS).to_string()).collect();
        if rng.below(3) == 0 {
            t.insert(0, "the".into());
        }
        let mut title = t
            .iter()
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect::<String>())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(" ");
        if rng.below(10) == 0 {
            title.push_str(" II");
        }
        out.push(title);
    }
    out.truncate(n);
    out
}

/// Fills an empty store with one film per title, written as raw rows in large batches (as
/// `migrate-data` does) with credits, genres, a synopsis, and a long tail of rating counts, then
/// finishes the import, which builds the search index.
pub async fn fill_catalog_for_benchmarks(store: &dyn Store, titles: &[String]) {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let genres = [
        "Drama",
        "Comedy",
        "Action",
        "Documentary",
        "Romance",
        "Horror",
        "Animation",
    ];
    for (batch, chunk) in titles.chunks(5000).enumerate() {
        let mut movies = Vec::new();
        let mut credits = Vec::new();
        let mut genre_rows = Vec::new();
        for (k, title) in chunk.iter().enumerate() {
            let id = (batch * 5000 + k + 1) as i64;
            // Most films have a few ratings, some thousands.
            let count = (((rng.below(1000) as f64 / 1000.0) * 8.0).exp() - 1.0) as i64;
            let mean_tenths = 10 + rng.below(41) as i64;
            let synopsis: Vec<&str> = (0..25 + rng.below(40)).map(|_| rng.pick(WORDS)).collect();
            let row = table("movies")
                .columns
                .iter()
                .map(|(name, _)| match *name {
                    "id" => Value::Int(id),
                    "slug" => Value::Text(format!("film-{id}")),
                    "title" => Value::Text(title.clone()),
                    "year" => Value::Int(1920 + rng.below(105) as i64),
                    "runtime_minutes" => Value::Int(70 + rng.below(100) as i64),
                    "synopsis" => Value::Text(synopsis.join(" ")),
                    "language" => Value::Text("English".into()),
                    "content_rating" => Value::Text("NR".into()),
                    "rating_count" => Value::Int(count),
                    "rating_sum" => Value::Int(count * mean_tenths / 10),
                    "review_count" => Value::Int(count / 5),
                    "created_ms" | "updated_ms" => Value::Int(1_600_000_000_000 + id * 1000),
                    "original_title" | "poster" => Value::Null,
                    _ => Value::Int(0),
                })
                .collect();
            movies.push(row);
            for position in 0..4 {
                let name = format!("{} {}", rng.pick(FIRST), rng.pick(LAST));
                let role = if position == 0 { "director" } else { "cast" };
                credits.push(vec![
                    Value::Int(id),
                    Value::Text(role.into()),
                    Value::Int(position),
                    Value::Text(name),
                    Value::Text(String::new()),
                ]);
            }
            for position in 0..1 + rng.below(2) {
                genre_rows.push(vec![
                    Value::Int(id),
                    Value::Int(position as i64),
                    Value::Text(rng.pick(&genres).into()),
                ]);
            }
        }
        store.import_rows(table("movies"), &movies).await.unwrap();
        store
            .import_rows(table("movie_credits"), &credits)
            .await
            .unwrap();
        store
            .import_rows(table("movie_genres"), &genre_rows)
            .await
            .unwrap();
    }
    store.finish_import().await.unwrap();
}

fn percentile(sorted: &[std::time::Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e6
}

/// Times browse pages and searches on a filled store, alone and from 64 tasks at once; returns
/// a report (microseconds, as the client sees them: database and driver time).
pub async fn time_catalog_queries(store: Arc<dyn Store>, searches: &[&str]) -> String {
    use std::fmt::Write;
    use std::time::Instant;
    let mut out = String::new();
    let runs = 100;
    for sort in BrowseSort::ALL {
        // A deep page: the cursor of a film a few thousand places down.
        let mut after = None;
        for _ in 0..15 {
            let page = store
                .browse_movies(&BrowseQuery {
                    sort,
                    after: after.clone(),
                    limit: 200,
                    ..Default::default()
                })
                .await
                .unwrap();
            after = page.last().map(|c| BrowseCursor::after(c, sort));
        }
        for (what, after, filter) in [
            ("first page", None, BrowseFilter::default()),
            ("page 126", after.clone(), BrowseFilter::default()),
            (
                "drama >= 3.5",
                None,
                BrowseFilter {
                    genre: Some("drama".into()),
                    min_rating: Some(3.5),
                    ..Default::default()
                },
            ),
        ] {
            let q = BrowseQuery {
                filter,
                sort,
                after,
                limit: 24,
            };
            let mut times = Vec::new();
            for _ in 0..runs {
                let t = Instant::now();
                let page = store.browse_movies(&q).await.unwrap();
                times.push(t.elapsed());
                assert!(!page.is_empty());
            }
            times.sort();
            let _ = writeln!(
                out,
                "browse {:8} {what:14} p50 {:7.0} µs  p99 {:7.0} µs",
                sort.as_str(),
                percentile(&times, 0.5),
                percentile(&times, 0.99)
            );
        }
    }
    let t = Instant::now();
    let genres = store.genre_counts().await.unwrap();
    let _ = writeln!(
        out,
        "genre_counts ({} genres) {:.0} µs",
        genres.len(),
        t.elapsed().as_secs_f64() * 1e6
    );
    for q in searches {
        let terms = SearchTerms::parse(q);
        let mut times = Vec::new();
        let mut found = Vec::new();
        for _ in 0..runs {
            let t = Instant::now();
            found = store.search_movies(&terms, 20).await.unwrap();
            times.push(t.elapsed());
        }
        times.sort();
        let first: Vec<String> = found
            .iter()
            .take(3)
            .map(|h| format!("{} ({:?})", h.card.title, h.matched))
            .collect();
        let _ = writeln!(
            out,
            "search {q:24} p50 {:7.0} µs  p99 {:7.0} µs  {} hits: {}",
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            found.len(),
            first.join(", ")
        );
    }
    // 64 tasks at once, each running the whole query mix several times.
    let started = Instant::now();
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let store = store.clone();
            let mix: Vec<SearchTerms> = searches.iter().map(|q| SearchTerms::parse(q)).collect();
            tokio::spawn(async move {
                let mut times = Vec::new();
                for round in 0..5 {
                    for k in 0..mix.len() {
                        let terms = &mix[(k + i + round) % mix.len()];
                        let t = Instant::now();
                        store.search_movies(terms, 20).await.unwrap();
                        times.push(t.elapsed());
                    }
                }
                times
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let wall = started.elapsed().as_secs_f64();
    all.sort();
    let _ = writeln!(
        out,
        "64 concurrent searchers: {} searches in {wall:.2} s ({:.0}/s), p50 {:.0} µs, p99 {:.0} µs",
        all.len(),
        all.len() as f64 / wall,
        percentile(&all, 0.5),
        percentile(&all, 0.99)
    );
    out
}
