#!/usr/bin/env bash
# Times listing the 2,001-package rpm databases of the fixtures (SQLite and BerkeleyDB, made
# by Debian's rpm; see testdata/make-images.sh) with `coldscan packages` against
# `rpm -qa --dbpath` on copies of the same files, side by side with hyperfine.
#   benches/rpmdb-list.sh [WORKDIR]     (default: target/bench)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$root/target/bench}
"$root/testdata/install-tools.sh"
"$root/testdata/make-images.sh"
cargo build --release -q --manifest-path "$root/Cargo.toml" -p coldscan
bin=$root/target/release/coldscan
db=$root/testdata/generated/rpmdb
mkdir -p "$work/rpm-sqlite" "$work/rpm-bdb"
cp "$db/sqlite/rpmdb.sqlite" "$work/rpm-sqlite/"
cp "$db/bdb-le/Packages" "$work/rpm-bdb/"
hyperfine --warmup 2 --runs 20 --export-markdown "$work/rpmdb-list.md" \
  -n "coldscan packages (sqlite)" "$bin packages --format json $work/rpm-sqlite/rpmdb.sqlite > /dev/null" \
  -n "rpm -qa (sqlite)" "rpm --dbpath $work/rpm-sqlite -qa > /dev/null 2>&1" \
  -n "coldscan packages (bdb)" "$bin packages --format json $work/rpm-bdb/Packages > /dev/null" \
  -n "rpm -qa (bdb_ro)" "rpm --dbpath $work/rpm-bdb --define '_db_backend bdb_ro' -qa > /dev/null 2>&1"
cat "$work/rpmdb-list.md"
