-- Lets a server notice catalog changes made by another process (MAX(updated_ms)) without
-- scanning every film.
CREATE INDEX movies_by_update ON movies (updated_ms);
