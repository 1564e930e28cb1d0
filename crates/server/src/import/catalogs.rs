//! Catalogs without ratings of our own: IMDb's public TSV files, and any CSV or JSON catalog
//! with a column mapping.

use super::{
    CatalogArgs, FILM_BATCH, ImdbArgs, Report, batches, progress, rows_or_problem, store_films,
};
use marquee_import::{FilmRecord, Problem};
use marquee_store::{ExternalRating, ImportCounts, Store};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

pub async fn imdb(store: &dyn Store, args: &ImdbArgs) -> anyhow::Result<Report> {
    let mut report = Report::default();
    let types: Vec<String> = args.types.clone();
    let path = args.basics.clone();
    let skipped = Arc::new(AtomicU64::new(0));
    let counter = skipped.clone();
    store_films(
        store,
        "title.basics",
        false,
        move || -> Box<dyn Iterator<Item = Result<FilmRecord, Problem>> + Send> {
            let types: Vec<&str> = types.iter().map(String::as_str).collect();
            match marquee_import::imdb::basics(&path, &types) {
                Ok(mut basics) => Box::new(std::iter::from_fn(move || {
                    let next = basics.next();
                    if next.is_none() {
                        counter.store(basics.skipped(), Ordering::Relaxed);
                    }
                    next
                })),
                Err(p) => Box::new(std::iter::once(Err(p))),
            }
        },
        &mut report,
    )
    .await?;
    report.skipped += skipped.load(Ordering::Relaxed);

    if let Some(path) = args.ratings.clone() {
        let bar = progress("title.ratings", None);
        let mut counts = ImportCounts::default();
        let mut rx = batches(
            move || rows_or_problem(marquee_import::imdb::ratings(&path)),
            FILM_BATCH * 5,
        );
        while let Some(batch) = rx.recv().await {
            let mut rows = Vec::with_capacity(batch.len());
            for item in batch {
                match item {
                    Ok(row) => rows.push(row),
                    Err(p) => report.problems.push(p),
                }
            }
            let keys: Vec<String> = rows.iter().map(|(k, _)| k.as_str().to_owned()).collect();
            let found = store.films_by_keys(&keys).await?;
            let mut known = Vec::with_capacity(rows.len());
            for ((_, rating), id) in rows.iter().zip(found) {
                match id {
                    Some(id) => known.push((
                        id,
                        ExternalRating {
                            source: rating.source.clone(),
                            tenths: rating.tenths,
                            votes: rating.votes,
                        },
                    )),
                    // Ratings of series, episodes and everything else not imported.
                    None => report.skipped += 1,
                }
            }
            counts.updated += known.len() as u64;
            store.set_external_ratings(&known).await?;
            bar.inc(rows.len() as u64);
        }
        bar.finish_and_clear();
        report.parts.push(("IMDb ratings".into(), counts));
    }
    Ok(report)
}

pub async fn catalog(store: &dyn Store, args: &CatalogArgs) -> anyhow::Result<Report> {
    // The mapping is checked against the file before any row is read.
    let mapping = marquee_import::catalog::Mapping::parse(&args.name, &args.map)
        .map_err(|e| anyhow::anyhow!("--map: {e}"))?;
    let path = args.path.clone();
    let catalog =
        tokio::task::spawn_blocking(move || marquee_import::catalog::open(&path, &mapping))
            .await?
            .map_err(|p| anyhow::anyhow!("{p}"))?;
    let mut report = Report::default();
    store_films(store, "catalog", false, move || catalog, &mut report).await?;
    Ok(report)
}
