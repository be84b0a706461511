//! `inspect`, and the root `ls` and `cat` read: an image opened down to its volumes.

use crate::{HostError, ImageArgs};
use coldscan_core::fs::FileSystem;
use coldscan_core::inspect::{Disk, OpenFs};
use coldscan_core::progress::NoProgress;
use coldscan_core::report::InspectReport;
use coldscan_core::scan::Settings;

/// Inspects the image (container, volumes, filesystems, operating systems) and returns the
/// report, with its path, bytes read and spooled bytes filled in.
pub fn inspect(args: &ImageArgs) -> Result<InspectReport, HostError> {
    let img = args.open(&NoProgress)?;
    let settings = Settings { read_limit: args.read_limit, codecs: crate::codec::native(), ..Settings::new("") };
    let mut report = coldscan_core::scan::inspect_image(&img.source, &img.opener, &settings, &img.budget, &NoProgress)?;
    report.image.path = args.image.display().to_string();
    report.image.spooled = img.spooled.as_ref().map(|(n, _)| *n);
    Ok(report)
}

/// Opens the image at `args` down to the root `ls` and `cat` read — volume `volume`, or the
/// one with an OS — and hands it to `with`, with a note for the front end to show when
/// several volumes hold an OS and none was named (which one is read).
pub fn with_root<T>(
    args: &ImageArgs,
    volume: Option<&str>,
    with: impl FnOnce(&dyn FileSystem, Option<String>) -> Result<T, HostError>,
) -> Result<T, HostError> {
    let img = args.open(&NoProgress)?;
    let disk = Disk::open_with(&img.source, &img.opener, &img.budget, crate::codec::native())?;
    let (fs, note) = open_root(&disk, volume)?;
    with(fs.as_ref(), note)
}

/// The root `ls`/`cat` read: volume `id`, or the one with an OS. An unknown id is a usage
/// error listing the volumes that exist. The second value, when several volumes hold an OS and
/// none was named, is a note saying which one is read.
fn open_root<'a>(disk: &'a Disk<'a>, id: Option<&str>) -> Result<(OpenFs<'a>, Option<String>), HostError> {
    let ids: Vec<String> = disk.table.volumes.iter().map(|v| v.id()).collect();
    if let Some(id) = id {
        if !ids.iter().any(|v| v == id) {
            return Err(HostError::Usage(format!("no volume {id} in this image; it has: {}", ids.join(", "))));
        }
        return Ok((disk.open_volume(Some(id))?.1, None));
    }
    let (chosen, fs) = disk.open_volume(None)?;
    let roots = disk.os_volumes();
    let note = (roots.len() > 1).then(|| {
        format!("the image has several roots ({}); reading {chosen} (choose one with --volume)", roots.join(", "))
    });
    Ok((fs, note))
}
