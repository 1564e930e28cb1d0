//! `marquee import …` end to end: the binary reads real files (folders built here, samples with
//! malformed rows, and the real data sets in ../shared/data) into the backend under test, and
//! the results are read back through the store. Re-runs must add nothing.

use crate::media::{clip, ffmpeg_clip};
use marquee_store::Store;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

/// A data folder and database for one test: SQLite in the folder, or a fresh PostgreSQL
/// database when the suite runs on PostgreSQL.
struct Target {
    dir: tempfile::TempDir,
    url: String,
}

async fn target() -> Target {
    let dir = tempfile::tempdir().unwrap();
    let url = match std::env::var("MARQUEE_TEST_BACKEND").as_deref() {
        Ok("postgres") => marquee_store_postgres::testing::fresh_database()
            .await
            .expect("MARQUEE_TEST_BACKEND=postgres needs MARQUEE_TEST_POSTGRES_URL"),
        _ => format!("sqlite://{}", dir.path().join("marquee.db").display()),
    };
    Target { dir, url }
}

impl Target {
    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_marquee"))
            .arg("--data-dir")
            .arg(self.dir.path())
            .args(["--database-url", &self.url])
            .args(args)
            .output()
            .unwrap()
    }

    /// Runs and expects success; answers stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "marquee {args:?} failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    async fn store(&self) -> Arc<dyn Store> {
        marquee_server::database::open(Some(&self.url), self.dir.path(), &Default::default())
            .await
            .unwrap()
    }
}

fn data_set(rel: &str) -> Option<PathBuf> {
    // $MARQUEE_TEST_DATA (set by .ci/run), or the shared folder beside the repository.
    let path = std::env::var_os("MARQUEE_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"))
        .join(rel);
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "the data set {} is required under CI",
        path.display()
    );
    eprintln!("SKIPPED: {} is not here", path.display());
    None
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

const NFO: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<movie>
  <title>Night of the Living Dead</title>
  <originaltitle>Night of the Living Dead</originaltitle>
  <year>1968</year>
  <runtime>96</runtime>
  <plot>Strangers hold out in a farmhouse.</plot>
  <genre>Horror</genre>
  <director>George A. Romero</director>
  <actor><name>Duane Jones</name><role>Ben</role></actor>
  <actor><name>Judith O'Dea</name><role>Barbra</role></actor>
  <mpaa>Rated NR</mpaa>
  <uniqueid type="imdb" default="true">tt0063350</uniqueid>
</movie>"#;

const SRT: &str = "1\n00:00:00,500 --> 00:00:01,500\nThey're coming to get you.\n";

#[tokio::test]
async fn a_library_folder_becomes_films_with_media_and_a_rescan_follows_changes() {
    let t = target().await;
    let lib = t.dir.path().join("library");
    let night = lib.join("Night of the Living Dead (1968)");
    std::fs::create_dir_all(&night).unwrap();
    let Some(_) = clip(&night, "Night.mp4", 2) else {
        return;
    };
    write(&night.join("movie.nfo"), NFO);
    write(&night.join("Night.en.srt"), SRT);
    ffmpeg_clip(
        night.join("poster.jpg"),
        &[
            "-f",
            "lavfi",
            "-i",
            "color=c=red:size=60x90",
            "-frames:v",
            "1",
        ],
    )
    .unwrap();
    // A folder without an NFO: title and year come from its name.
    let other = lib.join("Carnival of Souls (1962)");
    std::fs::create_dir_all(&other).unwrap();
    clip(&other, "carnival.mp4", 1).unwrap();
    // A broken NFO is reported and its folder skipped, so bad data never lands.
    let broken = lib.join("Broken (2001)");
    std::fs::create_dir_all(&broken).unwrap();
    clip(&broken, "broken.mp4", 1).unwrap();
    write(
        &broken.join("movie.nfo"),
        "<movie><title>Broken</title><year>20",
    );

    let lib_arg = lib.to_str().unwrap();
    let first = t.ok(&["import", "library", lib_arg]);
    assert!(
        first.contains("films: 2 added, 0 updated, 0 unchanged"),
        "{first}"
    );
    assert!(
        first.contains("rejected: ") && first.contains("movie.nfo"),
        "{first}"
    );

    let store = t.store().await;
    let m = store
        .movie_by_slug("night-of-the-living-dead-1968")
        .await
        .unwrap()
        .expect("the film from the NFO");
    assert_eq!(m.directors, ["George A. Romero"]);
    assert_eq!(m.cast[0].name, "Duane Jones");
    assert_eq!(m.cast[0].character, "Ben");
    assert_eq!(m.runtime_minutes, Some(96));
    assert!(m.poster.is_some(), "the poster was stored");
    let media = store
        .media_for(m.id)
        .await
        .unwrap()
        .expect("the video was ingested");
    assert!(media.duration_ms >= 1900);
    let subs = store.subtitles_for(m.id).await.unwrap();
    assert_eq!(
        subs.iter().map(|s| s.lang.as_str()).collect::<Vec<_>>(),
        ["en"]
    );
    assert!(
        store
            .movie_by_slug("carnival-of-souls-1962")
            .await
            .unwrap()
            .is_some()
    );
    store.close().await;

    // Nothing changed: nothing to do.
    let again = t.ok(&["import", "library", lib_arg]);
    assert!(
        again.contains("films: 0 added, 0 updated, 2 unchanged"),
        "{again}"
    );

    // A changed NFO updates the film; a removed folder takes its media away.
    write(
        &night.join("movie.nfo"),
        &NFO.replace("<runtime>96</runtime>", "<runtime>97</runtime>"),
    );
    std::fs::remove_dir_all(&other).unwrap();
    let rescan = t.ok(&["import", "library", lib_arg]);
    assert!(
        rescan.contains("films: 0 added, 1 updated, 0 unchanged"),
        "{rescan}"
    );
    assert!(rescan.contains("folders gone"), "{rescan}");
    let store = t.store().await;
    let m = store
        .movie_by_slug("night-of-the-living-dead-1968")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.runtime_minutes, Some(97));
    let carnival = store
        .movie_by_slug("carnival-of-souls-1962")
        .await
        .unwrap()
        .unwrap();
    assert!(store.media_for(carnival.id).await.unwrap().is_none());
    store.close().await;
}

#[tokio::test]
async fn the_movielens_data_set_brings_its_films_and_every_rating_and_a_rerun_adds_nothing() {
    let Some(path) = data_set("movielens-small-dslabs/movielens.csv.gz") else {
        return;
    };
    let t = target().await;
    let p = path.to_str().unwrap();
    let first = t.ok(&["import", "movielens", p]);
    // Five of the 9,066 films have no title in this file (e.g. line 11739, movieId 108583):
    // they and their 7 ratings are rejected by line, and everything else goes in.
    assert!(first.contains("films: 9061 added"), "{first}");
    assert!(
        first.contains("movielens.csv.gz:11739: title is missing"),
        "{first}"
    );
    assert!(first.contains("12 rejected"), "{first}");
    assert!(
        first.contains("ratings: 99997 added, 0 updated, 0 unchanged"),
        "{first}"
    );
    let again = t.ok(&["import", "movielens", p]);
    assert!(
        again.contains("films: 0 added, 0 updated, 9061 unchanged"),
        "{again}"
    );
    assert!(
        again.contains("ratings: 0 added, 0 updated, 99997 unchanged"),
        "{again}"
    );
    assert!(t.ok(&["verify"]).contains("consistent"));

    let store = t.store().await;
    assert_eq!(store.count_movies().await.unwrap(), 9061);
    // Sample row: user 1 gave Dumbo (1941, movieId 1029) 3 stars.
    let dumbo = store
        .films_by_keys(&["movielens:1029".into()])
        .await
        .unwrap()[0]
        .unwrap();
    let (user, _) = store.credentials("movielens-1").await.unwrap().unwrap();
    let r = store.rating_by_user(dumbo, user.id).await.unwrap().unwrap();
    assert_eq!(r.stars, 3);
    store.close().await;
}

#[tokio::test]
async fn a_ratings_file_with_bad_rows_names_each_by_line_and_keeps_the_rest() {
    let t = target().await;
    let dir = t.dir.path().join("ml");
    write(
        &dir.join("movies.csv"),
        "movieId,title,genres\n1,Toy Story (1995),Adventure|Animation\n2,\"Matrix, The (1999)\",Action\n3,,Drama\n",
    );
    write(
        &dir.join("ratings.csv"),
        "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,2,3.5,964982224\n2,1,7,964982931\n2,99,4.0,964982931\n2,2,0.5,964983000\n",
    );
    let out = t.ok(&["import", "movielens", dir.to_str().unwrap()]);
    assert!(out.contains("films: 2 added"), "{out}");
    assert!(
        out.contains("movies.csv:4"),
        "a film without a title is named by line: {out}"
    );
    assert!(
        out.contains("ratings.csv:4"),
        "a rating of 7 is named by line: {out}"
    );
    assert!(
        out.contains("ratings.csv:5"),
        "a rating of an unknown film too: {out}"
    );
    assert!(out.contains("ratings: 3 added"), "{out}");
    let store = t.store().await;
    let matrix = store
        .movie_by_slug("the-matrix-1999")
        .await
        .unwrap()
        .unwrap();
    let stats = store.movie_stats(matrix.id).await.unwrap();
    // 3.5 rounds up to 4 and 0.5 to 1.
    assert_eq!((stats.rating_count, stats.rating_sum), (2, 5));
    store.close().await;
}

#[tokio::test]
async fn imdb_files_bring_films_of_the_chosen_types_and_their_ratings() {
    use std::io::Write;
    let t = target().await;
    let basics = t.dir.path().join("title.basics.tsv.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&basics).unwrap(),
        flate2::Compression::fast(),
    );
    gz.write_all(
        b"tconst\ttitleType\tprimaryTitle\toriginalTitle\tisAdult\tstartYear\tendYear\truntimeMinutes\tgenres\n\
          tt0063350\tmovie\tNight of the Living Dead\tNight of the Living Dead\t0\t1968\t\\N\t96\tHorror,Thriller\n\
          tt0094625\tmovie\tAkira\tAkira\t0\t1988\t\\N\t124\tAction,Animation,Drama\n\
          tt0903747\ttvSeries\tBreaking Bad\tBreaking Bad\t0\t2008\t2013\t49\tCrime,Drama\n\
          tt9999999\tmovie\tBad Year\tBad Year\t0\t12\t\\N\t90\tDrama\n",
    )
    .unwrap();
    gz.finish().unwrap();
    let ratings = t.dir.path().join("title.ratings.tsv");
    write(
        &ratings,
        "tconst\taverageRating\tnumVotes\ntt0063350\t7.8\t137000\ntt0903747\t9.5\t2100000\n",
    );
    let out = t.ok(&[
        "import",
        "imdb",
        basics.to_str().unwrap(),
        "--ratings",
        ratings.to_str().unwrap(),
    ]);
    assert!(out.contains("films: 2 added"), "{out}");
    assert!(out.contains("title.basics.tsv.gz:5"), "{out}");
    let store = t.store().await;
    let akira = store.movie_by_slug("akira-1988").await.unwrap().unwrap();
    assert_eq!(akira.genres, ["Action", "Animation", "Drama"]);
    let night = store
        .films_by_keys(&["imdb:tt0063350".into()])
        .await
        .unwrap()[0]
        .unwrap();
    let r = store.external_ratings(night).await.unwrap();
    assert_eq!(
        (r[0].source.as_str(), r[0].tenths, r[0].votes),
        ("imdb", 78, 137_000)
    );
    store.close().await;
    let again = t.ok(&["import", "imdb", basics.to_str().unwrap()]);
    assert!(
        again.contains("films: 0 added, 0 updated, 2 unchanged"),
        "{again}"
    );
}

#[tokio::test]
async fn a_letterboxd_export_fills_one_account_and_lists_the_films_not_in_the_catalog() {
    let t = target().await;
    t.ok(&["movie", "add", "--title", "Brazil", "--year", "1985"]);
    t.ok(&["movie", "add", "--title", "Alien", "--year", "1979"]);
    let store = t.store().await;
    store
        .create_user(&marquee_store::NewUser {
            username: marquee_domain::Username::parse("ann").unwrap(),
            display_name: marquee_domain::DisplayName::parse("Ann").unwrap(),
            password_hash: "x".into(),
            now_ms: 0,
        })
        .await
        .unwrap();
    store.close().await;
    let export = t.dir.path().join("letterboxd");
    write(
        &export.join("ratings.csv"),
        "Date,Name,Year,Letterboxd URI,Rating\n2024-01-02,Brazil,1985,https://boxd.it/1,4.5\n2024-01-03,Unknown Film,2020,https://boxd.it/2,3\n",
    );
    write(
        &export.join("reviews.csv"),
        "Date,Name,Year,Letterboxd URI,Rating,Rewatch,Review,Tags,Watched Date\n2024-01-04,Alien,1979,https://boxd.it/3,5,No,\"In space, no one can hear you scream.\",,2024-01-04\n",
    );
    write(
        &export.join("diary.csv"),
        "Date,Name,Year,Letterboxd URI,Rating,Rewatch,Tags,Watched Date\n2024-01-02,Brazil,1985,https://boxd.it/1,4.5,No,,2024-01-01\n2024-02-02,Brazil,1985,https://boxd.it/1,,Yes,,2024-02-01\n",
    );
    write(
        &export.join("watchlist.csv"),
        "Date,Name,Year,Letterboxd URI\n2024-03-01,Alien,1979,https://boxd.it/3\n2024-03-01,Stalker,1979,https://boxd.it/4\n",
    );
    let dir = export.to_str().unwrap();
    let out = t.ok(&["import", "letterboxd", dir, "--user", "ann"]);
    assert!(
        out.contains("Unknown Film (2020)") && out.contains("Stalker (1979)"),
        "{out}"
    );
    assert!(out.contains("ratings and reviews: 2 added"), "{out}");
    assert!(out.contains("diary: 2 added"), "{out}");
    assert!(out.contains("watchlist: 1 added"), "{out}");
    let again = t.ok(&["import", "letterboxd", dir, "--user", "ann"]);
    assert!(
        again.contains("ratings and reviews: 0 added, 0 updated, 2 unchanged"),
        "{again}"
    );
    assert!(
        again.contains("diary: 0 added, 0 updated, 2 unchanged"),
        "{again}"
    );

    let store = t.store().await;
    let (ann, _) = store.credentials("ann").await.unwrap().unwrap();
    let alien = store.movie_by_slug("alien-1979").await.unwrap().unwrap();
    let review = store
        .rating_by_user(alien.id, ann.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(review.stars, 5);
    assert!(review.body.unwrap().contains("no one can hear you scream"));
    let diary = store.diary(ann.id, None, 10).await.unwrap();
    assert_eq!(diary.len(), 2);
    assert!(diary[0].rewatch);
    assert_eq!(diary[1].stars, Some(5), "4.5 rounds up");
    assert!(store.on_watchlist(ann.id, alien.id).await.unwrap());
    store.close().await;

    let unknown = t.run(&["import", "letterboxd", dir, "--user", "nobody"]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no account named 'nobody'"));
}

const GGPLOT2_MAP: &[&str] = &[
    "--map",
    "title=title",
    "--map",
    "year=year",
    "--map",
    "runtime=length",
    "--map",
    "rating=rating",
    "--map",
    "votes=votes",
    "--map",
    "rating_source=imdb",
    "--map",
    "content_rating=mpaa",
    "--map",
    "genre_flags=Action,Animation,Comedy,Drama,Documentary,Romance,Short",
];

#[tokio::test]
async fn the_ggplot2movies_catalog_imports_every_good_row_and_a_rerun_changes_nothing() {
    let Some(path) = data_set("ggplot2movies-imdb/movies.csv.gz") else {
        return;
    };
    let t = target().await;
    let mut args = vec![
        "import",
        "catalog",
        path.to_str().unwrap(),
        "--name",
        "ggplot2movies",
    ];
    args.extend_from_slice(GGPLOT2_MAP);
    let first = t.ok(&args);
    // Three runtimes are beyond 1,000 minutes (line 11938: 5,220): rejected by line.
    assert!(
        first.contains("films: 58785 added, 0 updated, 0 unchanged; 0 skipped, 3 rejected"),
        "{first}"
    );
    assert!(first.contains("movies.csv.gz:11938"), "{first}");
    let again = t.ok(&args);
    assert!(
        again.contains("films: 0 added, 0 updated, 58785 unchanged"),
        "{again}"
    );

    let store = t.store().await;
    assert_eq!(store.count_movies().await.unwrap(), 58_785);
    let titanic = store
        .films_by_keys(&["catalog:ggplot2movies:titanic (1997)".into()])
        .await
        .unwrap()[0]
        .unwrap();
    let m = store.movie_by_id(titanic).await.unwrap().unwrap();
    assert_eq!(m.runtime_minutes, Some(194));
    assert_eq!(
        store.external_ratings(titanic).await.unwrap()[0].source,
        "imdb"
    );
    // Every genre flag became a genre people can browse by.
    let genres: Vec<String> = store
        .genre_counts()
        .await
        .unwrap()
        .into_iter()
        .map(|(g, _)| g)
        .collect();
    for g in ["Drama", "Comedy", "Short", "Documentary"] {
        assert!(genres.iter().any(|x| x == g), "{genres:?}");
    }
    let hits = store
        .search_movies(&marquee_store::SearchTerms::parse("titanic"), 5)
        .await
        .unwrap();
    assert!(hits.iter().any(|h| h.card.id == titanic), "{hits:?}");
    store.close().await;
}

#[tokio::test]
async fn a_catalog_names_a_missing_column_before_reading_and_each_bad_row_by_line() {
    let t = target().await;
    let file = t.dir.path().join("films.csv");
    write(
        &file,
        "Name,Released,Minutes,Kind\nBrazil,1985,142,Comedy|Drama\n,1999,90,Drama\nAlien,soon,117,Horror\n\"Broken,1990,90,Drama\nStalker,1979,161,Drama\n",
    );
    let f = file.to_str().unwrap();
    let typo = t.run(&[
        "import",
        "catalog",
        f,
        "--name",
        "mine",
        "--map",
        "title=Title",
    ]);
    assert!(!typo.status.success());
    let err = String::from_utf8_lossy(&typo.stderr);
    assert!(err.contains("Title"), "a missing column is named: {err}");
    let out = t.ok(&[
        "import",
        "catalog",
        f,
        "--name",
        "mine",
        "--map",
        "title=Name",
        "--map",
        "year=Released",
        "--map",
        "runtime=Minutes",
        "--map",
        "genres=Kind",
    ]);
    assert!(out.contains("films.csv:3"), "a row without a title: {out}");
    assert!(out.contains("films.csv:4"), "a bad year: {out}");
    // An unclosed quote swallows the rest of the file; it is named, and what came before stays.
    assert!(out.contains("films.csv:5: a quoted field runs on"), "{out}");
    assert!(
        out.contains("films: 1 added, 0 updated, 0 unchanged; 0 skipped, 3 rejected"),
        "{out}"
    );
    let store = t.store().await;
    let brazil = store.movie_by_slug("brazil-1985").await.unwrap().unwrap();
    assert_eq!(brazil.genres, ["Comedy", "Drama"]);
    store.close().await;
}

#[tokio::test]
async fn names_of_imported_and_deleted_accounts_can_not_be_signed_up_for() {
    let app = crate::helpers::spawn_app().await;
    for name in ["movielens-1", "deleted-7"] {
        let err = marquee_server::accounts::sign_up(&app.state, name, "Someone", "a long password")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("reserved"), "{name}: {err}");
    }
}
