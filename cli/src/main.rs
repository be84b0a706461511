//! `coldscan`: find known vulnerabilities in virtual-machine disk images without booting them.
//!
//! This file parses arguments and maps what happened to the exit status, once ([`Outcome`]).

#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use coldscan::commands::scan::{ScanFormat, TerminalProgress};
use coldscan::commands::{self, Format, PackagesFormat, INTERRUPTED};
use coldscan_core::scan::{parse_ignore_file, parse_severity, Settings};
use coldscan_core::vulndb::VulnDb;
use coldscan_host::db::{load_db, BUNDLED_DB};
use coldscan_host::output::{finding_count, write_scan};
use coldscan_host::table::TableStyle;
use coldscan_host::{HostError, ImageArgs};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::Ordering;

#[derive(Parser, Debug)]
#[command(name = "coldscan", about = "Find known vulnerabilities in VM disk images without booting them")]
struct Cli {
    #[command(subcommand)]
    command: Command,

    /// Memory budget for parsing the image (e.g. 64MiB, 8M, 1048576).
    #[arg(long, global = true, default_value = "64MiB", value_parser = parse_mem_limit, env = "COLDSCAN_MEM_LIMIT")]
    mem_limit: usize,

    /// Most bytes one scan reads from the image and the files it names; an image that makes
    /// the scan read more (re-reading the same bytes) ends it incomplete (e.g. 16GiB, 512M).
    #[arg(long, global = true, default_value = "16GiB", value_parser = parse_read_limit, env = "COLDSCAN_READ_LIMIT")]
    read_limit: u64,

    /// Write the output to this file instead of standard output.
    #[arg(short = 'o', long, global = true, env = "COLDSCAN_OUTPUT")]
    output: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Find known vulnerabilities in images, extracted root directories, or `-` (a pipe).
    Scan {
        /// Disk images, directories, or `-` for standard input (a gzip stream is inflated).
        #[arg(required = true)]
        images: Vec<PathBuf>,
        /// Output format (several images: one document each, one per line for json).
        #[arg(short = 'f', long, value_enum, default_value_t = ScanFormat::Table, env = "COLDSCAN_FORMAT")]
        format: ScanFormat,
        /// Keep only these severities (comma-separated: CRITICAL,HIGH,MEDIUM,LOW,UNKNOWN).
        #[arg(short = 's', long, value_delimiter = ',', env = "COLDSCAN_SEVERITY")]
        severity: Vec<String>,
        /// Drop vulnerabilities that have no fix yet.
        #[arg(long, env = "COLDSCAN_IGNORE_UNFIXED")]
        ignore_unfixed: bool,
        /// Exit with this status when vulnerabilities remain after the filters.
        #[arg(long, default_value_t = 0, env = "COLDSCAN_EXIT_CODE")]
        exit_code: u8,
        /// An incomplete scan exits with the status its findings alone would give, not 4.
        #[arg(long, env = "COLDSCAN_ALLOW_INCOMPLETE")]
        allow_incomplete: bool,
        /// Vulnerability database file (default: the bundled one).
        #[arg(long, env = "COLDSCAN_DB")]
        db: Option<PathBuf>,
        /// Vulnerability ids to ignore, one per line (`.trivyignore` lines: `exp:` dates and
        /// comments). Default: `.coldscanignore` when it exists.
        #[arg(long, env = "COLDSCAN_IGNOREFILE")]
        ignorefile: Option<PathBuf>,
        /// OpenVEX or CycloneDX VEX document; `not_affected` and `fixed` statements suppress
        /// findings (may be repeated).
        #[arg(long, env = "COLDSCAN_VEX")]
        vex: Vec<PathBuf>,
        /// Stop each scan after this long (e.g. 90s, 5m, 1h); the report is then incomplete.
        #[arg(long, value_parser = parse_duration, env = "COLDSCAN_TIMEOUT")]
        timeout: Option<std::time::Duration>,
        /// List every package in the table too.
        #[arg(long, env = "COLDSCAN_LIST_ALL_PKGS")]
        list_all_pkgs: bool,
        /// No progress display (warnings are still printed).
        #[arg(short = 'q', long, env = "COLDSCAN_QUIET")]
        quiet: bool,
    },
    /// The vulnerability database.
    Db {
        #[command(subcommand)]
        command: DbCommand,
        /// Vulnerability database file (default: the bundled one).
        #[arg(long, global = true, env = "COLDSCAN_DB")]
        db: Option<PathBuf>,
    },
    /// Show the image's layers: format, volumes, filesystems, operating systems, kernels.
    Inspect {
        /// Disk image (any container coldscan reads).
        image: PathBuf,
        /// Output format.
        #[arg(short = 'f', long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// List installed packages: of every root in an image, of an extracted root directory,
    /// or of one package database file (rpmdb, dpkg status, apk installed).
    Packages {
        /// Disk image, directory or database file.
        image: PathBuf,
        /// Output format.
        #[arg(short = 'f', long, value_enum, default_value_t = PackagesFormat::Table)]
        format: PackagesFormat,
    },
    /// List a directory inside the image (read-only), like `ls -l`.
    Ls {
        /// Disk image.
        image: PathBuf,
        /// Path inside the image.
        #[arg(default_value = "/")]
        path: String,
        /// Volume to read (`gpt:1`, `mbr:5`, `whole`, `lvm:VG/LV`); default: the one with an OS.
        #[arg(long)]
        volume: Option<String>,
        /// Output format (`json`: one object per line).
        #[arg(short = 'f', long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Write a file from inside the image to standard output (read-only).
    Cat {
        /// Disk image.
        image: PathBuf,
        /// Path inside the image.
        path: String,
        /// Volume to read (`gpt:1`, `mbr:5`, `whole`, `lvm:VG/LV`); default: the one with an OS.
        #[arg(long)]
        volume: Option<String>,
    },
    /// Print a shell completion script.
    Completion {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

#[derive(Subcommand, Debug)]
enum DbCommand {
    /// Build time, sources, platforms with their coverage, and counts.
    Info {
        /// Output format.
        #[arg(short = 'f', long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

fn parse_mem_limit(s: &str) -> Result<usize, String> {
    let bytes = parse_size::parse_size(s).map_err(|e| e.to_string())?;
    usize::try_from(bytes).map_err(|_| format!("{s} is larger than this machine can address"))
}

fn parse_read_limit(s: &str) -> Result<u64, String> {
    parse_size::parse_size(s).map_err(|e| e.to_string())
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let (number, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = number.parse().map_err(|_| format!("{s}: expected a number with s, m or h"))?;
    let seconds = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return Err(format!("{s}: expected a number with s, m or h")),
    };
    Ok(std::time::Duration::from_secs(seconds))
}

/// How one run (one image, for `scan`) ended; the worst of several decides the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    /// Nothing to report.
    Clean,
    /// Findings remained with `--exit-code N`.
    Findings(u8),
    /// The scan was incomplete (and `--allow-incomplete` was not given).
    Incomplete,
    /// A usage error found after parsing (an unknown volume id).
    Usage,
    /// The image could not be read at all.
    Unreadable,
    /// The report could not be written.
    OutputFailed,
    /// Ctrl-C or SIGTERM.
    Interrupted,
}

impl Outcome {
    /// The exit status (DESIGN.md's contract).
    fn status(self) -> u8 {
        match self {
            Outcome::Clean => 0,
            Outcome::Findings(n) => n,
            Outcome::Usage => 2,
            Outcome::Unreadable => 3,
            Outcome::Incomplete => 4,
            Outcome::OutputFailed => 5,
            Outcome::Interrupted => 130,
        }
    }

    fn of_error(e: &HostError) -> Self {
        match e {
            HostError::Output(_) => Outcome::OutputFailed,
            HostError::Usage(_) => Outcome::Usage,
            HostError::Io(..) | HostError::Scan(_) => Outcome::Unreadable,
        }
    }
}

/// The version line: the program's and the bundled DB's build date.
fn long_version() -> &'static str {
    let built = VulnDb::open(BUNDLED_DB).map(|db| db.meta.built_at.to_string()).unwrap_or_default();
    Box::leak(format!("{} (bundled vulnerability DB built {built})", env!("CARGO_PKG_VERSION")).into_boxed_str())
}

fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

/// Scan settings from the command line, the ignore file and the VEX documents.
#[allow(clippy::too_many_arguments)]
fn settings(
    severity: &[String],
    ignore_unfixed: bool,
    ignorefile: Option<&Path>,
    vex: &[PathBuf],
) -> Result<Settings, (Outcome, String)> {
    let usage = |text: String| (Outcome::Usage, text);
    let mut s = Settings::new(&today());
    for name in severity.iter().filter(|n| !n.trim().is_empty()) {
        let sev = parse_severity(name)
            .ok_or_else(|| usage(format!("unknown severity {name} (use CRITICAL,HIGH,MEDIUM,LOW,UNKNOWN)")))?;
        s.severities.push(sev);
    }
    s.ignore_unfixed = ignore_unfixed;
    let default_ignore = Path::new(".coldscanignore");
    let ignore_path = ignorefile.or(default_ignore.exists().then_some(default_ignore));
    if let Some(path) = ignore_path {
        let text = std::fs::read_to_string(path).map_err(|e| usage(format!("{}: {e}", path.display())))?;
        s.ignore = parse_ignore_file(&text);
    }
    for path in vex {
        let text = std::fs::read_to_string(path).map_err(|e| usage(format!("{}: {e}", path.display())))?;
        let statements = coldscan_core::vex::parse(&text).map_err(|e| usage(format!("{}: {e}", path.display())))?;
        s.vex.extend(statements);
    }
    Ok(s)
}

/// The output: `--output FILE`, or standard output.
fn output(path: Option<&Path>) -> Result<Box<dyn Write>, HostError> {
    Ok(match path {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p)
                .map_err(|e| HostError::Output(std::io::Error::new(e.kind(), format!("{}: {e}", p.display()))))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    })
}

#[allow(clippy::too_many_arguments)]
fn scan(
    cli: &Cli,
    images: &[PathBuf],
    format: ScanFormat,
    settings: &Settings,
    exit_code: u8,
    allow_incomplete: bool,
    db_path: Option<&Path>,
    timeout: Option<std::time::Duration>,
    list_all_pkgs: bool,
    quiet: bool,
) -> Outcome {
    let bytes = match load_db(db_path) {
        Ok(b) => b,
        Err(e) => return fail(&e),
    };
    let db = match VulnDb::open(&bytes) {
        Ok(db) => db,
        Err(e) => return fail(&HostError::Scan(e)),
    };
    let mut out = match output(cli.output.as_deref()) {
        Ok(o) => o,
        Err(e) => return fail(&e),
    };
    let style = TableStyle::for_stdout(list_all_pkgs);
    let mut worst = Outcome::Clean;
    for image in images {
        let args = ImageArgs { image: image.clone(), mem_limit: cli.mem_limit, read_limit: cli.read_limit };
        let progress = TerminalProgress::new(quiet, timeout, &INTERRUPTED);
        let result = coldscan_host::scan::scan(&args, &db, settings, &progress);
        progress.finish();
        let outcome = match result {
            Ok(report) => {
                let written = write_scan(&report, format.into(), &mut out, &mut std::io::stderr(), &style);
                if let Err(e) = written.and_then(|()| out.flush().map_err(HostError::Output)) {
                    fail(&e)
                } else if INTERRUPTED.load(Ordering::Relaxed) {
                    Outcome::Interrupted
                } else if !report.scan.complete && !allow_incomplete {
                    Outcome::Incomplete
                } else if exit_code != 0 && finding_count(&report) > 0 {
                    Outcome::Findings(exit_code)
                } else {
                    Outcome::Clean
                }
            }
            Err(e) => {
                eprintln!("coldscan: error: {}: {e}", image.display());
                Outcome::of_error(&e)
            }
        };
        worst = worst.max(outcome);
    }
    worst
}

fn fail(e: &HostError) -> Outcome {
    match e {
        // A closed pipe (`coldscan cat … | head`) is not a failure.
        HostError::Output(io) if io.kind() == std::io::ErrorKind::BrokenPipe => Outcome::Clean,
        _ => {
            eprintln!("coldscan: error: {e}");
            Outcome::of_error(e)
        }
    }
}

fn run(cli: &Cli) -> Outcome {
    let image =
        |image: &PathBuf| ImageArgs { image: image.clone(), mem_limit: cli.mem_limit, read_limit: cli.read_limit };
    let simple = |f: &dyn Fn(&mut dyn Write) -> Result<(), HostError>| -> Outcome {
        let result = output(cli.output.as_deref()).and_then(|mut out| {
            f(&mut out)?;
            out.flush().map_err(HostError::Output)
        });
        result.map_or_else(|e| fail(&e), |()| Outcome::Clean)
    };
    match &cli.command {
        Command::Scan {
            images,
            format,
            severity,
            ignore_unfixed,
            exit_code,
            allow_incomplete,
            db,
            ignorefile,
            vex,
            timeout,
            list_all_pkgs,
            quiet,
        } => match settings(severity, *ignore_unfixed, ignorefile.as_deref(), vex) {
            Ok(s) => scan(
                cli,
                images,
                *format,
                &s,
                *exit_code,
                *allow_incomplete,
                db.as_deref(),
                *timeout,
                *list_all_pkgs,
                *quiet,
            ),
            Err((outcome, text)) => {
                eprintln!("coldscan: error: {text}");
                outcome
            }
        },
        Command::Db { command: DbCommand::Info { format }, db } => simple(&|out| {
            let bytes = load_db(db.as_deref())?;
            commands::db::info(&bytes, *format, out)
        }),
        Command::Inspect { image: path, format } => simple(&|out| commands::inspect::run(&image(path), *format, out)),
        Command::Packages { image: path, format } => simple(&|out| commands::packages::run(&image(path), *format, out)),
        Command::Ls { image: path, path: inner, volume, format } => {
            simple(&|out| commands::ls::run(&image(path), inner, volume.as_deref(), *format, out))
        }
        Command::Cat { image: path, path: inner, volume } => {
            simple(&|out| commands::cat::run(&image(path), inner, volume.as_deref(), out))
        }
        Command::Completion { shell } => simple(&|out| {
            clap_complete::generate(*shell, &mut Cli::command(), "coldscan", out);
            Ok(())
        }),
    }
}

fn main() -> ExitCode {
    let cli = Cli::command().version(long_version());
    let cli = match Cli::from_arg_matches_mut(&mut cli.get_matches()) {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    // Ctrl-C and SIGTERM stop the scan at its next read; spool files are removed on the way out.
    let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::Relaxed));
    ExitCode::from(run(&cli).status())
}
