//! C2PA Content Credentials: fixtures signed in the test set-up by a
//! throwaway certificate authority (made with rcgen, signed with the c2pa
//! crate), then read back as the scan reads every file — valid, tampered
//! after signing, made by a model, corrupt, enormous — and carried by a
//! real scan and match into the report and its timeline.

use std::io::Cursor;

use provenance::decode::{read_content_credentials, CredentialsValidation, DecodeLimits};
use provenance::scan::analyse::analyse;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
};
use serde_json::json;

use super::*;

const AI: &str = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia";
const CAMERA: &str = "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture";

/// A signer whose certificate a test CA issued, as C2PA requires of a
/// signing certificate (not self-signed, digitalSignature, an allowed EKU,
/// an authority key identifier).
fn signer() -> Box<dyn c2pa::Signer> {
    let ca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.distinguished_name
        .push(DnType::CommonName, "provenance test root");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, &ca_key);
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let mut leaf = CertificateParams::new(Vec::<String>::new()).unwrap();
    leaf.distinguished_name
        .push(DnType::CommonName, "Test Camera Signer");
    leaf.distinguished_name
        .push(DnType::OrganizationName, "Example News");
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::EmailProtection];
    leaf.use_authority_key_identifier_extension = true;
    let cert = leaf.signed_by(&key, &issuer).unwrap();
    let chain = format!("{}{}", cert.pem(), ca_cert.pem());
    c2pa::create_signer::from_keys(
        chain.as_bytes(),
        key.serialize_pem().as_bytes(),
        c2pa::SigningAlg::Es256,
        None,
    )
    .unwrap()
}

/// `jpeg` with a manifest whose one action is `action`, from `source`,
/// at `when`, plus `extra` assertions.
fn signed(jpeg: &[u8], source: &str, when: &str, extra: serde_json::Value) -> Vec<u8> {
    let mut assertions = vec![json!({"label": "c2pa.actions", "data": {"actions": [{
        "action": "c2pa.created", "digitalSourceType": source, "when": when,
        "softwareAgent": "Example Generator 2"}]}})];
    if let serde_json::Value::Array(more) = extra {
        assertions.extend(more);
    }
    let definition = json!({
        "title": "festival.jpg",
        "claim_generator_info": [{"name": "Example Camera", "version": "1.0"}],
        "assertions": assertions,
    });
    let mut builder = c2pa::Builder::from_context(c2pa::Context::new())
        .with_definition(definition.to_string())
        .unwrap();
    let mut out = Cursor::new(Vec::new());
    builder
        .sign(
            signer().as_ref(),
            "image/jpeg",
            &mut Cursor::new(jpeg),
            &mut out,
        )
        .unwrap();
    out.into_inner()
}

/// `bytes` with one byte of the picture's entropy-coded data changed.
fn tampered(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let at = out.len() - 100;
    out[at] ^= 0x55;
    out
}

#[test]
fn content_credentials_are_read_and_checked_offline() {
    let photo = photos().c;
    assert_eq!(read_content_credentials(&photo), None, "no manifest store");
    let mut mentions = photo.clone();
    mentions.splice(2..2, [0xFF, 0xFE, 0, 8, b'c', b'2', b'p', b'a', 0, 0]);
    assert_eq!(
        read_content_credentials(&mentions),
        None,
        "the word c2pa in a comment is no manifest store"
    );

    let camera = signed(&photo, CAMERA, "2021-03-04T05:06:07Z", json!([]));
    let c = read_content_credentials(&camera).expect("credentials");
    assert_eq!(c.validation, CredentialsValidation::Valid, "{c:?}");
    assert!(c.problems.is_empty(), "{c:?}");
    assert_eq!(c.signer.as_deref(), Some("Test Camera Signer"));
    assert_eq!(c.signer_organisation.as_deref(), Some("Example News"));
    assert_eq!(c.generator.as_deref(), Some("Example Camera 1.0"));
    assert_eq!(c.title.as_deref(), Some("festival.jpg"));
    assert_eq!(c.actions.len(), 1);
    assert_eq!(c.actions[0].action, "c2pa.created");
    assert_eq!(
        c.earliest_action().map(|t| t.to_rfc3339()).as_deref(),
        Some("2021-03-04T05:06:07+00:00")
    );
    assert!(!c.says_ai_generated());

    let model = signed(&photo, AI, "2024-01-01T00:00:00Z", json!([]));
    let c = read_content_credentials(&model).unwrap();
    assert!(c.says_ai_generated(), "{c:?}");
    assert_eq!(c.validation, CredentialsValidation::Valid);

    let changed = read_content_credentials(&tampered(&camera)).unwrap();
    assert_eq!(changed.validation, CredentialsValidation::Invalid);
    assert!(
        changed
            .problems
            .iter()
            .any(|p| p.starts_with("assertion.dataHash.mismatch")),
        "{changed:?}"
    );
}

#[test]
fn a_corrupt_or_enormous_manifest_costs_its_credentials_never_the_picture() {
    let photo = photos().c;
    let camera = signed(&photo, CAMERA, "2021-03-04T05:06:07Z", json!([]));
    // Garble the manifest store: everything after its first `c2pa` label
    // for 400 bytes.
    let at = camera.windows(4).position(|w| w == b"c2pa").unwrap();
    let mut corrupt = camera.clone();
    for b in &mut corrupt[at + 4..at + 404] {
        *b = 0xA5;
    }
    let c = read_content_credentials(&corrupt).expect("a store, though broken");
    assert!(!c.validation.holds(), "{c:?}");
    assert!(!c.problems.is_empty(), "{c:?}");
    let analysis = analyse(&corrupt, &DecodeLimits::default(), None).expect("the picture");
    assert!(analysis.embedded.unwrap().content_credentials.is_some());

    // 2 MB of claims: read, and every kept string cut short.
    let huge = "x".repeat(2_000_000);
    let big = signed(
        &photo,
        CAMERA,
        "2021-03-04T05:06:07Z",
        json!([{"label": "org.example.notes", "data": {"notes": huge}}]),
    );
    assert!(big.len() > 2_000_000);
    let c = read_content_credentials(&big).unwrap();
    assert_eq!(
        c.validation,
        CredentialsValidation::Valid,
        "{:?}",
        c.problems
    );
    assert!(analyse(&big, &DecodeLimits::default(), None).is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_credentials_reach_the_report_and_its_timeline() {
    let dir = tempfile::tempdir().unwrap();
    let photos = photos();
    let model = signed(&photos.a, AI, "2019-05-06T07:08:09Z", json!([]));
    let world = World::start().await;
    world.put("/img/made.jpg", Served::ok("image/jpeg", model.clone()));
    world.put(
        "/img/changed.jpg",
        Served::ok(
            "image/jpeg",
            tampered(&signed(
                &photos.c,
                CAMERA,
                "2020-01-01T00:00:00Z",
                json!([]),
            )),
        ),
    );
    let lines = [world.url("/img/made.jpg"), world.url("/img/changed.jpg")];
    let summary = scan_url_list(dir.path(), &lines).await;
    assert_eq!(summary["new_images"], 2, "{summary}");

    let suspect = dir.path().join("suspect.jpg");
    std::fs::write(&suspect, &model).unwrap();
    let report = match_json(dir.path(), &suspect, &[], &[]).await;
    let credentials = &report["matches"][0]["image"]["embedded"]["content_credentials"];
    assert_eq!(credentials["validation"], "valid", "{report}");
    assert_eq!(credentials["signer"], "Test Camera Signer");
    assert_eq!(credentials["actions"][0]["digital_source_type"], AI);
    let event = report["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "credentials_action")
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!(event["at"], "2019-05-06T07:08:09Z");
    assert_eq!(event["strength"], "medium");
    let text = markdown_report(&dir.path().join("data/reports"));
    assert!(
        text.contains("**Content Credentials:** valid signature"),
        "{text}"
    );
    assert!(
        text.contains(r"created \(trained algorithmic media, by Example Generator 2"),
        "{text}"
    );

    // The copy changed after signing: its credentials are shown as invalid
    // and give the timeline nothing.
    std::fs::remove_dir_all(dir.path().join("data/reports")).unwrap();
    let suspect = dir.path().join("changed.jpg");
    std::fs::write(&suspect, photos.c.clone()).unwrap();
    let report = match_json(dir.path(), &suspect, &[], &[]).await;
    let changed = &report["matches"][0]["image"]["embedded"]["content_credentials"];
    assert_eq!(changed["validation"], "invalid", "{report}");
    assert!(!report["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"].as_str().unwrap().starts_with("credentials")));
    let html = std::fs::read_dir(dir.path().join("data/reports"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "html"))
        .unwrap();
    let html = std::fs::read_to_string(html).unwrap();
    assert!(
        html.contains("Content Credentials do not validate"),
        "{html}"
    );
}
