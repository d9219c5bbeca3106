//! Which pgvector index the store's vectors are searched through: `vector`
//! (the column's own 4-byte values, the default) or `halfvec` (2-byte
//! values: half the index, a quarter less build time, recall within 0.03
//! at a million vectors; docs/scaling.md). An expression index over the
//! same column, so the stored vectors keep full precision. The choice is
//! the store's, kept in `store_meta`, so every process searching the store
//! asks through the index that exists.

use serde::Serialize;
use sqlx::{PgConnection, Row};

use super::{query_error, PostgresStore, HNSW_INDEX};
use crate::store::StoreResult;

/// The form of the HNSW index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VectorIndex {
    /// Over `embedding::vector(DIM)`, 4 bytes a value.
    Vector,
    /// Over `embedding::halfvec(DIM)`, 2 bytes a value.
    Halfvec,
}

/// The `store_meta` key of the choice.
const KEY: &str = "vector_index";

/// The stored choice as an SQL expression (NULL until one is made), for a
/// statement that asks for it along with other things.
pub(super) const STORED: &str = "(SELECT value FROM store_meta WHERE key = 'vector_index')";

impl VectorIndex {
    /// Its name (`vector`, `halfvec`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Vector => "vector",
            Self::Halfvec => "halfvec",
        }
    }

    /// The choice of the store behind `pool`.
    pub async fn of(pool: &sqlx::PgPool) -> StoreResult<Self> {
        let mut conn = pool.acquire().await.map_err(query_error)?;
        current(&mut conn).await
    }

    /// The form a stored choice names (`vector` when none is stored).
    pub(super) fn stored(value: Option<&str>) -> Self {
        value.and_then(Self::parse).unwrap_or(Self::Vector)
    }

    fn parse(name: &str) -> Option<Self> {
        match name {
            "vector" => Some(Self::Vector),
            "halfvec" => Some(Self::Halfvec),
            _ => None,
        }
    }

    /// The indexed expression; a query's ORDER BY must be the same text.
    pub(super) fn expression(self, dim: usize) -> String {
        format!("embedding::{}({dim})", self.name())
    }

    /// The query vector `$1` as the index compares it.
    pub(super) fn parameter(self, dim: usize) -> String {
        match self {
            Self::Vector => "$1".into(),
            Self::Halfvec => format!("$1::halfvec({dim})"),
        }
    }

    /// `CREATE INDEX` for vectors of `dim` values (an integer we control,
    /// so formatting it is safe).
    pub(super) fn create(self, dim: usize) -> String {
        format!(
            "CREATE INDEX IF NOT EXISTS {HNSW_INDEX} ON images USING hnsw (({}) {}_cosine_ops)",
            self.expression(dim),
            self.name()
        )
    }
}

/// The store's choice (`vector` until one is made).
pub(super) async fn current(conn: &mut PgConnection) -> StoreResult<VectorIndex> {
    let row = sqlx::query("SELECT value FROM store_meta WHERE key = $1")
        .bind(KEY)
        .fetch_optional(conn)
        .await
        .map_err(query_error)?;
    Ok(VectorIndex::stored(
        row.map(|r| r.get::<String, _>("value")).as_deref(),
    ))
}

impl PostgresStore {
    /// The form of the store's HNSW index.
    pub async fn vector_index(&self) -> StoreResult<VectorIndex> {
        VectorIndex::of(&self.pool).await
    }

    /// Builds the HNSW index in `form` in place of the current one (when a
    /// model is bound: minutes at a million vectors; searches and writes of pictures wait for it)
    /// and records the choice, in one transaction.
    pub async fn set_vector_index(&self, form: VectorIndex) -> StoreResult<()> {
        let model = super::rules::load_model(self).await?;
        let mut tx = self.pool.begin().await.map_err(query_error)?;
        if let Some(model) = model {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP INDEX IF EXISTS {HNSW_INDEX}"
            )))
            .execute(&mut *tx)
            .await
            .map_err(query_error)?;
            sqlx::query(sqlx::AssertSqlSafe(form.create(model.dim)))
                .execute(&mut *tx)
                .await
                .map_err(query_error)?;
        }
        sqlx::query(
            "INSERT INTO store_meta (key, value) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(KEY)
        .bind(form.name())
        .execute(&mut *tx)
        .await
        .map_err(query_error)?;
        tx.commit().await.map_err(query_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_orders_by_the_indexed_expression() {
        let half = VectorIndex::Halfvec;
        assert_eq!(
            half.create(512),
            format!("CREATE INDEX IF NOT EXISTS {HNSW_INDEX} ON images USING hnsw ((embedding::halfvec(512)) halfvec_cosine_ops)")
        );
        assert_eq!(half.expression(512), "embedding::halfvec(512)");
        assert_eq!(half.parameter(512), "$1::halfvec(512)");
        assert_eq!(VectorIndex::Vector.parameter(512), "$1");
        for form in [VectorIndex::Vector, VectorIndex::Halfvec] {
            assert_eq!(VectorIndex::parse(form.name()), Some(form));
        }
        assert_eq!(VectorIndex::parse("bit"), None);
    }
}
