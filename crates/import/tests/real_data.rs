//! The readers against real data sets that other people wrote, read in place from the shared
//! data folder (never copied into the repository): this is where odd rows that no hand-written
//! sample thought of turn up. Without the folder the tests say so and pass, except in CI
//! (`CI=true`), where a missing folder is a failure.

use marquee_import::{ExternalRating, FilmRecord, Problem, catalog, movielens};
use std::path::PathBuf;

/// The shared data folder's `name` subfolder: `$MARQUEE_TEST_DATA/<name>`, or the `shared/data`
/// folder beside the repository. `None` (after saying why) when it is missing outside CI.
fn data(name: &str) -> Option<PathBuf> {
    let root = std::env::var_os("MARQUEE_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    let dir = root.join(name);
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{} is missing, and CI=true requires it", dir.display());
    }
    eprintln!("skipped: {} is missing", dir.display());
    None
}

fn specs(s: &[&str]) -> Vec<String> {
    s.iter().map(|s| (*s).to_owned()).collect()
}

fn split<T>(items: impl Iterator<Item = Result<T, Problem>>) -> (Vec<T>, Vec<Problem>) {
    let mut ok = Vec::new();
    let mut problems = Vec::new();
    for item in items {
        match item {
            Ok(t) => ok.push(t),
            Err(p) => problems.push(p),
        }
    }
    (ok, problems)
}

fn find<'a>(films: &'a [FilmRecord], key: &str) -> &'a FilmRecord {
    films
        .iter()
        .find(|f| f.key.as_str() == key)
        .unwrap_or_else(|| panic!("no film {key}"))
}

#[test]
fn ggplot2movies_yields_every_row_as_a_film_or_a_problem() {
    let Some(dir) = data("ggplot2movies-imdb") else {
        return;
    };
    let mapping = catalog::Mapping::parse(
        "ggplot2movies",
        &specs(&[
            "title=title",
            "year=year",
            "runtime=length",
            "rating=rating",
            "votes=votes",
            "rating_source=imdb",
            "content_rating=mpaa",
            "genre_flags=Action,Animation,Comedy,Drama,Documentary,Romance,Short",
        ]),
    )
    .unwrap();
    let path = dir.join("movies.csv.gz");
    let (films, problems) = split(catalog::open(&path, &mapping).unwrap());
    assert_eq!(films.len() + problems.len(), 58_788);
    // No title and year appears twice; three runtimes are over the domain's 1,000 minutes
    // (e.g. "The Cure for Insomnia", 5,220 minutes).
    assert_eq!(films.len(), 58_785, "{problems:#?}");
    let messages: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages[0],
        format!(
            "{}:11938: runtime \"5220\" must be between 1 and 1000 minutes",
            path.display()
        )
    );

    let titanic = find(&films, "catalog:ggplot2movies:titanic (1997)");
    assert_eq!(titanic.draft.runtime.map(|r| r.minutes()), Some(194));
    assert_eq!(titanic.draft.content_rating.as_str(), "PG-13");
    let genres: Vec<_> = titanic.draft.genres.iter().map(|g| g.as_str()).collect();
    assert_eq!(genres, ["Drama", "Romance"]);
    assert_eq!(
        titanic.external_rating,
        Some(ExternalRating {
            source: "imdb".into(),
            tenths: 69,
            votes: 90_195
        })
    );
    assert_eq!(titanic.draft.slug.as_str(), "titanic-1997");
}

#[test]
fn movielens_yields_each_film_once_and_every_rating() {
    let Some(dir) = data("movielens-small-dslabs") else {
        return;
    };
    let path = dir.join("movielens.csv.gz");
    let ml = movielens::open(&path).unwrap();
    let (films, problems) = split(ml.films().unwrap());
    // 9,066 films, five of which have neither title nor year in this file.
    assert_eq!(films.len() + problems.len(), 9_066);
    assert_eq!(problems.len(), 5, "{problems:#?}");
    assert!(problems.iter().all(|p| p.message == "title is missing"));
    assert_eq!(problems[0].origin.line, Some(11_739));

    let dumbo = find(&films, "movielens:1029");
    assert_eq!(dumbo.draft.title.as_str(), "Dumbo");
    assert_eq!(dumbo.draft.year.map(|y| y.get()), Some(1941));
    assert_eq!(dumbo.draft.genres.len(), 4);
    assert_eq!(dumbo.origin.line, Some(3));
    let shawshank = find(&films, "movielens:318");
    assert_eq!(shawshank.draft.title.as_str(), "The Shawshank Redemption");

    let (ratings, problems) = split(ml.ratings().unwrap());
    assert!(problems.is_empty(), "{problems:#?}");
    assert_eq!(ratings.len(), 100_004);
    let first = &ratings[0];
    assert_eq!((first.user, first.film.as_str()), (1, "movielens:31"));
    assert_eq!(first.rating.as_f32(), 2.5);
    assert_eq!(first.rating.stars().get(), 3);
    assert_eq!(first.at_ms, 1_260_759_144_000);
    assert_eq!(ratings.iter().map(|r| r.user).max(), Some(671));
}

#[test]
fn vega_movies_yield_about_3200_films_and_a_problem_for_the_null_title() {
    let Some(dir) = data("vega-movies") else {
        return;
    };
    let mapping = catalog::Mapping::parse(
        "vega",
        &specs(&[
            "title=Title",
            "year=Release Date",
            "runtime=Running Time min",
            "genres=Major Genre",
            "directors=Director",
            "content_rating=MPAA Rating",
            "rating=IMDB Rating",
            "votes=IMDB Votes",
            "rating_source=imdb",
        ]),
    )
    .unwrap();
    let path = dir.join("movies.json");
    let (films, problems) = split(catalog::open(&path, &mapping).unwrap());
    assert_eq!(films.len() + problems.len(), 3_201);
    assert_eq!(films.len(), 3_200);
    assert_eq!(
        problems[0].to_string(),
        format!("{}:3055: title is missing", path.display())
    );
    // Its known bad data goes through where the domain allows it: years up to 2046.
    assert!(
        films
            .iter()
            .any(|f| f.draft.year.is_some_and(|y| y.get() > 2040))
    );

    let brazil = find(&films, "catalog:vega:brazil (1985)");
    assert_eq!(brazil.draft.directors[0].as_str(), "Terry Gilliam");
    assert_eq!(brazil.draft.runtime.map(|r| r.minutes()), Some(136));
    assert_eq!(brazil.draft.genres[0].as_str(), "Black Comedy");
    let rating = brazil.external_rating.as_ref().unwrap();
    assert_eq!((rating.source.as_str(), rating.tenths), ("imdb", 80));
}
