//! What can go wrong in a store, in terms a handler can turn into the right response.

/// A store failure. The first variants are the caller's doing and map to 4xx responses;
/// `Backend` is ours and becomes a logged 500.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A uniqueness rule or a repeated action; the message is for the person.
    #[error("{0}")]
    Conflict(String),
    /// Allowed for nobody in this position, e.g. voting on one's own review.
    #[error("{0}")]
    Forbidden(String),
    #[error("database error: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    pub fn backend(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Backend(Box::new(e))
    }
}
