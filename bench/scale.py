#!/usr/bin/python3
"""scale.py DB N: fill a fresh archive (archiver/archiver_schema.sql) with N
reports spread over the 12 months of 2026, 120 members, 7 committees, a
third of them closed -- the "1,000,000 archived reports" of the audit and
pull measurements in `make bench`.  Writes straight into SQLite (fast,
synchronous off); the archiver then opens it like any archive."""
import json, os, random, sqlite3, sys, time

db, n = sys.argv[1], int(sys.argv[2])
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
schema = open(os.path.join(root, "archiver", "archiver_schema.sql"), encoding="utf-8").read()
committees = ["tian", "jingji", "nongye", "renhuan", "chengjian", "jiaoke", "shefa"]
topics = [("property_mgmt", "城乡建设"), ("public_transit", "交通运输"), ("schools", "教育文体"),
          ("hospital", "卫生计生"), ("wages", "劳动和社会保障"), ("noise", "环境保护")]
outcomes = ["adopted", "forwarded", "filed", "declined"]
# the page size minyi-archiver gives a new archive (STORE_NEW_PAGE_SIZE in
# archiver/archiver_store.c); SCALE_PAGE_SIZE to try another
page = int(os.environ.get("SCALE_PAGE_SIZE", "32768"))
con = sqlite3.connect(db)
con.executescript(f"PRAGMA page_size={page}; PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;"
                  + schema)
rnd = random.Random(7)
t0 = time.time()
start = 1767196800  # 2026-01-01T00:00:00+08:00
span = 365 * 86400
body = "我们小区附近没有公交车站，居民出行很不方便，建议增开公交线路，优化站点设置。" * 4
def rows():
    for i in range(n):
        at = start + span * i // n
        us = at * 1000000 + i % 1000000
        tm = time.gmtime(at + 8 * 3600)
        month = "%04d-%02d" % (tm.tm_year, tm.tm_mon)
        rid = time.strftime("%Y%m%d-%H%M%S", time.gmtime(at)) + "-%06d" % (i % 1000000)
        c = committees[rnd.randrange(7)]
        topic, category = topics[i % len(topics)]
        closed = rnd.random() < 0.33
        yield (rid, "M%03d" % (rnd.randrange(120) + 1), "建议 %d" % i, body, None, None,
               time.strftime("%Y-%m-%dT%H:%M:%S.000+08:00", tm), us, month, "socket", c, c,
               "closed" if closed else "open", rnd.choice(outcomes) if closed else None,
               None, None, None, us if closed else None, rnd.getrandbits(62), None,
               topic, category, tags[i % len(topics)])
tags = [json.dumps([{"topic": t, "category": c, "score": 3, "hits": []}], ensure_ascii=False)
        for t, c in topics]
con.executemany("INSERT OR IGNORE INTO reports VALUES (%s)" % ",".join("?" * 23), rows())
con.commit()
count = con.execute("SELECT count(*) FROM reports").fetchone()[0]
con.close()
print(json.dumps({"reports": count, "seconds": round(time.time() - t0, 1)}))
