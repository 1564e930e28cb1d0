//! MovieLens: films first (keyed `movielens:<movieId>`), then each rating under an account per
//! MovieLens user (`movielens-<userId>`, which can not sign in). Half stars round up to whole
//! stars (3.5 becomes 4), as Marquee rates in whole stars.

use super::{RATING_BATCH, Report, batches, progress, rows_or_problem, store_films};
use anyhow::Context;
use marquee_domain::{DisplayName, UserId, Username};
use marquee_store::{ImportCounts, ImportRating, ImportUser, Store};
use std::collections::HashMap;
use std::path::Path;

pub async fn run(store: &dyn Store, path: &Path) -> anyhow::Result<Report> {
    let owned = path.to_owned();
    let ml = tokio::task::spawn_blocking(move || marquee_import::movielens::open(&owned))
        .await
        .context("opening the data set")?
        .map_err(|p| anyhow::anyhow!("{p}"))?;
    let mut report = Report::default();

    let source = ml.clone();
    let mut film_ids = store_films(
        store,
        "films",
        true,
        move || rows_or_problem(source.films()),
        &mut report,
    )
    .await?;

    let bar = progress("ratings", None);
    let mut users: HashMap<u32, UserId> = HashMap::new();
    let mut counts = ImportCounts::default();
    let mut rx = batches(move || rows_or_problem(ml.ratings()), RATING_BATCH);
    while let Some(batch) = rx.recv().await {
        let mut rows = Vec::with_capacity(batch.len());
        for item in batch {
            match item {
                Ok(r) => rows.push(r),
                Err(p) => report.problems.push(p),
            }
        }
        // Accounts for users seen for the first time.
        let mut new_users: Vec<u32> = rows
            .iter()
            .map(|r| r.user)
            .filter(|u| !users.contains_key(u))
            .collect();
        new_users.sort_unstable();
        new_users.dedup();
        if !new_users.is_empty() {
            let wanted: Vec<ImportUser> = new_users
                .iter()
                .map(|u| ImportUser {
                    username: Username::parse(&format!("movielens-{u}")).expect("a valid name"),
                    display_name: DisplayName::parse(&format!("MovieLens user {u}"))
                        .expect("a valid name"),
                })
                .collect();
            let ids = store
                .ensure_users(&wanted, marquee_domain::time_fmt::now_ms())
                .await?;
            users.extend(new_users.into_iter().zip(ids));
        }
        // Films this run did not add (a ratings.csv on its own) are looked up by key.
        let mut unknown: Vec<String> = rows
            .iter()
            .map(|r| r.film.as_str().to_owned())
            .filter(|k| !film_ids.contains_key(k))
            .collect();
        unknown.sort_unstable();
        unknown.dedup();
        if !unknown.is_empty() {
            let found = store.films_by_keys(&unknown).await?;
            for (k, id) in unknown.into_iter().zip(found) {
                if let Some(id) = id {
                    film_ids.insert(k, id);
                }
            }
        }
        let mut ratings = Vec::with_capacity(rows.len());
        for r in &rows {
            let Some(movie) = film_ids.get(r.film.as_str()) else {
                report.problems.push(marquee_import::Problem::new(
                    r.origin.clone(),
                    format!(
                        "rates {}, a film that is neither in the file nor in the catalog",
                        r.film
                    ),
                ));
                continue;
            };
            ratings.push(ImportRating {
                movie: *movie,
                user: users[&r.user],
                stars: r.rating.stars(),
                body: None,
                at_ms: r.at_ms,
            });
        }
        counts += store.import_ratings(&ratings).await?;
        bar.inc(rows.len() as u64);
    }
    bar.finish_and_clear();
    report.parts.push(("ratings".into(), counts));
    Ok(report)
}
