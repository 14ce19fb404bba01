#!/usr/bin/python3
"""sqlite_raw.py: the raw SQLite insert rate on this machine, the ceiling the
pipeline is measured against: 2 KB rows, 3 indexes, WAL, synchronous=FULL,
ROWS rows per transaction (default 100).  Prints {"rows_per_s": N, ...}.

usage: sqlite_raw.py DIR [ROWS_TOTAL] [ROWS_PER_TX]
"""
import json
import os
import sqlite3
import sys
import time


def main():
    folder = sys.argv[1]
    total = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    per_tx = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    path = os.path.join(folder, "raw.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.unlink(path + suffix)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE r (id TEXT PRIMARY KEY, member TEXT, month TEXT, "
               "committee TEXT, body TEXT)")
    db.execute("CREATE INDEX r_member ON r(member)")
    db.execute("CREATE INDEX r_month ON r(month, member)")
    db.execute("CREATE INDEX r_committee ON r(committee, month)")
    body = "社情民意" * 170  # ~2 KB of UTF-8
    start = time.perf_counter()
    for base in range(0, total, per_tx):
        db.execute("BEGIN")
        db.executemany("INSERT INTO r VALUES (?,?,?,?,?)",
                       ((f"{i:012d}", f"M{i % 120:03d}", "2026-11", f"c{i % 7}", body)
                        for i in range(base, min(total, base + per_tx))))
        db.execute("COMMIT")
    secs = time.perf_counter() - start
    db.close()
    print(json.dumps({"rows_per_s": round(total / secs), "rows": total,
                      "rows_per_tx": per_tx, "seconds": round(secs, 3)}))


if __name__ == "__main__":
    main()
