//! Choosing and opening the backend from `--database-url`: `sqlite://…` (the default, a file in
//! the data folder) or `postgres://…`.

use anyhow::{Context, bail};
use marquee_store::Store;
use marquee_store_postgres::{PgSettings, PgStore};
use marquee_store_sqlite::SqliteStore;
use std::path::Path;
use std::sync::Arc;

/// Which backend a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

pub fn kind_of(url: &str) -> anyhow::Result<Kind> {
    let scheme = url.split_once(':').map(|(s, _)| s.to_ascii_lowercase());
    match scheme.as_deref() {
        Some("sqlite") => Ok(Kind::Sqlite),
        Some("postgres" | "postgresql") => Ok(Kind::Postgres),
        _ => bail!(
            "the database URL '{}' is not supported: use sqlite://PATH or postgres://USER:PASSWORD@HOST/DATABASE",
            redact(url)
        ),
    }
}

/// The URL with any password replaced, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Opens the store the URL names, or the SQLite file in the data folder when there is none.
pub async fn open(
    url: Option<&str>,
    data_dir: &Path,
    pg: &PgSettings,
) -> anyhow::Result<Arc<dyn Store>> {
    let Some(url) = url else {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("creating the data folder {}", data_dir.display()))?;
        return Ok(Arc::new(
            SqliteStore::open(&data_dir.join("marquee.db")).await?,
        ));
    };
    Ok(match kind_of(url)? {
        Kind::Sqlite => Arc::new(SqliteStore::open_url(url).await?),
        Kind::Postgres => Arc::new(PgStore::connect(url, pg).await?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_the_backend_and_others_are_refused_without_leaking_a_password() {
        assert_eq!(kind_of("sqlite://./x.db").unwrap(), Kind::Sqlite);
        assert_eq!(kind_of("postgres://u:p@h/db").unwrap(), Kind::Postgres);
        assert_eq!(kind_of("postgresql://h/db").unwrap(), Kind::Postgres);
        let err = kind_of("mysql://root:hunter2@db/x")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("not supported") && !err.contains("hunter2"),
            "{err}"
        );
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
    }
}
