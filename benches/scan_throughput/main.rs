//! The issue-7 scan benchmark's tools, driven by `scripts/bench-scan.sh`
//! (run that, not this): generate the image set, serve it on loopback, and
//! measure single stages alone on the same images so the full scan can be
//! compared with its slowest stage.
//!
//! ```text
//! scan_throughput images  --sources DIR --out DIR --count N [--threads T]
//! scan_throughput serve   --dir DIR --count N --port P [--threads T]
//! scan_throughput fetch   --urls FILE [--concurrency C] [--per-host H]
//! scan_throughput prepare --dir DIR --limit N [--threads T] [--model-dir DIR]
//! scan_throughput steps   --dir DIR --limit N
//! scan_throughput embed   --dir DIR --limit N --model-dir DIR [--device D] [--batch B] [--precision P] [--threads T]
//! ```
//!
//! `cargo bench` passes `--bench`; without it (`cargo test --all-targets`)
//! this returns at once.

mod images;
mod serve;
mod stages;
mod steps;

use std::collections::HashMap;
use std::path::PathBuf;

/// `--key value` pairs after the subcommand.
struct Flags(HashMap<String, String>);

impl Flags {
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut map = HashMap::new();
        let mut rest = args.iter();
        while let Some(key) = rest.next() {
            let name = key
                .strip_prefix("--")
                .ok_or_else(|| format!("expected --flag, got {key:?}"))?;
            let value = rest
                .next()
                .ok_or_else(|| format!("--{name} needs a value"))?;
            map.insert(name.to_string(), value.clone());
        }
        Ok(Self(map))
    }

    fn text(&self, name: &str) -> Result<&str, String> {
        self.0
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| format!("--{name} is required"))
    }

    fn path(&self, name: &str) -> Result<PathBuf, String> {
        self.text(name).map(PathBuf::from)
    }

    fn number<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        match self.0.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| format!("--{name} {v:?} is not a number")),
        }
    }
}

fn run(command: &str, flags: &Flags) -> Result<(), String> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    match command {
        "images" => {
            let sources = images::load_sources(&flags.path("sources")?)?;
            let out = flags.path("out")?;
            let count = flags.number("count", 2000)?;
            let total = images::generate(&sources, &out, count, flags.number("threads", cores)?)?;
            eprintln!(
                "{count} images in {}: {:.0} MB, {:.0} KB on average",
                out.display(),
                total as f64 / 1e6,
                total as f64 / 1e3 / count.max(1) as f64
            );
            Ok(())
        }
        "serve" => serve::serve(
            flags.path("dir")?,
            flags.number("count", 2000)?,
            flags.number("port", 8787)?,
            flags.number("threads", 1)?,
        ),
        "fetch" => stages::fetch(
            &flags.path("urls")?,
            flags.number("concurrency", 32)?,
            flags.number("per-host", 32)?,
        ),
        "prepare" => stages::prepare(
            &flags.path("dir")?,
            flags.number("limit", usize::MAX)?,
            flags.number("threads", cores)?,
            flags.0.get("model-dir").map(PathBuf::from),
        ),
        "embed" => stages::embed(&stages::EmbedRun {
            dir: flags.path("dir")?,
            limit: flags.number("limit", usize::MAX)?,
            model_dir: flags.path("model-dir")?,
            device: flags.text("device").unwrap_or("cpu").parse()?,
            batch: flags.number("batch", 32)?,
            precision: flags.text("precision").unwrap_or("f32").parse()?,
            threads: flags.number("threads", cores)?,
        }),
        "steps" => steps::steps(&flags.path("dir")?, flags.number("limit", usize::MAX)?),
        other => Err(format!(
            "unknown command {other:?}: images, serve, fetch, prepare, steps or embed"
        )),
    }
}

fn main() {
    // `cargo test --all-targets` runs benches too: only work under `cargo bench`.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        println!("scan_throughput: benchmark tools; run scripts/bench-scan.sh");
        return;
    }
    let args: Vec<String> = args.into_iter().filter(|a| a != "--bench").collect();
    let Some((command, rest)) = args.split_first() else {
        eprintln!("usage: see the header of benches/scan_throughput/main.rs");
        std::process::exit(2);
    };
    if let Err(e) = Flags::parse(rest).and_then(|flags| run(command, &flags)) {
        eprintln!("scan_throughput {command}: {e}");
        std::process::exit(1);
    }
}
