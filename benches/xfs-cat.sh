#!/usr/bin/env bash
# Times `coldscan cat` of a 1 GiB file inside an XFS image against the kernel's own XFS driver
# (the image loop-mounted, plain `cat`), both cold: every run starts with the page cache
# dropped, so both read the image from disk. xfsprogs has no file copy-out (`xfs_db` prints
# metadata only), so the kernel is the baseline. The file is written through the mount in
# synced 1 MiB chunks, interleaved with a second file, so it has many extents.
#
#   benches/xfs-cat.sh [WORKDIR]     (default: target/bench; needs root for the loop mount)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$root/target/bench}
mkdir -p "$work"
"$root/testdata/install-tools.sh"
cargo build --release -q --manifest-path "$root/Cargo.toml" -p coldscan
bin=$root/target/release/coldscan
img=$work/xfs-1g.img
mnt=$work/xfs-mnt
mkdir -p "$mnt"
if [[ ! -f $img ]]; then
  truncate -s 2500M "$img"
  mkfs.xfs -q -f "$img"
  mount -o loop,allocsize=64k "$img" "$mnt"
  /usr/bin/python3 - "$mnt" <<'PY'
import os, sys
a = open(os.path.join(sys.argv[1], "big"), "wb")
b = open(os.path.join(sys.argv[1], "other"), "wb")
for _ in range(1024):
    for f in (a, b):
        f.write(os.urandom(1 << 20)); f.flush(); os.fsync(f.fileno())
PY
  umount "$mnt"
fi
mount -o loop,ro "$img" "$mnt"
trap 'umount "$mnt"' EXIT
xfs_db -r -c 'path /big' -c 'print core.format core.nextents' "$img"
cmp <("$bin" cat "$img" /big) "$mnt/big"
drop='sync; echo 3 > /proc/sys/vm/drop_caches'
hyperfine --warmup 1 --runs 5 --prepare "$drop" --export-markdown "$work/xfs-cat.md" \
  -n "coldscan cat (cold)" "$bin cat $img /big > /dev/null" \
  -n "kernel XFS: loop mount + cat (cold)" "cat $mnt/big > /dev/null"
cat "$work/xfs-cat.md"
