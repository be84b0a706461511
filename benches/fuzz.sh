#!/usr/bin/env bash
# Fuzzes every target of fuzz/ for a fixed time each, two at a time (this machine has 2 cores),
# on the stable toolchain with libFuzzer's instrumentation passes, then minimises each corpus
# into fuzz/corpus/TARGET (inputs up to 16 KiB committed, replayed by the test suite) and writes the figures to
# benches/fuzz-results.md (copied into RESULTS.md by hand).
#
#   benches/fuzz.sh [SECONDS_PER_TARGET [TARGET...]]      (default 120 s, every target)
#
# Naming targets runs only those (after a fix, say) and replaces their rows in the results.
#
# Seeds come from the project's own fixtures (testdata/make-*.sh), never from ../shared.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-120}
root=$PWD
gen=$root/testdata/generated
all=(image pipeline volume ext4 xfs btrfs bdb sqlite ndb rpm_header dpkg apk os_release vercmp vulndb lvm_metadata)
if (($# > 1)); then targets=("${@:2}"); else targets=("${all[@]}"); fi

testdata/make-images.sh >/dev/null
testdata/make-xfs.sh >/dev/null
testdata/make-lvm.sh >/dev/null 2>&1
testdata/make-btrfs.sh >/dev/null

# ---- seeds --------------------------------------------------------------------------------
seeds=$(mktemp -d)
trap 'rm -rf "$seeds"' EXIT
for t in "${all[@]}"; do mkdir -p "$seeds/$t"; done
head_of() { head -c "$2" "$1" > "$3"; }
tiny=$seeds/tiny.raw
truncate -s 2M "$tiny"
printf 'label: gpt\nstart=34, size=3000, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n' | sfdisk -q "$tiny"
mkfs.ext4 -q -F -b 1024 -E offset=17408 -d "$gen/tree/etc" "$tiny" 1400k 2>/dev/null || true
for fmt in raw qcow2 vmdk vpc vdi vhdx; do
  qemu-img convert -f raw -O "$fmt" "$tiny" "$seeds/image/tiny.$fmt"
  cp "$seeds/image/tiny.$fmt" "$seeds/pipeline/"
done
cp "$tiny" "$seeds/volume/gpt-ext4.raw"
head_of "$root/testdata/generated-lvm/two-pv.raw" $((1088 * 1024)) "$seeds/volume/lvm-pv.raw"
head_of "$gen/ext4-1k.img" $((1 << 20)) "$seeds/ext4/ext4-1k"
head_of "$gen/ext4-inline.img" $((1 << 20)) "$seeds/ext4/ext4-inline"
for x in proto-v5 proto-v4 proto-1k; do head_of "$root/testdata/generated-xfs/$x.img" $((1 << 20)) "$seeds/xfs/$x"; done
# btrfs scatters its structures (superblock at 64 KiB, trees megabytes further): its target
# reads a sparse device (coldscan_fuzz::Sparse), so its seeds are the non-zero runs of small
# real filesystems made by mkfs.btrfs --rootdir: mixed block groups, and DUP metadata.
mkdir -p "$seeds/btrfs-root/etc" "$seeds/btrfs-root/var/lib/dpkg"
cp "$gen/tree/usr/lib/os-release" "$seeds/btrfs-root/etc/os-release"
head -c 3000 "$gen/tree/var/lib/dpkg/status" > "$seeds/btrfs-root/var/lib/dpkg/status"
ln -s ../etc/os-release "$seeds/btrfs-root/var/link"
for profile in mixed dup; do
  case $profile in
    mixed) size=16M options=(-M -m single -d single) ;;
    dup) size=128M options=(-m dup -d single) ;;
  esac
  truncate -s $size "$seeds/btrfs-$profile.img"
  mkfs.btrfs -q -f "${options[@]}" -R ^free-space-tree --rootdir "$seeds/btrfs-root" \
    "$seeds/btrfs-$profile.img" > /dev/null 2>&1
  /usr/bin/python3 - "$seeds/btrfs-$profile.img" "$seeds/btrfs/$profile" <<'PY'
import re, struct, sys
data = open(sys.argv[1], "rb").read()
out = bytearray()
# Runs of non-zero bytes (zero gaps of up to 32 bytes kept inside a run), at most 65535 long.
for m in re.finditer(rb"[^\0](?:[^\0]|\0{1,32}(?=[^\0]))*", data, re.S):
    for at in range(m.start(), m.end(), 65535):
        piece = data[at:min(m.end(), at + 65535)]
        out += struct.pack("<IH", at, len(piece)) + piece
# An empty piece at the end gives the device its whole size.
out += struct.pack("<IH", len(data), 0)
open(sys.argv[2], "wb").write(out)
PY
done
head_of "$gen/rpmdb/bdb-le/Packages" $((1 << 20)) "$seeds/bdb/le"
head_of "$gen/rpmdb/bdb-be/Packages" $((1 << 20)) "$seeds/bdb/be"
head_of "$gen/rpmdb/sqlite/rpmdb.sqlite" $((1 << 20)) "$seeds/sqlite/db"
printf 'RpmP\0\0\0\0\0\0\0\0\1\0\0\0' > "$seeds/ndb/header"
/usr/bin/python3 - "$gen/rpmdb/sqlite/rpmdb.sqlite" "$seeds/rpm_header" <<'PY'
import sqlite3, sys
for i, (blob,) in enumerate(sqlite3.connect(sys.argv[1]).execute("SELECT blob FROM Packages LIMIT 4")):
    open(f"{sys.argv[2]}/h{i}", "wb").write(blob)
PY
head_of "$gen/tree/var/lib/dpkg/status" $((256 << 10)) "$seeds/dpkg/status"
cp "$gen/alpine-root/lib/apk/db/installed" "$seeds/apk/installed"
cp "$gen/tree/usr/lib/os-release" "$seeds/os_release/debian"
cp "$gen/rpm-root/etc/os-release" "$seeds/os_release/rocky"
printf '1:2.3-4.el9\0002.3-4.el9~rc1' > "$seeds/vercmp/rpm"
printf '1.2.3-r0\0001.2.3_rc1-r1' > "$seeds/vercmp/apk"
gunzip -c host/assets/coldscan.db.gz > "$seeds/vulndb/head"
truncate -s 1M "$seeds/vulndb/head"
/usr/bin/python3 - "$root/testdata/generated-lvm/two-pv.raw" "$seeds/lvm_metadata/vg" <<'PY'
import sys
data = open(sys.argv[1], "rb").read(2 << 20)
start = data.rfind(b"fixturevg {")
open(sys.argv[2], "wb").write(data[start:data.index(b"\0", start)])
PY

# ---- build (stable, libFuzzer instrumentation) ---------------------------------------------
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Coverflow-checks"
# An explicit --target keeps RUSTFLAGS off build scripts and proc macros (they are not fuzzed).
host=$(rustc -vV | sed -n 's/^host: //p')
CARGO_TARGET_DIR=$root/target/fuzz-bin cargo build --release --manifest-path fuzz/Cargo.toml --features libfuzzer --bins --target "$host"
bin=$root/target/fuzz-bin/$host/release

# ---- run ------------------------------------------------------------------------------------
work=$(mktemp -d)
run_one() {
  local t=$1 max_len=1048576
  case $t in image | pipeline | volume) max_len=2097152 ;; vercmp | os_release | lvm_metadata) max_len=65536 ;; esac
  mkdir -p "$work/$t/corpus" "$work/$t/artifacts"
  cp "$root/fuzz/corpus/$t/"* "$work/$t/corpus/" 2>/dev/null || true
  cp "$seeds/$t/"* "$work/$t/corpus/" 2>/dev/null || true
  (cd "$work/$t" && "$bin/$t" -max_total_time="$seconds" -max_len=$max_len -timeout=20 -rss_limit_mb=2048 \
    -artifact_prefix="$work/$t/artifacts/" -print_final_stats=1 corpus > log 2>&1) || true
}
for ((i = 0; i < ${#targets[@]}; i += 2)); do
  run_one "${targets[i]}" &
  if ((i + 1 < ${#targets[@]})); then run_one "${targets[i + 1]}" & fi
  wait
done

# ---- minimise and report --------------------------------------------------------------------
out=benches/fuzz-results.md
declare -A rows
# Rows of targets not run this time are kept from the last results.
if [[ -f $out ]]; then
  while IFS= read -r line; do
    name=$(echo "$line" | awk -F'|' '{gsub(/ /, "", $2); print $2}')
    [[ " ${all[*]} " == *" $name "* ]] && rows[$name]=$line
  done < <(grep '^| [a-z_0-9]* |' "$out")
fi
for t in "${targets[@]}"; do
  log=$work/$t/log
  runs=$(grep -o 'stat::number_of_executed_units:[[:space:]]*[0-9]*' "$log" | awk '{print $2}' || true)
  speed=$(grep -o 'stat::average_exec_per_sec:[[:space:]]*[0-9]*' "$log" | awk '{print $2}' || true)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | awk '{print $2}' || true)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | awk '{print $2}' || true)
  found=$(find "$work/$t/artifacts" -type f | wc -l)
  rm -rf "fuzz/corpus/$t" && mkdir -p "fuzz/corpus/$t"
  "$bin/$t" -merge=1 "fuzz/corpus/$t" "$work/$t/corpus" > /dev/null 2>&1 || true
  # Only small inputs are committed (large seeds are remade from the fixtures on every run);
  # a whole btrfs filesystem as a sparse device takes some 30 KiB.
  limit=16k
  if [[ $t == btrfs ]]; then limit=48k; fi
  find "fuzz/corpus/$t" -type f -size +$limit -delete
  if ((found > 0)); then mkdir -p "fuzz/artifacts/$t" && cp "$work/$t/artifacts/"* "fuzz/artifacts/$t/"; fi
  kept=$(find "fuzz/corpus/$t" -type f | wc -l)
  rows[$t]="| $t | ${runs:-?} | ${speed:-?} | ${cov:-?} | ${ft:-?} | $kept | $found |"
done
{
  echo "| target | runs | runs/s | coverage (edges) | features | corpus kept | crashes / timeouts / over-budget |"
  echo "|---|---|---|---|---|---|---|"
  for t in "${all[@]}"; do echo "${rows[$t]:-| $t | not run | | | | | |}"; done
  echo
  echo "$(date -u +%F): ${seconds} s per target (${targets[*]}), two targets at a time on $(nproc) cores, stable $(rustc --version | cut -d' ' -f2) with libFuzzer instrumentation."
} > "$out.new"
# A partial run keeps the dates of the earlier runs below its own.
if (($# > 1)) && [[ -f $out ]]; then grep '^[0-9]\{4\}-' "$out" >> "$out.new" || true; fi
mv "$out.new" "$out"
cat "$out"
rm -rf "$work"
