//! The API's OpenAPI 3.1 document, generated from [`ENDPOINTS`] — the
//! table a test checks against the router (every entry answers, with its
//! method) — and written to `docs/openapi.json` (a test fails when that
//! file is stale; `cargo run --example openapi > docs/openapi.json`
//! refreshes it).

use serde_json::{json, Map, Value};

/// One API operation.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    /// HTTP method, lower case.
    pub method: &'static str,
    /// Path, with `{parameters}`.
    pub path: &'static str,
    /// What it does.
    pub summary: &'static str,
    /// The request body's media type and schema name, if any.
    pub body: Option<(&'static str, &'static str)>,
    /// The success status and its media type and schema name.
    pub answer: (u16, &'static str, &'static str),
    /// Query parameters (all strings).
    pub query: &'static [&'static str],
    /// Needs the CSRF token (or a bearer token).
    pub changes_state: bool,
}

const fn get(
    path: &'static str,
    summary: &'static str,
    answer: (u16, &'static str, &'static str),
) -> Endpoint {
    Endpoint {
        method: "get",
        path,
        summary,
        body: None,
        answer,
        query: &[],
        changes_state: false,
    }
}

const JSON: &str = "application/json";

/// Every operation of the API.
pub const ENDPOINTS: &[Endpoint] = &[
    get("/healthz", "The server answers and its store is reachable.", (200, JSON, "Health")),
    get("/api/v1/session", "The CSRF token for X-CSRF-Token (not readable by other sites).", (200, JSON, "Session")),
    Endpoint {
        method: "post",
        path: "/api/v1/match",
        summary: "Match an uploaded picture (multipart field `image`): the report `provenance match --format json` prints (docs/report-schema.md). The picture is kept as a case.",
        body: Some(("multipart/form-data", "Upload")),
        answer: (200, JSON, "Report"),
        query: &[],
        changes_state: true,
    },
    get("/api/v1/images/{id}", "A stored picture and every sighting of it.", (200, JSON, "StoredImage")),
    get("/api/v1/images/{id}/thumbnail", "The stored picture's JPEG preview.", (200, "image/jpeg", "Binary")),
    Endpoint {
        method: "get",
        path: "/api/v1/postings",
        summary: "Postings whose words (alt text, caption, titles, heading, the text around the picture, the page's description, a provider's snippet) hold every word of `q` (\"quoted phrases\" kept together), most relevant first, at most `limit` (1-500, default 20); as `search --in-pages --format json`.",
        body: None,
        answer: (200, JSON, "Postings"),
        query: &["q", "limit"],
        changes_state: false,
    },
    Endpoint {
        method: "get",
        path: "/api/v1/changes",
        summary: "What the watches found, oldest first: `{\"new\", \"gone\", \"changed\"}`, each a list of changes (id, watch, when, why, the posting: picture, page, site); `since` a time or a duration ago (7d), `watch` one watch's; as `changes --format json`.",
        body: None,
        answer: (200, JSON, "Changes"),
        query: &["since", "watch"],
        changes_state: false,
    },
    get("/api/v1/watches", "Every watch: what it scans, how often, when it runs next, how many postings it follows.", (200, JSON, "Watches")),
    get("/api/v1/cases/{sha256}/compare/{id}", "How a case's picture and a stored picture line up: agreeing keypoints, scale, rotation, each outline inside the other.", (200, JSON, "Comparison")),
    get("/api/v1/cases/{sha256}/export.csv", "A case as CSV: one row per posting of each match, with decisions.", (200, "text/csv", "Binary")),
    get("/api/v1/cases/{sha256}/export.json", "A case as JSON: the upload and the report.", (200, JSON, "Case")),
    get("/api/v1/cases/{sha256}/bundle.zip", "A case bundle: HTML, JSON and Markdown reports, the query, thumbnails, SHA256SUMS.", (200, "application/zip", "Binary")),
    Endpoint {
        method: "post",
        path: "/api/v1/reviews",
        summary: "Record (or change) a decision about a match of a query.",
        body: Some((JSON, "NewReview")),
        answer: (200, JSON, "Review"),
        query: &[],
        changes_state: true,
    },
    Endpoint {
        method: "get",
        path: "/api/v1/reviews",
        summary: "The decisions about a query's matches.",
        body: None,
        answer: (200, JSON, "Reviews"),
        query: &["query_sha256"],
        changes_state: false,
    },
    Endpoint {
        method: "post",
        path: "/api/v1/scans",
        summary: "Start a scan in the background (one of keyphrase, image_url, urls).",
        body: Some((JSON, "NewScan")),
        answer: (202, JSON, "ScanStarted"),
        query: &[],
        changes_state: true,
    },
    get("/api/v1/scans", "The latest scans.", (200, JSON, "Scans")),
    get("/api/v1/scans/{id}", "One scan: its record, and live counters while it runs here.", (200, JSON, "Scan")),
    Endpoint {
        method: "delete",
        path: "/api/v1/scans/{id}",
        summary: "Cancel a running scan (it stays resumable).",
        body: None,
        answer: (202, JSON, "Cancelled"),
        query: &[],
        changes_state: true,
    },
    get("/api/v1/scans/{id}/events", "Server-sent events: `progress` with the counters while the scan runs, then one `end`.", (200, "text/event-stream", "Binary")),
];

fn schemas() -> Value {
    let object = |props: Value| json!({"type": "object", "properties": props});
    json!({
        "Error": object(json!({"error": object(json!({
            "code": {"type": "string", "description": "Stable: bad_request, not_found, unauthorized, csrf, bad_host, too_large, not_an_image, empty_store, no_vectors, provider_not_configured, not_running, fetch, store, internal."},
            "message": {"type": "string"}
        }))})),
        "Health": object(json!({"status": {"type": "string"}, "pictures": {"type": "boolean"}})),
        "Session": object(json!({"csrf_token": {"type": "string"}})),
        "Upload": object(json!({"image": {"type": "string", "format": "binary"}})),
        "Report": {"type": "object", "description": "The match report, schema in docs/report-schema.md; each match carries `review`."},
        "StoredImage": object(json!({"image": {"type": "object"}, "sightings": {"type": "array", "items": {"type": "object"}}})),
        "Comparison": object(json!({
            "image_id": {"type": "integer"}, "inliers": {"type": "integer"}, "mirrored": {"type": "boolean"},
            "scale": {"type": ["number", "null"]}, "rotation_degrees": {"type": ["number", "null"]},
            "query_in_image": {"type": ["array", "null"], "description": "Four [x, y] corners as fractions of the stored picture."},
            "image_in_query": {"type": ["array", "null"], "description": "Four [x, y] corners as fractions of the query."}
        })),
        "Case": object(json!({"case": {"type": "object"}, "report": {"$ref": "#/components/schemas/Report"}})),
        "NewReview": {
            "type": "object",
            "required": ["query_sha256", "image_id", "decision"],
            "properties": {
                "query_sha256": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"},
                "image_id": {"type": "integer"},
                "decision": {"enum": ["confirmed", "not_a_copy", "ignored"]},
                "note": {"type": ["string", "null"], "maxLength": 2000}
            }
        },
        "Review": object(json!({
            "query_sha256": {"type": "string"}, "image_id": {"type": "integer"},
            "decision": {"enum": ["confirmed", "not_a_copy", "ignored"]}, "note": {"type": ["string", "null"]},
            "decided_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"}
        })),
        "Reviews": object(json!({"reviews": {"type": "array", "items": {"$ref": "#/components/schemas/Review"}}})),
        "NewScan": object(json!({
            "keyphrase": {"type": "string"}, "image_url": {"type": "string"}, "urls": {"type": "string", "description": "IMAGE_URL [PAGE_URL] per line"},
            "provider": {"enum": ["serpapi", "brave", "serper", "searxng"]}, "max_results": {"type": "integer", "minimum": 1, "maximum": 10000},
            "follow_pages": {"type": "boolean"}, "max_pages": {"type": "integer"}
        })),
        "ScanStarted": object(json!({"scan_id": {"type": "integer"}, "resumed": {"type": "boolean"}, "status_url": {"type": "string"}, "events_url": {"type": "string"}})),
        "Scan": object(json!({"id": {"type": "integer"}, "keyphrase": {"type": "string"}, "provider": {"type": "string"}, "status": {"enum": ["queued", "running", "completed", "interrupted", "failed"]}, "counts": {"type": "object"}, "batches": object(json!({"total": {"type": "integer"}, "done": {"type": "integer"}, "running": {"type": "integer"}, "queued": {"type": "integer"}, "failed": {"type": "integer"}})), "running": {"type": "boolean"}, "live": {"type": "object"}, "error": {"type": ["string", "null"]}})),
        "Scans": object(json!({"scans": {"type": "array", "items": {"$ref": "#/components/schemas/Scan"}}})),
        "Cancelled": object(json!({"scan_id": {"type": "integer"}, "cancelled": {"type": "boolean"}})),
        "Postings": object(json!({
            "query": {"type": "string"},
            "postings": {"type": "array", "items": object(json!({
                "sighting_id": {"type": "integer"}, "image_id": {"type": "integer"}, "image_url": {"type": "string"},
                "page_url": {"type": ["string", "null"]}, "page_title": {"type": ["string", "null"]},
                "site": {"type": ["string", "null"]}, "provider": {"type": ["string", "null"]},
                "words": {"type": "object", "description": "alt, title, caption, heading, nearby, description, snippet: each optional"},
                "snippet": {"type": "array", "description": "The excerpt in runs; the query's words have hit: true.", "items": object(json!({"text": {"type": "string"}, "hit": {"type": "boolean"}}))},
                "score": {"type": "number", "description": "Relevance in the store's own scale (SQLite BM25, PostgreSQL ts_rank); higher is better."}
            }))}
        })),
        "Changes": object(json!({
            "new": {"type": "array", "items": {"type": "object"}},
            "gone": {"type": "array", "items": {"type": "object"}},
            "changed": {"type": "array", "items": {"type": "object"}}
        })),
        "Watches": object(json!({"watches": {"type": "array", "items": {"type": "object"}}})),
        "Binary": {"type": "string", "format": "binary"}
    })
}

fn operation(e: &Endpoint) -> Value {
    let schema = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    let error = json!({"description": "An error", "content": {JSON: {"schema": schema("Error")}}});
    let mut parameters: Vec<Value> = e
        .path
        .split('/')
        .filter_map(|part| part.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect();
    parameters.extend(e.query.iter().map(
        |name| json!({"name": name, "in": "query", "required": true, "schema": {"type": "string"}}),
    ));
    if e.changes_state {
        parameters.push(json!({"name": "X-CSRF-Token", "in": "header", "required": false, "description": "Required unless a bearer token is sent.", "schema": {"type": "string"}}));
    }
    let mut op = json!({
        "summary": e.summary,
        "parameters": parameters,
        "responses": {
            e.answer.0.to_string(): {"description": "Success", "content": {e.answer.1: {"schema": schema(e.answer.2)}}},
            "default": error,
        },
    });
    if let Some((media, name)) = e.body {
        op["requestBody"] = json!({"required": true, "content": {media: {"schema": schema(name)}}});
    }
    op
}

/// The OpenAPI document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for e in ENDPOINTS {
        let entry = paths.entry(e.path).or_insert_with(|| json!({}));
        entry[e.method] = operation(e);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "provenance",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Find where a picture lives on the web: the HTTP API of `provenance serve`. Errors have one shape (Error). Without PROVENANCE_API_TOKEN the server listens on loopback only; with it, send `Authorization: Bearer <token>`. State-changing requests without a bearer token need X-CSRF-Token from GET /api/v1/session."
        },
        "components": {
            "schemas": schemas(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}
        },
        "security": [{}, {"bearer": []}],
        "paths": paths,
    })
}
