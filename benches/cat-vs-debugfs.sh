#!/usr/bin/env bash
# Times `coldscan cat` of a 1 GiB file inside an ext4 image against `debugfs -R cat` of the
# same file (e2fsprogs, the usual tool) and a plain `cat` of the same bytes from the host
# filesystem (the limit). All three run warm (page cache), side by side, with hyperfine.
#
#   benches/cat-vs-debugfs.sh [WORKDIR]     (default: target/bench)
# Prints a Markdown table and writes it to WORKDIR/cat-vs-debugfs.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$root/target/bench}
mkdir -p "$work/tree"
"$root/testdata/install-tools.sh"
cargo build --release -q --manifest-path "$root/Cargo.toml" -p coldscan
bin=$root/target/release/coldscan

if [[ ! -f $work/ext4-1g.img ]]; then
  head -c $((1024 * 1024 * 1024)) /dev/urandom > "$work/tree/big"
  mkfs.ext4 -q -F -b 4096 -d "$work/tree" "$work/ext4-1g.img" 1200M
fi
# Same bytes, three readers.
cmp <("$bin" cat "$work/ext4-1g.img" /big) "$work/tree/big"

hyperfine --warmup 2 --runs 10 --export-markdown "$work/cat-vs-debugfs.md" \
  -n "coldscan cat" "$bin cat $work/ext4-1g.img /big > /dev/null" \
  -n "debugfs -R cat" "debugfs -R 'cat /big' $work/ext4-1g.img 2>/dev/null > /dev/null" \
  -n "cat (host file, the limit)" "cat $work/tree/big > /dev/null"
cat "$work/cat-vs-debugfs.md"
