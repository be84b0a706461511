#!/usr/bin/env python3
"""Manifest of a directory tree, the oracle the filesystem tests compare with: one line per
entry below ROOT, sorted by path: path, type (f d l o), mode (octal, with the type bits),
size (files and links), sha256 (files) or link target.

    manifest.py ROOT [protofile]

With "protofile", sticky bits are left out (an XFS protofile cannot express them).
"""
import hashlib, os, stat, sys
root = sys.argv[1]
no_sticky = sys.argv[2:] == ["protofile"]
rows = []
for dirpath, dirnames, filenames in os.walk(root):
    for name in dirnames + filenames:
        full = os.path.join(dirpath, name)
        rel = "/" + os.path.relpath(full, root)
        st = os.lstat(full)
        mode = stat.S_IMODE(st.st_mode) | stat.S_IFMT(st.st_mode)
        if no_sticky:
            mode &= ~stat.S_ISVTX
        if stat.S_ISLNK(st.st_mode):
            kind, what = "l", os.readlink(full)
        elif stat.S_ISDIR(st.st_mode):
            kind, what = "d", "-"
        elif stat.S_ISREG(st.st_mode):
            h = hashlib.sha256()
            with open(full, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            kind, what = "f", h.hexdigest()
        else:
            kind, what = "o", "-"
        size = st.st_size if kind in "fl" else 0
        rows.append(f"{rel}\t{kind}\t{mode:o}\t{size}\t{what}")
for row in sorted(rows):
    print(row)
