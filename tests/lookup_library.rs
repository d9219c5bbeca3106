//! `lookup::find_image` and `find_text` as a library, without the binary:
//! real photos analysed as the scan does, stored in both backends, then
//! looked up as they were, rotated, and against the wrong model.

mod common;

use common::photos::{fixture, store_fixture};

use std::sync::Arc;

use provenance::decode::DecodeLimits;
use provenance::embed::{ClipEmbedder, Embedder, ModelSettings};
use provenance::lookup::{self, LookupError, LookupOptions, MatchIndex, QueryPicture};
use provenance::matching::{Decider, MatchKind};
use provenance::model::{ImageId, ModelInfo, NewSighting, PostingWords};
use provenance::report::{FoundBy, Mode, Report, Signal};
use provenance::store::{Store, StoreError};

/// Analyses a photo as the scan does and stores it with one sighting;
/// with an embedder, its vector too.
async fn store_photo(
    store: &dyn Store,
    name: &str,
    embedder: Option<&Arc<dyn Embedder>>,
) -> ImageId {
    store_fixture(store, &format!("hash/{name}"), embedder).await
}

fn query(path: &str) -> QueryPicture {
    let bytes = std::fs::read(fixture(path)).unwrap();
    QueryPicture::decode(path, &bytes, &DecodeLimits::default()).unwrap()
}

async fn tiny_clip() -> Arc<dyn Embedder> {
    let settings = ModelSettings::local(fixture("clip/tiny"));
    Arc::new(ClipEmbedder::load(&settings, &|_| {}).await.unwrap())
}

const PHOTOS: [&str; 4] = ["chelsea.jpg", "coffee.jpg", "rocket.jpg", "camera.jpg"];

async fn store_photos(store: &dyn Store, embedder: Option<&Arc<dyn Embedder>>) -> Vec<ImageId> {
    let mut ids = Vec::new();
    for name in PHOTOS {
        ids.push(store_photo(store, name, embedder).await);
    }
    ids
}

fn first(report: &Report) -> &provenance::report::ReportMatch {
    report.matches.first().expect("at least one match")
}

async fn exact_bytes_are_an_exact_copy_with_their_sightings(store: &dyn Store) {
    let ids = store_photos(store, None).await;
    let report = lookup::find_image(
        store,
        None,
        &MatchIndex::default(),
        &query("hash/chelsea.jpg"),
        &LookupOptions::default(),
    )
    .await
    .unwrap();
    let best = first(&report);
    assert_eq!(
        (best.image.id, best.kind, best.rank),
        (ids[0], MatchKind::ExactCopy, 1)
    );
    assert_eq!(best.sightings.len(), 1);
    assert_eq!(
        best.sightings[0].page_url.as_deref(),
        Some("https://example.org/chelsea.jpg.html")
    );
    assert!(best.thumbnail_data_uri.is_some());
    assert_eq!(report.mode, Mode::HashOnly);
    assert!(
        report.notes.iter().any(|n| n.contains("holds no vectors")),
        "{:?}",
        report.notes
    );
    assert_eq!(
        report.query.sha256.as_deref(),
        Some(best.image.sha256.as_str())
    );
    // The other photos are not the same picture.
    assert!(report.matches[1..]
        .iter()
        .all(|m| !m.kind.is_same_picture()));
}
both_backends!(
    exact_copy,
    exact_bytes_are_an_exact_copy_with_their_sightings
);

async fn a_rotated_copy_is_found_by_its_keypoints(store: &dyn Store) {
    let ids = store_photos(store, None).await;
    let rotated = query("verify/chelsea__rotate+10.jpg");
    let report = lookup::find_image(
        store,
        None,
        &MatchIndex::default(),
        &rotated,
        &LookupOptions::default(),
    )
    .await
    .unwrap();
    let best = first(&report);
    assert_eq!(
        (best.image.id, best.kind),
        (ids[0], MatchKind::NearDuplicate)
    );
    assert!(
        best.verified_inliers.unwrap_or(0) >= 12,
        "{:?}",
        best.verified_inliers
    );
    // Without keypoint verification the same query has no keypoint evidence.
    let unverified = LookupOptions {
        verify_top: 0,
        ..LookupOptions::default()
    };
    let report = lookup::find_image(store, None, &MatchIndex::default(), &rotated, &unverified)
        .await
        .unwrap();
    assert!(report.matches.iter().all(|m| m.verified_inliers.is_none()));
}
both_backends!(rotated_copy, a_rotated_copy_is_found_by_its_keypoints);

async fn an_empty_store_and_bad_options_are_errors(store: &dyn Store) {
    let photo = query("hash/coffee.jpg");
    let err = lookup::find_image(
        store,
        None,
        &MatchIndex::default(),
        &photo,
        &LookupOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, LookupError::EmptyStore), "{err:?}");
    assert!(matches!(
        lookup::vectors_in_use(store).await,
        Err(LookupError::EmptyStore)
    ));
    store_photos(store, None).await;
    let zero = LookupOptions {
        top: 0,
        ..LookupOptions::default()
    };
    let err = lookup::find_image(store, None, &MatchIndex::default(), &photo, &zero)
        .await
        .unwrap_err();
    assert!(matches!(err, LookupError::Invalid(_)), "{err:?}");
    assert!(!lookup::vectors_in_use(store).await.unwrap());
}
both_backends!(errors, an_empty_store_and_bad_options_are_errors);

async fn with_a_model_embeddings_are_compared_and_another_model_is_refused(store: &dyn Store) {
    let clip = tiny_clip().await;
    let ids = store_photos(store, Some(&clip)).await;
    assert!(lookup::vectors_in_use(store).await.unwrap());
    let report = lookup::find_image(
        store,
        Some(clip.clone()),
        &MatchIndex::default(),
        &query("hash/rocket.jpg"),
        &LookupOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(report.mode, Mode::ClipHash);
    assert_eq!(report.model.as_ref(), Some(clip.model()));
    let best = first(&report);
    assert_eq!((best.image.id, best.kind), (ids[2], MatchKind::ExactCopy));
    let similarity = best.similarity.expect("the exact copy's similarity");
    assert!((similarity - 1.0).abs() < 1e-4, "{similarity}");

    // Text search runs through the same store and model.
    let search = lookup::TextSearch {
        top: 3,
        min_similarity: -1.0,
        pictures: true,
        page_words: true,
    };
    let texts = lookup::find_text(store, Some(clip.clone()), "a photo", &search)
        .await
        .unwrap();
    assert_eq!(texts.mode, Mode::Text);
    assert_eq!(texts.matches.len(), 3);

    // With the words of a page, the two signals are fused by rank: the
    // picture both find comes first, and says so.
    store
        .upsert_sighting(&NewSighting {
            image_id: ids[0],
            image_url: "https://news.example/a.jpg".into(),
            page_url: Some("https://news.example/leak".into()),
            seen_at: chrono::Utc::now(),
            words: Some(PostingWords {
                caption: Some("The leaked festival poster".into()),
                ..PostingWords::default()
            }),
            ..NewSighting::default()
        })
        .await
        .unwrap();
    let fused = lookup::find_text(store, Some(clip.clone()), "leaked festival poster", &search)
        .await
        .unwrap();
    let best = &fused.matches[0];
    assert_eq!(best.image.id, ids[0]);
    assert!(best.found_by.contains(&FoundBy {
        signal: Signal::PageWords,
        rank: 1
    }));
    assert!(best.found_by.iter().any(|f| f.signal == Signal::Picture));
    assert!(fused.matches[1..].iter().all(|m| m
        .found_by
        .iter()
        .map(|f| f.signal)
        .eq([Signal::Picture])));
    assert!(
        best.sightings[0].words_hit.is_some(),
        "the posting that holds the words first"
    );
    let words_only = lookup::TextSearch {
        pictures: false,
        ..search
    };
    let by_words = lookup::find_text(store, None, "leaked", &words_only)
        .await
        .unwrap();
    assert_eq!(by_words.matches.len(), 1);
    assert_eq!(by_words.matches[0].decided_by, Some(Decider::PageWords));
    assert_eq!(by_words.model, None);

    // A model the store was not built with is refused, with what to do.
    struct Other(Arc<dyn Embedder>, ModelInfo);
    impl Embedder for Other {
        fn model(&self) -> &ModelInfo {
            &self.1
        }
        fn embed_images(
            &self,
            images: &[image::DynamicImage],
        ) -> Result<Vec<Vec<f32>>, provenance::embed::EmbedError> {
            self.0.embed_images(images)
        }
        fn preprocess(&self, image: &image::DynamicImage) -> Vec<f32> {
            self.0.preprocess(image)
        }
        fn embed_pixels(
            &self,
            pixels: &[Vec<f32>],
        ) -> Result<Vec<Vec<f32>>, provenance::embed::EmbedError> {
            self.0.embed_pixels(pixels)
        }
        fn embed_texts(
            &self,
            texts: &[&str],
        ) -> Result<Vec<Vec<f32>>, provenance::embed::EmbedError> {
            self.0.embed_texts(texts)
        }
    }
    let other_model = ModelInfo {
        id: "someone/else".into(),
        dim: clip.model().dim,
    };
    let other: Arc<dyn Embedder> = Arc::new(Other(clip.clone(), other_model));
    let err = lookup::find_image(
        store,
        Some(other),
        &MatchIndex::default(),
        &query("hash/rocket.jpg"),
        &LookupOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, LookupError::Store(StoreError::ModelMismatch { .. })),
        "{err:?}"
    );
}
both_backends!(
    with_model,
    with_a_model_embeddings_are_compared_and_another_model_is_refused
);

#[test]
fn a_file_that_is_not_a_picture_is_a_decode_error() {
    let err =
        QueryPicture::decode("notes.txt", b"not a picture", &DecodeLimits::default()).unwrap_err();
    assert!(matches!(err, LookupError::Decode(_)), "{err:?}");
}

#[path = "lookup_library/copies.rs"]
mod copies;
