//! Raw row copy for `marquee migrate-data`, PostgreSQL side. Table and column names come only
//! from the static list in `marquee_store::transfer::TABLES`, never from input.

use crate::{PgStore, db_err};
use async_trait::async_trait;
use marquee_store::StoreResult;
use marquee_store::transfer::{ColumnType, TABLES, Table, Transfer, Value};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};

/// Binds a value as the column's own type (PostgreSQL does not turn 0/1 into a boolean).
fn push_value(
    q: &mut sqlx::query_builder::Separated<'_, '_, Postgres, &'static str>,
    ty: ColumnType,
    v: &Value,
) {
    match (ty, v) {
        (ColumnType::Bool, Value::Int(i)) => q.push_bind(*i != 0),
        (ColumnType::Bool, _) => q.push_bind(None::<bool>),
        (ColumnType::Int, Value::Int(i)) => q.push_bind(*i),
        (ColumnType::Int, _) => q.push_bind(None::<i64>),
        (ColumnType::Real, Value::Real(f)) => q.push_bind(*f),
        (ColumnType::Real, Value::Int(i)) => q.push_bind(*i as f64),
        (ColumnType::Real, _) => q.push_bind(None::<f64>),
        (ColumnType::Text, Value::Text(t)) => q.push_bind(t.clone()),
        (ColumnType::Text, _) => q.push_bind(None::<String>),
        (ColumnType::Bytes, Value::Bytes(b)) => q.push_bind(b.clone()),
        (ColumnType::Bytes, _) => q.push_bind(None::<Vec<u8>>),
    };
}

fn read_row(table: &Table, row: &PgRow) -> Result<Vec<Value>, sqlx::Error> {
    table
        .columns
        .iter()
        .enumerate()
        .map(|(i, (_, ty))| {
            Ok(match ty {
                ColumnType::Int => row
                    .try_get::<Option<i64>, _>(i)?
                    .map_or(Value::Null, Value::Int),
                ColumnType::Bool => row
                    .try_get::<Option<bool>, _>(i)?
                    .map_or(Value::Null, |b| Value::Int(i64::from(b))),
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
impl Transfer for PgStore {
    async fn export_rows(
        &self,
        table: &Table,
        after: Option<&[Value]>,
        limit: u32,
    ) -> StoreResult<Vec<Vec<Value>>> {
        // Text keys compare byte-wise ("C") so the order matches SQLite's and resuming is exact.
        let order = table
            .key
            .iter()
            .map(
                |k| match table.columns.iter().find(|(c, _)| c == k).map(|(_, t)| *t) {
                    Some(ColumnType::Text) => format!("{k} COLLATE \"C\""),
                    _ => (*k).to_owned(),
                },
            )
            .collect::<Vec<_>>()
            .join(", ");
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(format!(
            "SELECT {} FROM {}",
            table.column_list(),
            table.name
        ));
        if let Some(after) = after {
            q.push(format!(" WHERE ({order}) > ("));
            let mut sep = q.separated(", ");
            for (v, pos) in after.iter().zip(table.key_positions()) {
                push_value(&mut sep, table.columns[pos].1, v);
            }
            q.push(")");
        }
        q.push(format!(" ORDER BY {order} LIMIT "))
            .push_bind(i64::from(limit));
        let rows = q.build().fetch_all(&self.pool).await.map_err(db_err)?;
        rows.iter()
            .map(|r| read_row(table, r))
            .collect::<Result<_, _>>()
            .map_err(db_err)
    }

    async fn import_rows(&self, table: &Table, rows: &[Vec<Value>]) -> StoreResult<u64> {
        if rows.is_empty() {
            return Ok(0);
        }
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let mut inserted = 0;
        // PostgreSQL binds at most 65,535 parameters per statement.
        for chunk in rows.chunks((65_535 / table.columns.len()).max(1)) {
            let mut q: QueryBuilder<Postgres> = QueryBuilder::new(format!(
                "INSERT INTO {} ({}) ",
                table.name,
                table.column_list()
            ));
            q.push_values(chunk, |mut b, row| {
                for (v, (_, ty)) in row.iter().zip(table.columns) {
                    push_value(&mut b, *ty, v);
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
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(n as u64)
    }

    // The search rows are not copied: they derive from the copied films and credits, and are
    // rebuilt from them here, after the sequences.
    async fn finish_import(&self) -> StoreResult<()> {
        for table in TABLES.iter().filter(|t| t.serial) {
            sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence('{0}', 'id'), COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {0}",
                table.name
            ))
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        }
        self.rebuild_search_index().await.map(|_| ())
    }
}
