//! Prints the HTTP API's OpenAPI document (`docs/openapi.json` is this
//! output; a test fails when it is stale):
//! `cargo run --example openapi > docs/openapi.json`.

fn main() {
    let document = provenance::serve::openapi::document();
    println!("{}", serde_json::to_string_pretty(&document).expect("JSON"));
}
