#!/usr/bin/env bash
# Times `coldscan cat` of a 1 GiB zstd-compressed file inside a btrfs image against the
# kernel's own btrfs driver (the image loop-mounted, plain `cat`), both cold: every run starts
# with the page cache dropped. The file (base64 text: compressible, not trivially) is written
# through a `compress-force=zstd` mount, so every extent of it is a compressed one.
#
#   benches/btrfs-zstd-cat.sh [WORKDIR]     (default: target/bench; needs root for the loop mount)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$root/target/bench}
mkdir -p "$work"
"$root/testdata/install-tools.sh"
cargo build --release -q --manifest-path "$root/Cargo.toml" -p coldscan
bin=$root/target/release/coldscan
img=$work/btrfs-zstd-1g.img
mnt=$work/btrfs-mnt
mkdir -p "$mnt"
if [[ ! -f $img ]]; then
  truncate -s 3G "$img"
  mkfs.btrfs -q -f "$img" >/dev/null
  mount -o loop,compress-force=zstd "$img" "$mnt"
  { base64 -w 76 /dev/urandom || true; } | head -c $((1024 * 1024 * 1024)) > "$mnt/big.txt"
  umount "$mnt"
fi
mount -o loop,ro "$img" "$mnt"
trap 'umount "$mnt"' EXIT
echo "zstd extents: $(btrfs inspect-internal dump-tree -t 5 "$img" | grep -c 'compression 3')"
cmp <("$bin" cat "$img" /big.txt) "$mnt/big.txt"
drop='sync; echo 3 > /proc/sys/vm/drop_caches'
hyperfine --warmup 1 --runs 5 --prepare "$drop" --export-markdown "$work/btrfs-zstd-cat.md" \
  -n "coldscan cat (cold)" "$bin cat $img /big.txt > /dev/null" \
  -n "kernel btrfs: loop mount + cat (cold)" "cat $mnt/big.txt > /dev/null"
cat "$work/btrfs-zstd-cat.md"
