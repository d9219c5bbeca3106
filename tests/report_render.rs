//! Rendering a report: exact output against golden files, and hostile
//! scraped strings (script tags, attribute breakers, `javascript:` URLs,
//! Markdown syntax) made harmless in every format.
//!
//! Regenerate the golden files after an intended change with
//! `UPDATE_GOLDEN=1 cargo test --test report_render`, then review the diff.

use std::path::PathBuf;

use chrono::{DateTime, TimeZone, Utc};
use provenance::matching::{DateKind, Decider, MatchKind, OriginClaim, OriginEvidence, Thresholds};
use provenance::model::{
    ArchiveEvidence, ArchivedCopy, ContentCredentials, CredentialsAction, CredentialsValidation,
    DateMeaning, Decision, EmbeddedCredits, ExifSummary, ModelInfo, PostingWords, Snippet,
    SourceDate, SourceFacts,
};
use provenance::report::{
    parse_json, render_html, render_json, render_markdown, settle, EvidenceKind, MatchReview, Mode,
    QueryInfo, Report, ReportImage, ReportMatch, ReportSighting, SCHEMA_VERSION,
};
use scraper::{Html, Selector};

const HOSTILE: &str = "</title><script>alert(1)</script>\"'<img src=x onerror=alert(1)>";
const JS_URL: &str = "javascript:alert(document.cookie)";
const PNG_1X1: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).single().unwrap()
}

fn image(id: i64, width: u32, height: u32, exif: ExifSummary) -> ReportImage {
    ReportImage {
        id,
        sha256: format!("{id:064x}"),
        sha1: None,
        width,
        height,
        format: "jpeg".into(),
        byte_size: u64::from(width) * 100,
        exif,
        embedded: None,
        first_seen_at: at(2026, 11, 10, 8),
        last_seen_at: at(2026, 11, 21, 8),
    }
}

fn sighting(
    id: i64,
    image_url: &str,
    page_url: Option<&str>,
    title: Option<&str>,
) -> ReportSighting {
    ReportSighting {
        id,
        image_url: image_url.into(),
        page_url: page_url.map(Into::into),
        page_title: title.map(Into::into),
        site: Some("news.example".into()),
        provider: Some("serpapi".into()),
        keyphrase: Some("festival poster".into()),
        rank: Some(2),
        first_seen_at: at(2026, 11, 10, 8),
        last_seen_at: at(2026, 11, 21, 8),
        last_modified: Some(at(2024, 5, 1, 10)),
        etag: Some("\"abc\"".into()),
        source_facts: None,
        archive: None,
        words: None,
        words_hit: None,
        checked_at: None,
        gone_at: None,
    }
}

/// A report with every field filled and hostile strings in every scraped one.
fn hostile_report() -> Report {
    let embedded = EmbeddedCredits {
        creator: Some(HOSTILE.into()),
        rights: Some("© 2019 | [x](javascript:y)".into()),
        credit: None,
        date_created: Some("2019-04-30".into()),
        web_statement: Some(JS_URL.into()),
        digital_source_type: Some(
            "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia".into(),
        ),
        content_credentials: Some(ContentCredentials {
            validation: CredentialsValidation::Valid,
            problems: Vec::new(),
            title: Some(HOSTILE.into()),
            generator: Some("Gen | `2` *x*".into()),
            signer: Some("Signer <i>x</i>".into()),
            signer_organisation: Some("Org [y](javascript:z)".into()),
            signed_at: Some(Utc.with_ymd_and_hms(2019, 5, 2, 0, 0, 0).unwrap()),
            actions: vec![CredentialsAction {
                action: "c2pa.created".into(),
                when: Some(Utc.with_ymd_and_hms(2019, 4, 29, 8, 0, 0).unwrap()),
                software_agent: Some(HOSTILE.into()),
                digital_source_type: Some(
                    "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia".into(),
                ),
            }],
            ingredients: vec![format!("{HOSTILE} (parentOf)")],
        }),
    };
    let exif = ExifSummary {
        date_time_original: Some("2019:05:01 12:00:00".into()),
        artist: Some("Jane <b>Doe</b>".into()),
        copyright: Some("© 2019 | all `rights` *reserved*".into()),
    };
    let mut evil = sighting(
        11,
        "https://evil.example/a.jpg?x=\"><script>alert(1)</script>",
        Some(JS_URL),
        Some(HOSTILE),
    );
    evil.site = Some(HOSTILE.into());
    evil.keyphrase = Some("poster `rm -rf` [x](javascript:y) | a".into());
    evil.source_facts = Some(SourceFacts {
        creator: Some(HOSTILE.into()),
        creator_url: Some(JS_URL.into()),
        license: Some("CC BY-SA 4.0 | [x](javascript:y)".into()),
        license_url: Some("https://creativecommons.org/licenses/by-sa/4.0/".into()),
        credit: Some(format!("Photo: {HOSTILE}")),
        copyright: None,
        date: Some(SourceDate {
            at: at(2019, 3, 1, 10),
            meaning: DateMeaning::Uploaded,
        }),
    });
    evil.words = Some(PostingWords {
        alt: Some(HOSTILE.into()),
        caption: Some("Leaked | poster `x` [y](javascript:z) <b>bold</b>".into()),
        nearby: Some(format!("before {HOSTILE} after")),
        ..PostingWords::default()
    });
    evil.words_hit = Some(Snippet::from_marked(
        "\u{2}Leaked\u{3} | <img src=x onerror=alert(1)> *\u{2}poster\u{3}*",
    ));
    let archived = ArchivedCopy {
        at: at(2015, 4, 2, 9),
        url: "https://web.archive.org/web/20150402090000/https://evil.example/a.jpg?x=\"><script>alert(1)</script>".into(),
    };
    evil.archive = Some(ArchiveEvidence {
        identical_bytes: Some(archived.clone()),
        image: Some(archived),
        page: Some(ArchivedCopy {
            at: at(2014, 1, 1, 0),
            url: format!("https://web.archive.org/web/20140101000000/{HOSTILE}"),
        }),
    });
    let news = sighting(
        12,
        "https://cdn.news.example/poster(1).jpg",
        Some("https://news.example/story?id=1&ref=a"),
        Some("Festival poster | News\nSecond line [link](http://x)"),
    );
    let mut news = news;
    news.checked_at = Some(at(2026, 11, 30, 8));
    news.gone_at = Some(at(2026, 11, 30, 8));
    let matches = vec![
        ReportMatch {
            rank: 1,
            kind: MatchKind::ExactCopy,
            similarity: Some(1.0),
            hash_distance: Some(0),
            verified_inliers: None,
            decided_by: Some(Decider::SameBytes),
            image: ReportImage {
                embedded: Some(embedded),
                ..image(7, 3000, 2000, exif)
            },
            thumbnail_data_uri: Some(PNG_1X1.into()),
            sightings: vec![evil, news],
            review: Some(MatchReview {
                decision: Decision::Confirmed,
                note: Some(HOSTILE.into()),
                decided_at: at(2026, 11, 25, 9),
            }),
            found_by: Vec::new(),
        },
        ReportMatch {
            rank: 2,
            kind: MatchKind::NearDuplicate,
            similarity: Some(0.97),
            hash_distance: Some(4),
            verified_inliers: Some(37),
            decided_by: Some(Decider::Keypoints),
            image: image(9, 1500, 1000, ExifSummary::default()),
            thumbnail_data_uri: Some(
                "data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+".into(),
            ),
            sightings: vec![sighting(21, "https://mirror.example/p.jpg", None, None)],
            review: None,
            found_by: Vec::new(),
        },
        ReportMatch {
            rank: 3,
            kind: MatchKind::Similar,
            similarity: Some(0.83),
            hash_distance: None,
            verified_inliers: None,
            decided_by: None,
            image: image(15, 640, 480, ExifSummary::default()),
            thumbnail_data_uri: Some("data:image/jpeg;base64,x\" onerror=\"alert(1)".into()),
            sightings: vec![sighting(
                31,
                "data:text/html,<script>alert(1)</script>",
                Some(JS_URL),
                Some("ok"),
            )],
            review: None,
            found_by: Vec::new(),
        },
    ];
    let origins = vec![OriginClaim {
        image_id: 7,
        sighting_id: Some(11),
        image_url: Some("https://evil.example/a.jpg".into()),
        page_url: Some(JS_URL.into()),
        page_title: Some(HOSTILE.into()),
        site: Some("evil.example".into()),
        width: 3000,
        height: 2000,
        evidence: vec![OriginEvidence::EarliestDate {
            date_kind: DateKind::ExifDateTimeOriginal,
            date: "2019:05:01 12:00:00".into(),
            among: 1,
            tied_with: 0,
        }],
        reasons: vec![
            "the only version carrying an EXIF DateTimeOriginal: 2019:05:01 12:00:00".into(),
        ],
    }];
    let mut report = Report {
        schema_version: SCHEMA_VERSION,
        generated_at: at(2026, 11, 22, 9),
        query: QueryInfo {
            label: "suspect <1>.jpg".into(),
            sha256: Some("ab".repeat(32)),
            width: Some(800),
            height: Some(600),
            thumbnail_data_uri: Some(PNG_1X1.into()),
        },
        mode: Mode::ClipHash,
        model: Some(ModelInfo {
            id: "openai/clip-vit-base-patch32@3d74acf".into(),
            dim: 512,
        }),
        thresholds: Thresholds::default(),
        matches,
        origins,
        words_query: Some("leaked poster".into()),
        notes: vec![
            "No posting sent a usable HTTP Last-Modified date.".into(),
            format!("note {HOSTILE}"),
        ],
        timeline: Vec::new(),
        likely_original: None,
    };
    settle(&mut report);
    report
}

fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/report")
        .join(name)
}

fn assert_golden(name: &str, actual: &str) {
    let path = golden_path(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run UPDATE_GOLDEN=1 cargo test --test report_render",
            path.display()
        )
    });
    assert!(
        actual == expected,
        "{name} differs from {}; if the change is intended, run UPDATE_GOLDEN=1 cargo test --test report_render and review the diff",
        path.display()
    );
}

#[test]
fn html_matches_the_golden_file() {
    assert_golden("hostile.html", &render_html(&hostile_report()));
}

#[test]
fn markdown_matches_the_golden_file() {
    assert_golden("hostile.md", &render_markdown(&hostile_report()));
}

#[test]
fn json_matches_the_golden_file() {
    assert_golden("hostile.json", &render_json(&hostile_report()));
}

fn select<'a>(doc: &'a Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    doc.select(&Selector::parse(css).unwrap()).collect()
}

#[test]
fn html_lets_no_scraped_markup_or_script_url_through() {
    let page = render_html(&hostile_report());
    // Only the report's own sorting script, and it is the last one written.
    assert_eq!(page.matches("<script").count(), 1);
    let doc = Html::parse_document(&page);
    let scripts = select(&doc, "script");
    assert_eq!(scripts.len(), 1);
    assert!(!scripts[0].inner_html().contains("alert"));
    // No element from data: no event handler attribute anywhere.
    for el in select(&doc, "*") {
        for (name, _) in el.value().attrs() {
            assert!(
                !name.starts_with("on"),
                "event handler {name} on <{}>",
                el.value().name()
            );
        }
    }
    for a in select(&doc, "a") {
        let href = a.value().attr("href").unwrap();
        assert!(
            href.starts_with("https://")
                || href.starts_with("http://")
                || (href.starts_with("#match-") && href[7..].bytes().all(|b| b.is_ascii_digit())),
            "{href}"
        );
    }
    let imgs = select(&doc, "img");
    assert_eq!(
        imgs.len(),
        5,
        "the query at the top and beside each of the 3 matches, and match 1: the SVG and the broken URI are dropped"
    );
    for img in imgs {
        assert_eq!(img.value().attr("src"), Some(PNG_1X1));
    }
    // The hostile strings are shown, intact, as text.
    let unlinked: Vec<String> = select(&doc, "span.not-link")
        .iter()
        .map(|s| s.text().collect())
        .collect();
    assert!(unlinked.iter().any(|t| t == HOSTILE), "{unlinked:?}");
    assert!(
        unlinked
            .iter()
            .any(|t| t == "data:text/html,<script>alert(1)</script>"),
        "{unlinked:?}"
    );
    let title: String = select(&doc, "title")[0].text().collect();
    assert_eq!(title, "provenance report: suspect <1>.jpg");
}

/// `'sha256-…'` of an inline script or style, as a browser computes it.
fn csp_source_hash(source: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let digest = sha2::Sha256::digest(source.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

#[test]
fn html_is_self_contained_and_its_policy_allows_only_its_own_code() {
    let page = render_html(&hostile_report());
    let doc = Html::parse_document(&page);
    assert!(select(&doc, "link, iframe, object, embed, base, form").is_empty());
    assert!(select(&doc, "script[src], style[src]").is_empty());
    let csp = select(&doc, "meta[http-equiv=Content-Security-Policy]");
    let policy = csp[0].value().attr("content").unwrap();
    let script: String = select(&doc, "script")[0].text().collect();
    let style: String = select(&doc, "style")[0].text().collect();
    assert_eq!(
        policy,
        format!(
            "default-src 'none'; img-src data:; style-src {}; script-src {}; base-uri 'none'; form-action 'none'",
            csp_source_hash(&style),
            csp_source_hash(&script)
        )
    );
}

#[test]
fn html_shows_each_match_beside_the_query_with_readable_sightings() {
    let doc = Html::parse_document(&render_html(&hostile_report()));
    let cards: Vec<&str> = select(&doc, "#matches > article")
        .iter()
        .map(|r| r.value().attr("class").unwrap())
        .collect();
    assert_eq!(
        cards,
        ["match exact_copy", "match near_duplicate", "match similar"]
    );
    let badges: Vec<String> = select(&doc, "article h3 span.badge")
        .iter()
        .map(|b| b.text().collect())
        .collect();
    assert_eq!(
        badges,
        [
            "exact copy",
            "confirmed copy",
            "near-duplicate",
            "unreviewed",
            "similar",
            "unreviewed"
        ]
    );
    // The query is beside every match.
    for card in select(&doc, "#matches > article") {
        let caption: String = card
            .select(&Selector::parse("figcaption").unwrap())
            .next()
            .unwrap()
            .text()
            .collect();
        assert_eq!(caption, "query");
    }
    // Every sighting is a block of labelled facts, none hidden.
    assert!(select(&doc, "details").is_empty());
    let labels: Vec<String> = select(&doc, "#match-7 li.sighting:first-child dt")
        .iter()
        .map(|d| d.text().collect())
        .collect();
    assert_eq!(
        labels,
        [
            "Site",
            "Found by",
            "First seen",
            "Last seen",
            "Last-Modified",
            "Words found",
            "Posted with",
            "Text around it",
            "The source says",
            "Web archive",
            "Image"
        ]
    );
    // The words it was posted with are text; the report's words marked.
    let cells = select(&doc, "#match-7 li.sighting:first-child dd");
    let found: Vec<String> = cells[5]
        .select(&Selector::parse("mark").unwrap())
        .map(|m| m.text().collect())
        .collect();
    assert_eq!(found, ["Leaked", "poster"]);
    let found: String = cells[5].text().collect();
    assert_eq!(found, "Leaked | <img src=x onerror=alert(1)> *poster*");
    let posted: String = cells[6].text().collect();
    assert_eq!(
        posted,
        format!("caption: Leaked | poster `x` [y](javascript:z) <b>bold</b> · alt text: {HOSTILE}")
    );
    let around: String = cells[7].text().collect();
    assert_eq!(around, format!("before {HOSTILE} after"));
    // What the source says is text; its script link is not a link.
    let says: String = cells[8].text().collect();
    assert_eq!(
        says,
        format!(
            "by {HOSTILE} · CC BY-SA 4.0 | [x](javascript:y) · credit: Photo: {HOSTILE} · uploaded 2019-03-01 10:00 UTC per serpapi"
        )
    );
    // What the file says, as text, with the AI flag as a badge: once for
    // its XMP, once for its Content Credentials.
    assert_eq!(select(&doc, "#match-7 .badge.ai").len(), 2);
    assert!(render_html(&hostile_report()).contains(
        "; Content Credentials: valid signature (the signer is not checked against a trust list), signed by Signer &lt;i&gt;x&lt;/i&gt;"
    ));
    assert!(render_html(&hostile_report()).contains("in the file (XMP): made by AI, the file says"));
    // The reviewer's note is shown as text.
    let note: String = select(&doc, "#match-7 p.note")[0].text().collect();
    assert_eq!(note, format!("Note: {HOSTILE}"));
    // Sort keys: oldest (seconds; none known sorts last), largest, kind.
    let keys: Vec<(&str, &str)> = select(&doc, "#matches > article")
        .iter()
        .map(|a| {
            (
                a.value().attr("data-kind").unwrap(),
                a.value().attr("data-rank").unwrap(),
            )
        })
        .collect();
    assert_eq!(keys, [("0", "1"), ("1", "2"), ("2", "3")]);
    assert_eq!(select(&doc, "#order option").len(), 4);
    // Grouped by site, and the dated evidence on one timeline, oldest first.
    let sites: Vec<String> = select(&doc, "ul.sites > li > strong")
        .iter()
        .map(|s| s.text().collect())
        .collect();
    assert!(sites.contains(&"news.example".to_string()), "{sites:?}");
    assert!(
        sites.contains(&HOSTILE.to_string()),
        "a hostile site name is text: {sites:?}"
    );
    let times: Vec<&str> = select(&doc, "ol.timeline time")
        .iter()
        .map(|t| t.value().attr("datetime").unwrap())
        .collect();
    assert!(!times.is_empty());
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
}

/// `|` not preceded by a backslash: the cell separators of a Markdown table row.
fn cell_separators(line: &str) -> usize {
    let bytes = line.as_bytes();
    (0..bytes.len())
        .filter(|&i| bytes[i] == b'|' && (i == 0 || bytes[i - 1] != b'\\'))
        .count()
}

#[test]
fn markdown_lets_no_scraped_markup_or_script_url_through() {
    let text = render_markdown(&hostile_report());
    assert!(!text.contains('<'), "raw < in:\n{text}");
    assert!(!text.contains("](javascript:") && !text.contains("](data:"));
    assert!(!text.to_lowercase().contains("<script"));
    // Every row of each table has as many cells as its header.
    let mut header_cells = 0;
    for line in text.lines().filter(|l| l.starts_with('|')) {
        if line.starts_with("|---") {
            continue;
        }
        if line.starts_with("| # ") || line.starts_with("| Page ") {
            header_cells = cell_separators(line);
        }
        assert_eq!(
            cell_separators(line),
            header_cells,
            "row breaks its table: {line}"
        );
    }
    // Newlines in titles do not break lines; backticks never open code.
    assert!(text.contains("Festival poster \\| News Second line \\[link\\]\\(http://x\\)"));
    let unescaped_backtick = text
        .as_bytes()
        .windows(2)
        .any(|w| w[1] == b'`' && w[0] != b'\\');
    assert!(!unescaped_backtick);
    // Links only to web URLs, with the parentheses of the URL encoded.
    assert!(text.contains("[image](https://cdn.news.example/poster%281%29.jpg)"));
}

#[test]
fn json_escapes_markup_and_reads_back_unchanged() {
    let report = hostile_report();
    let json = render_json(&report);
    assert!(!json.contains('<') && !json.contains('>'));
    assert_eq!(parse_json(&json).unwrap(), report);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["schema_version"], 2);
    assert_eq!(value["mode"], "clip+hash");
    assert_eq!(value["matches"][0]["kind"], "exact_copy");
    assert_eq!(value["matches"][0]["sightings"][0]["page_title"], HOSTILE);
    assert_eq!(value["origins"][0]["evidence"][0]["type"], "earliest_date");
    assert_eq!(
        value["origins"][0]["evidence"][0]["date_kind"],
        "exif_date_time_original"
    );
}

#[test]
fn an_empty_result_says_so_in_every_format() {
    let report = Report {
        matches: Vec::new(),
        origins: Vec::new(),
        notes: Vec::new(),
        timeline: Vec::new(),
        likely_original: None,
        mode: Mode::HashOnly,
        model: None,
        ..hostile_report()
    };
    let page = render_html(&report);
    assert!(page.contains("<h2>Matches (0)</h2>\n<p class=\"hint\">No stored image matches.</p>"));
    assert!(page.contains("<dt>Mode</dt><dd>hash-only</dd>\n<dt>Model</dt><dd>—</dd>"));
    let text = render_markdown(&report);
    assert!(text.contains("## Matches (0)\n\nNo stored image matches.\n"));
    assert!(text.contains("no evidence of origin"));
    let json: serde_json::Value = serde_json::from_str(&render_json(&report)).unwrap();
    assert_eq!(json["matches"], serde_json::json!([]));
    assert_eq!(json["model"], serde_json::Value::Null);
}

#[test]
fn the_likely_original_is_the_oldest_strong_evidence_then_medium_then_none() {
    let mut report = hostile_report();
    let o = report.likely_original.clone().unwrap();
    assert_eq!(
        (o.match_rank, o.evidence.kind),
        (1, EvidenceKind::ArchivedIdenticalBytes)
    );
    assert!(
        o.why.starts_with("the oldest strong evidence: archived"),
        "{}",
        o.why
    );
    let times: Vec<_> = report.timeline.iter().map(|e| e.at).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "oldest first");

    // Without the archive: the Commons upload; a smaller version uploaded
    // earlier the same day loses to the larger one.
    report.matches[0].sightings[0].archive = None;
    report.matches[1].sightings[0].source_facts = Some(SourceFacts {
        date: Some(SourceDate {
            at: at(2019, 3, 1, 1),
            meaning: DateMeaning::Uploaded,
        }),
        ..SourceFacts::default()
    });
    settle(&mut report);
    let o = report.likely_original.clone().unwrap();
    assert_eq!(
        (o.match_rank, o.evidence.kind),
        (1, EvidenceKind::SourceUploaded)
    );

    // No strong evidence: the oldest medium, the first action its Content
    // Credentials record, said so; credentials that do not validate date
    // nothing, and then the file's XMP Date Created (a day before its EXIF
    // date) decides; without it, the EXIF date.
    for m in &mut report.matches {
        for s in &mut m.sightings {
            s.source_facts = None;
        }
    }
    settle(&mut report);
    let o = report.likely_original.clone().unwrap();
    assert_eq!(o.evidence.kind, EvidenceKind::CredentialsAction);
    assert!(o.why.starts_with("no strong evidence"), "{}", o.why);
    let credentials = report.matches[0].image.embedded.as_mut().unwrap();
    credentials.content_credentials.as_mut().unwrap().validation = CredentialsValidation::Invalid;
    settle(&mut report);
    assert!(!report
        .timeline
        .iter()
        .any(|e| e.kind == EvidenceKind::CredentialsTimeStamped));
    let o = report.likely_original.clone().unwrap();
    assert_eq!(o.evidence.kind, EvidenceKind::FileCreated);
    report.matches[0].image.embedded = None;
    settle(&mut report);
    let o = report.likely_original.clone().unwrap();
    assert_eq!(o.evidence.kind, EvidenceKind::ExifTaken);

    // Only weak evidence: no likely original, and the report says so.
    report.matches[0].image.exif = ExifSummary::default();
    settle(&mut report);
    assert_eq!(report.likely_original, None);
    assert!(!report.timeline.is_empty());
    assert!(
        render_markdown(&report).contains("No strong or medium evidence names a likely original.")
    );
    assert!(render_html(&report).contains("No strong or medium evidence names a likely original."));
}
