//! `coldscan`: find known vulnerabilities in virtual-machine disk images without booting them.

use clap::{Parser, Subcommand};
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

fn parse_mem_limit(s: &str) -> Result<usize, String> {
    let bytes = parse_size::parse_size(s).map_err(|e| e.to_string())?;
    usize::try_from(bytes).map_err(|_| format!("{s} is larger than this machine can address"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let image = |image: &PathBuf| ImageArgs { image: image.clone(), mem_limit: cli.mem_limit };
    let result = match &cli.command {
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
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`coldscan cat … | head`) is not a failure.
        Err(CommandError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            drop(out);
            eprintln!("coldscan: error: {e}");
            ExitCode::from(EXIT_UNREADABLE)
        }
    }
}
