//! Raw command-line arguments ("low args"): what clap parses from flags and
//! the environment. `cli::run` validates them into a `Config`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::OutputFormat;

const EXAMPLES: &str = "\
Examples:
  provenance scan \"summer festival poster 2026\"
  provenance match suspect.jpg
  provenance trace suspect.jpg --keyphrase \"summer festival poster\"
  provenance db status
  DATABASE_URL=postgres://user:pass@localhost/provenance provenance db migrate";

/// Find where an image lives on the web: where else it appears, where it came
/// from, and which copies are altered.
#[derive(Debug, Parser)]
#[command(name = "provenance", version, about, after_help = EXAMPLES)]
pub struct Cli {
    /// Settings every command shares.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Settings every command shares.
#[derive(Debug, Args)]
#[command(next_help_heading = "Store and output")]
pub struct GlobalArgs {
    /// PostgreSQL + pgvector URL (postgres://USER:PASSWORD@HOST:PORT/DB). Unset: the embedded SQLite store in the data directory.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,

    /// Directory for the embedded store, reports and caches [default: the platform data directory, e.g. ~/.local/share/provenance].
    #[arg(
        long,
        env = "PROVENANCE_DATA_DIR",
        hide_env_values = true,
        global = true,
        value_name = "DIR"
    )]
    pub data_dir: Option<PathBuf>,

    /// More detail on stderr (-v, -vv, -vvv). Secrets are never printed.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Output on stdout: text for people or stable JSON for programs.
    #[arg(
        long,
        value_enum,
        default_value = "human",
        env = "PROVENANCE_FORMAT",
        hide_env_values = true,
        global = true
    )]
    pub format: OutputFormat,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Search the web for a keyphrase (or an image URL, or a URL list), fetch the images found, hash, embed and store them.
    #[command(after_help = SCAN_EXAMPLES)]
    Scan(ScanArgs),
    /// Hash, embed and store every image under a local folder (recursively).
    #[command(after_help = "Example:\n  provenance index ~/Pictures/posters")]
    Index(IndexArgs),
    /// Find where an image appears among stored images and report its likely origins (one picture, several, or a folder).
    #[command(name = "match", after_help = MATCH_EXAMPLES)]
    Match(MatchArgs),
    /// The whole answer for one picture: reverse search by upload (TinEye), scans of any keyphrases, then the match and its report.
    #[command(after_help = TRACE_EXAMPLES)]
    Trace(TraceArgs),
    /// Find stored images that fit a text (CLIP on the pictures and the words they were posted with), or with --in-pages the postings whose words hold it.
    #[command(after_help = SEARCH_EXAMPLES)]
    Search(SearchArgs),
    /// Watch pictures over time: a scan run again on a schedule, every earlier posting re-checked (add, list, remove, run).
    #[command(subcommand, after_help = WATCH_EXAMPLES)]
    Watch(WatchCommand),
    /// What the watches found: new postings, postings gone, pictures replaced.
    #[command(
        after_help = "Examples:\n  provenance changes --since 7d\n  provenance changes --watch 2 --format json"
    )]
    Changes(ChangesArgs),
    /// Serve the web UI and the HTTP API: upload a picture, review its matches, run scans, export cases.
    #[command(after_help = SERVE_HELP)]
    Serve(ServeArgs),
    /// Print shell completions (bash, zsh, fish, powershell, elvish) on stdout.
    #[command(after_help = COMPLETIONS_HELP)]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) on stdout.
    #[command(after_help = "Example:\n  provenance man > ~/.local/share/man/man1/provenance.1")]
    Man,
    /// Run queued scans (`scan --enqueue`) on this machine: claim batches from the PostgreSQL queue and fetch, hash, embed and store them.
    #[command(after_help = WORKER_HELP)]
    Worker(WorkerArgs),
    /// Manage the store.
    #[command(
        subcommand,
        after_help = "Examples:\n  provenance db migrate\n  provenance db status --format json"
    )]
    Db(DbCommand),
}

const MATCH_EXAMPLES: &str = "\
Examples:
  provenance match suspect.jpg --top 20
  provenance match ~/Downloads/reposts --format json > matches.jsonl
  find . -name '*.webp' | provenance match -
  provenance match suspect.jpg --text \"fake\"   # postings that call it fake first

Several pictures, a folder or `-`: one report per picture, then a summary; with --format json one JSON line per picture and a last {\"summary\": …} line.";

const WATCH_EXAMPLES: &str = "\
Examples:
  provenance watch add \"summer festival poster\" --every 1d --follow-pages
  provenance watch add --image-url https://example.org/poster.jpg --every 6h
  provenance watch list
  provenance watch run            # the watches that are due (for cron or a systemd timer)
  provenance watch run --all
  provenance watch remove 3

Each run scans again, then re-checks every posting the watch saw before: gone when its page no longer shows the picture or answers 404/410 (or after --gone-after failed checks in a row), changed when its address serves other bytes. `provenance changes` lists what was found.";

const SEARCH_EXAMPLES: &str = "\
Examples:
  provenance search \"red festival poster with a guitar\"
  provenance search --in-pages '\"leaked poster\" festival' --format json
  provenance search \"festival poster\" --by pages --embedder none

Words: every word and \"quoted phrase\" must be in the posting's words (alt text, caption, titles, heading, the text around the picture, the page's description); English words are stemmed and stop words alone ignored.";

const WORKER_HELP: &str = "\
Examples:
  provenance scan \"summer festival poster\" --enqueue     # on any machine
  provenance worker --concurrency 4                        # on each machine, same DATABASE_URL
  provenance db status                                     # progress, from anywhere

Ctrl-C finishes the batches under way, then stops; a second Ctrl-C gives them back to the queue. A worker that dies is noticed after its missed heartbeats and its batches go to others.";

const COMPLETIONS_HELP: &str = "\
Examples:
  provenance completions bash > ~/.local/share/bash-completion/completions/provenance
  provenance completions zsh > ~/.zfunc/_provenance
  provenance completions fish > ~/.config/fish/completions/provenance.fish";

const SERVE_HELP: &str = "\
Examples:
  provenance serve --embedder none
  PROVENANCE_API_TOKEN=$(openssl rand -hex 24) provenance serve --listen 0.0.0.0:8080

Security: only 127.0.0.1 unless PROVENANCE_API_TOKEN is set (then a bearer token for the API, a login for the UI).";

const SCAN_EXAMPLES: &str = "\
Examples:
  provenance scan \"summer festival poster 2026\"
  provenance scan \"summer festival poster 2026\" --provider openverse,commons,serpapi --follow-pages
  provenance scan --image-url https://example.org/poster.jpg
  provenance scan --image suspect.jpg
  provenance scan --urls postings.txt --embedder none";

/// Arguments of `scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// What is searched.
    #[command(flatten)]
    pub target: ScanTargetArgs,

    /// How far each search reaches.
    #[command(flatten)]
    pub reach: ReachArgs,

    /// What is shared with `index`.
    #[command(flatten)]
    pub ingest: IngestArgs,

    /// How images are fetched.
    #[command(flatten)]
    pub fetch: FetchArgs,

    /// Queueing for workers.
    #[command(flatten)]
    pub queue: EnqueueArgs,
}

/// How `scan --enqueue` queues a scan for workers.
#[derive(Debug, Args)]
#[command(next_help_heading = "Workers")]
pub struct EnqueueArgs {
    /// Queue the scan for `provenance worker` processes (PostgreSQL store only): search now, split the pictures found into batches, print the scan id and return.
    #[arg(long)]
    pub enqueue: bool,

    /// Pictures per queued batch.
    #[arg(long, default_value_t = crate::queue::DEFAULT_BATCH_SIZE, value_name = "N", value_parser = at_least_one::<usize>, requires = "enqueue")]
    pub queue_batch: usize,

    /// Attempts a queued batch gets before it is failed for good (a worker dying on it counts).
    #[arg(long, default_value_t = crate::queue::DEFAULT_MAX_ATTEMPTS, value_name = "N", value_parser = at_least_one::<u32>, requires = "enqueue")]
    pub max_attempts: u32,
}

/// Arguments of `worker`.
#[derive(Debug, Args)]
#[command(mut_arg("concurrency", |a| a.long("downloads").help("Downloads in flight at once, all hosts and batches together.")))]
pub struct WorkerArgs {
    /// Batches run at once.
    #[arg(long = "concurrency", id = "batches", env = "PROVENANCE_WORKER_CONCURRENCY", hide_env_values = true, default_value_t = 2, value_name = "N", value_parser = at_least_one::<usize>)]
    pub batches: usize,

    /// Stop once no batch of any scan waits or runs (for a job scheduler or a test).
    #[arg(long)]
    pub exit_when_idle: bool,

    /// Seconds between this worker's heartbeats.
    #[arg(long, default_value_t = 10, value_name = "SECS", value_parser = at_least_one::<u64>)]
    pub heartbeat: u64,

    /// Heartbeats missed before a worker's batches go to others.
    #[arg(long, default_value_t = 3, value_name = "N", value_parser = at_least_one::<usize>)]
    pub missed_heartbeats: usize,

    /// Seconds between looks for work when not woken (new work wakes workers at once).
    #[arg(long, default_value_t = 30, value_name = "SECS", value_parser = at_least_one::<u64>)]
    pub poll: u64,

    /// What is shared with `scan` and `index`.
    #[command(flatten)]
    pub ingest: IngestArgs,

    /// How images are fetched.
    #[command(flatten)]
    pub fetch: FetchArgs,
}

/// `watch` subcommands.
#[derive(Debug, Subcommand)]
pub enum WatchCommand {
    /// Watch a keyphrase, a picture URL (--image-url), a local picture (--image) or a URL list (--urls): scanned now at the first `watch run`, then every DURATION.
    Add(WatchAddArgs),
    /// The watches: what each scans, how often, when it runs next, how many postings it follows.
    List,
    /// Stop watching (the changes it found are kept).
    Remove {
        /// The watch's number (see `watch list`).
        id: i64,
    },
    /// Run the watches that are due (every one with --all): scan, then re-check every earlier posting.
    Run(WatchRunArgs),
}

/// Arguments of `watch add`.
#[derive(Debug, Args)]
pub struct WatchAddArgs {
    /// What is watched.
    #[command(flatten)]
    pub target: ScanTargetArgs,

    /// How far each search reaches (kept with the watch).
    #[command(flatten)]
    pub reach: ReachArgs,

    /// How often: 30m, 6h, 1d, 1w (at least 1m).
    #[arg(long, default_value = "1d", value_name = "DURATION")]
    pub every: String,
}

/// Arguments of `watch run`.
#[derive(Debug, Args)]
pub struct WatchRunArgs {
    /// Run every watch, due or not.
    #[arg(long)]
    pub all: bool,

    /// How the runs judge postings and tell of changes.
    #[command(flatten)]
    pub watching: WatchingArgs,

    /// Retries of a search API call after 429/5xx.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub search_retries: u32,

    /// Seconds a search API request may take.
    #[arg(long, env = "PROVENANCE_SEARCH_TIMEOUT", hide_env_values = true, default_value_t = 90, value_name = "SECS", value_parser = at_least_one::<u64>)]
    pub search_timeout: u64,

    /// How the scans store what they find.
    #[command(flatten)]
    pub ingest: IngestArgs,

    /// How pictures and pages are fetched (the re-checks too).
    #[command(flatten)]
    pub fetch: FetchArgs,
}

/// How watch runs (`watch run`, and `serve`'s) judge postings and tell of
/// changes.
#[derive(Debug, Args)]
#[command(next_help_heading = "Watching")]
pub struct WatchingArgs {
    /// Failed re-checks in a row (timeouts, 5xx, refused connections) after which a posting is called gone; a 404/410 or a page without the picture is gone at once.
    #[arg(long, env = "PROVENANCE_GONE_AFTER", hide_env_values = true, default_value_t = 3, value_name = "N", value_parser = at_least_one::<u32>)]
    pub gone_after: u32,

    /// Tell this webhook of the changes (a POST of the JSON `changes --format json` prints, each change with its id); one not taken is sent at the next run. The SSRF rules apply to it.
    #[arg(
        long,
        env = "PROVENANCE_WEBHOOK_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub webhook_url: Option<String>,
}

/// Arguments of `changes`.
#[derive(Debug, Args)]
pub struct ChangesArgs {
    /// Only changes found since then: a time (2026-12-01, 2026-12-01T08:00:00Z) or a duration ago (7d, 12h).
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,

    /// Only the changes of this watch.
    #[arg(long, value_name = "ID")]
    pub watch: Option<i64>,
}

/// What a scan (or a watch) searches: a keyphrase, a picture by URL or
/// file, or a URL list.
#[derive(Debug, Args)]
pub struct ScanTargetArgs {
    /// Words to search images for, e.g. the title on a poster.
    #[arg(required_unless_present_any = ["image_url", "image", "urls"], conflicts_with_all = ["image_url", "image", "urls"])]
    pub keyphrase: Option<String>,

    /// Reverse search: a public image URL sent to SerpApi Google Lens (needs SERPAPI_API_KEY), or to TinEye with --provider tineye.
    #[arg(long, value_name = "URL", conflicts_with_all = ["urls", "image"])]
    pub image_url: Option<String>,

    /// Reverse search by upload: a local picture sent to the TinEye API (needs TINEYE_API_KEY; at most 20 MiB).
    #[arg(long, value_name = "FILE", conflicts_with = "urls")]
    pub image: Option<PathBuf>,

    /// Scan a list of image URLs instead: one `IMAGE_URL [PAGE_URL]` per line.
    #[arg(long, value_name = "FILE")]
    pub urls: Option<PathBuf>,

    /// With --image-url: skip the second (exact matches) Lens request, which costs one more credit.
    #[arg(long)]
    pub no_exact_matches: bool,
}

const TRACE_EXAMPLES: &str = "\
Examples:
  TINEYE_API_KEY=… provenance trace suspect.jpg
  provenance trace poster.jpg --keyphrase \"summer festival 2026\" --keyphrase \"Ann Lee poster\"

Without TINEYE_API_KEY only the keyphrase scans run; with neither, trace says what it needs.";

/// Arguments of `trace`.
#[derive(Debug, Args)]
pub struct TraceArgs {
    /// The picture to trace.
    pub image: PathBuf,

    /// Also scan for these words (repeatable): a title, a name, a caption seen with the picture.
    #[arg(long = "keyphrase", short = 'k', value_name = "WORDS")]
    pub keyphrases: Vec<String>,

    /// Skip the reverse search by upload, even with TINEYE_API_KEY set.
    #[arg(long)]
    pub no_reverse: bool,

    /// How far each search reaches.
    #[command(flatten)]
    pub reach: ReachArgs,

    /// How pictures are matched.
    #[command(flatten)]
    pub lookup: LookupArgs,

    /// Where and how reports are written.
    #[command(flatten)]
    pub report: ReportArgs,

    /// What is shared with `scan`.
    #[command(flatten)]
    pub ingest: IngestArgs,

    /// How images are fetched.
    #[command(flatten)]
    pub fetch: FetchArgs,

    /// Whether and how the web archive is asked.
    #[command(flatten)]
    pub archive: ArchiveArgs,
}

/// Where a search looks and how far it reaches, shared by `scan` and
/// `trace`.
#[derive(Debug, Args)]
#[command(next_help_heading = "Searching")]
pub struct ReachArgs {
    /// Image search providers, comma-separated, asked together (e.g. openverse,commons,serpapi) [default: the first of serpapi, brave, serper, searxng whose key or URL is set, else openverse and commons, which need no key].
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        env = "PROVENANCE_PROVIDER",
        hide_env_values = true
    )]
    pub provider: Vec<ProviderArg>,

    /// Most candidates to take from each provider (it pages past 100 when it can).
    #[arg(
        long,
        env = "PROVENANCE_MAX_RESULTS", hide_env_values = true,
        default_value_t = 100,
        value_name = "N",
        value_parser = at_least_one::<usize>
    )]
    pub max_results: usize,

    /// Also fetch the pages the candidates were found on and take every image there (other postings).
    #[arg(long, env = "PROVENANCE_FOLLOW_PAGES", hide_env_values = true)]
    pub follow_pages: bool,

    /// Most pages to follow with --follow-pages.
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub max_pages: usize,

    /// Retries of a search API call after 429/5xx (bounded exponential back-off).
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub search_retries: u32,

    /// Seconds a search API request may take; one that takes longer fails at once, without a retry.
    #[arg(
        long,
        env = "PROVENANCE_SEARCH_TIMEOUT", hide_env_values = true,
        default_value_t = 90,
        value_name = "SECS",
        value_parser = at_least_one::<u64>
    )]
    pub search_timeout: u64,
}

/// Search providers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProviderArg {
    /// SerpApi Google Images (SERPAPI_API_KEY).
    Serpapi,
    /// Brave Search images (BRAVE_API_KEY).
    Brave,
    /// Serper.dev images (SERPER_API_KEY).
    Serper,
    /// A self-hosted SearXNG with JSON output enabled (SEARXNG_URL); no key.
    Searxng,
    /// Openverse: openly licensed pictures (Flickr, Wikimedia, museums); no key.
    Openverse,
    /// Wikimedia Commons, with upload dates; no key.
    Commons,
    /// TinEye reverse search, with --image FILE or --image-url (TINEYE_API_KEY).
    Tineye,
}

/// Arguments of `index`.
#[derive(Debug, Args)]
pub struct IndexArgs {
    /// The folder to index (recursively; symbolic links are not followed).
    pub folder: PathBuf,

    /// What is shared with `scan`.
    #[command(flatten)]
    pub ingest: IngestArgs,
}

/// Settings shared by everything that ingests images.
#[derive(Debug, Args)]
#[command(next_help_heading = "Pictures")]
pub struct IngestArgs {
    /// Take again pictures already stored (downloaded again by `scan`, read again by `index`).
    #[arg(long)]
    pub refresh: bool,

    /// Images decoded at once [default: the number of CPU cores].
    #[arg(long, env = "PROVENANCE_DECODE_WORKERS", hide_env_values = true, value_name = "N", value_parser = at_least_one::<usize>)]
    pub decode_workers: Option<usize>,

    /// Memory the decodes running at once may use, in MiB: each waits until what its header says it needs fits (a picture needing more runs alone).
    #[arg(
        long,
        env = "PROVENANCE_DECODE_MEMORY_MB",
        hide_env_values = true,
        default_value_t = crate::scan::DEFAULT_DECODE_MEMORY / (1024 * 1024),
        value_name = "MIB",
        value_parser = at_least_one::<u64>
    )]
    pub decode_memory_mb: u64,

    /// Largest image file accepted, in MiB (larger downloads are cut off and recorded as failures).
    #[arg(
        long,
        env = "PROVENANCE_MAX_IMAGE_MB", hide_env_values = true,
        default_value_t = 20,
        value_name = "MIB",
        value_parser = at_least_one::<u64>
    )]
    pub max_image_mb: u64,

    /// Largest decoded image, in megapixels (checked from the header, before decoding).
    #[arg(
        long,
        env = "PROVENANCE_MAX_MEGAPIXELS",
        hide_env_values = true,
        default_value_t = 100,
        value_name = "MP"
    )]
    pub max_megapixels: u64,

    /// The embedding model.
    #[command(flatten)]
    pub model: ModelArgs,
}

/// Which embedder to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EmbedderArg {
    /// CLIP vectors plus hashes.
    Clip,
    /// Hashes only: no model download; `match` ranks by hashes alone.
    None,
}

/// The embedding model.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Model")]
pub struct ModelArgs {
    /// `clip` (vectors and hashes) or `none` (hashes only, no model download).
    #[arg(
        long,
        value_enum,
        env = "PROVENANCE_EMBEDDER",
        hide_env_values = true,
        default_value = "clip"
    )]
    pub embedder: EmbedderArg,

    /// A local CLIP model directory (config.json + model.safetensors) instead of the hub.
    #[arg(
        long,
        env = "PROVENANCE_MODEL_DIR",
        hide_env_values = true,
        value_name = "DIR"
    )]
    pub model_dir: Option<PathBuf>,

    /// Hugging Face repository of the CLIP model.
    #[arg(long, env = "PROVENANCE_MODEL", hide_env_values = true, default_value = crate::embed::DEFAULT_REPO)]
    pub model: String,

    /// Pinned revision (commit) of the model.
    #[arg(long, env = "PROVENANCE_MODEL_REVISION", hide_env_values = true, default_value = crate::embed::DEFAULT_REVISION)]
    pub model_revision: String,

    /// Hub endpoint (a mirror with the same URL layout works).
    #[arg(long, env = "PROVENANCE_HUB_URL", hide_env_values = true, default_value = crate::embed::DEFAULT_ENDPOINT)]
    pub hub_url: String,

    /// Never download the model: use the cache or --model-dir only.
    #[arg(long, env = "PROVENANCE_OFFLINE", hide_env_values = true)]
    pub offline: bool,

    /// Where the model runs: auto (CUDA when built with it and a GPU is present), cpu, cuda, cuda:N.
    #[arg(
        long,
        env = "PROVENANCE_DEVICE",
        hide_env_values = true,
        default_value = "auto"
    )]
    pub device: String,

    /// Numeric precision of the model: f32 (reference), f16 or bf16 (GPU only).
    #[arg(
        long,
        env = "PROVENANCE_PRECISION",
        hide_env_values = true,
        default_value = "f32"
    )]
    pub precision: String,

    /// Images per forward pass of the model.
    #[arg(
        long,
        env = "PROVENANCE_BATCH_SIZE",
        hide_env_values = true,
        default_value_t = 32,
        value_name = "N"
    )]
    pub batch_size: usize,
}

/// How images and pages are fetched.
#[derive(Debug, Args)]
#[command(next_help_heading = "Fetching")]
pub struct FetchArgs {
    /// Downloads in flight at once, all hosts together.
    #[arg(
        long,
        env = "PROVENANCE_CONCURRENCY",
        hide_env_values = true,
        default_value_t = 32,
        value_name = "N"
    )]
    pub concurrency: usize,

    /// Downloads in flight at once to one host.
    #[arg(
        long,
        env = "PROVENANCE_PER_HOST",
        hide_env_values = true,
        default_value_t = 4,
        value_name = "N"
    )]
    pub per_host: usize,

    /// Longest time for one download, redirects and body included, in seconds.
    #[arg(
        long,
        env = "PROVENANCE_TIMEOUT", hide_env_values = true,
        default_value_t = 60,
        value_name = "SECS",
        value_parser = at_least_one::<u64>
    )]
    pub timeout: u64,

    /// Longest silence while reading a response, in seconds (defeats slow servers).
    #[arg(
        long,
        env = "PROVENANCE_READ_TIMEOUT", hide_env_values = true,
        default_value_t = 15,
        value_name = "SECS",
        value_parser = at_least_one::<u64>
    )]
    pub read_timeout: u64,

    /// Retries of a download after a timeout, 5xx or 429.
    #[arg(
        long,
        env = "PROVENANCE_RETRIES",
        hide_env_values = true,
        default_value_t = 2,
        value_name = "N"
    )]
    pub retries: u32,

    /// Longest wait before a retry, in seconds; a server asking (Retry-After) for longer is given up at once.
    #[arg(
        long,
        env = "PROVENANCE_MAX_RETRY_WAIT",
        hide_env_values = true,
        default_value_t = 30,
        value_name = "SECS",
        value_parser = at_least_one::<u64>
    )]
    pub max_retry_wait: u64,

    /// Answers of 429/503 one host may give in a row before its other URLs are skipped for the rest of the scan.
    #[arg(
        long,
        env = "PROVENANCE_HOST_STRIKES",
        hide_env_values = true,
        default_value_t = 8,
        value_name = "N",
        value_parser = at_least_one::<u32>
    )]
    pub host_strikes: u32,

    /// A contact (URL or mailto:) put in the User-Agent so site owners can reach you.
    #[arg(
        long,
        env = "PROVENANCE_CONTACT",
        hide_env_values = true,
        value_name = "CONTACT"
    )]
    pub contact: Option<String>,

    /// Also connect to loopback, private and link-local addresses (tests, intranets). Off by default: a hostile result list must not probe internal services.
    #[arg(
        long,
        env = "PROVENANCE_ALLOW_PRIVATE_ADDRESSES",
        hide_env_values = true
    )]
    pub allow_private_addresses: bool,

    /// Do not honour robots.txt.
    #[arg(long)]
    pub ignore_robots: bool,

    /// Do not honour `X-Robots-Tag: noai` / `noimageai`.
    #[arg(long)]
    pub ignore_noai: bool,
}

/// Arguments of `match`.
#[derive(Debug, Args)]
pub struct MatchArgs {
    /// The pictures to look for: files, folders (searched recursively for image files), or `-` for paths on stdin, one per line.
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<PathBuf>,

    /// Put first, and mark, the matches' postings whose words (alt text, caption, page title, the text around the picture) hold these words; "quoted phrases" kept together.
    #[arg(long, value_name = "WORDS")]
    pub text: Option<String>,

    /// How pictures are matched.
    #[command(flatten)]
    pub lookup: LookupArgs,

    /// Where and how reports are written.
    #[command(flatten)]
    pub report: ReportArgs,

    /// The embedding model (must be the one the store was built with).
    #[command(flatten)]
    pub model: ModelArgs,

    /// Whether and how the web archive is asked.
    #[command(flatten)]
    pub archive: ArchiveArgs,
}

/// How `match` and `trace` ask the web archive (Wayback Machine) when each
/// posting of an exact copy or near-duplicate was first archived.
#[derive(Debug, Args)]
#[command(next_help_heading = "Web archive")]
pub struct ArchiveArgs {
    /// Do not ask the web archive (answers kept from earlier runs are not shown either).
    #[arg(long, env = "PROVENANCE_NO_ARCHIVE", hide_env_values = true, value_parser = clap::builder::BoolishValueParser::new())]
    pub no_archive: bool,

    /// Most postings looked up in the web archive per match (two requests each at most; answers are kept).
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub archive_max: usize,

    /// Least time between two requests to the web archive, in milliseconds (it blocks clients that hurry).
    #[arg(
        long,
        env = "PROVENANCE_ARCHIVE_INTERVAL_MS",
        hide_env_values = true,
        default_value_t = 1000,
        value_name = "MS"
    )]
    pub archive_interval_ms: u64,

    /// The Wayback Machine's root.
    #[arg(
        long,
        env = "PROVENANCE_WAYBACK_URL",
        hide_env_values = true,
        default_value = "https://web.archive.org/",
        value_name = "URL"
    )]
    pub wayback_url: url::Url,
}

/// How `match` and `serve` match pictures.
#[derive(Debug, Args)]
#[command(next_help_heading = "Matching")]
pub struct LookupArgs {
    /// How many matches to report.
    #[arg(long, default_value_t = 10, value_name = "K")]
    pub top: usize,

    /// Lowest similarity (cosine, -1 to 1) reported as "similar".
    #[arg(long, value_name = "S", allow_negative_numbers = true)]
    pub min_similarity: Option<f32>,

    /// Verify this many nearest candidates by hash distance, and as many by embedding, with keypoint geometry (finds crops, rotations, frames); 0 turns it off.
    #[arg(long, default_value_t = 50, value_name = "K")]
    pub verify_top: usize,

    /// Agreeing keypoint matches that make a near-duplicate.
    #[arg(long, default_value_t = 12, value_name = "N")]
    pub min_inliers: u32,
}

/// Arguments of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on. Anything but loopback needs PROVENANCE_API_TOKEN (at least 16 characters).
    #[arg(
        long,
        env = "PROVENANCE_LISTEN",
        hide_env_values = true,
        default_value = "127.0.0.1:8080",
        value_name = "ADDR"
    )]
    pub listen: std::net::SocketAddr,

    /// Largest picture accepted by upload, in MiB.
    #[arg(long, default_value_t = 32, value_name = "MB", value_parser = at_least_one::<u64>)]
    pub max_upload_mb: u64,

    /// Matches computed at once; more wait their turn [default: the number of cores].
    #[arg(long, value_name = "N", value_parser = at_least_one::<usize>)]
    pub max_concurrent_matches: Option<usize>,

    /// Longest a request may take, in seconds (scan progress streams excepted).
    #[arg(long, default_value_t = 120, value_name = "SECONDS", value_parser = at_least_one::<u64>)]
    pub request_timeout: u64,

    /// How pictures are matched.
    #[command(flatten)]
    pub lookup: LookupArgs,

    /// Do not run the watches that are due while serving (run them with `provenance watch run` instead).
    #[arg(long)]
    pub no_watches: bool,

    /// How the watches' runs judge postings and tell of changes.
    #[command(flatten)]
    pub watching: WatchingArgs,

    /// How scans started from the web store what they find.
    #[command(flatten)]
    pub ingest: IngestArgs,

    /// How pictures are fetched (scans, and pictures given by URL).
    #[command(flatten)]
    pub fetch: FetchArgs,
}

/// Arguments of `search`.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// A description of the picture, or the words to find on the pages; "quoted phrases" are kept together.
    pub text: String,

    /// List the postings whose words (alt text, caption, titles, heading, the text around the picture, the page's description) hold every word of TEXT, most relevant first; needs no model.
    #[arg(long)]
    pub in_pages: bool,

    /// What finds pictures: both (CLIP on the pictures and the words of their pages, fused by rank), picture (CLIP only) or pages (the words only).
    #[arg(long, value_enum, default_value = "both", value_name = "SIGNALS")]
    pub by: SearchBy,

    /// How many images to report.
    #[arg(long, default_value_t = 10, value_name = "K")]
    pub top: usize,

    /// Lowest text-to-image similarity reported.
    #[arg(long, default_value_t = 0.2, value_name = "S")]
    pub min_similarity: f32,

    /// Where and how reports are written.
    #[command(flatten)]
    pub report: ReportArgs,

    /// The embedding model (must be the one the store was built with).
    #[command(flatten)]
    pub model: ModelArgs,
}

/// What `search` compares the text with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SearchBy {
    /// The pictures (CLIP) and the words of their pages, fused by rank; the words alone when the store holds no vectors or with --embedder none.
    Both,
    /// The pictures only (CLIP's text encoder).
    Picture,
    /// The words of the pages only.
    Pages,
}

/// Where and how `match` and `search` write their reports.
#[derive(Debug, Args)]
#[command(next_help_heading = "Reports")]
pub struct ReportArgs {
    /// Where reports are written [default: DATA_DIR/reports].
    #[arg(
        long,
        env = "PROVENANCE_REPORT_DIR",
        hide_env_values = true,
        value_name = "DIR"
    )]
    pub report_dir: Option<PathBuf>,

    /// Report formats to write (comma-separated).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "html,json,md"
    )]
    pub report_format: Vec<crate::report::ReportFormat>,

    /// Write no report files (results on stdout only).
    #[arg(long)]
    pub no_report: bool,
}

/// `db` subcommands.
#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Create the store or bring its schema up to date.
    #[command(after_help = "Example:\n  provenance db migrate")]
    Migrate,
    /// Show the backend, schema version, model and counts.
    #[command(after_help = "Example:\n  provenance db status --format json")]
    Status,
    /// Choose the PostgreSQL store's vector index: `halfvec` halves it (2 bytes a value) at nearly the same recall; the index is rebuilt at once.
    #[command(
        after_help = "Example:\n  provenance db index --vectors halfvec\n\nAt a million 512-d vectors: vector 2.6 GB, halfvec 1.3 GB, recall@10 0.972 and 0.970 (docs/scaling.md). The images table is locked while the index is rebuilt (minutes at a million): searches and scans wait; run it when nothing else does."
    )]
    Index {
        /// The index's form.
        #[arg(long, value_enum)]
        vectors: VectorIndexArg,
    },
    /// List the latest recorded failures (URL, stage, reason), and queued batches that failed for good.
    #[command(
        after_help = "Example:\n  provenance db failures --limit 50\n  provenance db failures --batches --format json"
    )]
    Failures {
        /// How many to list.
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// Only the queued batches that failed for good (PostgreSQL store).
        #[arg(long)]
        batches: bool,
    },
}

/// The forms of the PostgreSQL store's vector index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum VectorIndexArg {
    /// 4 bytes a value (the default).
    Vector,
    /// 2 bytes a value: half the index.
    Halfvec,
}

/// A count or a duration that 0 would make meaningless (`--timeout 0`,
/// `--max-results 0`): refused with the other usage errors.
fn at_least_one<T>(value: &str) -> Result<T, String>
where
    T: std::str::FromStr + PartialEq + From<u8>,
    T::Err: std::fmt::Display,
{
    let parsed: T = value.parse().map_err(|e| format!("{e}"))?;
    if parsed == T::from(0) {
        return Err("must be at least 1".into());
    }
    Ok(parsed)
}
