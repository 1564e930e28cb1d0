//! Helpful votes in batches. Concurrent votes are applied many to a transaction (group commit),
//! which is what lets one database take thousands of votes a second. Each backend only reads the
//! locked tallies of the reviews (`review_tallies`: counts and score, one row per review with
//! text) and the voters' current votes, and writes the result; the rules and the arithmetic live
//! here once, so both backends apply them the same way and in the same order.

use crate::{StoreError, VoteTally};
use marquee_domain::{MovieId, ReviewId, UserId, wilson_lower_bound};
use std::collections::HashMap;

/// One vote to cast (`Some`) or withdraw (`None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VoteChange {
    pub review: ReviewId,
    pub voter: UserId,
    pub helpful: Option<bool>,
}

/// Why a vote was refused: the caller's doing, never the database's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoteRejection {
    /// No such review (or a rating without text, which takes no votes).
    ReviewNotFound,
    /// Withdrawing a vote that was never cast.
    VoteNotFound,
    OwnReview,
    /// The same vote again.
    AlreadyCast,
}

impl From<VoteRejection> for StoreError {
    fn from(r: VoteRejection) -> Self {
        match r {
            VoteRejection::ReviewNotFound => StoreError::NotFound("review"),
            VoteRejection::VoteNotFound => StoreError::NotFound("vote"),
            VoteRejection::OwnReview => {
                StoreError::Forbidden("You cannot vote on your own review.".into())
            }
            VoteRejection::AlreadyCast => {
                StoreError::Conflict("You have already voted on this review.".into())
            }
        }
    }
}

/// What a backend read about a review, under the write lock of its tally row.
#[derive(Debug, Clone, Copy)]
pub struct LockedReview {
    pub author: UserId,
    pub movie: MovieId,
    pub yes: i64,
    pub no: i64,
}

/// A review's counts and score after the batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReviewTally {
    pub review: ReviewId,
    pub yes: i64,
    pub no: i64,
    pub score: f64,
}

/// What a batch writes, and what each vote in it answers.
#[derive(Debug, Default)]
pub struct VotePlan {
    /// One answer per change, in the order given.
    pub outcomes: Vec<Result<VoteTally, VoteRejection>>,
    /// Votes to insert or overwrite: `(review, voter, helpful)`.
    pub upserts: Vec<(ReviewId, UserId, bool)>,
    /// Votes to remove.
    pub deletes: Vec<(ReviewId, UserId)>,
    /// New counts of every review whose votes changed.
    pub tallies: Vec<ReviewTally>,
    /// Films whose pages show a changed review, each once.
    pub movies: Vec<MovieId>,
}

/// The distinct reviews a batch touches, in ascending order: the order PostgreSQL locks their
/// tally rows in, so two batches never wait on each other in a circle.
pub fn reviews_of(changes: &[VoteChange]) -> Vec<ReviewId> {
    let mut ids: Vec<ReviewId> = changes.iter().map(|c| c.review).collect();
    ids.sort_unstable_by_key(|r| r.0);
    ids.dedup();
    ids
}

/// The distinct `(review, voter)` pairs a batch touches.
pub fn pairs_of(changes: &[VoteChange]) -> Vec<(ReviewId, UserId)> {
    let mut pairs: Vec<(ReviewId, UserId)> = changes.iter().map(|c| (c.review, c.voter)).collect();
    pairs.sort_unstable_by_key(|(r, u)| (r.0, u.0));
    pairs.dedup();
    pairs
}

/// Applies the changes one after another, as if each were its own transaction, to the state
/// read under lock: `reviews` (missing = no such review, or no text) and `current` (the votes
/// already cast on those pairs).
pub fn plan(
    changes: &[VoteChange],
    reviews: &HashMap<ReviewId, LockedReview>,
    current: &HashMap<(ReviewId, UserId), bool>,
) -> VotePlan {
    let mut counts: HashMap<ReviewId, (i64, i64)> = HashMap::new();
    let mut votes: HashMap<(ReviewId, UserId), Option<bool>> = HashMap::new();
    let mut outcomes = Vec::with_capacity(changes.len());
    for change in changes {
        let Some(review) = reviews.get(&change.review) else {
            outcomes.push(Err(VoteRejection::ReviewNotFound));
            continue;
        };
        let pair = (change.review, change.voter);
        let mine = *votes
            .entry(pair)
            .or_insert_with(|| current.get(&pair).copied());
        let outcome = match change.helpful {
            Some(_) if review.author == change.voter => Err(VoteRejection::OwnReview),
            Some(h) if mine == Some(h) => Err(VoteRejection::AlreadyCast),
            None if mine.is_none() => Err(VoteRejection::VoteNotFound),
            _ => Ok(()),
        };
        if let Err(e) = outcome {
            outcomes.push(Err(e));
            continue;
        }
        let (yes, no) = counts
            .entry(change.review)
            .or_insert((review.yes, review.no));
        match mine {
            Some(true) => *yes -= 1,
            Some(false) => *no -= 1,
            None => {}
        }
        match change.helpful {
            Some(true) => *yes += 1,
            Some(false) => *no += 1,
            None => {}
        }
        votes.insert(pair, change.helpful);
        outcomes.push(Ok(VoteTally {
            review_id: change.review,
            movie_id: review.movie,
            helpful_yes: *yes as u64,
            helpful_no: *no as u64,
            score: wilson_lower_bound(*yes as u64, *no as u64),
            my_vote: change.helpful,
        }));
    }

    let mut plan = VotePlan {
        outcomes,
        ..VotePlan::default()
    };
    for (pair, now) in votes {
        let before = current.get(&pair).copied();
        match now {
            _ if now == before => {}
            Some(h) => plan.upserts.push((pair.0, pair.1, h)),
            None => plan.deletes.push(pair),
        }
    }
    for (review, (yes, no)) in counts {
        let locked = &reviews[&review];
        if (yes, no) != (locked.yes, locked.no) {
            plan.tallies.push(ReviewTally {
                review,
                yes,
                no,
                score: wilson_lower_bound(yes as u64, no as u64),
            });
            plan.movies.push(locked.movie);
        }
    }
    // Stable orders: rows are written in key order, and tests can compare plans.
    plan.upserts.sort_unstable_by_key(|(r, u, _)| (r.0, u.0));
    plan.deletes.sort_unstable_by_key(|(r, u)| (r.0, u.0));
    plan.tallies.sort_unstable_by_key(|t| t.review.0);
    plan.movies.sort_unstable_by_key(|m| m.0);
    plan.movies.dedup();
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn review(author: i64, movie: i64, yes: i64, no: i64) -> LockedReview {
        LockedReview {
            author: UserId(author),
            movie: MovieId(movie),
            yes,
            no,
        }
    }

    fn vote(review: i64, voter: i64, helpful: Option<bool>) -> VoteChange {
        VoteChange {
            review: ReviewId(review),
            voter: UserId(voter),
            helpful,
        }
    }

    #[test]
    fn each_rule_applies_in_order_within_one_batch() {
        let reviews = HashMap::from([(ReviewId(1), review(10, 7, 2, 1))]);
        let current = HashMap::from([((ReviewId(1), UserId(11)), true)]);
        let changes = [
            vote(1, 10, Some(true)),  // own review
            vote(1, 11, Some(true)),  // already cast
            vote(1, 11, Some(false)), // flips: 1 yes, 2 no
            vote(1, 12, None),        // nothing to withdraw
            vote(1, 12, Some(true)),  // new: 2 yes, 2 no
            vote(1, 12, None),        // withdrawn again: 1 yes, 2 no
            vote(2, 11, Some(true)),  // no such review
        ];
        let plan = plan(&changes, &reviews, &current);
        let outcomes: Vec<_> = plan
            .outcomes
            .iter()
            .map(|o| o.map(|t| (t.helpful_yes, t.helpful_no, t.my_vote)))
            .collect();
        assert_eq!(
            outcomes,
            [
                Err(VoteRejection::OwnReview),
                Err(VoteRejection::AlreadyCast),
                Ok((1, 2, Some(false))),
                Err(VoteRejection::VoteNotFound),
                Ok((2, 2, Some(true))),
                Ok((1, 2, None)),
                Err(VoteRejection::ReviewNotFound),
            ]
        );
        // User 12's vote came and went: nothing to write for it.
        assert_eq!(plan.upserts, [(ReviewId(1), UserId(11), false)]);
        assert!(plan.deletes.is_empty());
        assert_eq!(plan.tallies.len(), 1);
        assert_eq!((plan.tallies[0].yes, plan.tallies[0].no), (1, 2));
        assert_eq!(plan.movies, [MovieId(7)]);
    }

    #[test]
    fn a_batch_that_ends_where_it_started_writes_nothing() {
        let reviews = HashMap::from([(ReviewId(1), review(10, 7, 1, 0))]);
        let current = HashMap::from([((ReviewId(1), UserId(11)), true)]);
        let plan = plan(
            &[vote(1, 11, Some(false)), vote(1, 11, Some(true))],
            &reviews,
            &current,
        );
        assert!(plan.outcomes.iter().all(Result::is_ok));
        assert!(plan.upserts.is_empty() && plan.deletes.is_empty() && plan.tallies.is_empty());
    }

    proptest! {
        /// Planning a batch gives the same answers and the same final state as applying its
        /// changes one at a time, each as a batch of its own.
        #[test]
        fn a_batch_equals_its_changes_applied_one_by_one(
            changes in prop::collection::vec(
                (1i64..4, 1i64..5, prop::option::of(any::<bool>())), 0..40)
        ) {
            let changes: Vec<_> = changes.into_iter().map(|(r, u, h)| vote(r, u, h)).collect();
            let start = HashMap::from([
                (ReviewId(1), review(1, 100, 0, 0)),
                (ReviewId(2), review(2, 100, 0, 0)),
            ]);
            let batch = plan(&changes, &start, &HashMap::new());

            let mut reviews = start.clone();
            let mut current: HashMap<(ReviewId, UserId), bool> = HashMap::new();
            for (i, change) in changes.iter().enumerate() {
                let single = plan(std::slice::from_ref(change), &reviews, &current);
                prop_assert_eq!(&single.outcomes[0], &batch.outcomes[i]);
                for (r, u, h) in single.upserts { current.insert((r, u), h); }
                for pair in single.deletes { current.remove(&pair); }
                for t in single.tallies {
                    let locked = reviews.get_mut(&t.review).unwrap();
                    (locked.yes, locked.no) = (t.yes, t.no);
                }
            }
            let mut batch_votes: HashMap<(ReviewId, UserId), bool> = HashMap::new();
            for (r, u, h) in &batch.upserts { batch_votes.insert((*r, *u), *h); }
            prop_assert!(batch.deletes.is_empty(), "nothing existed to delete");
            prop_assert_eq!(batch_votes, current);
            for t in &batch.tallies {
                prop_assert_eq!((reviews[&t.review].yes, reviews[&t.review].no), (t.yes, t.no));
            }
        }
    }
}
