//! The `provenance` command: parses the command line and hands over to the
//! library. Everything else lives in `provenance::cli` and below.

fn main() -> std::process::ExitCode {
    provenance::cli::main()
}
