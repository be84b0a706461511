#!/usr/bin/env bash
# Installs the Debian packages the fixtures and the oracles need (when missing):
# e2fsprogs (mkfs.ext*, debugfs, e2fsck), fdisk (sfdisk), dosfstools + mtools (FAT ESP),
# util-linux (mkswap), python3, qemu-utils (qemu-img), hyperfine (benchmarks), rpm + rpmbuild and
# python3-rpm (rpm fixtures and the rpm oracle), db-util (db_load), xfsprogs (mkfs.xfs, xfs_db),
# lvm2 (pvcreate, lvcreate, pvs/lvs/vgck), btrfs-progs (mkfs.btrfs, btrfs), mount (losetup),
# squashfs-tools (mksquashfs), gcc-mingw-w64-x86-64 (links the Windows builds), xvfb + xdotool
# (the app's screenshot), time (GNU time: peak RSS of the crafted-image runs).
set -euo pipefail
need=()
for tool in mkfs.ext4:e2fsprogs debugfs:e2fsprogs sfdisk:fdisk mkfs.vfat:dosfstools mcopy:mtools \
            mkswap:util-linux python3:python3 qemu-img:qemu-utils hyperfine:hyperfine flock:util-linux \
            rpm:rpm rpmbuild:rpm db_load:db-util mkfs.xfs:xfsprogs xfs_db:xfsprogs pvcreate:lvm2 \
            mkfs.btrfs:btrfs-progs losetup:mount mksquashfs:squashfs-tools \
            x86_64-w64-mingw32-gcc:gcc-mingw-w64-x86-64 xvfb-run:xvfb xdotool:xdotool \
            dpkg:dpkg /usr/bin/time:time; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || need+=("${tool##*:}")
done
# VMware-style stream VMDK writer (a Python module, so checked by file).
[[ -f /usr/lib/python3/dist-packages/VMDKstream.py ]] || need+=(python3-vmdkstream)
[[ -d /usr/lib/python3/dist-packages/rpm ]] || need+=(python3-rpm)
# Mesa's software Vulkan driver renders the app's snapshot tests (no GPU here).
[[ -f /usr/share/vulkan/icd.d/lvp_icd.x86_64.json ]] || need+=(mesa-vulkan-drivers libvulkan1)
if ((${#need[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-tools: missing ${need[*]}; run as root or install them" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
