//! Image containers: which format a source is, and the guest disk inside it.
//!
//! Detection is by magic, never by file name. Today the guest disk is read from `raw` images;
//! the other containers are recognised and named, so a scan says clearly what it got instead of
//! misreading, e.g., a qcow2 file as a disk without partitions.

use crate::error::{Error, ErrorKind, Layer, Result};
use crate::io::{ReadAt, ReadAtExt};

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
    source.read_at(0, &mut head[..n])?;
    let head = &head[..n];
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
    } else if head.starts_with(b"conectix") || (size >= 512 && source.read_array::<8>(size - 512)? == *b"conectix") {
        ImageFormat::Vhd
    } else {
        ImageFormat::Raw
    };
    Ok(format)
}

/// Opens the guest disk of `source`: the source itself for raw images; a clear error naming
/// the container for formats not read yet.
pub fn guest_disk(source: &dyn ReadAt, format: ImageFormat) -> Result<&dyn ReadAt> {
    match format {
        ImageFormat::Raw => Ok(source),
        other => Err(Error::new(
            Layer::Image,
            other.name(),
            0,
            ErrorKind::Unsupported("this container format is recognised but not read yet"),
        )),
    }
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
