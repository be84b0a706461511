#!/usr/bin/env bash
# Builds the LVM2 test disks with the real lvm2 tools (on loop devices, activation off: there is
# no device-mapper here) and records what lvm2 itself reports about them.
# Idempotent: rebuilds only when this script changed since the last build.
#
#   testdata/make-lvm.sh [OUTDIR]        (default: testdata/generated-lvm)
#
# Needs: lvm2, util-linux (sfdisk, losetup), e2fsprogs, xfsprogs, dosfstools, qemu-img, python3,
# root, and make-images.sh's trees (built first when missing).
#
#   two-pv.raw        GPT with two LVM partitions forming one VG `fixturevg`: `root` (ext4) is
#                     linear in two segments (lvextend after another LV was made), `striped`
#                     (ext4) is striped over both PVs (-i2 -I64k), `other` is linear; the
#                     metadata was rewritten several times (tags, a rename), so the circular
#                     buffer holds older copies. Files: two-pv.lvs.json / .pvs.json (lvs/pvs
#                     --reportformat json), two-pv.root.ext4 / two-pv.striped.ext4 (the
#                     filesystems written into the LVs, for debugfs), two-pv.vgck (vgck's exit).
#   rhel.qcow2        a RHEL-style disk: GPT with an ESP (vfat), /boot (XFS), and a PV holding VG
#                     `rl-sys` with `root` (XFS: a Rocky 9.2 root without its rpmdb), `var` (XFS:
#                     the rpmdb at /var/lib/rpm) and `swap`; fstab mounts them by /dev/mapper
#                     name (with the `--` escape), /dev/VG/LV and UUID=. Also rhel.raw.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/generated-lvm}
want=$(cat "$0" "$here/fixture-lib.sh" | sha256sum | cut -c1-16)
. "$here/fixture-lib.sh"
begin_fixtures "$out" "$want"
mkdir -p lock
gen="$here/generated"
export LVM_SUPPRESS_FD_WARNINGS=1 TEST_DIR=1 TEST_DEV=1 QA_CHECK_FS=1 E2FSPROGS_FAKE_TIME=1700000000 MTOOLS_SKIP_CHECK=1
mib=$((1024 * 1024))

loops=()
cleanup() {
  for l in "${loops[@]}"; do losetup -d "$l" 2>/dev/null || true; done
}
trap cleanup EXIT

# A loop device over partition N of IMAGE (sfdisk's start and size).
loop_part() {
  local img=$1 n=$2 start size
  read -r start size < <(sfdisk -J "$img" | python3 -c "import json,sys; p=json.load(sys.stdin)['partitiontable']['partitions'][$n-1]; print(p['start'], p['size'])")
  losetup -f --show -o $((start * 512)) --sizelimit $((size * 512)) "$img"
}

lvm_cfg() {
  local filter=""
  for dev in "$@"; do filter+="\"a|^$dev\$|\","; done
  echo "devices{use_devicesfile=0 obtain_device_list_from_udev=0 scan=[\"/dev\"] filter=[${filter}\"r|.*|\"]} activation{udev_sync=0 udev_rules=0 monitoring=0} global{activation=0 locking_dir=\"$out/lock\"} backup{backup=0 archive=0}"
}

# Writes FILE into LV of VG at the PV offsets lvs and pvs report: each segment's extents,
# linear, or (for a striped segment, which cannot be written through here without device-mapper)
# laid out over its stripes as RAID-0 does, stripe_size chunks in turn.
write_lv() {
  local cfg=$1 vg=$2 lv=$3 file=$4
  python3 - "$file" \
    "$(lvs --config "$cfg" --noheadings --units b --nosuffix --separator ';' --segments \
        -o seg_start_pe,seg_size_pe,seg_pe_ranges,vg_extent_size,stripe_size "$vg/$lv")" \
    "$(pvs --config "$cfg" --noheadings --units b --nosuffix --separator ';' -o pv_name,pe_start)" <<'PY'
import sys
src, segs, pvs = sys.argv[1], sys.argv[2], sys.argv[3]
pe_start = dict((name.strip(), int(start)) for name, start in (l.split(";") for l in pvs.splitlines()))
data = open(src, "rb").read()
for line in segs.splitlines():
    seg_start, seg_size, ranges, extent, stripe = line.strip().split(";")
    seg_start, seg_size, extent, stripe = int(seg_start), int(seg_size), int(extent), int(stripe)
    stripes = []
    for r in ranges.split():
        dev, span = r.split(":")
        stripes.append((dev, pe_start[dev] + int(span.split("-")[0]) * extent))
    part = data[seg_start * extent:(seg_start + seg_size) * extent]
    chunk = stripe if len(stripes) > 1 else len(part)
    for n, i in enumerate(range(0, len(part), max(chunk, 1))):
        dev, base = stripes[n % len(stripes)]
        with open(dev, "r+b") as h:
            h.seek(base + (n // len(stripes)) * chunk)
            h.write(part[i:i + chunk])
PY
}

# ---- two PVs, two-segment linear root, striped LV --------------------------------------
truncate -s 320M two-pv.raw
sfdisk -q two-pv.raw <<'SF'
label: gpt
label-id: 3C1D9A0E-7B2F-4E51-9A3D-0C4F5E6A7B8C
start=2048, size=150MiB, type=E6D6D379-F507-44C2-A23C-238F2A3DF928, name="pv-a"
size=150MiB, type=E6D6D379-F507-44C2-A23C-238F2A3DF928, name="pv-b"
SF
pa=$(loop_part two-pv.raw 1); loops+=("$pa")
pb=$(loop_part two-pv.raw 2); loops+=("$pb")
cfg=$(lvm_cfg "$pa" "$pb")
pvcreate -q --config "$cfg" "$pa" "$pb" >/dev/null
vgcreate -q --config "$cfg" -s 4M fixturevg "$pa" "$pb" >/dev/null
lvcreate -q --config "$cfg" -an -Zn -L 32M -n root fixturevg "$pa" >/dev/null
lvcreate -q --config "$cfg" -an -Zn -L 16M -n other fixturevg "$pa" >/dev/null
lvextend -q --config "$cfg" -L +32M fixturevg/root "$pa" >/dev/null
lvcreate -q --config "$cfg" -an -Zn -i2 -I64k -L 48M -n stripes fixturevg "$pa" "$pb" >/dev/null
lvrename -q --config "$cfg" fixturevg stripes striped >/dev/null
for tag in one two three; do lvchange -q --config "$cfg" --addtag "$tag" fixturevg/other >/dev/null; done
mkfs.ext4 -q -F -L lvroot -d "$gen/tree" two-pv.root.ext4 64M
write_lv "$cfg" fixturevg root two-pv.root.ext4
mkfs.ext4 -q -F -L lvstriped -d "$gen/tree/data" two-pv.striped.ext4 48M
write_lv "$cfg" fixturevg striped two-pv.striped.ext4
lvs --config "$cfg" --reportformat json --units b -o lv_name,vg_name,lv_size,segtype,stripes,stripe_size,seg_pe_ranges --segments fixturevg > two-pv.lvs.json
pvs --config "$cfg" --reportformat json --units b -o pv_name,pv_uuid,vg_name,pe_start,pv_pe_count > two-pv.pvs.json
if vgck --config "$cfg" fixturevg >/dev/null 2>&1; then echo 0 > two-pv.vgck; else echo 1 > two-pv.vgck; fi
# The committed metadata is the newest of several copies in the circular buffer.
grep -c -a 'seqno = ' two-pv.raw > two-pv.copies || true
cleanup
loops=()

# ---- RHEL-style disk -------------------------------------------------------------------
truncate -s 512M rhel.raw
sfdisk -q rhel.raw <<'SF'
label: gpt
label-id: 5E2B7F10-3C4D-4A6B-8E9F-0A1B2C3D4E5F
start=2048, size=32MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI System Partition", uuid=0E1F2A3B-4C5D-4E6F-8A9B-0C1D2E3F4A01
size=96MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=0E1F2A3B-4C5D-4E6F-8A9B-0C1D2E3F4A02
type=E6D6D379-F507-44C2-A23C-238F2A3DF928, uuid=0E1F2A3B-4C5D-4E6F-8A9B-0C1D2E3F4A03
SF
# Root tree: the Rocky 9.2 root of make-images.sh, its rpmdb moved to /var (RHEL 8 style).
root=$PWD/rhel-root var=$PWD/rhel-var boot=$PWD/rhel-boot
cp -a "$gen/rpm-root" "$root"
rm -rf "$root/var" "$root/usr/lib/sysimage/rpm"
mkdir -p "$root/var" "$root/boot/efi" "$var/lib/rpm" "$var/log" "$boot/grub2"
cp "$gen/rpm-root/usr/lib/sysimage/rpm/rpmdb.sqlite" "$var/lib/rpm/"
echo "kernel fixture" > "$boot/vmlinuz-5.14.0-284.11.1.el9_2.x86_64"
echo "set default=0" > "$boot/grub2/grub.cfg"
xfs_proto() { python3 - "$1" <<'PY'
import os, stat, sys
root = sys.argv[1]
def emit(path, d):
    for name in sorted(os.listdir(path)):
        full = os.path.join(path, name); st = os.lstat(full); ind = " " * d
        perm = f"{stat.S_IMODE(st.st_mode) & 0o777:03o}"
        if stat.S_ISDIR(st.st_mode):
            print(f"{ind}{name} d--{perm} 0 0"); emit(full, d + 1); print(f"{ind}$")
        elif stat.S_ISLNK(st.st_mode):
            print(f"{ind}{name} l--{perm} 0 0 {os.readlink(full)}")
        elif stat.S_ISREG(st.st_mode):
            print(f"{ind}{name} ---{perm} 0 0 {full}")
print("/dev/null\n0 0\nd--755 0 0"); emit(root, 1); print("$")
PY
}
boot_uuid=4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f
xfs_proto "$boot" > boot.proto
truncate -s 96M rhel.boot.xfs
mkfs.xfs -q -f -m uuid=$boot_uuid -L boot -p boot.proto rhel.boot.xfs
dd if=rhel.boot.xfs of=rhel.raw bs=1M seek=33 conv=notrunc status=none
mkfs.vfat -F 16 -n EFI -i 1234ABCD --offset 2048 rhel.raw 32768 >/dev/null 2>&1
cat > "$root/etc/fstab" <<EOF
# Created by anaconda
/dev/mapper/rl--sys-root /                       xfs     defaults        0 0
UUID=$boot_uuid /boot                   xfs     defaults        0 0
UUID=1234-ABCD          /boot/efi               vfat    umask=0077,shortname=winnt 0 2
/dev/rl-sys/var         /var                    xfs     defaults        0 0
/dev/mapper/rl--sys-swap none                    swap    defaults        0 0
tmpfs                   /tmp                    tmpfs   defaults        0 0
EOF
p3=$(loop_part rhel.raw 3); loops+=("$p3")
cfg=$(lvm_cfg "$p3")
pvcreate -q --config "$cfg" "$p3" >/dev/null
vgcreate -q --config "$cfg" -s 4M rl-sys "$p3" >/dev/null
lvcreate -q --config "$cfg" -an -Zn -L 16M -n swap rl-sys >/dev/null
lvcreate -q --config "$cfg" -an -Zn -L 128M -n root rl-sys >/dev/null
lvcreate -q --config "$cfg" -an -Zn -L 64M -n var rl-sys >/dev/null
xfs_proto "$root" > root.proto
truncate -s 128M rhel.root.xfs
mkfs.xfs -q -f -L root -p root.proto rhel.root.xfs
xfs_proto "$var" > var.proto
truncate -s 64M rhel.var.xfs
mkfs.xfs -q -f -L var -p var.proto rhel.var.xfs
write_lv "$cfg" rl-sys root rhel.root.xfs
write_lv "$cfg" rl-sys var rhel.var.xfs
lvs --config "$cfg" --reportformat json --units b -o lv_name,vg_name,lv_size,segtype,seg_pe_ranges --segments rl-sys > rhel.lvs.json
cleanup
loops=()
rm -f rhel.*.xfs ./*.proto
rm -rf "$root" "$var" "$boot" lock
qemu-img convert -f raw -O qcow2 rhel.raw rhel.qcow2
qemu-img compare -q -f raw -F qcow2 rhel.raw rhel.qcow2

finish_fixtures "$out" "$want"
echo "LVM fixtures ready in $out"
