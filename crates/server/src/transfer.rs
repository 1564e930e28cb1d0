//! `marquee migrate-data`: copies every table from one backend to another in batches, with a
//! progress bar, then proves the copy by comparing row counts and a checksum of every row.
//!
//! Rows are inserted with "skip if the key exists", in key order, parents before children, so
//! an interrupted copy can simply be run again with `--resume`: what arrived stays, the rest is
//! added, and nothing is duplicated.

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use marquee_store::Store;
use marquee_store::transfer::{TABLES, Table, Value};
use sha2::{Digest, Sha256};

/// What a copy did, per table.
#[derive(Debug, Default)]
pub struct Report {
    pub tables: Vec<TableReport>,
}

#[derive(Debug)]
pub struct TableReport {
    pub name: &'static str,
    pub rows: u64,
    /// Rows that were not in the target yet.
    pub copied: u64,
}

pub struct Options {
    pub batch: u32,
    /// Copy into a target that already has rows (after an interruption).
    pub resume: bool,
    pub progress: bool,
}

fn last_key(table: &Table, row: &[Value]) -> Vec<Value> {
    table
        .key_positions()
        .into_iter()
        .map(|i| row[i].clone())
        .collect()
}

pub async fn migrate(from: &dyn Store, to: &dyn Store, opts: &Options) -> anyhow::Result<Report> {
    if !opts.resume {
        for table in TABLES {
            let n = to.count_rows(table).await?;
            if n > 0 {
                bail!(
                    "the target is not empty (its {} table has {n} rows); copy into an empty database, \
                     or pass --resume to continue an interrupted copy",
                    table.name
                );
            }
        }
    }
    let mut report = Report::default();
    for table in TABLES {
        let total = from.count_rows(table).await?;
        let bar = if opts.progress {
            ProgressBar::new(total)
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>14} [{bar:30}] {pos}/{len} rows, {per_sec}, eta {eta}",
            )
            .expect("static template")
            .progress_chars("=> "),
        );
        bar.set_prefix(table.name);
        let mut after: Option<Vec<Value>> = None;
        let mut copied = 0;
        loop {
            let rows = from
                .export_rows(table, after.as_deref(), opts.batch)
                .await?;
            let Some(last) = rows.last() else { break };
            after = Some(last_key(table, last));
            copied += to
                .import_rows(table, &rows)
                .await
                .with_context(|| format!("copying rows of {}", table.name))?;
            bar.inc(rows.len() as u64);
        }
        bar.finish();
        report.tables.push(TableReport {
            name: table.name,
            rows: total,
            copied,
        });
    }
    to.finish_import().await?;
    verify(from, to, opts.batch).await?;
    Ok(report)
}

/// Compares row counts and a SHA-256 over every row, read in key order from both sides.
pub async fn verify(from: &dyn Store, to: &dyn Store, batch: u32) -> anyhow::Result<()> {
    for table in TABLES {
        let (a, b) = (
            checksum(from, table, batch).await?,
            checksum(to, table, batch).await?,
        );
        if a != b {
            bail!(
                "verification failed for {}: source has {} rows (checksum {}), target has {} rows (checksum {})",
                table.name,
                a.0,
                a.1,
                b.0,
                b.1
            );
        }
    }
    Ok(())
}

async fn checksum(store: &dyn Store, table: &Table, batch: u32) -> anyhow::Result<(u64, String)> {
    let mut hash = Sha256::new();
    let mut count = 0u64;
    let mut after: Option<Vec<Value>> = None;
    loop {
        let rows = store.export_rows(table, after.as_deref(), batch).await?;
        let Some(last) = rows.last() else { break };
        after = Some(last_key(table, last));
        for row in &rows {
            count += 1;
            for v in row {
                match v {
                    Value::Null => hash.update([0]),
                    Value::Int(i) => {
                        hash.update([1]);
                        hash.update(i.to_le_bytes());
                    }
                    Value::Real(f) => {
                        hash.update([2]);
                        hash.update(f.to_bits().to_le_bytes());
                    }
                    Value::Text(t) => {
                        hash.update([3]);
                        hash.update((t.len() as u64).to_le_bytes());
                        hash.update(t.as_bytes());
                    }
                    Value::Bytes(b) => {
                        hash.update([4]);
                        hash.update((b.len() as u64).to_le_bytes());
                        hash.update(b);
                    }
                }
            }
        }
    }
    let digest = hash.finalize();
    Ok((
        count,
        digest.iter().take(8).map(|b| format!("{b:02x}")).collect(),
    ))
}
