-- The catalog's genre filter compares names case-insensitively (`?genre=drama` finds "Drama");
-- an index in that collation lets a small genre's films be read directly instead of checking
-- every film of the sort order (see `browse_movies` in catalog.rs).
CREATE INDEX movie_genres_by_folded_name ON movie_genres (name COLLATE NOCASE, movie_id);
