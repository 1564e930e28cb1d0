//! Helpful votes applied a batch to a transaction, in a fixed handful of round trips whatever
//! the batch's size (each statement takes its rows as arrays), with the change announcements sent
//! inside the same transaction, so PostgreSQL delivers them exactly when the votes commit. The
//! rules themselves are `marquee_store::votes::plan`.

use crate::changes::CHANNEL;
use crate::{PgStore, db_err};
use marquee_domain::time_fmt::now_ms;
use marquee_domain::{MovieId, ReviewId, UserId};
use marquee_store::votes::{LockedReview, VotePlan, pairs_of, plan, reviews_of};
use marquee_store::{StoreResult, VoteChange, VoteRejection, VoteTally};
use sqlx::{PgConnection, Row};
use std::collections::HashMap;

/// Retries of a batch that PostgreSQL aborted to break a deadlock. Batches lock tally rows in
/// review id order and never deadlock with each other, and every other writer of votes takes
/// the review's tally lock before the votes (a rating's rewrite or removal one row, removing a
/// film all its rows in id order), so none is expected: this is a safety net.
const DEADLOCK_RETRIES: usize = 3;

pub(crate) async fn apply(
    store: &PgStore,
    changes: &[VoteChange],
) -> StoreResult<Vec<Result<VoteTally, VoteRejection>>> {
    let mut attempt = 0;
    loop {
        let mut tx = store.begin_write().await?;
        let result = async {
            let plan = read_and_plan(&mut tx, changes).await?;
            write(&mut tx, &plan).await?;
            Ok::<_, sqlx::Error>(plan)
        }
        .await;
        let result = match result {
            Ok(plan) => tx.commit().await.map(|()| plan),
            Err(e) => Err(e),
        };
        match result {
            Ok(plan) => return Ok(plan.outcomes),
            Err(e) if attempt < DEADLOCK_RETRIES && is_deadlock(&e) => {
                attempt += 1;
                tracing::debug!(attempt, "vote batch deadlocked; retrying");
            }
            Err(e) => return Err(db_err(e)),
        }
    }
}

fn is_deadlock(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|code| code == "40P01")
}

/// Locks the tally rows of the batch's reviews in review id order, then reads the voters'
/// current votes. Two statements on purpose: under READ COMMITTED a statement sees other rows as
/// of its own start, so the votes must be read after the locks are held (every vote writer takes
/// the review's tally lock first).
///
/// Only the tally rows are read and locked, never the reviews: a review without a tally row has
/// no text and takes no votes, and the tally row holds a copy of the author, who never changes.
/// A vote's foreign key is its review's tally row, so the check that inserting a vote makes
/// (a FOR KEY SHARE lock) lands on a row this batch already holds.
async fn read_and_plan(
    conn: &mut PgConnection,
    changes: &[VoteChange],
) -> Result<VotePlan, sqlx::Error> {
    let ids: Vec<i64> = reviews_of(changes).into_iter().map(|r| r.0).collect();
    let rows = sqlx::query(
        "SELECT review_id, author_id, movie_id, helpful_yes, helpful_no FROM review_tallies \
         WHERE review_id = ANY($1) ORDER BY review_id FOR UPDATE",
    )
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?;
    let mut reviews = HashMap::new();
    for row in rows {
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

    let (review_ids, voter_ids): (Vec<i64>, Vec<i64>) = pairs_of(changes)
        .into_iter()
        .map(|(r, u)| (r.0, u.0))
        .unzip();
    let rows = sqlx::query(
        "SELECT v.review_id, v.user_id, v.helpful FROM votes v \
         JOIN unnest($1::bigint[], $2::bigint[]) AS p (review_id, user_id) \
         ON v.review_id = p.review_id AND v.user_id = p.user_id",
    )
    .bind(&review_ids)
    .bind(&voter_ids)
    .fetch_all(&mut *conn)
    .await?;
    let mut current = HashMap::new();
    for row in rows {
        current.insert(
            (ReviewId(row.try_get(0)?), UserId(row.try_get(1)?)),
            row.try_get::<bool, _>(2)?,
        );
    }
    Ok(plan(changes, &reviews, &current))
}

/// Writes the plan in one statement: each part is a data-modifying CTE over arrays (an empty
/// array is a part that does nothing), and the change announcements ride along. One round trip
/// instead of four; the batch still commits or fails as a whole.
async fn write(conn: &mut PgConnection, plan: &VotePlan) -> Result<(), sqlx::Error> {
    if plan.upserts.is_empty() && plan.deletes.is_empty() && plan.tallies.is_empty() {
        return Ok(());
    }
    let (mut up_reviews, mut up_voters, mut up_helpful) = (Vec::new(), Vec::new(), Vec::new());
    for (r, u, h) in &plan.upserts {
        up_reviews.push(r.0);
        up_voters.push(u.0);
        up_helpful.push(*h);
    }
    let (del_reviews, del_voters): (Vec<i64>, Vec<i64>) =
        plan.deletes.iter().map(|(r, u)| (r.0, u.0)).unzip();
    let (mut ids, mut yes, mut no, mut score) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for t in &plan.tallies {
        ids.push(t.review.0);
        yes.push(t.yes);
        no.push(t.no);
        // Computed in Rust, so it is bit-for-bit what `wilson_lower_bound` gives on either
        // backend.
        score.push(t.score);
    }
    let announcements = crate::changes::vote_payloads(plan.movies.iter().copied());
    sqlx::query(
        "WITH upserted AS ( \
             INSERT INTO votes (review_id, user_id, helpful, created_ms) \
             SELECT r, u, h, $4 FROM unnest($1::bigint[], $2::bigint[], $3::boolean[]) AS t (r, u, h) \
             ON CONFLICT (review_id, user_id) DO UPDATE SET helpful = excluded.helpful \
         ), deleted AS ( \
             DELETE FROM votes v USING unnest($5::bigint[], $6::bigint[]) AS p (review_id, user_id) \
             WHERE v.review_id = p.review_id AND v.user_id = p.user_id \
         ), tallied AS ( \
             UPDATE review_tallies SET helpful_yes = t.y, helpful_no = t.n, score = t.s \
             FROM unnest($7::bigint[], $8::bigint[], $9::bigint[], $10::float8[]) AS t (id, y, n, s) \
             WHERE review_tallies.review_id = t.id \
         ) \
         SELECT pg_notify($11, m) FROM unnest($12::text[]) AS m",
    )
    .bind(&up_reviews)
    .bind(&up_voters)
    .bind(&up_helpful)
    .bind(now_ms())
    .bind(&del_reviews)
    .bind(&del_voters)
    .bind(&ids)
    .bind(&yes)
    .bind(&no)
    .bind(&score)
    .bind(CHANNEL)
    .bind(&announcements)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
