//! Rating, reviewing and voting, shared by the pages and the API so both apply the same rules
//! and both keep the title-page cache honest.

use crate::error::AppError;
use crate::state::AppState;
use marquee_domain::time_fmt::now_ms;
use marquee_domain::{Headline, MovieId, ReviewId, ReviewText, Stars, ValidationError};
use marquee_store::{Change, RatingInput, Review, User, VoteChange, VoteTally};

/// Parses a submitted rating, reporting every bad field.
pub fn parse_rating(
    stars: Result<Stars, ValidationError>,
    headline: Option<&str>,
    body: Option<&str>,
    anonymous: bool,
) -> Result<RatingInput, Vec<ValidationError>> {
    let headline = Headline::parse_optional(headline);
    let body = ReviewText::parse_optional(body);
    match (stars, headline, body) {
        (Ok(stars), Ok(headline), Ok(body)) => Ok(RatingInput {
            stars,
            headline,
            body,
            anonymous,
            now_ms: now_ms(),
        }),
        (s, h, b) => Err([s.err(), h.err(), b.err()].into_iter().flatten().collect()),
    }
}

pub async fn save_rating(
    state: &AppState,
    movie: MovieId,
    user: &User,
    input: &RatingInput,
) -> Result<Review, AppError> {
    let review = state.store.put_rating(movie, user.id, input).await?;
    state.changed(movie).await;
    tracing::info!(movie.id = %movie, user.id = %user.id, stars = input.stars.get(), "rating saved");
    Ok(review)
}

pub async fn delete_rating(state: &AppState, movie: MovieId, user: &User) -> Result<(), AppError> {
    state.store.delete_rating(movie, user.id).await?;
    state.changed(movie).await;
    Ok(())
}

/// Casts (`Some`) or withdraws (`None`) a helpful vote.
pub async fn vote(
    state: &AppState,
    review: ReviewId,
    user: &User,
    helpful: Option<bool>,
) -> Result<VoteTally, AppError> {
    let tally = state
        .votes
        .apply(VoteChange {
            review,
            voter: user.id,
            helpful,
        })
        .await?;
    // The store announced the change to the other instances with the vote itself.
    state.forget(Change::Votes(tally.movie_id));
    Ok(tally)
}
