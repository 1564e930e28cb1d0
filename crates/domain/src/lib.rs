//! Marquee's domain: the values a film service deals in, each a type that can only hold a valid
//! value, and the ranking math. Nothing here knows about HTTP or SQL, so every other crate can
//! depend on it and tests can exercise the rules without a database.

pub mod account;
pub mod ids;
pub mod movie;
pub mod ranking;
pub mod review;
pub mod time_fmt;
mod validation;

pub use account::{DisplayName, Password, Username};
pub use ids::{MovieId, ReviewId, UserId};
pub use movie::{
    CastMember, ContentRating, Genre, Language, MovieDraft, PersonName, Runtime, Slug, Synopsis,
    Title, Year,
};
pub use ranking::{bayesian_average, wilson_lower_bound};
pub use review::{Headline, ReviewCursor, ReviewFilter, ReviewSort, ReviewText, Stars};
pub use validation::ValidationError;
