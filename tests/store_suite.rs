//! The store suite: the same behaviour asserted on the embedded SQLite store
//! and on PostgreSQL + pgvector.

mod common;

use chrono::{DateTime, Duration, TimeZone, Utc};
use provenance::model::*;
use provenance::store::*;

fn t(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_750_000_000 + secs, 0).unwrap()
}

fn image(seed: u8, seen: i64) -> NewImage {
    NewImage {
        sha256: [seed; 32],
        sha1: Some([seed; 20]),
        perceptual_hashes: vec![PerceptualHash {
            kind: "phash64".into(),
            bits: vec![seed; 8],
        }],
        width: 640 + u32::from(seed),
        height: 480,
        format: "jpeg".into(),
        byte_size: 12_345,
        exif: ExifSummary {
            date_time_original: Some("2024:05:01 10:00:00".into()),
            artist: Some("A. Photographer".into()),
            copyright: None,
        },
        embedded: Some(EmbeddedCredits {
            creator: Some(format!("creator {seed}")),
            ..EmbeddedCredits::default()
        }),
        thumbnail: Some(vec![0xFF, 0xD8, seed]),
        features: vec![ImageFeatures {
            kind: "orb256-v1".into(),
            bytes: vec![seed; 16],
        }],
        seen_at: t(seen),
    }
}

fn model(dim: usize) -> ModelInfo {
    ModelInfo {
        id: format!("test/clip-{dim}"),
        dim,
    }
}

fn unit(v: &[f32]) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter().map(|x| x / norm).collect()
}

/// Cosine similarity of two unit vectors.
fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

async fn image_upsert_is_idempotent(store: &dyn Store) {
    let first = store.upsert_image(&image(1, 100)).await.unwrap();
    assert!(first.created);
    let again = store.upsert_image(&image(1, 50)).await.unwrap();
    assert_eq!(
        again,
        Upserted {
            id: first.id,
            created: false
        }
    );
    store.upsert_image(&image(1, 300)).await.unwrap();
    store.touch_image(first.id, t(400)).await.unwrap();
    store.touch_image(first.id, t(200)).await.unwrap();

    let stored = store.image(first.id).await.unwrap().unwrap();
    assert_eq!(stored.sha256, hex::encode([1u8; 32]));
    assert_eq!(stored.sha1, Some(hex::encode([1u8; 20])));
    assert_eq!(
        stored.embedded.and_then(|e| e.creator).as_deref(),
        Some("creator 1")
    );
    assert_eq!(
        (stored.width, stored.height, stored.byte_size),
        (641, 480, 12_345)
    );
    assert_eq!(stored.first_seen_at, t(50), "first seen widens backwards");
    assert_eq!(stored.last_seen_at, t(400), "last seen widens forwards");
    assert_eq!(stored.perceptual_hashes.len(), 1);
    assert_eq!(stored.exif.artist.as_deref(), Some("A. Photographer"));
    assert!(!stored.has_embedding);
    assert_eq!(
        store.image_by_sha256(&[1; 32]).await.unwrap(),
        Some(first.id)
    );
    assert_eq!(store.image_by_sha256(&[9; 32]).await.unwrap(), None);
    assert_eq!(
        store.thumbnail(first.id).await.unwrap(),
        Some(vec![0xFF, 0xD8, 1])
    );
    assert_eq!(store.thumbnail(first.id + 100).await.unwrap(), None);
    assert_eq!(
        store.features(first.id, "orb256-v1").await.unwrap(),
        Some(vec![1; 16])
    );
    assert_eq!(store.features(first.id, "other").await.unwrap(), None);
    let second = store.upsert_image(&image(2, 0)).await.unwrap().id;
    let hashes = store.perceptual_hashes_after(0, 10).await.unwrap();
    assert_eq!(hashes.len(), 2);
    assert_eq!(
        store.perceptual_hashes_after(0, 1).await.unwrap().len(),
        1,
        "a page holds whole images"
    );
    assert_eq!(
        store.perceptual_hashes_after(first.id, 10).await.unwrap()[0].0,
        second
    );
    assert_eq!(
        hashes[0],
        (
            first.id,
            vec![PerceptualHash {
                kind: "phash64".into(),
                bits: vec![1; 8]
            }]
        )
    );
    assert_eq!(hashes[1].0, second);
    assert_eq!(store.status().await.unwrap().images, 2);
}
both_backends!(image_upsert, image_upsert_is_idempotent);

/// A match reads its whole shortlist's keypoints in one call: only the
/// asked ids, only the asked kind, nothing for ids that are not stored.
async fn features_of_many_images_are_read_at_once(store: &dyn Store) {
    assert_eq!(
        store.last_image_id().await.unwrap(),
        None,
        "a new store is empty"
    );
    assert!(store
        .features_of(&[1, 2], "orb256-v1")
        .await
        .unwrap()
        .is_empty());
    let mut ids = Vec::new();
    for seed in 1..=4 {
        ids.push(store.upsert_image(&image(seed, 0)).await.unwrap().id);
    }
    assert_eq!(store.last_image_id().await.unwrap(), Some(ids[3]));
    let mut found = store
        .features_of(&[ids[3], ids[1], ids[3] + 1000], "orb256-v1")
        .await
        .unwrap();
    found.sort();
    assert_eq!(found, [(ids[1], vec![2; 16]), (ids[3], vec![4; 16])]);
    assert!(store.features_of(&ids, "other").await.unwrap().is_empty());
    assert!(store
        .features_of(&[], "orb256-v1")
        .await
        .unwrap()
        .is_empty());
}
both_backends!(features_of, features_of_many_images_are_read_at_once);

async fn sightings_update_never_duplicate(store: &dyn Store) {
    let img = store.upsert_image(&image(2, 0)).await.unwrap().id;
    let scan = store
        .start_scan(&NewScan {
            keyphrase: "festival poster".into(),
            provider: "searxng".into(),
            options: serde_json::json!({"max_results": 100}),
            started_at: t(0),
        })
        .await
        .unwrap();
    let base = NewSighting {
        image_id: img,
        image_url: "https://a.example/p.jpg".into(),
        page_url: Some("https://a.example/news".into()),
        page_title: Some("News <b>&</b> \"quotes\"".into()),
        site: Some("a.example".into()),
        provider: Some("searxng".into()),
        scan_id: Some(scan),
        rank: Some(7),
        seen_at: t(10),
        last_modified: Some(t(-1000)),
        etag: Some("\"abc\"".into()),
        source_facts: None,
        words: None,
    };
    let first = store.upsert_sighting(&base).await.unwrap();
    assert!(first.created);
    let facts = SourceFacts {
        creator: Some("Ann <i>Lee</i>".into()),
        license: Some("CC BY-SA 4.0".into()),
        date: Some(SourceDate {
            at: t(-5000),
            meaning: DateMeaning::Uploaded,
        }),
        ..Default::default()
    };
    let better = NewSighting {
        rank: Some(3),
        seen_at: t(20),
        page_title: None,
        source_facts: Some(facts.clone()),
        ..base.clone()
    };
    assert_eq!(
        store.upsert_sighting(&better).await.unwrap(),
        Upserted {
            id: first.id,
            created: false
        }
    );
    let worse = NewSighting {
        rank: Some(9),
        seen_at: t(5),
        ..base.clone()
    };
    store.upsert_sighting(&worse).await.unwrap();
    // Same image URL without a page is a different sighting.
    let no_page = NewSighting {
        page_url: None,
        page_title: None,
        rank: None,
        ..base.clone()
    };
    assert!(store.upsert_sighting(&no_page).await.unwrap().created);
    assert!(!store.upsert_sighting(&no_page).await.unwrap().created);

    let all = store.sightings(img).await.unwrap();
    assert_eq!(all.len(), 2);
    let s = all.iter().find(|s| s.page_url.is_some()).unwrap();
    assert_eq!(s.rank, Some(3), "best rank kept");
    assert_eq!(s.first_seen_at, t(5));
    assert_eq!(s.last_seen_at, t(20));
    assert_eq!(
        s.page_title.as_deref(),
        Some("News <b>&</b> \"quotes\""),
        "title kept when absent later"
    );
    assert_eq!(s.keyphrase.as_deref(), Some("festival poster"));
    assert_eq!(s.last_modified, Some(t(-1000)));
    assert_eq!(s.etag.as_deref(), Some("\"abc\""));
    assert_eq!(
        s.source_facts.as_ref(),
        Some(&facts),
        "source facts kept when absent later"
    );
    let bare = all.iter().find(|s| s.page_url.is_none()).unwrap();
    assert_eq!(bare.rank, None);
    assert_eq!(
        store.image_by_url("https://a.example/p.jpg").await.unwrap(),
        Some(img)
    );
    assert_eq!(
        store.image_by_url("https://b.example/p.jpg").await.unwrap(),
        None
    );
    assert_eq!(store.status().await.unwrap().sightings, 2);
}
both_backends!(sightings, sightings_update_never_duplicate);

async fn archive_answers_are_kept_per_url(store: &dyn Store) {
    assert_eq!(
        store
            .archive_lookup("https://a.example/p.jpg")
            .await
            .unwrap(),
        None
    );
    let mut lookup = ArchiveLookup {
        url: "https://a.example/p.jpg".into(),
        checked_at: t(0),
        captures: Vec::new(),
    };
    store.put_archive_lookup(&lookup).await.unwrap();
    assert_eq!(
        store.archive_lookup(&lookup.url).await.unwrap().as_ref(),
        Some(&lookup)
    );
    lookup.checked_at = t(60);
    lookup.captures = vec![Capture {
        at: t(-1_000_000),
        original: "http://a.example/p.jpg".into(),
        digest: Some("VGMT4NSHA2AWVOR6EVYXQUGCNSONBWE5".into()),
    }];
    store.put_archive_lookup(&lookup).await.unwrap();
    assert_eq!(
        store.archive_lookup(&lookup.url).await.unwrap(),
        Some(lookup),
        "a later answer replaces the earlier"
    );
}
both_backends!(archive_lookups, archive_answers_are_kept_per_url);

async fn scans_record_counts_and_state(store: &dyn Store) {
    let id = store
        .start_scan(&NewScan {
            keyphrase: "ünïcødé 🎉 poster".into(),
            provider: "serpapi".into(),
            options: serde_json::json!({"follow_pages": true}),
            started_at: t(0),
        })
        .await
        .unwrap();
    let running = store.scan(id).await.unwrap().unwrap();
    assert_eq!(running.status, ScanStatus::Running);
    assert_eq!(running.counts, ScanCounts::default());
    assert_eq!(running.keyphrase, "ünïcødé 🎉 poster");
    let counts = ScanCounts {
        candidates: 120,
        fetched: 100,
        skipped: 5,
        failed: 15,
        embedded: 90,
        new_images: 80,
        new_sightings: 100,
    };
    store
        .update_scan(id, ScanStatus::Completed, &counts, Some(t(60)))
        .await
        .unwrap();
    let done = store.scan(id).await.unwrap().unwrap();
    assert_eq!(
        (done.status, done.counts, done.finished_at),
        (ScanStatus::Completed, counts, Some(t(60)))
    );
    assert_eq!(done.options, serde_json::json!({"follow_pages": true}));
    assert!(store.scan(id + 1000).await.unwrap().is_none());
    assert_eq!(store.status().await.unwrap().scans, 1);
}
both_backends!(scans, scans_record_counts_and_state);

async fn unfinished_scans_are_resumable(store: &dyn Store) {
    let scan = |keyphrase: &str, follow: bool| NewScan {
        keyphrase: keyphrase.into(),
        provider: "searxng".into(),
        options: serde_json::json!({"follow_pages": follow, "max_results": 200}),
        started_at: t(0),
    };
    assert_eq!(
        store.resumable_scan(&scan("poster", true)).await.unwrap(),
        None
    );
    let first = store.start_scan(&scan("poster", true)).await.unwrap();
    assert_eq!(
        store.resumable_scan(&scan("poster", true)).await.unwrap(),
        Some(first)
    );
    assert_eq!(
        store.resumable_scan(&scan("poster", false)).await.unwrap(),
        None,
        "other options"
    );
    assert_eq!(
        store.resumable_scan(&scan("other", true)).await.unwrap(),
        None,
        "other keyphrase"
    );
    store
        .update_scan(first, ScanStatus::Interrupted, &ScanCounts::default(), None)
        .await
        .unwrap();
    assert_eq!(
        store.resumable_scan(&scan("poster", true)).await.unwrap(),
        Some(first)
    );
    store
        .update_scan(
            first,
            ScanStatus::Completed,
            &ScanCounts::default(),
            Some(t(9)),
        )
        .await
        .unwrap();
    assert_eq!(
        store.resumable_scan(&scan("poster", true)).await.unwrap(),
        None,
        "completed scans start anew"
    );
}
both_backends!(resumable_scans, unfinished_scans_are_resumable);

async fn failures_are_upserted_per_url_and_stage(store: &dyn Store) {
    let fail = |reason: &str, at| NewFailure {
        url: "https://bad.example/x.jpg".into(),
        stage: FailureStage::failed(Stage::Timeout),
        reason: reason.into(),
        scan_id: None,
        attempts: 1,
        at: t(at),
    };
    store.record_failure(&fail("HTTP 500", 1)).await.unwrap();
    // A download given up after 3 requests counts 3.
    store
        .record_failure(&NewFailure {
            attempts: 3,
            ..fail("gave up after 3 attempts: timed out after 30 s", 2)
        })
        .await
        .unwrap();
    store
        .record_failure(&NewFailure {
            stage: FailureStage::failed(Stage::Decode),
            ..fail("truncated JPEG", 3)
        })
        .await
        .unwrap();
    let failures = store.failures(10).await.unwrap();
    assert_eq!(failures.len(), 2);
    assert_eq!(
        failures[0].stage,
        FailureStage::failed(Stage::Decode),
        "newest first"
    );
    let fetch = &failures[1];
    assert_eq!(
        (fetch.attempts, fetch.reason.as_str()),
        (4, "gave up after 3 attempts: timed out after 30 s")
    );
    assert_eq!((fetch.first_at, fetch.last_at), (t(1), t(2)));
    assert_eq!(store.failures(1).await.unwrap().len(), 1);
    assert_eq!(store.status().await.unwrap().failures, 2);
}
both_backends!(failures, failures_are_upserted_per_url_and_stage);

async fn model_binding_guards_vectors(store: &dyn Store) {
    let img = store.upsert_image(&image(3, 0)).await.unwrap().id;
    assert!(matches!(
        store.set_embedding(img, &[1.0; 4]).await,
        Err(StoreError::NoModel)
    ));
    assert_eq!(store.model().await.unwrap(), None);
    store.bind_model(&model(4)).await.unwrap();
    store.bind_model(&model(4)).await.unwrap();
    assert_eq!(store.model().await.unwrap(), Some(model(4)));
    let err = store.bind_model(&model(8)).await.unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, StoreError::ModelMismatch { .. }), "{msg}");
    assert!(
        msg.contains("test/clip-4 (4-d)") && msg.contains("test/clip-8 (8-d)"),
        "{msg}"
    );
    let err = store.set_embedding(img, &[1.0; 3]).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Dimension {
                expected: 4,
                got: 3
            }
        ),
        "{err}"
    );
    store
        .set_embedding(img, &unit(&[1.0, 0.0, 0.0, 0.0]))
        .await
        .unwrap();
    assert!(store.image(img).await.unwrap().unwrap().has_embedding);
    assert_eq!(store.status().await.unwrap().embedded, 1);
    assert_eq!(store.status().await.unwrap().model, Some(model(4)));
}
both_backends!(model_binding, model_binding_guards_vectors);

/// Five pictures with 3-d vectors: along x, near x, along y, against x,
/// diagonal. Their ids, in that order.
async fn five_vectors(store: &dyn Store) -> Vec<ImageId> {
    let vectors = [
        [1.0, 0.0, 0.0],
        [0.9, 0.1, 0.0],
        [0.0, 1.0, 0.0],
        [-1.0, 0.0, 0.0],
        [0.5, 0.5, 0.5],
    ];
    let mut ids = Vec::new();
    for (i, v) in vectors.iter().enumerate() {
        let id = store
            .upsert_image(&image(10 + i as u8, 0))
            .await
            .unwrap()
            .id;
        store.set_embedding(id, &unit(v)).await.unwrap();
        ids.push(id);
    }
    ids
}

async fn nearest_ranks_by_cosine(store: &dyn Store) {
    assert!(
        store.nearest(&[1.0, 0.0, 0.0], 5).await.unwrap().is_empty(),
        "no model: no results"
    );
    store.bind_model(&model(3)).await.unwrap();
    let ids = five_vectors(store).await;
    // One image without a vector is never returned.
    store.upsert_image(&image(99, 0)).await.unwrap();
    let got = store.nearest(&unit(&[1.0, 0.05, 0.0]), 3).await.unwrap();
    let got_ids: Vec<_> = got.iter().map(|n| n.image_id).collect();
    assert_eq!(got_ids, vec![ids[0], ids[1], ids[4]]);
    let expected = cosine(&unit(&[1.0, 0.05, 0.0]), &unit(&[1.0, 0.0, 0.0]));
    assert!(
        (got[0].similarity - expected).abs() < 1e-5,
        "{} vs {expected}",
        got[0].similarity
    );
    assert!(got.windows(2).all(|w| w[0].similarity >= w[1].similarity));
    let all = store.nearest(&unit(&[1.0, 0.0, 0.0]), 100).await.unwrap();
    assert_eq!(all.len(), 5);
    assert_eq!(all.last().unwrap().image_id, ids[3]);
    assert!((all.last().unwrap().similarity + 1.0).abs() < 1e-5);
    assert!(store
        .nearest(&unit(&[1.0, 0.0, 0.0]), 0)
        .await
        .unwrap()
        .is_empty());
    assert!(matches!(
        store.nearest(&[1.0, 0.0], 3).await,
        Err(StoreError::Dimension {
            expected: 3,
            got: 2
        })
    ));
}
both_backends!(nearest, nearest_ranks_by_cosine);

async fn concurrent_writers_stay_consistent(store: &dyn Store) {
    // Many tasks record the same images and sightings at once.
    let tasks = (0..8).map(|worker| async move {
        for i in 0..10u8 {
            let id = store.upsert_image(&image(i, worker)).await.unwrap().id;
            store
                .upsert_sighting(&NewSighting {
                    image_id: id,
                    image_url: format!("https://h.example/{i}.jpg"),
                    seen_at: t(worker) + Duration::seconds(i64::from(i)),
                    ..Default::default()
                })
                .await
                .unwrap();
        }
    });
    futures::future::join_all(tasks).await;
    let status = store.status().await.unwrap();
    assert_eq!((status.images, status.sightings), (10, 10));
}
both_backends!(concurrent_writers, concurrent_writers_stay_consistent);

async fn reviews_replace_per_pair_and_keep_the_first_time(store: &dyn Store) {
    let a = store.upsert_image(&image(40, 0)).await.unwrap().id;
    let b = store.upsert_image(&image(41, 0)).await.unwrap().id;
    let query = [7u8; 32];
    let review = |image_id, decision, note: Option<&str>, at| NewReview {
        query_sha256: query,
        image_id,
        decision,
        note: note.map(str::to_string),
        at: t(at),
    };
    let first = store
        .put_review(&review(a, Decision::NotACopy, Some("hm"), 10))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.decided_at, first.updated_at);
    let changed = store
        .put_review(&review(a, Decision::Confirmed, Some("ünïcødé <b>"), 20))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (changed.decision, changed.decided_at, changed.updated_at),
        (Decision::Confirmed, t(10), t(20))
    );
    assert_eq!(changed.note.as_deref(), Some("ünïcødé <b>"));
    store
        .put_review(&review(b, Decision::Ignored, None, 30))
        .await
        .unwrap()
        .unwrap();
    assert!(
        store
            .put_review(&review(999_999, Decision::Ignored, None, 30))
            .await
            .unwrap()
            .is_none(),
        "no review of a picture not stored"
    );
    let kept = store.reviews(&query).await.unwrap();
    assert_eq!(
        kept.iter()
            .map(|r| (r.image_id, r.decision))
            .collect::<Vec<_>>(),
        vec![(a, Decision::Confirmed), (b, Decision::Ignored)]
    );
    assert_eq!(kept[0].query_sha256, "07".repeat(32));
    assert!(store.reviews(&[8u8; 32]).await.unwrap().is_empty());
}
both_backends!(reviews, reviews_replace_per_pair_and_keep_the_first_time);

async fn the_library_lists_newest_first_and_searches_sightings(store: &dyn Store) {
    let mut ids = Vec::new();
    for (seed, site, title) in [
        (50, "news.example", "Festival_50%"),
        (51, "blog.example", "Other"),
        (52, "news.example", "Cats"),
    ] {
        let id = store.upsert_image(&image(seed, 0)).await.unwrap().id;
        store
            .upsert_sighting(&NewSighting {
                image_id: id,
                image_url: format!("https://{site}/{seed}.jpg"),
                page_title: Some(title.into()),
                site: Some(site.into()),
                seen_at: t(1),
                ..NewSighting::default()
            })
            .await
            .unwrap();
        ids.push(id);
    }
    let all: Vec<_> = store
        .library(None, None, 10)
        .await
        .unwrap()
        .iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(&all[..3], &[ids[2], ids[1], ids[0]]);
    let news: Vec<_> = store
        .library(Some("NEWS.example"), None, 10)
        .await
        .unwrap()
        .iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(news, vec![ids[2], ids[0]]);
    let paged: Vec<_> = store
        .library(Some("news"), Some(ids[2]), 10)
        .await
        .unwrap()
        .iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(paged, vec![ids[0]]);
    let literal: Vec<_> = store
        .library(Some("_50%"), None, 10)
        .await
        .unwrap()
        .iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(literal, vec![ids[0]], "% and _ are searched as themselves");
    let percent: Vec<_> = store
        .library(Some("%"), None, 10)
        .await
        .unwrap()
        .iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(percent, vec![ids[0]]);
    let scans_before = store.scans(100).await.unwrap().len();
    let scan = NewScan {
        keyphrase: "k".into(),
        provider: "list".into(),
        options: serde_json::json!({}),
        started_at: t(0),
    };
    let first = store.start_scan(&scan).await.unwrap();
    let second = store.start_scan(&scan).await.unwrap();
    let latest: Vec<_> = store.scans(2).await.unwrap().iter().map(|s| s.id).collect();
    assert_eq!(latest, vec![second, first]);
    assert_eq!(store.scans(100).await.unwrap().len(), scans_before + 2);
}
both_backends!(
    library,
    the_library_lists_newest_first_and_searches_sightings
);

/// One posting of a fresh picture with these words; its sighting id.
async fn posting(
    store: &dyn Store,
    seed: u8,
    page: &str,
    title: Option<&str>,
    words: Option<PostingWords>,
) -> (ImageId, i64) {
    let image_id = store.upsert_image(&image(seed, 0)).await.unwrap().id;
    let sighting = NewSighting {
        image_id,
        image_url: format!("https://cdn.example/{seed}.jpg"),
        page_url: Some(page.into()),
        page_title: title.map(str::to_string),
        seen_at: t(1),
        words,
        ..NewSighting::default()
    };
    (image_id, store.upsert_sighting(&sighting).await.unwrap().id)
}

async fn found(store: &dyn Store, query: &str, within: Option<&[ImageId]>) -> Vec<i64> {
    let query = TextQuery::parse(query).unwrap();
    let hits = store.search_postings(&query, within, 20).await.unwrap();
    assert!(
        hits.windows(2).all(|w| w[0].score >= w[1].score),
        "most relevant first: {hits:?}"
    );
    hits.iter().map(|h| h.sighting_id).collect()
}

fn sorted(mut ids: Vec<i64>) -> Vec<i64> {
    ids.sort();
    ids
}

async fn postings_are_found_by_their_words(store: &dyn Store) {
    let festival = PostingWords {
        caption: Some("The leaked festival poster, first shown on Monday".into()),
        alt: Some("Poster of the summer festival".into()),
        ..PostingWords::default()
    };
    let (festival_image, leak) = posting(
        store,
        70,
        "https://news.example/leak",
        Some("Festival news"),
        Some(festival.clone()),
    )
    .await;
    let (_, fake) = posting(
        store,
        71,
        "https://blog.example/fake",
        Some("Readers respond"),
        Some(PostingWords {
            heading: Some("What our readers say".into()),
            nearby: Some("Many readers wrote in. Some said the poster was fake and made with AI; others said it was real. The debate went on for days.".into()),
            ..PostingWords::default()
        }),
    )
    .await;
    let (_, shop) = posting(
        store,
        72,
        "https://shop.example/p",
        Some("Posters for sale"),
        Some(PostingWords {
            alt: Some("Vintage film poster".into()),
            description: Some("Buy prints online".into()),
            ..PostingWords::default()
        }),
    )
    .await;
    let (cat_image, cat) = posting(
        store,
        73,
        "https://cats.example/",
        Some("Cats"),
        Some(PostingWords {
            alt: Some("a cat asleep".into()),
            ..PostingWords::default()
        }),
    )
    .await;
    let (_, documents) = posting(
        store,
        74,
        "https://docs.example/",
        Some("Leaked documents"),
        None,
    )
    .await;

    assert_eq!(found(store, "leaked poster", None).await, vec![leak]);
    let poster = found(store, "poster", None).await;
    assert_eq!(sorted(poster.clone()), sorted(vec![leak, fake, shop]));
    assert_eq!(
        poster.last(),
        Some(&fake),
        "words around the picture weigh least"
    );
    assert_eq!(
        sorted(found(store, "POSTERS", None).await),
        sorted(vec![leak, fake, shop]),
        "stemmed"
    );
    assert_eq!(found(store, "\"film poster\"", None).await, vec![shop]);
    assert_eq!(
        found(store, "\"poster film\"", None).await,
        Vec::<i64>::new()
    );
    assert_eq!(
        found(store, "fest", None).await,
        Vec::<i64>::new(),
        "words, not prefixes"
    );
    assert_eq!(
        found(store, "poster", Some(&[festival_image])).await,
        vec![leak]
    );
    assert_eq!(found(store, "poster", Some(&[])).await, Vec::<i64>::new());
    assert_eq!(
        sorted(found(store, "leaked", None).await),
        sorted(vec![leak, documents])
    );
    assert_eq!(
        found(store, r#"poster" OR "x"#, None).await,
        Vec::<i64>::new(),
        "operators are words"
    );

    // Seen again with new words: the index follows.
    let again = NewSighting {
        image_id: cat_image,
        image_url: "https://cdn.example/73.jpg".into(),
        page_url: Some("https://cats.example/".into()),
        seen_at: t(2),
        words: Some(PostingWords {
            caption: Some("A leaked photo of the cat".into()),
            ..PostingWords::default()
        }),
        ..NewSighting::default()
    };
    assert_eq!(store.upsert_sighting(&again).await.unwrap().id, cat);
    assert_eq!(
        sorted(found(store, "leaked", None).await),
        sorted(vec![leak, cat, documents])
    );
    assert_eq!(
        found(store, "asleep", None).await,
        Vec::<i64>::new(),
        "old words are gone"
    );

    let hits = store
        .search_postings(&TextQuery::parse("leaked poster").unwrap(), None, 5)
        .await
        .unwrap();
    let hit = &hits[0];
    assert_eq!(hit.words.as_ref(), Some(&festival));
    assert_eq!(hit.page_title.as_deref(), Some("Festival news"));
    let marked: Vec<String> = hit
        .snippet
        .parts
        .iter()
        .filter(|p| p.hit)
        .map(|p| p.text.to_lowercase())
        .collect();
    assert!(marked.contains(&"leaked".to_string()), "{:?}", hit.snippet);
    assert!(!hit.snippet.plain().contains('\u{2}'));
    let record = &store.sightings(festival_image).await.unwrap()[0];
    assert_eq!(record.words.as_ref(), Some(&festival));
}
both_backends!(page_text, postings_are_found_by_their_words);

/// The index form a PostgreSQL store was given.
async fn index_definition(url: &str) -> String {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::query_scalar("SELECT indexdef FROM pg_indexes WHERE indexname = 'images_embedding_hnsw'")
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

/// `db index --vectors halfvec`: chosen before a model is bound, the index
/// is built over `halfvec` when it is; switched back and forth, it is
/// rebuilt each time, and the answers stay the same.
#[tokio::test]
async fn the_postgres_vector_index_can_be_halfvec() {
    let Some(url) = common::fresh_postgres_database().await else {
        return;
    };
    let location =
        provenance::config::StoreLocation::resolve(Some(&url), std::path::Path::new("/unused"))
            .unwrap();
    let provenance::config::StoreLocation::Postgres(postgres) = location else {
        unreachable!("a PostgreSQL URL")
    };
    let store = PostgresStore::open(&postgres).await.unwrap();
    assert_eq!(store.vector_index().await.unwrap(), VectorIndex::Vector);
    store.set_vector_index(VectorIndex::Halfvec).await.unwrap();
    store.bind_model(&model(3)).await.unwrap();
    assert!(index_definition(&url).await.contains("halfvec_cosine_ops"));
    let ids = five_vectors(&store).await;
    let query = unit(&[1.0, 0.05, 0.0]);
    let answer = |got: Vec<Neighbor>| got.iter().map(|n| n.image_id).collect::<Vec<_>>();
    let halfvec = store.nearest(&query, 3).await.unwrap();
    assert_eq!(answer(halfvec.clone()), vec![ids[0], ids[1], ids[4]]);
    // The similarity is of the full-precision vectors.
    let exact = cosine(&query, &unit(&[1.0, 0.0, 0.0]));
    assert!((halfvec[0].similarity - exact).abs() < 1e-5);

    store.set_vector_index(VectorIndex::Vector).await.unwrap();
    assert!(index_definition(&url).await.contains("vector_cosine_ops"));
    assert_eq!(store.vector_index().await.unwrap(), VectorIndex::Vector);
    assert_eq!(
        answer(store.nearest(&query, 3).await.unwrap()),
        vec![ids[0], ids[1], ids[4]]
    );
}
