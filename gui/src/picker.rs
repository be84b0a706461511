//! File dialogs behind a trait: the app asks a [`FilePicker`]; the real one is rfd's native
//! dialog ([`RfdPicker`]), tests give a fake. rfd is only ever called from the UI thread.

use std::path::PathBuf;

/// The extensions offered by the "Open image…" dialog.
pub const IMAGE_EXTENSIONS: [&str; 9] = ["vmdk", "vhd", "vhdx", "qcow2", "vdi", "img", "raw", "ova", "box"];

/// Asks the user for files.
pub trait FilePicker {
    /// Disk images to scan (none when the dialog is cancelled).
    fn pick_images(&mut self) -> Vec<PathBuf>;
    /// A vulnerability DB blob made by `coldscan-db-builder`.
    fn pick_db(&mut self) -> Option<PathBuf>;
    /// An ignore file or a VEX document (`what` names it in the dialog's title).
    fn pick_file(&mut self, what: &str) -> Option<PathBuf>;
    /// Where to save a report: `name` suggested, `extension` its format's.
    fn save_report(&mut self, name: &str, extension: &str) -> Option<PathBuf>;
}

/// The native dialogs (rfd: the desktop portal or zenity on Linux, the system dialogs on
/// Windows and macOS).
#[derive(Debug, Default)]
pub struct RfdPicker;

impl FilePicker for RfdPicker {
    fn pick_images(&mut self) -> Vec<PathBuf> {
        rfd::FileDialog::new()
            .set_title("Open disk images")
            .add_filter("Disk images", &IMAGE_EXTENSIONS)
            .add_filter("All files", &["*"])
            .pick_files()
            .unwrap_or_default()
    }

    fn pick_db(&mut self) -> Option<PathBuf> {
        rfd::FileDialog::new()
            .set_title("Open a vulnerability DB")
            .add_filter("coldscan DB", &["db"])
            .add_filter("All files", &["*"])
            .pick_file()
    }

    fn pick_file(&mut self, what: &str) -> Option<PathBuf> {
        rfd::FileDialog::new().set_title(format!("Choose {what}")).pick_file()
    }

    fn save_report(&mut self, name: &str, extension: &str) -> Option<PathBuf> {
        rfd::FileDialog::new()
            .set_title("Export the report")
            .set_file_name(name)
            .add_filter(extension, &[extension])
            .save_file()
    }
}
