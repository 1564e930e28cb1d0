//! Copying every table between backends (`marquee migrate-data`): a description of the tables,
//! a backend-neutral row, and the trait each backend implements to read and write raw rows.

use crate::StoreResult;
use async_trait::async_trait;

/// How a column's values travel between backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Int,
    /// INTEGER 0/1 in SQLite, BOOLEAN in PostgreSQL; travels as `Int`.
    Bool,
    Real,
    Text,
    Bytes,
}

/// One value of a copied row.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Bytes(Vec<u8>),
}

/// A table as the copy sees it.
#[derive(Debug)]
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [(&'static str, ColumnType)],
    /// The primary key, in order: rows are read in this order and resumed after the last one.
    pub key: &'static [&'static str],
    /// Has an `id` filled from a sequence, which must be moved past the copied ids.
    pub serial: bool,
}

impl Table {
    pub fn column_list(&self) -> String {
        self.columns
            .iter()
            .map(|(c, _)| *c)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Positions of the key columns in `columns`.
    pub fn key_positions(&self) -> Vec<usize> {
        self.key
            .iter()
            .map(|k| {
                self.columns
                    .iter()
                    .position(|(c, _)| c == k)
                    .expect("key column listed")
            })
            .collect()
    }
}

use ColumnType::{Bool, Bytes, Int, Real, Text};

/// Every table, parents before children, so foreign keys hold at every step of a copy.
pub const TABLES: &[Table] = &[
    Table {
        name: "users",
        columns: &[
            ("id", Int),
            ("username", Text),
            ("display_name", Text),
            ("password_hash", Text),
            ("is_admin", Bool),
            ("created_ms", Int),
        ],
        key: &["id"],
        serial: true,
    },
    Table {
        name: "settings",
        columns: &[("name", Text), ("value", Bytes)],
        key: &["name"],
        serial: false,
    },
    Table {
        name: "login_failures",
        columns: &[("key", Text), ("failures", Int), ("window_start_ms", Int)],
        key: &["key"],
        serial: false,
    },
    Table {
        name: "sessions",
        columns: &[
            ("id_hash", Bytes),
            ("user_id", Int),
            ("created_ms", Int),
            ("expires_ms", Int),
        ],
        key: &["id_hash"],
        serial: false,
    },
    Table {
        name: "api_tokens",
        columns: &[
            ("id", Int),
            ("user_id", Int),
            ("name", Text),
            ("token_hash", Bytes),
            ("created_ms", Int),
            ("last_used_ms", Int),
        ],
        key: &["id"],
        serial: true,
    },
    Table {
        name: "movies",
        columns: &[
            ("id", Int),
            ("slug", Text),
            ("title", Text),
            ("original_title", Text),
            ("year", Int),
            ("runtime_minutes", Int),
            ("synopsis", Text),
            ("content_rating", Text),
            ("language", Text),
            ("poster", Text),
            ("rating_count", Int),
            ("rating_sum", Int),
            ("stars_1", Int),
            ("stars_2", Int),
            ("stars_3", Int),
            ("stars_4", Int),
            ("stars_5", Int),
            ("review_count", Int),
            ("created_ms", Int),
            ("updated_ms", Int),
            ("members_only", Bool),
        ],
        key: &["id"],
        serial: true,
    },
    Table {
        name: "movie_genres",
        columns: &[("movie_id", Int), ("position", Int), ("name", Text)],
        key: &["movie_id", "position"],
        serial: false,
    },
    Table {
        name: "movie_credits",
        columns: &[
            ("movie_id", Int),
            ("role", Text),
            ("position", Int),
            ("name", Text),
            ("character", Text),
        ],
        key: &["movie_id", "role", "position"],
        serial: false,
    },
    Table {
        name: "reviews",
        columns: &[
            ("id", Int),
            ("movie_id", Int),
            ("user_id", Int),
            ("stars", Int),
            ("headline", Text),
            ("body", Text),
            ("anonymous", Bool),
            ("created_ms", Int),
            ("updated_ms", Int),
        ],
        key: &["id"],
        serial: true,
    },
    Table {
        name: "review_tallies",
        columns: &[
            ("review_id", Int),
            ("movie_id", Int),
            ("created_ms", Int),
            ("helpful_yes", Int),
            ("helpful_no", Int),
            ("score", Real),
        ],
        key: &["review_id"],
        serial: false,
    },
    Table {
        name: "votes",
        columns: &[
            ("review_id", Int),
            ("user_id", Int),
            ("helpful", Bool),
            ("created_ms", Int),
        ],
        key: &["review_id", "user_id"],
        serial: false,
    },
    Table {
        name: "media",
        columns: &[
            ("movie_id", Int),
            ("storage_key", Text),
            ("file_name", Text),
            ("content_type", Text),
            ("size_bytes", Int),
            ("duration_ms", Int),
            ("width", Int),
            ("height", Int),
            ("video_codec", Text),
            ("audio_codec", Text),
            ("probe_json", Text),
            ("hls_prefix", Text),
            ("created_ms", Int),
        ],
        key: &["movie_id"],
        serial: false,
    },
    Table {
        name: "subtitles",
        columns: &[
            ("movie_id", Int),
            ("lang", Text),
            ("label", Text),
            ("storage_key", Text),
            ("created_ms", Int),
        ],
        key: &["movie_id", "lang"],
        serial: false,
    },
    Table {
        name: "playback_positions",
        columns: &[
            ("user_id", Int),
            ("movie_id", Int),
            ("position_ms", Int),
            ("duration_ms", Int),
            ("watched_ms", Int),
            ("updated_ms", Int),
        ],
        key: &["user_id", "movie_id"],
        serial: false,
    },
    Table {
        name: "jobs",
        columns: &[
            ("id", Int),
            ("kind", Text),
            ("movie_id", Int),
            ("state", Text),
            ("progress", Real),
            ("worker", Text),
            ("lease_until_ms", Int),
            ("attempts", Int),
            ("error", Text),
            ("created_ms", Int),
            ("updated_ms", Int),
        ],
        key: &["id"],
        serial: true,
    },
    Table {
        name: "device_codes",
        columns: &[
            ("id", Int),
            ("device_code_hash", Bytes),
            ("user_code", Text),
            ("client_name", Text),
            ("state", Text),
            ("user_id", Int),
            ("interval_s", Int),
            ("last_poll_ms", Int),
            ("created_ms", Int),
            ("expires_ms", Int),
            ("decided_ms", Int),
        ],
        key: &["id"],
        serial: true,
    },
    Table {
        name: "movie_keys",
        columns: &[("key", Text), ("movie_id", Int), ("fingerprint", Text)],
        key: &["key"],
        serial: false,
    },
    Table {
        name: "movie_external_ratings",
        columns: &[
            ("movie_id", Int),
            ("source", Text),
            ("tenths", Int),
            ("votes", Int),
        ],
        key: &["movie_id", "source"],
        serial: false,
    },
    Table {
        name: "watchlist",
        columns: &[("user_id", Int), ("movie_id", Int), ("added_ms", Int)],
        key: &["user_id", "movie_id"],
        serial: false,
    },
    Table {
        name: "diary",
        columns: &[
            ("id", Int),
            ("user_id", Int),
            ("movie_id", Int),
            ("watched_on", Text),
            ("rewatch", Bool),
            ("stars", Int),
            ("created_ms", Int),
        ],
        key: &["id"],
        serial: true,
    },
];

/// Raw row access for copying a whole database. Rows are plain values in `table.columns` order.
#[async_trait]
pub trait Transfer: Send + Sync {
    /// Up to `limit` rows in key order, after the row whose key is `after`.
    async fn export_rows(
        &self,
        table: &Table,
        after: Option<&[Value]>,
        limit: u32,
    ) -> StoreResult<Vec<Vec<Value>>>;
    /// Inserts the rows in one transaction, skipping any whose key is already there (so a copy
    /// can be re-run); returns how many were new. Any number of rows: the backend splits them
    /// into statements that stay under its limit on bound parameters.
    async fn import_rows(&self, table: &Table, rows: &[Vec<Value>]) -> StoreResult<u64>;
    async fn count_rows(&self, table: &Table) -> StoreResult<u64>;
    /// Moves id sequences past the copied ids, so new rows do not collide with them.
    async fn finish_import(&self) -> StoreResult<()>;
}
