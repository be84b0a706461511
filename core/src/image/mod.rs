//! Image containers: which format a source is, and the guest disk inside it.
//!
//! Detection is by magic, never by file name. Each format is a [`ReadAt`] over the guest disk,
//! so everything above (volumes, filesystems, packages) reads every format the same way.
//! Files an image names (a qcow2 backing file, VMDK extents) are opened through an [`Opener`]
//! the front end supplies; the core does no I/O of its own.

mod chunked;
pub mod qcow2;
pub mod tar;
pub mod vdi;
pub mod vhd;
pub mod vhdx;
pub mod vmdk;

use crate::budget::Budget;
use crate::error::{Error, ErrorKind, Layer, Result};
use crate::io::{ReadAt, ReadAtExt};
use alloc::boxed::Box;

/// A container format recognised by its magic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    /// Raw disk bytes (also the fallback when nothing else matches).
    Raw,
    /// VMDK hosted sparse extent (`KDMV`).
    VmdkSparse,
    /// VMDK text descriptor (`# Disk DescriptorFile`).
    VmdkDescriptor,
    /// QEMU copy-on-write v2/v3 (`QFI\xfb`).
    Qcow2,
    /// Hyper-V VHDX (`vhdxfile`).
    Vhdx,
    /// Virtual PC VHD (`conectix` footer).
    Vhd,
    /// VirtualBox VDI.
    Vdi,
    /// A tar archive (OVA, Vagrant box).
    Tar,
}

impl ImageFormat {
    /// The name used in reports (`image.format`).
    pub fn name(self) -> &'static str {
        match self {
            ImageFormat::Raw => "raw",
            ImageFormat::VmdkSparse => "vmdk-sparse",
            ImageFormat::VmdkDescriptor => "vmdk-descriptor",
            ImageFormat::Qcow2 => "qcow2",
            ImageFormat::Vhdx => "vhdx",
            ImageFormat::Vhd => "vhd",
            ImageFormat::Vdi => "vdi",
            ImageFormat::Tar => "tar",
        }
    }
}

/// Recognises the container format of `source` by its magic numbers.
pub fn detect(source: &dyn ReadAt) -> Result<ImageFormat> {
    let size = source.size();
    if size == 0 {
        return Err(Error::new(Layer::Image, "image", 0, ErrorKind::Corrupt("empty image (0 bytes)")));
    }
    let mut head = [0u8; 512];
    let n = size.min(512) as usize;
    let head = crate::io::piece(&mut head, 0, n, (Layer::Image, "image", 0))?;
    source.read_at(0, head)?;
    let head = &*head;
    let format = if head.starts_with(b"KDMV") {
        ImageFormat::VmdkSparse
    } else if head.starts_with(b"# Disk DescriptorFile") || head.starts_with(b"# Disk Descriptor File") {
        ImageFormat::VmdkDescriptor
    } else if head.starts_with(b"QFI\xfb") {
        ImageFormat::Qcow2
    } else if head.starts_with(b"vhdxfile") {
        ImageFormat::Vhdx
    } else if head.get(0x40..0x44) == Some(&[0x7f, 0x10, 0xda, 0xbe][..]) {
        ImageFormat::Vdi
    } else if head.get(257..262) == Some(&b"ustar"[..]) {
        ImageFormat::Tar
    } else if head.starts_with(b"conectix")
        || (size >= 512 && source.read_array::<8>(size.saturating_sub(512))? == *b"conectix")
    {
        ImageFormat::Vhd
    } else {
        ImageFormat::Raw
    };
    Ok(format)
}

/// Opens files an image refers to by name (backing files, extents), looked up beside the
/// image by the front end. Names with directory parts are the front end's to refuse.
pub trait Opener {
    /// The file called `name` (it may borrow the opener: a reader counted by a meter the
    /// opener holds).
    fn open(&self, name: &str) -> Result<Box<dyn ReadAt + '_>>;
}

impl<T: Opener + ?Sized> Opener for &T {
    fn open(&self, name: &str) -> Result<Box<dyn ReadAt + '_>> {
        (**self).open(name)
    }
}

/// An [`Opener`] that opens nothing: for sources with no files beside them (a pipe, memory).
#[derive(Debug, Clone, Copy)]
pub struct NoFiles;

impl Opener for NoFiles {
    fn open(&self, _name: &str) -> Result<Box<dyn ReadAt + '_>> {
        Err(Error::new(Layer::Image, "opener", 0, ErrorKind::NotFound))
    }
}

/// Most backing files followed in a chain.
const MAX_BACKING_DEPTH: usize = 8;

/// The guest disk of an image, and the container's subformat.
pub struct GuestDisk<'a> {
    /// Container and subformat (`raw`, `qcow2`, `vmdk-stream`, `vhd-dynamic`, …).
    pub format: &'static str,
    /// The guest disk's bytes.
    pub disk: Box<dyn ReadAt + 'a>,
    /// Problems that did not stop the disk from being read (a VMDK read by scanning markers).
    pub warnings: alloc::vec::Vec<Error>,
}

impl core::fmt::Debug for GuestDisk<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "GuestDisk({}, {} bytes)", self.format, self.disk.size())
    }
}

/// Opens the guest disk of `source`, whatever its container.
pub fn open<'a, F: ReadAt + 'a>(source: F, opener: &'a dyn Opener, budget: &Budget) -> Result<GuestDisk<'a>> {
    open_at_depth(source, opener, budget, 0)
}

fn open_at_depth<'a, F: ReadAt + 'a>(
    source: F,
    opener: &'a dyn Opener,
    budget: &Budget,
    depth: usize,
) -> Result<GuestDisk<'a>> {
    let format = detect(&source)?;
    let mut warnings = alloc::vec::Vec::new();
    let (name, disk): (&'static str, Box<dyn ReadAt + 'a>) = match format {
        ImageFormat::Raw => ("raw", Box::new(source)),
        ImageFormat::Qcow2 => ("qcow2", qcow2::open(source, opener, budget, depth)?),
        ImageFormat::VmdkSparse => {
            let (disk, name) = vmdk::open_sparse(source, budget, &mut warnings)?;
            (name, disk)
        }
        ImageFormat::VmdkDescriptor => {
            let (disk, name) = vmdk::open_descriptor(&source, opener, budget, &mut warnings)?;
            (name, disk)
        }
        ImageFormat::Vhd => {
            let (disk, name) = vhd::open(source, budget)?;
            (name, disk)
        }
        ImageFormat::Vhdx => ("vhdx", vhdx::open(source, budget, &mut warnings)?),
        ImageFormat::Vdi => {
            let (disk, name) = vdi::open(source, budget)?;
            (name, disk)
        }
        ImageFormat::Tar => {
            let (_member, start, len) = tar::find_disk(&source)?;
            if depth >= MAX_BACKING_DEPTH {
                return Err(Error::new(Layer::Image, "tar", 0, ErrorKind::LoopLimit("nested archives")));
            }
            // Boxed, so that reading a member does not make a new type per nesting level.
            let member: Box<dyn ReadAt + 'a> =
                Box::new(crate::io::Window::new(source, start, len, Layer::Image, "tar"));
            let inner = open_at_depth(member, opener, budget, depth.saturating_add(1))?;
            warnings.extend(inner.warnings);
            (ova_name(inner.format), inner.disk)
        }
    };
    Ok(GuestDisk { format: name, disk, warnings })
}

/// The format name of a disk found inside a tar archive.
fn ova_name(inner: &'static str) -> &'static str {
    match inner {
        "vmdk-stream" => "ova/vmdk-stream",
        "vmdk-sparse" => "ova/vmdk-sparse",
        "raw" => "ova/raw",
        "qcow2" => "ova/qcow2",
        "vhd-fixed" | "vhd-dynamic" => "ova/vhd",
        "vhdx" => "ova/vhdx",
        "vdi-static" | "vdi-dynamic" => "ova/vdi",
        _ => "ova",
    }
}

/// Opens the backing image called `name` (any format), following at most
/// [`MAX_BACKING_DEPTH`] links.
fn open_backing<'a>(name: &str, opener: &'a dyn Opener, budget: &Budget, depth: usize) -> Result<Box<dyn ReadAt + 'a>> {
    if depth >= MAX_BACKING_DEPTH {
        return Err(Error::new(Layer::Image, "backing", 0, ErrorKind::LoopLimit("backing file chain")));
    }
    let file = opener.open(name).map_err(|e| match e.kind {
        ErrorKind::NotFound => {
            Error::new(Layer::Image, "backing", 0, ErrorKind::Unsupported("backing file not found beside the image"))
        }
        _ => e,
    })?;
    Ok(open_at_depth(file, opener, budget, depth.saturating_add(1))?.disk)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_magic() {
        let mut img = [0u8; 1024];
        assert_eq!(detect(&&img[..]).unwrap(), ImageFormat::Raw);
        img[..4].copy_from_slice(b"QFI\xfb");
        assert_eq!(detect(&&img[..]).unwrap(), ImageFormat::Qcow2);
        let mut vhd = [0u8; 1024];
        vhd[512..520].copy_from_slice(b"conectix");
        assert_eq!(detect(&&vhd[..]).unwrap(), ImageFormat::Vhd);
        assert!(detect(&&[][..]).is_err());
        assert_eq!(detect(&&b"mock"[..]).unwrap(), ImageFormat::Raw);
    }
}
