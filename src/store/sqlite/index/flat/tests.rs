//! Tests of the flat index: exactness against a plain f32 scan, updates,
//! removals, threads, snapshots of its parts.

use super::*;
use crate::store::sqlite::index::blob::reference::cosine;

type Vectors = Vec<(ImageId, Vec<f32>)>;

/// A small deterministic generator (SplitMix64), values in [-1, 1).
fn random_vectors(count: usize, dim: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut state = seed;
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    };
    (0..count)
        .map(|_| (0..dim).map(|_| next()).collect())
        .collect()
}

fn with_ids(vectors: Vec<Vec<f32>>) -> Vectors {
    vectors
        .into_iter()
        .enumerate()
        .map(|(i, v)| (1000 + 3 * i as ImageId, v))
        .collect()
}

/// The reference: score everything with `cosine`, sort, cut.
fn brute_force(vectors: &[(ImageId, Vec<f32>)], query: &[f32], k: usize) -> Vec<ImageId> {
    let mut scored: Vec<_> = vectors
        .iter()
        .map(|(id, v)| (cosine(query, v), *id))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().take(k).map(|(_, id)| id).collect()
}

fn index_of(vectors: &[(ImageId, Vec<f32>)], threads: usize) -> FlatIndex {
    let mut index = FlatIndex::with_threads(threads);
    for (id, v) in vectors {
        index.upsert(*id, v).unwrap();
    }
    index
}

/// Searches with the full vectors taken from `vectors`.
fn search(index: &FlatIndex, vectors: &Vectors, query: &[f32], k: usize) -> Vec<Neighbor> {
    let by_id: HashMap<ImageId, &[f32]> =
        vectors.iter().map(|(id, v)| (*id, v.as_slice())).collect();
    index
        .search(query, k, |id| by_id.get(&id).copied())
        .unwrap()
}

fn ids(found: &[Neighbor]) -> Vec<ImageId> {
    found.iter().map(|n| n.image_id).collect()
}

#[test]
fn dot_matches_the_naive_sum_for_any_length() {
    for dim in [1, 15, 16, 17, 33, 512] {
        let v = random_vectors(2, dim, dim as u64);
        let naive: f32 = v[0].iter().zip(&v[1]).map(|(x, y)| x * y).sum();
        assert!((dot(&v[0], &v[1]) - naive).abs() < 1e-4, "dim {dim}");
    }
}

#[test]
fn search_equals_brute_force_single_and_multi_threaded() {
    // Enough rows that three threads really split the scan.
    let vectors = with_ids(random_vectors(3 * MIN_ROWS_PER_THREAD + 5, 12, 7));
    let queries = random_vectors(5, 12, 99);
    for threads in [1, 3] {
        let index = index_of(&vectors, threads);
        for (q, k) in queries.iter().zip([1, 5, 10, 37, 100]) {
            let got = ids(&search(&index, &vectors, q, k));
            assert_eq!(got, brute_force(&vectors, q, k), "threads {threads}, k {k}");
        }
    }
}

#[test]
fn the_shortlist_is_a_small_superset_of_the_answer() {
    let vectors = with_ids(random_vectors(20_000, 64, 3));
    let index = index_of(&vectors, 2);
    for q in random_vectors(5, 64, 11) {
        let shortlist = index.shortlist(&q, 10).unwrap();
        for id in brute_force(&vectors, &q, 10) {
            assert!(shortlist.ids().contains(&id), "{id} missing");
        }
        assert!(
            shortlist.ids().len() < 200,
            "{} of 20,000 rows shortlisted",
            shortlist.ids().len()
        );
    }
}

#[test]
fn similarities_are_cosines_of_unnormalised_input() {
    let vectors = vec![
        (1, vec![3.0, 4.0]),
        (2, vec![0.0, -2.0]),
        (3, vec![0.0, 0.0]),
    ];
    let index = index_of(&vectors, 1);
    let got = search(&index, &vectors, &[10.0, 0.0], 3);
    assert_eq!(
        ids(&got),
        vec![1, 2, 3],
        "the orthogonal and the zero vector tie at 0"
    );
    assert!((got[0].similarity - 0.6).abs() < 1e-6);
    assert_eq!((got[1].similarity, got[2].similarity), (0.0, 0.0));
}

#[test]
fn ties_go_to_the_lower_id_and_k_caps_the_answer() {
    let vectors: Vectors = [5, 2, 9, 4]
        .iter()
        .map(|&id| (id, vec![1.0, 1.0]))
        .collect();
    let index = index_of(&vectors, 1);
    assert_eq!(
        ids(&search(&index, &vectors, &[1.0, 1.0], 3)),
        vec![2, 4, 5]
    );
    assert_eq!(search(&index, &vectors, &[1.0, 1.0], 10).len(), 4);
    assert!(search(&index, &vectors, &[1.0, 1.0], 0).is_empty());
}

#[test]
fn upsert_replaces_the_vector_of_a_known_id() {
    let mut vectors = vec![(1, vec![1.0, 0.0]), (2, vec![0.0, 1.0])];
    let mut index = index_of(&vectors, 1);
    vectors[0].1 = vec![0.0, -1.0];
    index.upsert(1, &vectors[0].1).unwrap();
    assert_eq!(index.len(), 2);
    assert_eq!(index.code_bytes(), 2 * 2 + 2 * 8);
    let got = search(&index, &vectors, &[0.0, 1.0], 2);
    assert_eq!(ids(&got), vec![2, 1]);
    assert!((got[1].similarity + 1.0).abs() < 1e-6);
}

#[test]
fn removed_rows_are_never_found_and_the_rest_still_are() {
    let mut vectors = with_ids(random_vectors(50, 8, 5));
    let mut index = index_of(&vectors, 1);
    for victim in [0, 20, 47, 10] {
        let (id, _) = vectors.remove(victim);
        assert!(index.remove(id));
        assert!(!index.remove(id), "already gone");
        assert!(!index.contains(id));
    }
    assert_eq!(index.len(), 46);
    for q in random_vectors(4, 8, 6) {
        let got = ids(&search(&index, &vectors, &q, 46));
        assert_eq!(got, brute_force(&vectors, &q, 46));
    }
    for (id, _) in &vectors {
        index.remove(*id);
    }
    assert!(index.is_empty());
    index.upsert(1, &[1.0, 2.0, 3.0]).unwrap();
    assert_eq!(index.dim(), 3, "an emptied index takes a new dimension");
}

#[test]
fn parts_round_trip_and_inconsistent_parts_are_refused() {
    let vectors = with_ids(random_vectors(30, 6, 8));
    let index = index_of(&vectors, 1);
    let copy = FlatIndex::from_parts(index.parts(), 2).unwrap();
    assert_eq!(copy.parts(), index.parts());
    let q = &random_vectors(1, 6, 9)[0];
    assert_eq!(
        ids(&search(&copy, &vectors, q, 5)),
        brute_force(&vectors, q, 5)
    );

    let mut short = index.parts();
    short.codes.pop();
    assert!(FlatIndex::from_parts(short, 1).is_err());
    let mut twice = index.parts();
    twice.ids[1] = twice.ids[0];
    let err = FlatIndex::from_parts(twice, 1).unwrap_err();
    assert!(err.to_string().contains("twice"), "{err}");
}

#[test]
fn the_first_vector_fixes_the_dimension() {
    let mut index = FlatIndex::with_threads(2);
    assert!(
        index.shortlist(&[1.0], 3).unwrap().ids().is_empty(),
        "empty index"
    );
    index.upsert(1, &[1.0, 0.0, 0.0]).unwrap();
    assert_eq!(index.dim(), 3);
    let wrong = DimensionMismatch {
        expected: 3,
        got: 2,
    };
    assert_eq!(index.upsert(2, &[1.0, 0.0]), Err(wrong));
    assert_eq!(index.shortlist(&[1.0, 0.0], 1).unwrap_err(), wrong);
    assert_eq!(index.len(), 1);
    let shortlist = index.shortlist(&[1.0, 0.0, 0.0], 1).unwrap();
    assert_eq!(shortlist.rank([(1, [1.0f32, 0.0].as_slice())]), Err(wrong));
}
