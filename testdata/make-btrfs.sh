#!/usr/bin/env bash
# Builds the btrfs test filesystems with real tools, each beside what it must hold.
# Idempotent: rebuilds only when this script changed since the last build.
#
#   testdata/make-btrfs.sh [OUTDIR]        (default: testdata/generated-btrfs)
#
# Needs: btrfs-progs, util-linux (sfdisk, loop mounts), python3, root, and make-images.sh's
# trees (built first). The openSUSE-style disk takes the NDB rpmdb of ../shared/testdata-real
# when it is there (it is not copied into the project: the image is built at test time).
#
# Each NAME.img has NAME.manifest.tsv (testdata/manifest.py of the tree it was built from, or
# of the kernel's mount of the default subvolume) and NAME.proof (counts read back by
# `btrfs inspect-internal dump-tree`/`dump-super`, proving the structures it is meant to test):
#   rootdir-16k.img    mkfs.btrfs --rootdir, 16 KiB nodes, DUP metadata
#   rootdir-4k.img     mkfs.btrfs --rootdir, 4 KiB nodes, SINGLE metadata
#   zstd.img           kernel-written (mount -o compress=zstd): the tree, compressible files, a
#                      20,000-entry directory, a 5 GiB sparse file, a reflinked copy, hard links,
#                      a subvolume and a snapshot of it
#   lzo.img, zlib.img  kernel-written with compress=lzo / compress=zlib
#   opensuse.img       GPT disk, btrfs with `@`, `@/var`, `@/home`, `@/.snapshots` and the
#                      snapshot `@/.snapshots/1/snapshot` set as default; its fstab mounts the
#                      others with subvol=; SLES 15 with the shared NDB rpmdb in
#                      /usr/lib/sysimage/rpm (when ../shared is present)
#   fedora.img         bare btrfs with `root` and `home` subvolumes (no default set), zstd,
#                      fstab with subvol=root / subvol=home; the fixture rpmdb (sqlite)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/generated-btrfs}
shared_ndb=$here/../../shared/testdata-real/rpmdb/sle15-bci-ndb-head/Packages.db
want=$( (cat "$0" "$here/fixture-lib.sh" "$here/manifest.py"; [[ -f $shared_ndb ]] && echo with-ndb) | sha256sum | cut -c1-16)
. "$here/fixture-lib.sh"
begin_fixtures "$out" "$want"
gen="$here/generated"
tree="$gen/tree"
mnt=$(mktemp -d)
trap 'umount -R "$mnt" 2>/dev/null || true; rmdir "$mnt" 2>/dev/null || true' EXIT

manifest() { /usr/bin/env python3 "$here/manifest.py" "$@"; }
count() { grep -c -- "$1" || true; }

# ---- mkfs.btrfs --rootdir -------------------------------------------------------------------
truncate -s 256M rootdir-16k.img
mkfs.btrfs -q -f -n 16384 -m dup --rootdir "$tree" rootdir-16k.img >/dev/null
truncate -s 256M rootdir-4k.img
mkfs.btrfs -q -f -n 4096 -m single --rootdir "$tree" rootdir-4k.img >/dev/null
manifest "$tree" > rootdir-16k.manifest.tsv
cp rootdir-16k.manifest.tsv rootdir-4k.manifest.tsv
for img in rootdir-16k rootdir-4k; do
  {
    echo "nodesize $(btrfs inspect-internal dump-super "$img.img" | awk '/^nodesize/ {print $2}')"
    echo "metadata-dup $(btrfs inspect-internal dump-tree -t chunk "$img.img" | count 'type METADATA|DUP')"
    echo "metadata-single $(btrfs inspect-internal dump-tree -t chunk "$img.img" | count 'type METADATA|single')"
  } > "$img.proof"
done

# ---- kernel-written, compressed -----------------------------------------------------------
populate() {
  local root=$1
  cp -a "$tree/." "$root/"
  /usr/bin/python3 - "$root" <<'PY'
import os, random, sys
root = sys.argv[1]
rng = random.Random(20261130)
# Compressible data (text-like), in files of many sizes: whole, partial and inline extents.
words = [rng.randbytes(rng.randint(2, 9)).hex().encode() for _ in range(300)]
def text(n):
    out = bytearray()
    while len(out) < n:
        out += rng.choice(words) + b" "
    return bytes(out[:n])
os.makedirs(f"{root}/text", exist_ok=True)
for n in [1, 100, 2000, 4095, 4096, 4097, 70000, 131072, 131073, 1000000, 3 << 20]:
    open(f"{root}/text/t{n}", "wb").write(text(n))
# Incompressible data next to compressible data in one file.
open(f"{root}/text/mixed", "wb").write(text(300000) + rng.randbytes(300000) + text(300000))
# A directory of 20,000 entries.
os.makedirs(f"{root}/big", exist_ok=True)
for i in range(20000):
    open(f"{root}/big/entry-{i:05d}", "wb").write(b"%d\n" % i if i % 100 == 0 else b"")
# A sparse file past 4 GiB, data at both ends and in the middle.
with open(f"{root}/sparse-5g.bin", "wb") as f:
    f.write(text(1 << 20))
    f.seek(3 << 30)
    f.write(rng.randbytes(8192))
    f.seek((5 << 30) - 100)
    f.write(text(100))
# Preallocated space around written data.
with open(f"{root}/prealloc.bin", "wb") as f:
    os.posix_fallocate(f.fileno(), 0, 4 << 20)
    f.seek(1 << 20)
    f.write(rng.randbytes(8192))
os.link(f"{root}/text/t2000", f"{root}/text/hardlink-to-t2000")
os.symlink("text/t100", f"{root}/link-to-t100")
os.symlink("x" * 3000, f"{root}/long-link")
PY
  cp --reflink=always "$root/text/t1000000" "$root/text/reflink-of-t1000000"
}
for algo in zstd lzo zlib; do
  truncate -s 8G "$algo.img"
  mkfs.btrfs -q -f "$algo.img" >/dev/null
  mount -o loop,compress-force=$algo "$algo.img" "$mnt"
  populate "$mnt"
  if [[ $algo == zstd ]]; then
    btrfs -q subvolume create "$mnt/sub"
    cp -a "$tree/etc" "$mnt/sub/"
    btrfs -q subvolume snapshot "$mnt/sub" "$mnt/snap"
    echo "written after the snapshot" > "$mnt/sub/only-in-sub"
  fi
  sync
  manifest "$mnt" > "$algo.manifest.tsv"
  umount "$mnt"
  {
    echo "compressed-extents $(btrfs inspect-internal dump-tree -t 5 "$algo.img" | count "compression $( case $algo in zlib) echo 1;; lzo) echo 2;; zstd) echo 3;; esac)")"
    echo "inline-extents $(btrfs inspect-internal dump-tree -t 5 "$algo.img" | count 'inline extent')"
    echo "prealloc-extents $(btrfs inspect-internal dump-tree -t 5 "$algo.img" | count 'type 2 (prealloc)')"
    # A reflinked copy shares its extents: disk byte numbers listed twice.
    echo "shared-extents $(btrfs inspect-internal dump-tree -t 5 "$algo.img" | grep -o 'disk byte [0-9]*' | sort | uniq -d | wc -l)"
    echo "dir-index-big $(btrfs inspect-internal dump-tree -t 5 "$algo.img" | count 'DIR_INDEX')"
    echo "subvolumes $(btrfs inspect-internal dump-tree -t root "$algo.img" | count 'ROOT_REF')"
  } > "$algo.proof"
done

# ---- openSUSE-style disk --------------------------------------------------------------------
truncate -s 2G opensuse.img
sfdisk -q opensuse.img <<'SF'
label: gpt
label-id: 7D3A2B10-9C8E-4F6A-B1C2-D3E4F5A6B7C8
start=2048, size=8MiB, type=21686148-6449-6E6F-744E-656564454649, name="p.legacy"
type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="p.lxroot"
SF
start=$(sfdisk -J opensuse.img | python3 -c "import json,sys; print(json.load(sys.stdin)['partitiontable']['partitions'][1]['start'])")
truncate -s $((2048 * 1024 * 1024 - start * 512 - 34 * 512)) suse-part.btrfs
mkfs.btrfs -q -f -L suse suse-part.btrfs >/dev/null
mount -o loop suse-part.btrfs "$mnt"
btrfs -q subvolume create "$mnt/@"
for sub in var home .snapshots; do btrfs -q subvolume create "$mnt/@/$sub"; done
mkdir -p "$mnt/@/.snapshots/1"
btrfs -q subvolume create "$mnt/@/.snapshots/1/snapshot"
snap="$mnt/@/.snapshots/1/snapshot"
mkdir -p "$snap/etc" "$snap/usr/lib/sysimage/rpm" "$snap/var" "$snap/home" "$snap/.snapshots"
cat > "$snap/etc/os-release" <<'EOF'
NAME="SLES"
VERSION="15-SP4"
VERSION_ID="15.4"
PRETTY_NAME="SUSE Linux Enterprise Server 15 SP4"
ID="sles"
ID_LIKE="suse"
CPE_NAME="cpe:/o:suse:sles:15:sp4"
EOF
uuid=$(btrfs inspect-internal dump-super suse-part.btrfs | awk '/^fsid/ {print $2}')
cat > "$snap/etc/fstab" <<EOF
UUID=$uuid  /            btrfs  defaults              0  0
UUID=$uuid  /var         btrfs  subvol=/@/var         0  0
UUID=$uuid  /home        btrfs  subvol=/@/home        0  0
UUID=$uuid  /.snapshots  btrfs  subvol=/@/.snapshots  0  0
EOF
if [[ -f $shared_ndb ]]; then cp "$shared_ndb" "$snap/usr/lib/sysimage/rpm/Packages.db"; fi
mkdir -p "$mnt/@/var/log" "$mnt/@/var/lib/zypp" "$mnt/@/home/user"
echo "zypper history" > "$mnt/@/var/log/zypp-history"
echo "a user's file" > "$mnt/@/home/user/notes"
id=$(btrfs subvolume list "$mnt" | awk '$NF == "@/.snapshots/1/snapshot" {print $2}')
btrfs subvolume set-default "$id" "$mnt"
btrfs subvolume get-default "$mnt" > opensuse.default
btrfs subvolume list "$mnt" > opensuse.subvolumes
umount "$mnt"
# The booted view: the default subvolume with its fstab's subvolumes on top.
mount -o loop suse-part.btrfs "$mnt"
for sub in var home .snapshots; do mount -o loop,subvol=/@/$sub suse-part.btrfs "$mnt/$sub"; done
manifest "$mnt" > opensuse.manifest.tsv
umount -R "$mnt"
dd if=suse-part.btrfs of=opensuse.img bs=1M seek=$((start * 512)) oflag=seek_bytes conv=notrunc,sparse status=none
rm suse-part.btrfs

# ---- Fedora-style (bare volume, no default subvolume) --------------------------------------
truncate -s 1G fedora.img
mkfs.btrfs -q -f -L fedora fedora.img >/dev/null
mount -o loop,compress=zstd:1 fedora.img "$mnt"
btrfs -q subvolume create "$mnt/root"
btrfs -q subvolume create "$mnt/home"
cp -a "$gen/rpm-root/." "$mnt/root/"
rm -f "$mnt/root/etc/os-release"
printf 'NAME="Fedora Linux"\nVERSION="39 (Cloud Edition)"\nID=fedora\nVERSION_ID=39\nPRETTY_NAME="Fedora Linux 39 (Cloud Edition)"\n' > "$mnt/root/etc/os-release"
mkdir -p "$mnt/root/home"
uuid=$(btrfs filesystem show "$mnt" | awk '/uuid:/ {print $NF}')
printf 'UUID=%s / btrfs subvol=root,compress=zstd:1 0 0\nUUID=%s /home btrfs subvol=home,compress=zstd:1 0 0\n' "$uuid" "$uuid" > "$mnt/root/etc/fstab"
mkdir -p "$mnt/home/fedora"
echo "fedora's file" > "$mnt/home/fedora/notes"
umount "$mnt"
mount -o loop,subvol=root fedora.img "$mnt"
mount -o loop,subvol=home fedora.img "$mnt/home"
manifest "$mnt" > fedora.manifest.tsv
umount -R "$mnt"

finish_fixtures "$out" "$want"
echo "btrfs fixtures ready in $out"
