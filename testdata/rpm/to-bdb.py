#!/usr/bin/env python3
"""Copies the header blobs of an rpm SQLite database into a BerkeleyDB hash `Packages` file
(the rpm < 4.16 format) with db_load, in the byte order asked for. Key 0 holds the highest
package number, as rpm's bdb backend keeps it.
Usage: to-bdb.py rpmdb.sqlite OUT/Packages 1234|4321"""
import shutil
import sqlite3
import struct
import subprocess
import sys

src, dst, order = sys.argv[1], sys.argv[2], sys.argv[3]
rows = sqlite3.connect(f"file:{src}?immutable=1", uri=True).execute("SELECT hnum, blob FROM Packages ORDER BY hnum").fetchall()
lines = ["VERSION=3", "format=bytevalue", "type=hash", "db_pagesize=4096", f"db_lorder={order}", "HEADER=END"]
lines += [" " + struct.pack("<I", 0).hex(), " " + struct.pack("<I", max(r[0] for r in rows)).hex()]
for hnum, blob in rows:
    lines += [" " + struct.pack("<I", hnum).hex(), " " + bytes(blob).hex()]
lines.append("DATA=END")
load = shutil.which("db_load") or shutil.which("db5.3_load")
subprocess.run([load, dst], input=("\n".join(lines) + "\n").encode(), check=True)
