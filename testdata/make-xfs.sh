#!/usr/bin/env bash
# Builds the XFS test filesystems with real tools, each beside a manifest of what it must hold.
# Idempotent: rebuilds only when this script changed since the last build.
#
#   testdata/make-xfs.sh [OUTDIR]        (default: testdata/generated-xfs)
#
# Needs: xfsprogs (mkfs.xfs, xfs_db), python3, util-linux (losetup via mount -o loop), root for
# the loop mount, and testdata/make-images.sh's source tree (built first when missing).
#
# Images (sparse), each NAME.img with NAME.manifest.tsv (path, type, mode, size, sha256 or link
# target — taken from the tree the image was built from, or from the kernel's mount of it) and
# NAME.formats.tsv (path, data fork format, size, extents — read back by `xfs_db -r`):
#   proto-v5.img          mkfs.xfs -p protofile, v5 (CRC) defaults, 4 KiB blocks
#   proto-v4.img          v4 (-m crc=0)
#   proto-1k.img          1 KiB blocks
#   proto-64k.img         64 KiB blocks
#   proto-4kn.img         4096-byte sectors
#   proto-noftype.img     v4 without ftype in directory entries (-n ftype=0)
#   kernel-v5.img         written by the kernel through a loop mount: the tree, a 25,000-entry
#                         directory with a deleted range (holes and freed leaf space), two files
#                         written in interleaved synced chunks (btree extent forks), a 5 GiB
#                         sparse file, remote symlinks, preallocated (unwritten) space
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/generated-xfs}
want=$(cat "$0" "$here/fixture-lib.sh" "$here/manifest.py" | sha256sum | cut -c1-16)
. "$here/fixture-lib.sh"
begin_fixtures "$out" "$want"
tree="$here/generated/tree"

# mkfs.xfs refuses filesystems under 300 MB unless run as xfstests does.
export TEST_DIR=1 TEST_DEV=1 QA_CHECK_FS=1

# Manifest of a tree (testdata/manifest.py).
manifest() {
  /usr/bin/env python3 "$here/manifest.py" "$@"
}

# Protofile of a tree (mkfs.xfs -p): directories, regular files, symlinks; mode and owner kept.
protofile() {
  /usr/bin/env python3 - "$1" <<'PY'
import os, stat, sys
root = sys.argv[1]
def spec(st):
    perm = stat.S_IMODE(st.st_mode)
    return ("u" if perm & stat.S_ISUID else "-") + ("g" if perm & stat.S_ISGID else "-") + f"{perm & 0o777:03o}"
def emit(path, depth):
    for name in sorted(os.listdir(path)):
        full = os.path.join(path, name)
        st = os.lstat(full)
        ind = " " * depth
        own = f"{st.st_uid} {st.st_gid}"
        if stat.S_ISDIR(st.st_mode):
            print(f"{ind}{name} d{spec(st)} {own}")
            emit(full, depth + 1)
            print(f"{ind}$")
        elif stat.S_ISLNK(st.st_mode):
            print(f"{ind}{name} l{spec(st)} {own} {os.readlink(full)}")
        elif stat.S_ISREG(st.st_mode):
            print(f"{ind}{name} -{spec(st)} {own} {full}")
st = os.lstat(root)
print("/dev/null\n0 0")
print(f"d{spec(st)} {st.st_uid} {st.st_gid}")
emit(root, 1)
print("$")
PY
}

# Data fork format, size and extent count of each PATH, as xfs_db reads them.
formats() {
  local img=$1
  shift
  for path in "$@"; do
    local fmt size ext
    fmt=$(xfs_db -r -c "path $path" -c "print core.format" "$img" | awk '{print $3}')
    size=$(xfs_db -r -c "path $path" -c "print core.size" "$img" | awk '{print $3}')
    ext=$(xfs_db -r -c "path $path" -c "print core.nextents" "$img" | awk '{print $3}')
    printf '%s\t%s\t%s\t%s\n' "$path" "$fmt" "$size" "$ext"
  done
}

# ---- protofile images -------------------------------------------------------------------
protofile "$tree" > proto.txt
manifest "$tree" protofile > tree.manifest.tsv
probe_paths=(/ /many /etc /usr/lib/os-release /data)
build_proto() {
  local name=$1
  shift
  truncate -s 512M "$name.img"
  mkfs.xfs -q -f "$@" -p proto.txt "$name.img"
  cp tree.manifest.tsv "$name.manifest.tsv"
  formats "$name.img" "${probe_paths[@]}" > "$name.formats.tsv"
}
build_proto proto-v5
build_proto proto-v4 -m crc=0
build_proto proto-1k -b size=1024
build_proto proto-64k -b size=65536
build_proto proto-4kn -s size=4096
build_proto proto-noftype -m crc=0 -n ftype=0
rm -f tree.manifest.tsv proto.txt

# ---- kernel-written image ---------------------------------------------------------------
truncate -s 2G kernel-v5.img
mkfs.xfs -q -f kernel-v5.img
mnt=$(mktemp -d)
# allocsize=4k turns off speculative preallocation, so each synced chunk is an extent of its own.
mount -o loop,allocsize=4k kernel-v5.img "$mnt"
trap 'umount "$mnt" 2>/dev/null || true; rmdir "$mnt"' EXIT
cp -a "$tree/." "$mnt/"
/usr/bin/env python3 - "$mnt" <<'PY'
import os, random, sys
root = sys.argv[1]
rng = random.Random(20261130)
# A directory of 25,000 entries (node/btree form), then a range deleted: its data blocks are
# freed (holes in the directory's address space) and leaf space is left free.
big = os.path.join(root, "big")
os.mkdir(big)
for i in range(25000):
    with open(os.path.join(big, f"entry-with-a-longish-name-{i:05d}"), "wb") as f:
        if i % 1000 == 0:
            f.write(rng.randbytes(100 + i // 10))
for i in range(6000, 12000):
    os.unlink(os.path.join(big, f"entry-with-a-longish-name-{i:05d}"))
for i in range(20000, 25000, 3):
    os.unlink(os.path.join(big, f"entry-with-a-longish-name-{i:05d}"))
# Two files grown in alternating 64 KiB synced chunks: hundreds of extents each (btree fork).
frag = os.path.join(root, "frag")
os.mkdir(frag)
fa = open(os.path.join(frag, "a.bin"), "wb")
fb = open(os.path.join(frag, "b.bin"), "wb")
for _ in range(400):
    for f in (fa, fb):
        f.write(rng.randbytes(65536))
        f.flush()
        os.fsync(f.fileno())
fa.close()
fb.close()
# A sparse file past 4 GiB with data at both ends and in the middle.
with open(os.path.join(root, "sparse-5g.bin"), "wb") as f:
    f.write(rng.randbytes(1 << 20))
    f.seek(3 << 30)
    f.write(rng.randbytes(4096))
    f.seek((5 << 30) - 100)
    f.write(rng.randbytes(100))
# Preallocated space reads as zeros (unwritten extents), around written data.
with open(os.path.join(root, "prealloc.bin"), "wb") as f:
    os.posix_fallocate(f.fileno(), 0, 4 << 20)
    f.seek(1 << 20)
    f.write(rng.randbytes(8192))
# Remote symlinks (targets too long for the inode) and an inline one.
os.symlink("x/" * 300 + "target", os.path.join(root, "long-link"))
os.symlink("y" * 1000, os.path.join(root, "longest-link"))
os.symlink("usr/lib/os-release", os.path.join(root, "short-link"))
PY
sync
manifest "$mnt" > kernel-v5.manifest.tsv
umount "$mnt"
rmdir "$mnt"
trap - EXIT
formats kernel-v5.img / /big /frag/a.bin /frag/b.bin /sparse-5g.bin /prealloc.bin /long-link /longest-link /short-link \
  > kernel-v5.formats.tsv

finish_fixtures "$out" "$want"
echo "XFS fixtures ready in $out"
