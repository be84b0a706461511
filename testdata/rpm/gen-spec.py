#!/usr/bin/env python3
"""Writes an rpm spec with N subpackages (default 2000) of varied versions, epochs, releases,
architectures and licences, some shipping files, for rpmbuild to turn into real packages.
A few carry real package names and versions (as found in RHEL/CentOS 7 and Rocky 9 images)."""
import random
import sys

count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
rng = random.Random(20261125)
real = [
    ("openssl-libs", "1", "1.0.2k", "19.el7", "x86_64"),
    ("bash", None, "4.2.46", "34.el7", "x86_64"),
    ("glibc", None, "2.17", "317.el7", "x86_64"),
    ("curl", None, "7.76.1", "19.el9", "x86_64"),
    ("tzdata", None, "2023c", "1.el9", "noarch"),
    # A header far larger than a database page (long description): multi-page overflow chains.
    ("bigheader", None, "1.0", "1", "noarch"),
    # An RHEL 8 build older than RHSA-2020:5624 (trivy-db's redhat-oval fixture).
    ("thunderbird", None, "78.5.0", "1.el8_3", "x86_64"),
]
out = [
    "Name: fixture-base", "Version: 1.0", "Release: 1", "Summary: rpmdb fixture base", "License: MIT",
    "Vendor: coldscan fixtures", "BuildArch: x86_64",
    "%description", "Base package of the coldscan rpmdb fixture.",
    "%install", "mkdir -p %{buildroot}/usr/share/fixture",
]
packages = []
for i in range(count):
    if i < len(real):
        name, epoch, version, release, arch = real[i]
    else:
        name = f"pkg{i:04d}"
        epoch = rng.choice([None, None, None, "1", "2", "10"])
        version = f"{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 99)}" + rng.choice(["", "", "~rc1", "^git1", "a"])
        release = f"{rng.randint(1, 40)}" + rng.choice([".el9", ".el9_2", ".fc39", ".amzn2", ""])
        arch = rng.choice(["x86_64", "x86_64", "noarch"])
    has_file = i % 10 == 0
    if has_file:
        out.append(f"echo {name} > %{{buildroot}}/usr/share/fixture/{name}.txt")
    packages.append((name, epoch, version, release, arch, has_file))
out += ["%files", ""]
for name, epoch, version, release, arch, has_file in packages:
    out += [f"%package -n {name}", f"Summary: fixture package {name}", f"Version: {version}", f"Release: {release}",
            f"License: {rng.choice(['GPL-2.0-or-later', 'MIT', 'BSD-3-Clause', 'Apache-2.0'])}"]
    if epoch:
        out.append(f"Epoch: {epoch}")
    if arch == "noarch":
        out.append("BuildArch: noarch")
    description = f"Fixture package {name}." if name != "bigheader" else "\n".join(f"Line {n} of a long description." for n in range(1200))
    out += [f"%description -n {name}", description, f"%files -n {name}"]
    if has_file:
        out.append(f"/usr/share/fixture/{name}.txt")
    out.append("")
print("\n".join(out))
