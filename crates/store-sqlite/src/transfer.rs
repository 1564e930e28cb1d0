//! Raw row copy for `marquee migrate-data`, SQLite side. Table and column names come only from
//! the static list in `marquee_store::transfer::TABLES`, never from input.

use crate::{SqliteStore, db_err};
use async_trait::async_trait;
use marquee_store::StoreResult;
use marquee_store::transfer::{ColumnType, Table, Transfer, Value};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};

fn push_value(q: &mut sqlx::query_builder::Separated<'_, '_, Sqlite, &'static str>, v: &Value) {
    match v {
        Value::Null => q.push_bind(None::<i64>),
        Value::Int(i) => q.push_bind(*i),
        Value::Real(f) => q.push_bind(*f),
        Value::Text(t) => q.push_bind(t.clone()),
        Value::Bytes(b) => q.push_bind(b.clone()),
    };
}

fn read_row(table: &Table, row: &SqliteRow) -> Result<Vec<Value>, sqlx::Error> {
    table
        .columns
        .iter()
        .enumerate()
        .map(|(i, (_, ty))| {
            Ok(match ty {
                ColumnType::Int | ColumnType::Bool => row
                    .try_get::<Option<i64>, _>(i)?
                    .map_or(Value::Null, Value::Int),
                ColumnType::Real => row
                    .try_get::<Option<f64>, _>(i)?
                    .map_or(Value::Null, Value::Real),
                ColumnType::Text => row
                    .try_get::<Option<String>, _>(i)?
                    .map_or(Value::Null, Value::Text),
                ColumnType::Bytes => row
                    .try_get::<Option<Vec<u8>>, _>(i)?
                    .map_or(Value::Null, Value::Bytes),
            })
        })
        .collect()
}

#[async_trait]
impl Transfer for SqliteStore {
    async fn export_rows(
        &self,
        table: &Table,
        after: Option<&[Value]>,
        limit: u32,
    ) -> StoreResult<Vec<Vec<Value>>> {
        let key = table.key.join(", ");
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
            "SELECT {} FROM {}",
            table.column_list(),
            table.name
        ));
        if let Some(after) = after {
            q.push(format!(" WHERE ({key}) > ("));
            let mut sep = q.separated(", ");
            for v in after {
                push_value(&mut sep, v);
            }
            q.push(")");
        }
        q.push(format!(" ORDER BY {key} LIMIT "))
            .push_bind(i64::from(limit));
        let rows = q.build().fetch_all(&self.read).await.map_err(db_err)?;
        rows.iter()
            .map(|r| read_row(table, r))
            .collect::<Result<_, _>>()
            .map_err(db_err)
    }

    async fn import_rows(&self, table: &Table, rows: &[Vec<Value>]) -> StoreResult<u64> {
        if rows.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin_write().await?;
        let mut inserted = 0;
        // SQLite binds at most 32,766 parameters per statement.
        for chunk in rows.chunks((32_766 / table.columns.len()).max(1)) {
            let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
                "INSERT INTO {} ({}) ",
                table.name,
                table.column_list()
            ));
            q.push_values(chunk, |mut b, row| {
                for v in row {
                    push_value(&mut b, v);
                }
            });
            q.push(" ON CONFLICT DO NOTHING");
            inserted += q
                .build()
                .execute(&mut *tx)
                .await
                .map_err(db_err)?
                .rows_affected();
        }
        tx.commit().await.map_err(db_err)?;
        Ok(inserted)
    }

    async fn count_rows(&self, table: &Table) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {}", table.name))
            .fetch_one(&self.read)
            .await
            .map_err(db_err)?;
        Ok(n as u64)
    }

    // INTEGER PRIMARY KEY picks max(id) + 1 by itself. The search rows are not copied: they
    // derive from the copied films and credits, and are rebuilt from them here.
    async fn finish_import(&self) -> StoreResult<()> {
        self.rebuild_search_index().await.map(|_| ())
    }
}
