//! Who may watch a film: everyone, or (for a members-only film) signed-in viewers. The watch
//! page, the playback API and every stream endpoint ask here, so they can not disagree.

use crate::error::AppError;
use marquee_store::{Movie, User};

/// Whether a request for a film's media bytes may be answered. A signed URL (a device's, see
/// [`crate::signed_urls`]) admits it whatever the film's rule: the server vouched for a signed-in
/// user when it signed. A signature that is present but wrong or expired is refused with 403,
/// even on a public film, so a broken link never half-works. Without one, [`require_watch`]
/// decides for `viewer`.
pub fn check_stream(
    keys: &crate::auth::Keys,
    movie: &Movie,
    viewer: Option<&User>,
    query: Option<&str>,
) -> Result<(), AppError> {
    match crate::signed_urls::verify(keys, movie.id, query) {
        Ok(Some(_)) => Ok(()),
        Ok(None) => require_watch(movie, viewer),
        Err(e) => {
            tracing::info!(movie.id = %movie.id, reason = ?e, "refused a signed stream URL");
            Err(AppError::Forbidden(e.to_string()))
        }
    }
}

/// Whether `viewer` may play `movie`; a members-only film needs a signed-in viewer.
pub fn may_watch(movie: &Movie, viewer: Option<&User>) -> bool {
    !movie.members_only || viewer.is_some()
}

/// [`may_watch`] as an error for handlers: 401, asking the visitor to sign in.
pub fn require_watch(movie: &Movie, viewer: Option<&User>) -> Result<(), AppError> {
    if may_watch(movie, viewer) {
        Ok(())
    } else {
        Err(AppError::Unauthorized)
    }
}
