//! The reads and writes both backends run identically, written once and
//! generic over the sqlx database: each backend's `Store` method that has
//! no dialect of its own is one call into [`Shared`]. What differs (time
//! encodings, upserts, JSON columns, vector search) stays in each
//! backend's file.

use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, FromRow, IntoArguments, Pool, Type};

use super::rows::{self, Columns};
use super::{sql, Backend, StoreError, StoreResult, StoreStatus};
use crate::model::{
    ArchiveLookup, FailureRecord, ImageFeatures, ImageId, ImageRecord, ModelInfo, NewImage,
    PerceptualHash, ReviewRecord, ScanId, ScanRecord, SightingRecord,
};

/// One backend's pool, with the queries both backends share.
pub(super) struct Shared<'a, DB: Database> {
    /// The pool.
    pub pool: &'a Pool<DB>,
    /// Which backend, for errors.
    pub backend: Backend,
}

impl<DB: Database> Shared<'_, DB> {
    /// A driver error of this backend.
    pub fn error(&self, source: sqlx::Error) -> StoreError {
        StoreError::Query {
            backend: self.backend,
            source,
        }
    }
}

impl<DB> Shared<'_, DB>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    DB::Row: Columns,
    for<'q> &'q str: Encode<'q, DB> + Type<DB> + ColumnIndex<DB::Row>,
    for<'q> &'q [u8]: Encode<'q, DB> + Type<DB>,
    for<'q> &'q Vec<u8>: Encode<'q, DB>,
    for<'q> &'q String: Encode<'q, DB>,
    Option<String>: Type<DB> + for<'q> Encode<'q, DB>,
    i64: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    String: Type<DB> + for<'r> Decode<'r, DB>,
    Vec<u8>: Type<DB> + for<'r> Decode<'r, DB>,
    Option<Vec<u8>>: Type<DB> + for<'r> Decode<'r, DB>,
    (i64,): for<'r> FromRow<'r, DB::Row>,
    (Option<i64>,): for<'r> FromRow<'r, DB::Row>,
    (String,): for<'r> FromRow<'r, DB::Row>,
    (Vec<u8>,): for<'r> FromRow<'r, DB::Row>,
    (Option<Vec<u8>>,): for<'r> FromRow<'r, DB::Row>,
    (String, Vec<u8>): for<'r> FromRow<'r, DB::Row>,
    (ImageId, String, Vec<u8>): for<'r> FromRow<'r, DB::Row>,
    (ImageId, Vec<u8>): for<'r> FromRow<'r, DB::Row>,
{
    /// `db status`: counts, schema version and the bound model.
    pub async fn status(
        &self,
        location: String,
        model: Option<ModelInfo>,
    ) -> StoreResult<StoreStatus> {
        let row = sqlx::query::<DB>(sql::STATUS)
            .fetch_one(self.pool)
            .await
            .map_err(|e| self.error(e))?;
        Ok(rows::status(&row, self.backend, location, model))
    }

    /// The highest image id, if any.
    pub async fn last_image_id(&self) -> StoreResult<Option<ImageId>> {
        sqlx::query_scalar::<DB, Option<ImageId>>(sql::LAST_IMAGE_ID)
            .fetch_one(self.pool)
            .await
            .map_err(|e| self.error(e))
    }

    /// The raw model binding, if any.
    pub async fn model_row(&self) -> StoreResult<Option<String>> {
        sqlx::query_scalar::<DB, String>(sql::MODEL)
            .fetch_optional(self.pool)
            .await
            .map_err(|e| self.error(e))
    }

    /// Binds a model unless one is bound.
    pub async fn insert_model_row(&self, raw: &str) -> StoreResult<()> {
        sqlx::query::<DB>(sql::INSERT_MODEL)
            .bind(raw)
            .execute(self.pool)
            .await
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Adds an image's hashes and features (inside the upsert's
    /// transaction).
    pub async fn insert_parts(
        &self,
        conn: &mut DB::Connection,
        id: ImageId,
        image: &NewImage,
    ) -> StoreResult<()> {
        for hash in &image.perceptual_hashes {
            sqlx::query::<DB>(sql::INSERT_HASH)
                .bind(id)
                .bind(&hash.kind)
                .bind(&hash.bits)
                .execute(&mut *conn)
                .await
                .map_err(|e| self.error(e))?;
        }
        for features in &image.features {
            sqlx::query::<DB>(sql::INSERT_FEATURES)
                .bind(id)
                .bind(&features.kind)
                .bind(&features.bytes)
                .execute(&mut *conn)
                .await
                .map_err(|e| self.error(e))?;
        }
        Ok(())
    }

    /// The image with these bytes.
    pub async fn image_by_sha256(&self, sha256: &[u8; 32]) -> StoreResult<Option<ImageId>> {
        sqlx::query_scalar::<DB, i64>(sql::IMAGE_BY_SHA256)
            .bind(&sha256[..])
            .fetch_optional(self.pool)
            .await
            .map_err(|e| self.error(e))
    }

    /// The image last fetched from `image_url`.
    pub async fn image_by_url(&self, image_url: &str) -> StoreResult<Option<ImageId>> {
        sqlx::query_scalar::<DB, i64>(sql::IMAGE_BY_URL)
            .bind(image_url)
            .fetch_optional(self.pool)
            .await
            .map_err(|e| self.error(e))
    }

    /// One image with its hashes.
    pub async fn image(&self, id: ImageId) -> StoreResult<Option<ImageRecord>> {
        let Some(row) = sqlx::query::<DB>(sql::IMAGE)
            .bind(id)
            .fetch_optional(self.pool)
            .await
            .map_err(|e| self.error(e))?
        else {
            return Ok(None);
        };
        Ok(Some(rows::image(&row, id, self.hashes(id).await?)))
    }

    async fn hashes(&self, id: ImageId) -> StoreResult<Vec<PerceptualHash>> {
        let found: Vec<(String, Vec<u8>)> = sqlx::query_as::<DB, (String, Vec<u8>)>(sql::HASHES_OF)
            .bind(id)
            .fetch_all(self.pool)
            .await
            .map_err(|e| self.error(e))?;
        Ok(found
            .into_iter()
            .map(|(kind, bits)| PerceptualHash { kind, bits })
            .collect())
    }

    /// The perceptual hashes of the first `limit` images after `after`.
    pub async fn perceptual_hashes_after(
        &self,
        after: ImageId,
        limit: u32,
    ) -> StoreResult<Vec<(ImageId, Vec<PerceptualHash>)>> {
        let found = sqlx::query_as::<DB, (ImageId, String, Vec<u8>)>(sql::HASHES_AFTER)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(self.pool)
            .await
            .map_err(|e| self.error(e))?;
        Ok(super::rules::group_hashes(found))
    }

    /// An image's keypoint features of one kind.
    pub async fn features(&self, id: ImageId, kind: &str) -> StoreResult<Option<Vec<u8>>> {
        sqlx::query_scalar::<DB, Vec<u8>>(sql::FEATURES)
            .bind(id)
            .bind(kind)
            .fetch_optional(self.pool)
            .await
            .map_err(|e| self.error(e))
    }

    /// Features of `kind` after `after`, in id order.
    pub async fn features_after(
        &self,
        kind: &str,
        after: ImageId,
        limit: u32,
    ) -> StoreResult<Vec<(ImageId, Vec<u8>)>> {
        sqlx::query_as::<DB, (ImageId, Vec<u8>)>(sql::FEATURES_AFTER)
            .bind(kind)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(self.pool)
            .await
            .map_err(|e| self.error(e))
    }

    /// Features of `kind` of images without features of `lacking`, after
    /// `after`, in id order.
    pub async fn features_lacking(
        &self,
        kind: &str,
        lacking: &str,
        after: ImageId,
        limit: u32,
    ) -> StoreResult<Vec<(ImageId, Vec<u8>)>> {
        sqlx::query_as::<DB, (ImageId, Vec<u8>)>(sql::FEATURES_LACKING)
            .bind(kind)
            .bind(lacking)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(self.pool)
            .await
            .map_err(|e| self.error(e))
    }

    /// Stores features of one kind for an image, replacing any there.
    pub async fn add_features(&self, id: ImageId, features: &ImageFeatures) -> StoreResult<()> {
        sqlx::query::<DB>(sql::PUT_FEATURES)
            .bind(id)
            .bind(&features.kind)
            .bind(&features.bytes)
            .execute(self.pool)
            .await
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// An image's stored preview.
    pub async fn thumbnail(&self, id: ImageId) -> StoreResult<Option<Vec<u8>>> {
        let found = sqlx::query_scalar::<DB, Option<Vec<u8>>>(sql::THUMBNAIL)
            .bind(id)
            .fetch_optional(self.pool)
            .await
            .map_err(|e| self.error(e))?;
        Ok(found.flatten())
    }

    /// An image's sightings, earliest first.
    pub async fn sightings(&self, image: ImageId) -> StoreResult<Vec<SightingRecord>> {
        let found = sqlx::query::<DB>(sql::SIGHTINGS_OF)
            .bind(image)
            .fetch_all(self.pool)
            .await
            .map_err(|e| self.error(e))?;
        Ok(found.iter().map(rows::sighting).collect())
    }

    /// One scan.
    pub async fn scan(&self, id: ScanId) -> StoreResult<Option<ScanRecord>> {
        let found = sqlx::query::<DB>(sql::SCAN)
            .bind(id)
            .fetch_optional(self.pool)
            .await
            .map_err(|e| self.error(e))?;
        found.as_ref().map(rows::scan).transpose()
    }

    /// The latest scans, newest first.
    pub async fn scans(&self, limit: u32) -> StoreResult<Vec<ScanRecord>> {
        let found = sqlx::query::<DB>(sql::SCANS)
            .bind(i64::from(limit))
            .fetch_all(self.pool)
            .await
            .map_err(|e| self.error(e))?;
        found.iter().map(rows::scan).collect()
    }

    /// The decisions about one query's matches.
    pub async fn reviews(&self, query_sha256: &[u8; 32]) -> StoreResult<Vec<ReviewRecord>> {
        let found = sqlx::query::<DB>(sql::REVIEWS)
            .bind(&query_sha256[..])
            .fetch_all(self.pool)
            .await
            .map_err(|e| self.error(e))?;
        found.iter().map(rows::review).collect()
    }

    /// The archive's kept answer about `url`.
    pub async fn archive_lookup(&self, url: &str) -> StoreResult<Option<ArchiveLookup>> {
        let found = sqlx::query::<DB>(sql::ARCHIVE_LOOKUP)
            .bind(url)
            .fetch_optional(self.pool)
            .await
            .map_err(|e| self.error(e))?;
        found.as_ref().map(rows::archive_lookup).transpose()
    }

    /// Stored pictures newest first (see [`sql::LIBRARY`]).
    pub async fn library(
        &self,
        containing: Option<&str>,
        before: Option<ImageId>,
        limit: u32,
    ) -> StoreResult<Vec<ImageRecord>> {
        let pattern = containing.map(like_pattern);
        let found = sqlx::query::<DB>(sql::LIBRARY)
            .bind(before.unwrap_or(ImageId::MAX))
            .bind(pattern)
            .bind(i64::from(limit))
            .fetch_all(self.pool)
            .await
            .map_err(|e| self.error(e))?;
        let mut images = Vec::with_capacity(found.len());
        for row in &found {
            let id = row.int("id");
            images.push(rows::image(row, id, self.hashes(id).await?));
        }
        Ok(images)
    }

    /// The latest failures.
    pub async fn failures(&self, limit: u32) -> StoreResult<Vec<FailureRecord>> {
        let found = sqlx::query::<DB>(sql::FAILURES)
            .bind(i64::from(limit))
            .fetch_all(self.pool)
            .await
            .map_err(|e| self.error(e))?;
        found.iter().map(rows::failure).collect()
    }
}

/// A `LIKE` pattern (escaped with a backslash, lower case) matching text that
/// contains `needle`.
fn like_pattern(needle: &str) -> String {
    let mut pattern = String::from("%");
    for c in needle.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}
