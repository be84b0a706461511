#!/usr/bin/env bash
# Installs the Debian packages the fixtures and the oracles need (when missing):
# e2fsprogs (mkfs.ext*, debugfs, e2fsck), fdisk (sfdisk), dosfstools + mtools (FAT ESP),
# util-linux (mkswap), python3, qemu-utils (qemu-img), hyperfine (benchmarks).
set -euo pipefail
need=()
for tool in mkfs.ext4:e2fsprogs debugfs:e2fsprogs sfdisk:fdisk mkfs.vfat:dosfstools mcopy:mtools \
            mkswap:util-linux python3:python3 qemu-img:qemu-utils hyperfine:hyperfine flock:util-linux; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || need+=("${tool##*:}")
done
# VMware-style stream VMDK writer (a Python module, so checked by file).
[[ -f /usr/lib/python3/dist-packages/VMDKstream.py ]] || need+=(python3-vmdkstream)
if ((${#need[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-tools: missing ${need[*]}; run as root or install them" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
