//! What both backends must do alike, written once: one model per store
//! (bound on first use, checked on every later one, re-checked after a race
//! with another process), vectors and queries of the model's dimension.

use std::sync::Mutex;

use async_trait::async_trait;

use super::{StoreError, StoreResult};
use crate::model::{ImageId, ModelInfo, PerceptualHash};

/// The model a store is bound to, once read (a binding never changes).
#[derive(Debug, Default)]
pub(super) struct ModelCell(Mutex<Option<ModelInfo>>);

impl ModelCell {
    fn get(&self) -> Option<ModelInfo> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set(&self, model: Option<ModelInfo>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = model;
    }
}

/// A backend's access to its `store_meta` model row.
#[async_trait]
pub(super) trait ModelRow: Send + Sync {
    /// The cache of the bound model.
    fn model_cell(&self) -> &ModelCell;
    /// The raw row (`sql::MODEL`).
    async fn read_model_row(&self) -> StoreResult<Option<String>>;
    /// Inserts the row unless one is there (`ON CONFLICT DO NOTHING`).
    async fn insert_model_row(&self, raw: &str) -> StoreResult<()>;
}

/// The bound model, from the cache or the database.
pub(super) async fn load_model(backend: &impl ModelRow) -> StoreResult<Option<ModelInfo>> {
    if let Some(model) = backend.model_cell().get() {
        return Ok(Some(model));
    }
    let model = backend
        .read_model_row()
        .await?
        .map(|raw| parse_model(&raw))
        .transpose()?;
    backend.model_cell().set(model.clone());
    Ok(model)
}

/// Binds the store to `model` on first use; a different bound model is a
/// [`StoreError::ModelMismatch`]. Returns true when it wrote the binding
/// (or found one another process wrote meanwhile), false when the store was
/// already bound to `model`.
pub(super) async fn bind_model(backend: &impl ModelRow, model: &ModelInfo) -> StoreResult<bool> {
    if check_model(load_model(backend).await?, model)? {
        return Ok(false);
    }
    let raw = serde_json::to_string(model).expect("model serialises");
    backend.insert_model_row(&raw).await?;
    backend.model_cell().set(None);
    // Another process may have bound a model first: check again.
    check_model(load_model(backend).await?, model)?;
    Ok(true)
}

/// Reads a stored model binding.
fn parse_model(raw: &str) -> StoreResult<ModelInfo> {
    serde_json::from_str(raw).map_err(|e| StoreError::Corrupt {
        what: "store_meta.model",
        reason: e.to_string(),
    })
}

/// Whether `stored` is `current` (true), no model (false), or another one
/// (an error that says what to do).
fn check_model(stored: Option<ModelInfo>, current: &ModelInfo) -> StoreResult<bool> {
    match stored {
        None => Ok(false),
        Some(stored) if &stored == current => Ok(true),
        Some(stored) => Err(StoreError::ModelMismatch {
            stored,
            current: current.clone(),
        }),
    }
}

/// The model a vector of `len` values is stored under: there must be one,
/// of that dimension.
pub(super) fn model_for_vector(model: Option<ModelInfo>, len: usize) -> StoreResult<ModelInfo> {
    let model = model.ok_or(StoreError::NoModel)?;
    check_dimension(&model, len)?;
    Ok(model)
}

/// The model to search under for a query of `len` values and `k` answers;
/// `None` when there is nothing to search (no model bound, `k` = 0).
pub(super) fn model_for_query(
    model: Option<ModelInfo>,
    len: usize,
    k: usize,
) -> StoreResult<Option<ModelInfo>> {
    let Some(model) = model else {
        return Ok(None);
    };
    check_dimension(&model, len)?;
    Ok(Some(model).filter(|_| k > 0))
}

fn check_dimension(model: &ModelInfo, len: usize) -> StoreResult<()> {
    if len != model.dim {
        return Err(StoreError::Dimension {
            expected: model.dim,
            got: len,
        });
    }
    Ok(())
}

/// Groups `(image id, kind, bits)` rows ordered by image id.
pub(super) fn group_hashes(
    rows: Vec<(ImageId, String, Vec<u8>)>,
) -> Vec<(ImageId, Vec<PerceptualHash>)> {
    let mut out: Vec<(ImageId, Vec<PerceptualHash>)> = Vec::new();
    for (id, kind, bits) in rows {
        let hash = PerceptualHash { kind, bits };
        match out.last_mut() {
            Some((last, hashes)) if *last == id => hashes.push(hash),
            _ => out.push((id, vec![hash])),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(id: &str, dim: usize) -> ModelInfo {
        ModelInfo { id: id.into(), dim }
    }

    #[test]
    fn a_store_takes_vectors_of_its_model_only() {
        assert!(matches!(
            model_for_vector(None, 4),
            Err(StoreError::NoModel)
        ));
        assert!(matches!(
            model_for_vector(Some(model("m", 4)), 3),
            Err(StoreError::Dimension {
                expected: 4,
                got: 3
            })
        ));
        assert_eq!(
            model_for_vector(Some(model("m", 4)), 4).unwrap(),
            model("m", 4)
        );
    }

    #[test]
    fn queries_without_a_model_or_answers_search_nothing() {
        assert_eq!(model_for_query(None, 4, 10).unwrap(), None);
        assert_eq!(model_for_query(Some(model("m", 4)), 4, 0).unwrap(), None);
        assert!(model_for_query(Some(model("m", 4)), 5, 10).is_err());
        assert!(model_for_query(Some(model("m", 4)), 4, 1)
            .unwrap()
            .is_some());
    }

    #[test]
    fn another_model_is_a_mismatch() {
        assert!(!check_model(None, &model("a", 2)).unwrap());
        assert!(check_model(Some(model("a", 2)), &model("a", 2)).unwrap());
        assert!(matches!(
            check_model(Some(model("a", 2)), &model("b", 2)),
            Err(StoreError::ModelMismatch { .. })
        ));
    }

    #[test]
    fn hashes_group_by_image() {
        let rows = vec![
            (1, "d".to_string(), vec![1]),
            (1, "p".to_string(), vec![2]),
            (3, "p".to_string(), vec![3]),
        ];
        let grouped = group_hashes(rows);
        assert_eq!(grouped.len(), 2);
        assert_eq!(grouped[0].1.len(), 2);
        assert_eq!(grouped[1].0, 3);
    }
}
