//! Helpful votes applied a batch to a transaction. A handful of statements serve the whole batch
//! (each with one row list), so the cost of the single writer's transaction is shared by every
//! vote in it; the rules themselves are `marquee_store::votes::plan`.

use crate::{SqliteStore, db_err};
use marquee_domain::time_fmt::now_ms;
use marquee_domain::{MovieId, ReviewId, UserId};
use marquee_store::votes::{LockedReview, VotePlan, pairs_of, plan, reviews_of};
use marquee_store::{StoreResult, VoteChange, VoteRejection, VoteTally};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
use std::collections::HashMap;

/// Changes per transaction: four bound values a vote stays far below SQLite's 32,766.
const MAX_BATCH: usize = 1024;

pub(crate) async fn apply(
    store: &SqliteStore,
    changes: &[VoteChange],
) -> StoreResult<Vec<Result<VoteTally, VoteRejection>>> {
    let mut outcomes = Vec::with_capacity(changes.len());
    for chunk in changes.chunks(MAX_BATCH) {
        let mut tx = store.begin_write().await?;
        let plan = read_and_plan(&mut tx, chunk).await.map_err(db_err)?;
        write(&mut tx, &plan).await.map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        outcomes.extend(plan.outcomes);
    }
    Ok(outcomes)
}

/// Reads the tallies of the reviews the batch touches (a review without one has no text and takes
/// no votes) with their authors, and the current votes (the write lock is already held, so
/// nothing changes them before the batch commits), and works out what it does.
async fn read_and_plan(
    conn: &mut SqliteConnection,
    changes: &[VoteChange],
) -> Result<VotePlan, sqlx::Error> {
    let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
        "SELECT t.review_id, r.user_id, t.movie_id, t.helpful_yes, t.helpful_no \
         FROM review_tallies t JOIN reviews r ON r.id = t.review_id WHERE t.review_id IN (",
    );
    let mut ids = q.separated(", ");
    for review in reviews_of(changes) {
        ids.push_bind(review.0);
    }
    q.push(")");
    let mut reviews = HashMap::new();
    for row in q.build().fetch_all(&mut *conn).await? {
        reviews.insert(
            ReviewId(row.try_get(0)?),
            LockedReview {
                author: UserId(row.try_get(1)?),
                movie: MovieId(row.try_get(2)?),
                yes: row.try_get(3)?,
                no: row.try_get(4)?,
            },
        );
    }

    // A join, not `(review_id, user_id) IN (VALUES ...)`: SQLite plans the row-value IN as a
    // scan of the whole table.
    let mut q: QueryBuilder<Sqlite> =
        QueryBuilder::new("SELECT v.review_id, v.user_id, v.helpful FROM (");
    q.push_values(pairs_of(changes), |mut row, (review, voter)| {
        row.push_bind(review.0).push_bind(voter.0);
    });
    q.push(") AS p JOIN votes v ON v.review_id = p.column1 AND v.user_id = p.column2");
    let mut current = HashMap::new();
    for row in q.build().fetch_all(&mut *conn).await? {
        current.insert(
            (ReviewId(row.try_get(0)?), UserId(row.try_get(1)?)),
            row.try_get::<bool, _>(2)?,
        );
    }
    Ok(plan(changes, &reviews, &current))
}

async fn write(conn: &mut SqliteConnection, plan: &VotePlan) -> Result<(), sqlx::Error> {
    if !plan.upserts.is_empty() {
        let now = now_ms();
        let mut q: QueryBuilder<Sqlite> =
            QueryBuilder::new("INSERT INTO votes (review_id, user_id, helpful, created_ms) ");
        q.push_values(&plan.upserts, |mut row, (review, voter, helpful)| {
            row.push_bind(review.0)
                .push_bind(voter.0)
                .push_bind(*helpful)
                .push_bind(now);
        });
        q.push(" ON CONFLICT (review_id, user_id) DO UPDATE SET helpful = excluded.helpful");
        q.build().execute(&mut *conn).await?;
    }
    if !plan.deletes.is_empty() {
        // One OR term per vote, which SQLite answers with one index search each.
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new("DELETE FROM votes WHERE ");
        for (i, (review, voter)) in plan.deletes.iter().enumerate() {
            if i > 0 {
                q.push(" OR ");
            }
            q.push("(review_id = ")
                .push_bind(review.0)
                .push(" AND user_id = ")
                .push_bind(voter.0)
                .push(")");
        }
        q.build().execute(&mut *conn).await?;
    }
    if !plan.tallies.is_empty() {
        // Counts and score in one UPDATE per batch: the score is computed in Rust, so it is
        // bit-for-bit what `wilson_lower_bound` gives on either backend.
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "UPDATE review_tallies SET helpful_yes = t.column2, helpful_no = t.column3, \
             score = t.column4 FROM (",
        );
        q.push_values(&plan.tallies, |mut row, t| {
            row.push_bind(t.review.0)
                .push_bind(t.yes)
                .push_bind(t.no)
                .push_bind(t.score);
        });
        q.push(") AS t WHERE review_tallies.review_id = t.column1");
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}
