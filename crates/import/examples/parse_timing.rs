//! Times the readers on the shared real data sets (ggplot2movies, MovieLens, vega movies), so
//! the import command's batch sizes can be chosen from figures. Run in release mode:
//! `cargo run --release -p marquee-import --example parse_timing [DATA_DIR]`. DATA_DIR defaults
//! to `$MARQUEE_TEST_DATA` or the `shared/data` folder beside the repository.

use marquee_import::{catalog, movielens};
use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let data = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("MARQUEE_TEST_DATA").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));

    let specs: Vec<String> = [
        "title=title",
        "year=year",
        "runtime=length",
        "rating=rating",
        "votes=votes",
        "rating_source=imdb",
        "content_rating=mpaa",
        "genre_flags=Action,Animation,Comedy,Drama,Documentary,Romance,Short",
    ]
    .map(String::from)
    .to_vec();
    let mapping = catalog::Mapping::parse("ggplot2movies", &specs).expect("mapping");
    let path = data.join("ggplot2movies-imdb/movies.csv.gz");
    let start = Instant::now();
    let (mut films, mut problems) = (0u64, 0u64);
    for item in catalog::open(&path, &mapping).expect("open ggplot2movies") {
        match item {
            Ok(_) => films += 1,
            Err(p) => {
                problems += 1;
                if std::env::var_os("SHOW_PROBLEMS").is_some() {
                    println!("  {p}");
                }
            }
        }
    }
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    println!("ggplot2movies catalog: {films} films, {problems} problems in {ms:.0} ms");

    let path = data.join("movielens-small-dslabs/movielens.csv.gz");
    let ml = movielens::open(&path).expect("open movielens");
    let start = Instant::now();
    let (mut films, mut problems) = (0u64, 0u64);
    for item in ml.films().expect("films") {
        match item {
            Ok(_) => films += 1,
            Err(p) => {
                problems += 1;
                if std::env::var_os("SHOW_PROBLEMS").is_some() {
                    println!("  {p}");
                }
            }
        }
    }
    let films_ms = start.elapsed().as_secs_f64() * 1000.0;
    let start = Instant::now();
    let (mut ratings, mut rating_problems) = (0u64, 0u64);
    for item in ml.ratings().expect("ratings") {
        match item {
            Ok(_) => ratings += 1,
            Err(_) => rating_problems += 1,
        }
    }
    let ratings_ms = start.elapsed().as_secs_f64() * 1000.0;
    println!(
        "movielens films pass: {films} films, {problems} problems in {films_ms:.0} ms; \
         ratings pass: {ratings} ratings, {rating_problems} problems in {ratings_ms:.0} ms"
    );

    let specs: Vec<String> = [
        "title=Title",
        "year=Release Date",
        "runtime=Running Time min",
        "genres=Major Genre",
        "directors=Director",
        "content_rating=MPAA Rating",
        "rating=IMDB Rating",
        "votes=IMDB Votes",
        "rating_source=imdb",
    ]
    .map(String::from)
    .to_vec();
    let mapping = catalog::Mapping::parse("vega", &specs).expect("mapping");
    let path = data.join("vega-movies/movies.json");
    let start = Instant::now();
    let (mut films, mut problems) = (0u64, Vec::new());
    for item in catalog::open(&path, &mapping).expect("open vega movies") {
        match item {
            Ok(_) => films += 1,
            Err(p) => problems.push(p),
        }
    }
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    println!(
        "vega movies catalog: {films} films, {} problems in {ms:.1} ms",
        problems.len()
    );
    if std::env::var_os("SHOW_PROBLEMS").is_some() {
        for p in &problems {
            println!("  {p}");
        }
    }
}
