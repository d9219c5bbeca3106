//! Full-text search over the words postings were made with, one statement
//! per dialect: SQLite's FTS5 table `posting_text` ranked by BM25 with
//! per-column weights, and PostgreSQL's weighted `words_document`
//! tsvector (GIN index) ranked by `ts_rank`. Both stem English words and
//! read the same [`TextQuery`](crate::model::TextQuery); hits in snippets
//! are marked with [`HIT_START`](crate::model::page_text::HIT_START) and
//! [`HIT_END`](crate::model::page_text::HIT_END).

/// SQLite, all postings: `$1` the FTS5 expression, `$2` the limit. The
/// FTS5 table alone is ranked (BM25 with per-column weights in its order:
/// page title, caption, alt, title, heading, snippet, nearby,
/// description); only the best rows are joined to their sightings and
/// matched again for their snippets (joining every match first cost 4×
/// at 1M postings, BENCHMARKS.md "Page-text search").
pub(super) const SQLITE_SEARCH: &str = "
    SELECT s.id, s.image_id, s.image_url, s.page_url, s.page_title, s.site, s.provider, s.words,
           t.score, snippet(posting_text, -1, char(2), char(3), '…', 24) AS marked
    FROM (SELECT rowid AS id, -bm25(posting_text, 2.0, 4.0, 4.0, 2.0, 1.5, 1.5, 1.0, 1.0) AS score
          FROM posting_text WHERE posting_text MATCH $1
          ORDER BY score DESC, rowid LIMIT $2) t
    CROSS JOIN sightings s ON s.id = t.id
    CROSS JOIN posting_text ON posting_text.rowid = t.id
    WHERE posting_text MATCH $1
    ORDER BY t.score DESC, s.id";

/// SQLite, the postings of some pictures (`match --text`): `$1` the FTS5
/// expression, `$2` a JSON array of image ids, `$3` the limit. Starts from
/// the pictures' sightings and asks FTS5 about each.
pub(super) const SQLITE_SEARCH_WITHIN: &str = "
    SELECT s.id, s.image_id, s.image_url, s.page_url, s.page_title, s.site, s.provider, s.words,
           -bm25(posting_text, 2.0, 4.0, 4.0, 2.0, 1.5, 1.5, 1.0, 1.0) AS score,
           snippet(posting_text, -1, char(2), char(3), '…', 24) AS marked
    FROM sightings s CROSS JOIN posting_text ON posting_text.rowid = s.id
    WHERE s.image_id IN (SELECT value FROM json_each($2)) AND posting_text MATCH $1
    ORDER BY score DESC, s.id
    LIMIT $3";

/// A PostgreSQL search: the best rows that match `$1` (the `to_tsquery`
/// text) and `$where`, at most `$limit`, are chosen first and only they get
/// a headline (`ts_headline` reads the whole text).
macro_rules! postgres_search {
    ($where:literal, $limit:literal) => {
        concat!(
            "
    SELECT h.*,
           ts_headline('english',
               concat_ws(' … ', h.page_title, h.words ->> 'caption', h.words ->> 'alt',
                         h.words ->> 'title', h.words ->> 'heading', h.words ->> 'snippet',
                         h.words ->> 'nearby', h.words ->> 'description'),
               to_tsquery('english', $1),
               'StartSel=' || chr(2) || ', StopSel=' || chr(3)
                   || ', MaxWords=24, MinWords=8, MaxFragments=2, FragmentDelimiter=\" … \"') AS marked
    FROM (SELECT s.id, s.image_id, s.image_url, s.page_url, s.page_title, s.site, s.provider,
                 s.words, ts_rank(s.words_document, q)::float8 AS score
          FROM sightings s, to_tsquery('english', $1) q
          WHERE ",
            $where,
            " s.words_document @@ q
          ORDER BY score DESC, s.id
          LIMIT ",
            $limit,
            ") h
    ORDER BY h.score DESC, h.id"
        )
    };
}

/// PostgreSQL, all postings: `$1` the `to_tsquery` text, `$2` the limit.
pub(super) const POSTGRES_SEARCH: &str = postgres_search!("", "$2");

/// PostgreSQL, the postings of some pictures: `$1` the `to_tsquery` text,
/// `$2` an array of image ids, `$3` the limit. A statement of its own: in
/// one with `$2 IS NULL OR …` the cached generic plan read every posting
/// holding the words before keeping the pictures' (0.6 s instead of
/// 16 ms at 1M postings).
pub(super) const POSTGRES_SEARCH_WITHIN: &str = postgres_search!("s.image_id = ANY($2) AND", "$3");
