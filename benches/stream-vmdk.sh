#!/usr/bin/env bash
# The headline benchmark: `coldscan packages` (image → partitions → ext4 → OS → dpkg database)
# of a 20 GiB-virtual streamOptimized VMDK holding ~650 MB of real files, against
#   * `qemu-img convert -O raw` of the same image (the full decompression a naive tool pays),
#   * inflating only as many compressed bytes as coldscan's `bytes_read` says it read (the limit),
# and the same for the disk as compressed qcow2 and as dynamic VHD. Figures go to
# WORKDIR/stream-vmdk.md; peak RSS of each coldscan run is printed.
#   benches/stream-vmdk.sh [WORKDIR]     (default: target/bench)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$root/target/bench}
mkdir -p "$work"
"$root/testdata/install-tools.sh"
"$root/testdata/make-images.sh"
cargo build --release -q --manifest-path "$root/Cargo.toml" -p coldscan
bin=$root/target/release/coldscan
vmdk=$root/testdata/generated/big-stream.vmdk
[[ -f $work/big.qcow2 ]] || qemu-img convert -f vmdk -O qcow2 -c "$vmdk" "$work/big.qcow2"
[[ -f $work/big.vhd ]] || qemu-img convert -f vmdk -O vpc -o subformat=dynamic "$vmdk" "$work/big.vhd"

# The limit: inflate grains of the stream VMDK, in file order, until as many compressed bytes
# as coldscan read have been inflated.
read_bytes=$("$bin" inspect --format json "$vmdk" | python3 -c 'import json,sys; print(json.load(sys.stdin)["image"]["bytes_read"])')
cat > "$work/inflate-limit.py" <<'PY'
import struct, sys, zlib
path, budget = sys.argv[1], int(sys.argv[2])
with open(path, "rb") as f:
    header = f.read(512)
    pos = struct.unpack("<Q", header[64:72])[0] * 512  # overhead: first grain marker
    done = 0
    while done < budget:
        f.seek(pos)
        marker = f.read(16)
        if len(marker) < 16:
            break
        lba, size = struct.unpack("<QI", marker[:12])
        if size == 0:  # metadata marker: skip its sectors
            pos += 512 + lba * 512
            continue
        data = marker[12:] + f.read(size - 4)
        zlib.decompress(data)
        done += size
        pos += (12 + size + 511) // 512 * 512
PY
hyperfine --warmup 1 --runs 5 --export-markdown "$work/stream-vmdk.md" \
  -n "coldscan packages (stream VMDK)" "$bin packages --format json $vmdk > /dev/null" \
  -n "qemu-img convert -O raw (stream VMDK)" "qemu-img convert -f vmdk -O raw $vmdk $work/out.raw" \
  -n "inflate bytes_read only (limit)" "python3 $work/inflate-limit.py $vmdk $read_bytes" \
  -n "coldscan packages (qcow2 -c)" "$bin packages --format json $work/big.qcow2 > /dev/null" \
  -n "qemu-img convert -O raw (qcow2 -c)" "qemu-img convert -f qcow2 -O raw $work/big.qcow2 $work/out.raw" \
  -n "coldscan packages (vhd dynamic)" "$bin packages --format json $work/big.vhd > /dev/null" \
  -n "qemu-img convert -O raw (vhd dynamic)" "qemu-img convert -f vpc -O raw $work/big.vhd $work/out.raw"
rm -f "$work/out.raw"
cat "$work/stream-vmdk.md"
echo "bytes_read by coldscan: $read_bytes of $(stat -c %s "$vmdk") bytes in the file"
for f in "$vmdk" "$work/big.qcow2" "$work/big.vhd"; do
  /usr/bin/time -f "peak RSS of coldscan packages $(basename "$f"): %M KiB" "$bin" packages --format json "$f" > /dev/null
done
