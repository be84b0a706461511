#!/usr/bin/env python3
"""Makes a copy of an rpm SQLite database whose latest changes sit in a committed `-wal` file,
as on a system that was not shut down cleanly: the copy is taken while a connection that never
checkpoints still has the database open. The change removes the package named on the command
line and adds nothing. Usage: wal-snapshot.py rpmdb.sqlite OUTDIR NAME"""
import os
import shutil
import sqlite3
import sys

src, out, name = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(out, exist_ok=True)
work = os.path.join(out, "work.sqlite")
shutil.copy(src, work)
con = sqlite3.connect(work, isolation_level=None)
con.execute("PRAGMA journal_mode=WAL")
con.execute("PRAGMA wal_autocheckpoint=0")
hnums = []
for hnum, blob in con.execute("SELECT hnum, blob FROM Packages"):
    # NAME is tag 1000: find it in the header index (big-endian il, dl, then 16-byte entries).
    il = int.from_bytes(blob[0:4], "big")
    data = blob[8 + 16 * il:]
    for i in range(il):
        e = blob[8 + 16 * i: 24 + 16 * i]
        if int.from_bytes(e[0:4], "big") == 1000:
            off = int.from_bytes(e[8:12], "big")
            if data[off:data.index(b"\0", off)].decode() == name:
                hnums.append(hnum)
con.execute("BEGIN")
for h in hnums:
    con.execute("DELETE FROM Packages WHERE hnum = ?", (h,))
con.execute("COMMIT")
assert os.path.getsize(work + "-wal") > 0, "the WAL is empty"
shutil.copy(work, os.path.join(out, "rpmdb.sqlite"))
shutil.copy(work + "-wal", os.path.join(out, "rpmdb.sqlite-wal"))
con.close()
for suffix in ["", "-wal", "-shm"]:
    if os.path.exists(work + suffix):
        os.unlink(work + suffix)
