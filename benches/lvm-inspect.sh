#!/usr/bin/env bash
# Times `coldscan inspect` of the RHEL-style qcow2 disk (GPT, ESP, /boot XFS, an LVM PV with
# root/var/swap LVs, the rpmdb found through fstab) against what the lvm2 tools take just to
# list the LVs (`lvs` on a loop device over the PV of the raw copy: no filesystems, no
# packages). Warm cache, hyperfine side by side.
#
#   benches/lvm-inspect.sh [WORKDIR]     (default: target/bench; needs root for losetup)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$root/target/bench}
mkdir -p "$work/lock"
"$root/testdata/install-tools.sh"
"$root/testdata/make-lvm.sh" >/dev/null 2>&1
cargo build --release -q --manifest-path "$root/Cargo.toml" -p coldscan
bin=$root/target/release/coldscan
lvm=$root/testdata/generated-lvm
read -r start size < <(sfdisk -J "$lvm/rhel.raw" | python3 -c "import json,sys; p=json.load(sys.stdin)['partitiontable']['partitions'][2]; print(p['start'], p['size'])")
loop=$(losetup -f --show -r -o $((start * 512)) --sizelimit $((size * 512)) "$lvm/rhel.raw")
trap 'losetup -d "$loop"' EXIT
cfg="devices{use_devicesfile=0 obtain_device_list_from_udev=0 filter=[\"a|^$loop\$|\",\"r|.*|\"]} global{activation=0 locking_dir=\"$work/lock\"}"
export LVM_SUPPRESS_FD_WARNINGS=1
hyperfine --warmup 3 --runs 20 -N --export-markdown "$work/lvm-inspect.md" \
  -n "coldscan inspect (qcow2: volumes, LVs, fs, OS, 2,001 packages)" "$bin inspect $lvm/rhel.qcow2" \
  -n "lvs (raw PV on a loop device: LV list only)" "lvs --config '$cfg' rl-sys"
cat "$work/lvm-inspect.md"
