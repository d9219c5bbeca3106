//! Every stored picture's perceptual hash in one compact table, scanned
//! whole for each query: two 64-bit words a picture (the hash and the hash
//! of the mirrored picture), so a million pictures take 24 MB and a scan a
//! few milliseconds. Distances are those of [`crate::hash::hash_distance`]
//! for the stored kind (the query's hash against the stored one and its
//! mirror, the smaller).

use std::collections::HashMap;

use crate::hash::{MIRROR_SUFFIX, STORED};
use crate::model::{ImageId, PerceptualHash};
use crate::verify::Halves;

/// A picture at a distance from the query.
pub type Distanced = (u32, ImageId);

/// One stored picture's hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Row {
    id: ImageId,
    plain: u64,
    mirrored: u64,
}

/// The stored hashes of every picture that has them.
#[derive(Debug, Default)]
pub struct HashTable {
    rows: Vec<Row>,
    position: HashMap<ImageId, usize>,
}

/// The stored kind and its mirror's name.
fn kinds() -> (&'static str, String) {
    let kind = STORED[0].kind;
    (kind, format!("{kind}{MIRROR_SUFFIX}"))
}

/// The 64-bit word of a hash of `kind` among `hashes`.
fn word(hashes: &[PerceptualHash], kind: &str) -> Option<u64> {
    let hash = hashes.iter().find(|h| h.kind == kind)?;
    Some(u64::from_le_bytes(hash.bits.as_slice().try_into().ok()?))
}

/// A query's hash as the table compares it: its plain stored-kind word.
pub fn query_word(hashes: &[PerceptualHash]) -> Option<u64> {
    word(hashes, kinds().0)
}

impl HashTable {
    /// Files (or refiles) a picture's hashes; pictures without the stored
    /// kind are left out (they have no hash to compare).
    pub fn insert(&mut self, id: ImageId, hashes: &[PerceptualHash]) {
        let (kind, mirror) = kinds();
        let Some(plain) = word(hashes, kind) else {
            return;
        };
        let row = Row {
            id,
            plain,
            mirrored: word(hashes, &mirror).unwrap_or(plain),
        };
        match self.position.get(&id) {
            Some(&at) => self.rows[at] = row,
            None => {
                self.position.insert(id, self.rows.len());
                self.rows.push(row);
            }
        }
    }

    /// Pictures filed.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    fn distance(query: u64, row: &Row) -> u32 {
        (query ^ row.plain)
            .count_ones()
            .min((query ^ row.mirrored).count_ones())
    }

    /// The distance of picture `id`'s hash to the query's, if it has one.
    pub fn distance_to(&self, query: u64, id: ImageId) -> Option<u32> {
        let row = &self.rows[*self.position.get(&id)?];
        Some(Self::distance(query, row))
    }

    /// The halves of the query picture `id`'s hash points to: the mirrored
    /// one when its mirrored hash is the nearer, the plain one when its
    /// plain hash is, both on a tie or when it has no hash.
    pub fn halves(&self, query: u64, id: ImageId) -> Halves {
        let Some(&at) = self.position.get(&id) else {
            return Halves::Both;
        };
        let row = &self.rows[at];
        let (plain, mirrored) = (
            (query ^ row.plain).count_ones(),
            (query ^ row.mirrored).count_ones(),
        );
        match plain.cmp(&mirrored) {
            std::cmp::Ordering::Less => Halves::Plain,
            std::cmp::Ordering::Greater => Halves::Mirrored,
            std::cmp::Ordering::Equal => Halves::Both,
        }
    }

    /// Every picture within `max` of the query, and the `nearest` nearest
    /// whatever their distance; each as (distance, id), nearest first,
    /// ties to the smaller id.
    pub fn scan(&self, query: u64, max: u32, nearest: usize) -> (Vec<Distanced>, Vec<Distanced>) {
        let mut all: Vec<Distanced> = self
            .rows
            .iter()
            .map(|row| (Self::distance(query, row), row.id))
            .collect();
        let within: Vec<Distanced> = {
            let mut within: Vec<_> = all.iter().copied().filter(|&(d, _)| d <= max).collect();
            within.sort_unstable();
            within
        };
        let keep = nearest.min(all.len());
        if keep < all.len() {
            all.select_nth_unstable(keep);
            all.truncate(keep);
        }
        all.sort_unstable();
        (within, all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::hash_distance;

    fn hashes(plain: u64, mirrored: u64) -> Vec<PerceptualHash> {
        let (kind, mirror) = kinds();
        vec![
            PerceptualHash {
                kind: kind.into(),
                bits: plain.to_le_bytes().to_vec(),
            },
            PerceptualHash {
                kind: mirror,
                bits: mirrored.to_le_bytes().to_vec(),
            },
        ]
    }

    #[test]
    fn distances_are_those_of_hash_distance() {
        let mut state = 0x1234_5678_9ABC_DEF0_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut table = HashTable::default();
        let stored: Vec<Vec<PerceptualHash>> = (0..200).map(|_| hashes(next(), next())).collect();
        for (id, h) in stored.iter().enumerate() {
            table.insert(id as ImageId, h);
        }
        for _ in 0..20 {
            let query = hashes(next(), next());
            let word = query_word(&query).unwrap();
            for (id, h) in stored.iter().enumerate() {
                assert_eq!(
                    table.distance_to(word, id as ImageId),
                    hash_distance(&query, h)
                );
            }
        }
    }

    #[test]
    fn a_scan_finds_the_close_and_the_nearest() {
        let mut table = HashTable::default();
        table.insert(1, &hashes(0, u64::MAX));
        table.insert(2, &hashes(0xFF, u64::MAX));
        table.insert(3, &hashes(u64::MAX, 0x0F));
        table.insert(4, &[]);
        assert_eq!(table.len(), 3);
        let (within, nearest) = table.scan(0, 4, 2);
        assert_eq!(within, [(0, 1), (4, 3)]);
        assert_eq!(nearest, [(0, 1), (4, 3)]);
        let (_, all) = table.scan(0, 0, 10);
        assert_eq!(all, [(0, 1), (4, 3), (8, 2)]);
        // Refiling replaces.
        table.insert(2, &hashes(0, 0));
        assert_eq!(table.distance_to(0, 2), Some(0));
        assert_eq!(table.len(), 3);
    }

    #[test]
    fn the_nearer_hash_says_which_half_of_the_query_to_verify() {
        let mut table = HashTable::default();
        table.insert(1, &hashes(0, u64::MAX));
        table.insert(2, &hashes(0x0F, 0xF0));
        assert_eq!(table.halves(0x01, 1), Halves::Plain);
        assert_eq!(table.halves(u64::MAX - 1, 1), Halves::Mirrored);
        assert_eq!(table.halves(0, 2), Halves::Both, "a tie");
        assert_eq!(table.halves(0, 99), Halves::Both, "not filed");
    }
}
