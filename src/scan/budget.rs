//! The decode memory budget: decodes wait until the memory they need (told
//! by the picture's header, [`decode_memory_needed`]) fits beside the
//! decodes already running, so the peak stays under the budget whatever
//! the number of cores. A picture that needs more than the whole budget
//! runs alone. Waiters are served in order (tokio's semaphore is fair), so
//! a large picture is not starved by small ones.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::decode::decode_memory_needed;

const MIB: u64 = 1024 * 1024;

/// Memory decodes running at once may use, in MiB units; clones share it.
#[derive(Debug, Clone)]
pub struct DecodeBudget {
    units: Arc<Semaphore>,
    total: u32,
}

impl DecodeBudget {
    /// A budget of `bytes` (at least 1 MiB).
    pub fn new(bytes: u64) -> Self {
        let total = u32::try_from((bytes / MIB).max(1)).unwrap_or(u32::MAX >> 4);
        Self {
            units: Arc::new(Semaphore::new(total as usize)),
            total,
        }
    }

    /// Waits until decoding `bytes` fits in the budget; the memory is given
    /// back when the permit is dropped.
    pub async fn reserve(&self, bytes: &[u8]) -> OwnedSemaphorePermit {
        let units = self.units_for(decode_memory_needed(bytes));
        self.units
            .clone()
            .acquire_many_owned(units)
            .await
            .expect("the decode budget is never closed")
    }

    /// MiB units for `bytes` of need, at least 1 and at most the whole
    /// budget.
    fn units_for(&self, need: u64) -> u32 {
        u32::try_from(need.div_ceil(MIB))
            .unwrap_or(u32::MAX)
            .clamp(1, self.total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needs_are_rounded_up_and_capped_at_the_whole_budget() {
        let budget = DecodeBudget::new(100 * MIB);
        assert_eq!(budget.units_for(0), 1);
        assert_eq!(budget.units_for(MIB + 1), 2);
        assert_eq!(budget.units_for(10_000 * MIB), 100);
        assert_eq!(DecodeBudget::new(0).total, 1);
    }

    #[tokio::test]
    async fn clones_share_one_budget() {
        let budget = DecodeBudget::new(64 * MIB);
        let other_scan = budget.clone();
        let _held = other_scan.reserve(b"not a picture").await;
        assert_eq!(budget.units.available_permits(), 64 - 8);
    }

    #[tokio::test]
    async fn a_decode_waits_until_its_need_fits() {
        let budget = DecodeBudget::new(64 * MIB);
        let first = budget.reserve(b"not a picture").await;
        let second = budget.reserve(b"not a picture").await;
        assert_eq!(budget.units.available_permits(), 64 - 16);
        drop((first, second));
        // A header promising 8,000 × 8,000 RGBA needs more than the whole
        // budget: it takes it all, and a small decode waits for it.
        let mut header = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
        let mut ihdr = b"IHDR".to_vec();
        ihdr.extend(8000u32.to_be_bytes());
        ihdr.extend(8000u32.to_be_bytes());
        ihdr.extend([8, 6, 0, 0, 0]);
        header.extend(13u32.to_be_bytes());
        header.extend(&ihdr);
        header.extend(crc32fast::hash(&ihdr).to_be_bytes());
        // The header is read up to the first data chunk.
        let idat = b"IDAT\x78\x9c".to_vec();
        header.extend(2u32.to_be_bytes());
        header.extend(&idat);
        header.extend(crc32fast::hash(&idat).to_be_bytes());
        let big = budget.reserve(&header).await;
        assert_eq!(budget.units.available_permits(), 0);
        let small = budget.reserve(b"x");
        tokio::pin!(small);
        assert!(futures::poll!(&mut small).is_pending());
        drop(big);
        let _small = small.await;
    }
}
