#!/usr/bin/env bash
# Builds coldscan's test images with real tools (sfdisk, mkfs.ext2/3/4 -d, mkfs.vfat, mcopy,
# e2fsck -D). Idempotent: rebuilds only when this script changed since the last build.
#
#   testdata/make-images.sh [--sample] [OUTDIR]        (default: testdata/generated)
#
# With --sample only the README's sample image (and the rpm databases it is made from) is
# built: seconds instead of minutes; a later full build completes the rest.
#
# Needs: util-linux (sfdisk, mkswap), e2fsprogs, dosfstools, mtools, python3.
# Images (all sparse):
#   tree/                 the source tree every filesystem is populated from
#   gpt-cloud.raw         GPT like a cloud image: p14 BIOS boot, p15 FAT ESP, p1 ext4 root
#   mbr-logical.raw       MBR: p1 ext4 (boot), p2 swap, p3 extended → p5 ext3, p6 ext2, p7 ext4 1 KiB
#   bare-ext4.img         ext4 without a partition table, 4 KiB blocks
#   large-file.img        ext4 holding one sparse file just over 4 GiB, data at both ends
#   ext2.img              ext2, 1 KiB blocks: direct, single, double and triple indirect blocks
#   ext4-1k.img           ext4, 1 KiB blocks, 128-byte inodes: a 40 MiB file whose extent tree
#                         has depth 1 (it spans block groups)
#   ext4-inline.img       ext4 with inline_data (small files and directories in the inode)
#   ext4-metabg.img       ext4, 2 KiB blocks, meta_bg group descriptor layout
#   ext4-64k.img          ext4 with 64 KiB blocks
#   ext4-bigalloc.img     ext4 with bigalloc (16 KiB clusters of 4 KiB blocks)
#   htree.img             ext4 with a 20,000-entry htree-indexed directory (e2fsck -D)
#   big-sparse.raw        20 GiB GPT disk with a 20 GiB ext4 root holding the tree
#   rpmdb/                rpm databases made by Debian's rpm from 2,001 rpmbuild packages:
#                         sqlite/ (rpm's own), bdb-le/ and bdb-be/ (same headers via db_load),
#                         wal/ (a committed -wal file), each with rpm -qa's expected.tsv
#   rpm-root.img          ext4 root of a Rocky-like system: the rpmdb under
#                         /usr/lib/sysimage/rpm, /var/lib/rpm a symlink to it
#   containers/           gpt-cloud.raw converted by qemu-img to every format and subformat it
#                         writes (each checked with qemu-img compare), a VMware-style stream
#                         VMDK (python3-vmdkstream), an OVA and a gzip'd Vagrant box
#   sample.img            the README's sample: GPT with an Alpine 3.18.0 root (apk database of
#                         the 3.18.0 base packages) and the Rocky 9.2 root of rpm-root.img
#   big-stream.vmdk       20 GiB-virtual streamOptimized VMDK holding ~650 MB of this machine's
#                         /usr/share (for the memory test and the benchmark)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
sample_only=0
if [[ ${1:-} == --sample ]]; then
  sample_only=1
  shift
fi
out=${1:-$here/generated}
stamp="$out/.stamp"
want=$(cat "$0" "$here"/rpm/* | sha256sum | cut -c1-16)
mkdir -p "$(dirname "$out")"
# Test binaries run in parallel: one builds, the others wait for it.
exec 9>"$out.lock"
flock 9
# A full build serves both modes; a sample-only build serves only --sample.
if [[ -f $stamp && ($(cat "$stamp") == "$want" || ($sample_only == 1 && $(cat "$stamp") == "$want-sample")) ]]; then
  exit 0
fi
rm -rf "$out"
mkdir -p "$out"
cd "$out"

export E2FSPROGS_FAKE_TIME=1700000000
export MTOOLS_SKIP_CHECK=1
mib=$((1024 * 1024))

# ---- the source tree --------------------------------------------------------------------
python3 - tree <<'PY'
import os, random, sys
root = sys.argv[1]
rng = random.Random(20261125)
def write(path, data, mode=0o644):
    full = os.path.join(root, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "wb") as f:
        f.write(data)
    os.chmod(full, mode)
def rand(n):
    return rng.randbytes(n)
# A Debian 12 root in miniature: os-release behind the usual symlink, real dpkg status.
write("usr/lib/os-release", open("/usr/lib/os-release", "rb").read())
os.makedirs(f"{root}/etc", exist_ok=True)
os.symlink("../usr/lib/os-release", f"{root}/etc/os-release")
write("etc/debian_version", b"12.8\n")
write("etc/hostname", b"fixture\n")
write("var/lib/dpkg/status", open("/var/lib/dpkg/status", "rb").read())
write("boot/vmlinuz-6.1.0-13-amd64", rand(3000), 0o600)
write("usr/lib/modules/6.1.0-13-amd64/modules.dep", b"kernel/fs/ext4/ext4.ko:\n")
os.symlink("usr/lib", f"{root}/lib")
# Files of many sizes: inline-able, one block, many blocks, odd sizes.
for n in [0, 1, 5, 59, 60, 61, 1023, 1024, 1025, 4095, 4096, 4097, 65536, 300_000]:
    write(f"data/size-{n}", rand(n))
write("data/random-3m", rand(3 * 1024 * 1024 + 17))
write("usr/bin/tool", rand(20_000), 0o4755)
os.makedirs(f"{root}/tmp", exist_ok=True)
os.chmod(f"{root}/tmp", 0o1777)
# Symlinks: relative, absolute (resolved inside the image), long (slow symlink), a loop.
os.symlink("/etc/hostname", f"{root}/data/abs-link")
os.symlink("../etc/hostname", f"{root}/data/rel-link")
os.symlink("../" * 70 + "etc/hostname", f"{root}/data/long-link")
os.symlink("loop-b", f"{root}/data/loop-a")
os.symlink("loop-a", f"{root}/data/loop-b")
# Sparse: a hole between two data runs.
with open(f"{root}/data/sparse-hole", "wb") as f:
    f.write(rand(5000)); f.seek(10 * 1024 * 1024); f.write(rand(5000))
# A directory of 300 entries (several blocks, linear).
for i in range(300):
    write(f"many/file-{i:04d}", str(i).encode())
PY

tree=$PWD/tree
# part IMAGE SUFFIX: start and size (sectors) of the partition whose node ends in SUFFIX.
part() {
  sfdisk --json "$1" | python3 -c "import json,sys; p=[x for x in json.load(sys.stdin)['partitiontable']['partitions'] if x['node'].endswith('$2')][0]; print(p['start'], p['size'])"
}
ext_common=(-q -F -U 6f0c2a1e-1d7c-4b8e-9a61-3c2d1e0f9a01 -E root_owner=0:0,hash_seed=2b1f7e54-3c9a-4d2e-8f10-6a5b4c3d2e1f)

if ((!sample_only)); then
# ---- bare filesystems -------------------------------------------------------------------
mkfs.ext4 "${ext_common[@]}" -L bare -b 4096 -d "$tree" bare-ext4.img 64M

# large-file: one file just over 4 GiB (i_size_high in use) with data at both ends.
mkdir -p tree-large
python3 - tree-large/over-4g <<'PY'
import sys, random
rng = random.Random(7)
with open(sys.argv[1], "wb") as f:
    f.write(rng.randbytes(70000)); f.seek(4 * 1024**3 + 4096); f.write(rng.randbytes(70000))
PY
mkfs.ext4 "${ext_common[@]}" -L large -b 4096 -d tree-large large-file.img 16M
rm -rf tree-large

# ext2 with 1 KiB blocks: a 70 MiB file needs the triple-indirect block (> 12+256+65536 KiB).
cp -a "$tree" tree-ext2
python3 - tree-ext2/data/triple <<'PY'
import sys, random
rng = random.Random(9)
with open(sys.argv[1], "wb") as f:
    f.write(rng.randbytes(400_000)); f.seek(70 * 1024 * 1024); f.write(rng.randbytes(3000))
PY
mkfs.ext2 "${ext_common[@]}" -L ext2 -b 1024 -d tree-ext2 ext2.img 32M
rm -rf tree-ext2

cp -a "$tree" tree-1k
head -c $((40 * mib)) /dev/urandom > tree-1k/data/spans-groups
mkfs.ext4 "${ext_common[@]}" -L onek -b 1024 -I 128 -d tree-1k ext4-1k.img 64M
rm -rf tree-1k
mkfs.ext4 "${ext_common[@]}" -L inline -O inline_data -d "$tree" ext4-inline.img 32M
mkfs.ext4 "${ext_common[@]}" -L metabg -b 2048 -O meta_bg,^resize_inode -d "$tree" ext4-metabg.img 64M
mkfs.ext4 "${ext_common[@]}" -L big-blocks -b 65536 -d "$tree" ext4-64k.img 64M 2>/dev/null
mkfs.ext4 "${ext_common[@]}" -L bigalloc -b 4096 -O bigalloc -C 16384 -d "$tree" ext4-bigalloc.img 64M 2>/dev/null

mkdir -p tree-htree/big
python3 - tree-htree/big <<'PY'
import os, sys
for i in range(20000):
    open(os.path.join(sys.argv[1], f"entry-with-a-longer-name-{i:05d}"), "w").close()
PY
cp -a "$tree/etc" "$tree/usr" tree-htree/
mkfs.ext4 "${ext_common[@]}" -L htree -b 4096 -N 32768 -d tree-htree htree.img 64M
rm -rf tree-htree
# mke2fs -d writes linear directories; e2fsck -D indexes them (exit 1 = "fixed", expected).
e2fsck -fyD htree.img >/dev/null || [[ $? -eq 1 ]]

# ---- GPT disk like a cloud image -----------------------------------------------------------
truncate -s 128M gpt-cloud.raw
sfdisk -q gpt-cloud.raw <<'SF'
label: gpt
label-id: 6A1C1D3E-5F70-4B8A-9C0D-1E2F3A4B5C6D
first-lba: 34
gpt-cloud.raw14 : start=2048,  size=6144,  type=21686148-6449-6E6F-744E-656564454649, uuid=6A1C1D3E-5F70-4B8A-9C0D-00000000000E, name="bios"
gpt-cloud.raw15 : start=8192,  size=65536, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=6A1C1D3E-5F70-4B8A-9C0D-00000000000F, name="esp"
gpt-cloud.raw1  : start=73728, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=6A1C1D3E-5F70-4B8A-9C0D-000000000001, name="root"
SF
mkfs.vfat --invariant -n EFI -i 1234ABCD --offset 8192 gpt-cloud.raw $((65536 / 2)) >/dev/null 2>&1
mkdir -p esp/EFI/BOOT && printf 'not really an EFI binary\n' > esp/EFI/BOOT/BOOTX64.EFI
mcopy -s -m -i gpt-cloud.raw@@$((8192 * 512)) esp/EFI ::/
rm -rf esp
read -r s n < <(part gpt-cloud.raw raw1)
mkfs.ext4 "${ext_common[@]}" -L cloudimg-rootfs -b 4096 -E offset=$((s * 512)) -d "$tree" gpt-cloud.raw $((n / 2))k

# ---- MBR with an extended partition and logicals -----------------------------------------------
truncate -s 256M mbr-logical.raw
sfdisk -q mbr-logical.raw <<'SF'
label: dos
label-id: 0x12345678
start=2048, size=48MiB, type=83, bootable
size=16MiB, type=82
type=5
size=48MiB, type=83
size=48MiB, type=83
type=83
SF
read -r s n < <(part mbr-logical.raw raw1); mkfs.ext4 "${ext_common[@]}" -L mbr-root -E offset=$((s * 512)) -d "$tree" mbr-logical.raw $((n / 2))k
read -r s n < <(part mbr-logical.raw raw2); dd if=/dev/zero of=swap.img bs=1M count=16 status=none; mkswap -q -L swap swap.img >/dev/null
dd if=swap.img of=mbr-logical.raw bs=512 seek="$s" conv=notrunc,sparse status=none; rm swap.img
read -r s n < <(part mbr-logical.raw raw5); mkfs.ext3 "${ext_common[@]}" -L logical5 -E offset=$((s * 512)) -d "$tree" mbr-logical.raw $((n / 2))k
read -r s n < <(part mbr-logical.raw raw6); mkfs.ext2 "${ext_common[@]}" -L logical6 -E offset=$((s * 512)) -d "$tree" mbr-logical.raw $((n / 2))k
read -r s n < <(part mbr-logical.raw raw7); mkfs.ext4 "${ext_common[@]}" -L logical7 -b 1024 -E offset=$((s * 512)) -d "$tree" mbr-logical.raw $((n / 2))k

# ---- a 20 GiB sparse disk ------------------------------------------------------------------------
truncate -s 20G big-sparse.raw
sfdisk -q big-sparse.raw <<'SF'
label: gpt
start=2048, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="root"
SF
read -r s n < <(part big-sparse.raw raw1)
mkfs.ext4 "${ext_common[@]}" -L big -E offset=$((s * 512)) -d "$tree" big-sparse.raw $((n / 2))k

fi

# ---- rpm databases written by rpm itself ------------------------------------------------------
mkdir -p rpm-build rpmdb
python3 "$here/rpm/gen-spec.py" 2000 > rpm-build/fixture.spec
rpmbuild --quiet --define "_topdir $PWD/rpm-build" -bb rpm-build/fixture.spec >/dev/null 2>&1
rpmroot=$PWD/rpm-root
rpm --root "$rpmroot" --dbpath /usr/lib/sysimage/rpm --initdb
rpm --root "$rpmroot" --dbpath /usr/lib/sysimage/rpm -i --nodeps --noscripts --justdb \
  rpm-build/RPMS/*/*.rpm 2>/dev/null
# rpm -qa as the oracle; a copy is queried because rpm leaves -shm/-wal beside what it opens.
qf='%{NAME}\t%{EPOCH}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%{SOURCERPM}\t%{LICENSE}\t%{VENDOR}\t%{SIZE}\n'
query() { # query DBDIR BACKEND > expected.tsv
  local tmp; tmp=$(mktemp -d)
  cp -r "$1/." "$tmp/"
  rpm --dbpath "$tmp" --define "_db_backend $2" -qa --qf "$qf" 2>/dev/null | sort
  rm -rf "$tmp"
}
mkdir -p rpmdb/sqlite rpmdb/bdb-le rpmdb/bdb-be
cp "$rpmroot/usr/lib/sysimage/rpm/rpmdb.sqlite" rpmdb/sqlite/
rm -f rpmdb/sqlite/rpmdb.sqlite-*
query rpmdb/sqlite sqlite > rpmdb/sqlite/expected.tsv
python3 "$here/rpm/to-bdb.py" rpmdb/sqlite/rpmdb.sqlite rpmdb/bdb-le/Packages 1234
python3 "$here/rpm/to-bdb.py" rpmdb/sqlite/rpmdb.sqlite rpmdb/bdb-be/Packages 4321
rm -f rpmdb/sqlite/rpmdb.sqlite-*
query rpmdb/bdb-le bdb_ro > rpmdb/bdb-le/expected.tsv
query rpmdb/bdb-be bdb_ro > rpmdb/bdb-be/expected.tsv
python3 "$here/rpm/wal-snapshot.py" rpmdb/sqlite/rpmdb.sqlite rpmdb/wal bash
query rpmdb/wal sqlite > rpmdb/wal/expected.tsv

# The same database in a Rocky-like root image (Fedora-style sysimage location).
rm -f "$rpmroot"/usr/lib/sysimage/rpm/rpmdb.sqlite-* "$rpmroot"/usr/lib/sysimage/rpm/.rpm.lock
mkdir -p "$rpmroot/var/lib" "$rpmroot/etc"
ln -s ../../usr/lib/sysimage/rpm "$rpmroot/var/lib/rpm"
printf 'NAME="Rocky Linux"\nVERSION="9.2 (Blue Onyx)"\nID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.2"\nPRETTY_NAME="Rocky Linux 9.2 (Blue Onyx)"\n' > "$rpmroot/etc/os-release"
mkfs.ext4 "${ext_common[@]}" -L rocky -d "$rpmroot" rpm-root.img 32M
rm -rf rpm-build

# ---- the sample image: real package versions with known vulnerabilities ---------------------------
mkdir -p alpine-root/etc alpine-root/lib/apk/db
printf 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.18.0\nPRETTY_NAME="Alpine Linux v3.18"\n' > alpine-root/etc/os-release
printf '3.18.0\n' > alpine-root/etc/alpine-release
# The packages of the Alpine 3.18.0 base image, at the versions it shipped with.
while read -r name version origin license; do
  printf 'C:Q1fixture=\nP:%s\nV:%s\nA:x86_64\nS:100000\nI:200000\nT:%s\nL:%s\no:%s\nm:Alpine maintainers\n\n' \
    "$name" "$version" "$name package" "$license" "$origin"
done > alpine-root/lib/apk/db/installed <<'APK'
alpine-baselayout 3.4.3-r1 alpine-baselayout GPL-2.0-only
alpine-keys 2.4-r1 alpine-keys MIT
apk-tools 2.14.0-r0 apk-tools GPL-2.0-only
busybox 1.36.0-r9 busybox GPL-2.0-only
busybox-binsh 1.36.0-r9 busybox GPL-2.0-only
ca-certificates-bundle 20230506-r0 ca-certificates MPL-2.0
libc-utils 0.7.2-r5 libc-dev BSD-2-Clause
libcrypto3 3.1.0-r4 openssl Apache-2.0
libssl3 3.1.0-r4 openssl Apache-2.0
musl 1.2.4-r0 musl MIT
musl-utils 1.2.4-r0 musl MIT
scanelf 1.3.7-r1 pax-utils GPL-2.0-only
ssl_client 1.36.0-r9 busybox GPL-2.0-only
zlib 1.2.13-r1 zlib Zlib
APK
truncate -s 64M sample.img
sfdisk -q sample.img <<'SF'
label: gpt
label-id: 5A3C1D3E-5F70-4B8A-9C0D-1E2F3A4B5C6D
start=2048, size=16MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="alpine"
type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="rocky"
SF
read -r s n < <(part sample.img img1)
mkfs.ext4 "${ext_common[@]}" -L alpine -E offset=$((s * 512)) -d alpine-root sample.img $((n / 2))k
read -r s n < <(part sample.img img2)
mkfs.ext4 "${ext_common[@]}" -L rocky -E offset=$((s * 512)) -d "$rpmroot" sample.img $((n / 2))k

if ((sample_only)); then
  echo "$want-sample" > "$stamp"
  echo "sample image ready in $out"
  exit 0
fi

# ---- every container format ------------------------------------------------------------------
mkdir -p containers
convert() { # convert NAME FORMAT [OPTIONS]
  local name=$1 fmt=$2; shift 2
  qemu-img convert -f raw -O "$fmt" "$@" gpt-cloud.raw "containers/$name"
  qemu-img compare -q -f raw -F "$fmt" gpt-cloud.raw "containers/$name"
}
convert stream.vmdk vmdk -o subformat=streamOptimized
convert sparse.vmdk vmdk -o subformat=monolithicSparse
convert flat.vmdk vmdk -o subformat=monolithicFlat
convert split-sparse.vmdk vmdk -o subformat=twoGbMaxExtentSparse
convert split-flat.vmdk vmdk -o subformat=twoGbMaxExtentFlat
convert fixed.vhd vpc -o subformat=fixed
convert dynamic.vhd vpc -o subformat=dynamic
convert dynamic.vhdx vhdx
convert plain.qcow2 qcow2
convert compressed.qcow2 qcow2 -c
convert v2.qcow2 qcow2 -o compat=0.10
convert dynamic.vdi vdi
convert static.vdi vdi -o static=on
/usr/bin/python3 /usr/lib/python3/dist-packages/VMDKstream.py gpt-cloud.raw containers/vmware-stream.vmdk >/dev/null
qemu-img compare -q -f raw -F vmdk gpt-cloud.raw containers/vmware-stream.vmdk
(cd containers && tar cf appliance.ova vmware-stream.vmdk && tar czf vagrant.box sparse.vmdk)

# ---- a 20 GiB stream VMDK with real files ------------------------------------------------------
truncate -s 20G big-stream.raw
sfdisk -q big-stream.raw <<'SF'
label: gpt
start=2048, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="root"
SF
mkdir -p tree-big/usr tree-big/etc
cp -a "$tree/etc/." tree-big/etc/ && cp -a "$tree/usr/." tree-big/usr/ && cp -a "$tree/var" tree-big/
cp -al /usr/share tree-big/usr/share-host 2>/dev/null || cp -a /usr/share tree-big/usr/share-host
read -r s n < <(part big-stream.raw raw1)
mkfs.ext4 "${ext_common[@]}" -L big -E offset=$((s * 512)) -d tree-big big-stream.raw $((n / 2))k
qemu-img convert -f raw -O vmdk -o subformat=streamOptimized big-stream.raw big-stream.vmdk
rm -rf tree-big big-stream.raw

echo "$want" > "$stamp"
echo "fixtures ready in $out"
