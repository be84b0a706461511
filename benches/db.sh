#!/usr/bin/env bash
# Vulnerability DB figures: build time of the bundled DB from the shared data (db-builder,
# release build), blob size raw and gzip'd, and the cost of opening it (`coldscan db info`,
# which opens the blob and walks its platform list; process start-up included).
#   benches/db.sh [WORKDIR]     (default: target/bench)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$root/target/bench}
mkdir -p "$work"
cargo build --release -q --manifest-path "$root/Cargo.toml" -p coldscan-db-builder -p coldscan
hyperfine --runs 3 --export-markdown "$work/db-build.md" \
  -n "coldscan-db-builder (bulk + subset + Alma OSV)" \
  "DB_BUILDER=$root/target/release/coldscan-db-builder $root/host/assets/build-db.sh $work/db.blob 2>/dev/null"
hyperfine --warmup 3 --runs 30 --export-markdown "$work/db-open.md" \
  -n "coldscan db info (bundled DB)" "$root/target/release/coldscan db info > /dev/null" \
  -n "coldscan --version (process start-up only)" "$root/target/release/coldscan --version > /dev/null"
cat "$work/db-build.md" "$work/db-open.md"
echo "blob: $(stat -c %s "$work/db.blob") bytes; gzip -9: $(gzip -9 -c "$work/db.blob" | wc -c) bytes"
