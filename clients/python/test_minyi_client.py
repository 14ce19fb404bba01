"""Tests of minyi_client against a live pipeline: MINYI_STATE names the
state directory of a running `minyi up` (tests/e2e/19-python-client.sh
starts one).  Prints the closing "N passed, N failed" line of tests/run.sh.
"""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import minyi_client as mc  # noqa: E402

STATE = os.environ.get("MINYI_STATE", "")
STAMP = "%d-%d" % (os.getpid(), time.time())


def report(title, body="我们小区附近没有公交车站，建议增开公交线路。", member="M001", **extra):
    r = {"member": member, "title": "%s %s" % (title, STAMP), "body": body}
    r.update(extra)
    return r


class ClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.c = mc.Client.for_state_dir(STATE, timeout_ms=5000)

    def archived(self, rid, secs=15):
        """The record of rid once the archive has it."""
        end = time.time() + secs
        while True:
            try:
                return self.c.show(rid)
            except mc.NotFound:
                if time.time() > end:
                    raise
                time.sleep(0.05)

    def test_submit_and_duplicate(self):
        r = report("公交站点")
        first = self.c.submit(r)
        self.assertRegex(first["id"], r"^\d{8}-\d{6}-\d{6}$")
        self.assertNotIn("duplicate", first)
        again = self.c.submit(r)
        self.assertEqual(again, {"id": first["id"], "duplicate": True})

    def test_submit_refused_with_reason(self):
        with self.assertRaises(mc.Rejected) as e:
            self.c.submit(report("无此委员", member="NOBODY"))
        self.assertEqual(e.exception.code, "unknown_member")
        with self.assertRaises(mc.Rejected) as e:
            self.c.submit(b"{not json")
        self.assertEqual(e.exception.code, "bad_json")
        with self.assertRaises(mc.Rejected) as e:
            self.c.submit({"member": "M001", "title": "无正文"})
        self.assertEqual(e.exception.code, "missing_field")

    def test_submit_many_pipelined(self):
        batch = [report("批量 %d" % i) for i in range(40)]
        batch[7] = {"member": "M001", "title": "", "body": "空标题"}
        results = self.c.submit_many(batch, window=8)
        self.assertEqual(len(results), 40)
        self.assertIsInstance(results[7], mc.Rejected)
        ids = [r["id"] for i, r in enumerate(results) if i != 7]
        self.assertEqual(len(set(ids)), 39)
        self.archived(ids[-1])

    def test_queue_pull_release_reassign_ack_show(self):
        rid = self.c.submit(report("公交线路"))["id"]
        rec = self.archived(rid)
        committee = rec["committee"]
        self.assertIn(rid, [r["id"] for r in self.c.queue(committee)["reports"]])
        pulled = self.c.pull(committee, limit=1000, lease=60, who="py-clerk")
        mine = [r for r in pulled if r["id"] == rid]
        self.assertEqual(len(mine), 1)
        self.assertIn("lease_until", mine[0])
        again = self.c.pull(committee, limit=1000, who="py-clerk")
        self.assertNotIn(rid, [r["id"] for r in again], "a leased report is not handed out")
        self.assertEqual(self.c.release(rid, who="py-clerk")["state"], "open")
        moved = self.c.reassign(rid, "jiaoke", who="py-clerk")
        self.assertEqual((moved["id"], moved["committee"]), (rid, "jiaoke"))
        closed = self.c.ack(rid, "adopted", note="采用", who="py-clerk")
        self.assertEqual((closed["state"], closed["outcome"]), ("closed", "adopted"))
        with self.assertRaises(mc.MinyiError) as e:
            self.c.ack(rid, "filed", who="py-clerk")
        self.assertIn(e.exception.code, ("conflict", "not_found"))
        rec = self.c.show(rid)
        self.assertEqual((rec["state"], rec["outcome"], rec["committee"]),
                         ("closed", "adopted", "jiaoke"))

    def test_not_found_and_bad_request(self):
        with self.assertRaises(mc.NotFound):
            self.c.show("20990101-000000-000000")
        with self.assertRaises(mc.NotFound):
            self.c.queue("no-such-committee")
        with self.assertRaises(mc.BadRequest):
            self.c.ack("20990101-000000-000000", "maybe")

    def test_audit(self):
        rid = self.c.submit(report("审计"))["id"]
        self.archived(rid)
        audit = self.c.audit()
        self.assertRegex(audit["month"], r"^\d{4}-\d{2}$")
        self.assertGreaterEqual(audit["total"], 1)
        self.assertIn("members", audit)
        with self.assertRaises(mc.BadRequest):
            self.c.audit("2025-13")

    def test_status_of_every_daemon(self):
        for daemon in ("collector", "router", "archiver"):
            st = self.c.status(daemon)
            self.assertEqual(st["daemon"], daemon)
            self.assertIn("proto_refused", st)
        self.assertIn("queues", self.c.status("archiver"))

    def test_reload(self):
        self.assertGreater(self.c.reload()["topics"], 0)

    def test_other_version_refused(self):
        with self.assertRaises(mc.BadVersion) as e:
            self.c._call("query", b'{"v":99,"cmd":"status"}')
        self.assertIn("peer speaks protocol 99", e.exception.detail)

    def test_timeout(self):
        gone = mc.Client(query="ipc://%s/run/nobody.sock" % STATE, timeout_ms=200)
        with self.assertRaises(mc.Timeout):
            gone.status()


if __name__ == "__main__":
    if not STATE:
        print("skip: MINYI_STATE is not set")
        print("0 passed, 0 failed")
        sys.exit(0)
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(
        unittest.defaultTestLoader.loadTestsFromTestCase(ClientTest))
    bad = len(result.failures) + len(result.errors)
    print("%d passed, %d failed" % (result.testsRun - bad, bad))
    sys.exit(1 if bad else 0)
