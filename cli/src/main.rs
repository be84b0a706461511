//! `coldscan`: find known vulnerabilities in virtual-machine disk images without booting them.

use clap::{Parser, Subcommand};
use coldscan::commands::scan::{ScanFormat, ScanOptions};
use coldscan::commands::{self, CommandError, Format, ImageArgs, PackagesFormat};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit status when the image could not be read at all.
const EXIT_UNREADABLE: u8 = 3;

#[derive(Parser, Debug)]
#[command(name = "coldscan", version, about = "Find known vulnerabilities in VM disk images without booting them")]
struct Cli {
    #[command(subcommand)]
    command: Command,

    /// Memory budget for parsing the image (e.g. 64MiB, 8M, 1048576).
    #[arg(long, global = true, default_value = "64MiB", value_parser = parse_mem_limit)]
    mem_limit: usize,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Find known vulnerabilities in an image, an extracted root directory, or `-` (a pipe).
    Scan {
        /// Disk image, directory, or `-` for standard input.
        image: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ScanFormat::Table)]
        format: ScanFormat,
        /// Write the report to this file instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
        /// Keep only these severities (comma-separated: CRITICAL,HIGH,MEDIUM,LOW,UNKNOWN).
        #[arg(long, value_delimiter = ',')]
        severity: Vec<String>,
        /// Drop vulnerabilities that have no fix yet.
        #[arg(long)]
        ignore_unfixed: bool,
        /// Exit with this status when vulnerabilities remain after the filters.
        #[arg(long, default_value_t = 0)]
        exit_code: u8,
        /// Vulnerability database file (default: the bundled one).
        #[arg(long)]
        db: Option<PathBuf>,
        /// No warnings on standard error.
        #[arg(long)]
        quiet: bool,
    },
    /// The vulnerability database.
    Db {
        #[command(subcommand)]
        command: DbCommand,
        /// Vulnerability database file (default: the bundled one).
        #[arg(long, global = true)]
        db: Option<PathBuf>,
    },
    /// Show the image's layers: format, volumes, filesystems, operating systems, kernels.
    Inspect {
        /// Disk image (raw; other containers are recognised).
        image: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// List installed packages: of every root in an image, of an extracted root directory,
    /// or of one package database file (rpmdb, dpkg status, apk installed).
    Packages {
        /// Disk image, directory or database file.
        image: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = PackagesFormat::Table)]
        format: PackagesFormat,
    },
    /// List a directory inside the image (read-only), like `ls -l`.
    Ls {
        /// Disk image.
        image: PathBuf,
        /// Path inside the image.
        #[arg(default_value = "/")]
        path: String,
        /// Volume to read (`gpt:1`, `mbr:5`, `whole`); default: the one with an OS.
        #[arg(long)]
        volume: Option<String>,
        /// Output format (`json`: one object per line).
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Write a file from inside the image to standard output (read-only).
    Cat {
        /// Disk image.
        image: PathBuf,
        /// Path inside the image.
        path: String,
        /// Volume to read (`gpt:1`, `mbr:5`, `whole`); default: the one with an OS.
        #[arg(long)]
        volume: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
enum DbCommand {
    /// Build time, sources, platforms and counts.
    Info,
}

/// Days after which the database counts as stale.
const STALE_DAYS: i64 = 30;

fn parse_mem_limit(s: &str) -> Result<usize, String> {
    let bytes = parse_size::parse_size(s).map_err(|e| e.to_string())?;
    usize::try_from(bytes).map_err(|_| format!("{s} is larger than this machine can address"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let image = |image: &PathBuf| ImageArgs { image: image.clone(), mem_limit: cli.mem_limit };
    let mut findings_exit = None;
    let result = match &cli.command {
        Command::Scan { image: path, format, output, severity, ignore_unfixed, exit_code, db, quiet } => {
            let severities: Vec<String> = severity.iter().map(|s| s.to_ascii_uppercase()).collect();
            let known = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"];
            if let Some(bad) = severities.iter().find(|s| !known.contains(&s.as_str())) {
                eprintln!("coldscan: error: unknown severity {bad} (use {})", known.join(","));
                return ExitCode::from(2);
            }
            let opts = ScanOptions { severities, ignore_unfixed: *ignore_unfixed };
            (|| -> Result<(), CommandError> {
                let bytes = commands::scan::load_db(db.as_deref())?;
                if !quiet {
                    if let Some(days) = commands::db::age_days(&bytes).filter(|&d| d > STALE_DAYS) {
                        eprintln!(
                            "coldscan: warning: the vulnerability DB is {days} days old; pass a newer one with --db"
                        );
                    }
                }
                let report = commands::scan::report(&image(path), &bytes, &opts, &commands::scan::progress(*quiet))?;
                match output {
                    Some(file) => {
                        let mut f =
                            std::fs::File::create(file).map_err(|e| CommandError::Io(file.display().to_string(), e))?;
                        commands::scan::write(&report, *format, &mut f)?;
                    }
                    None => commands::scan::write(&report, *format, &mut out)?,
                }
                if *exit_code != 0 && commands::scan::finding_count(&report) > 0 {
                    findings_exit = Some(*exit_code);
                }
                Ok(())
            })()
        }
        Command::Db { command: DbCommand::Info, db } => {
            commands::scan::load_db(db.as_deref()).and_then(|bytes| commands::db::info(&bytes, &mut out))
        }
        Command::Inspect { image: path, format } => commands::inspect::run(&image(path), *format, &mut out),
        Command::Packages { image: path, format } => commands::packages::run(&image(path), *format, &mut out),
        Command::Ls { image: path, path: inner, volume, format } => {
            commands::ls::run(&image(path), inner, volume.as_deref(), *format, &mut out)
        }
        Command::Cat { image: path, path: inner, volume } => {
            commands::cat::run(&image(path), inner, volume.as_deref(), &mut out)
        }
    };
    let result = result.and_then(|()| out.flush().map_err(CommandError::Output));
    match result {
        Ok(()) => findings_exit.map_or(ExitCode::SUCCESS, ExitCode::from),
        // A closed pipe (`coldscan cat … | head`) is not a failure.
        Err(CommandError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            drop(out);
            eprintln!("coldscan: error: {e}");
            ExitCode::from(EXIT_UNREADABLE)
        }
    }
}
