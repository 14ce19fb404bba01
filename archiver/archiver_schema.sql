-- The minyi archive (SQLite).  Written only by minyi-archiver; anyone may
-- read it with `sqlite3 -readonly var/archive.db`.  See docs/schema.md.
-- PRAGMA user_version holds the schema version (2; archiver_store.c migrates 1).

-- One row per report, by id (the UTC arrival time, sortable).
CREATE TABLE IF NOT EXISTS reports (
    id               TEXT PRIMARY KEY,   -- YYYYMMDD-HHMMSS-uuuuuu (UTC)
    member           TEXT NOT NULL,      -- roster id
    title            TEXT NOT NULL,
    body             TEXT NOT NULL,
    ref              TEXT,               -- the sender's own key, or NULL
    submitted_at     TEXT,               -- as the member gave it, or NULL
    received_at      TEXT NOT NULL,      -- RFC 3339 in the configured timezone
    received_us      INTEGER NOT NULL,   -- µs since the epoch
    month            TEXT NOT NULL,      -- YYYY-MM of received_at, configured timezone
    source           TEXT NOT NULL,      -- socket | drop | import
    committee        TEXT NOT NULL,      -- the committee whose queue holds it now
    routed_committee TEXT NOT NULL,      -- the router's choice (differs after reassign)
    state            TEXT NOT NULL DEFAULT 'open',   -- open | leased | closed
    outcome          TEXT,               -- adopted | forwarded | filed | declined
    note             TEXT,               -- the closing clerk's note
    lease_until_us   INTEGER,            -- while leased
    lease_owner      TEXT,               -- who leased it
    closed_us        INTEGER,            -- when it was closed
    content_key      INTEGER NOT NULL,   -- 64-bit hash of member, title, body
    extra            TEXT,               -- unknown member fields, a JSON object
    topic            TEXT,               -- the best tag's topic id (NULL: none matched)
    category         TEXT,               -- the best tag's category
    topics           TEXT                -- the router's tags, best first, a JSON array:
                                         -- [{topic, category, score, hits: [{field,
                                         --   pattern, offset, text}]}]
);
-- the same member and ref is one report forever
CREATE UNIQUE INDEX IF NOT EXISTS reports_ref ON reports(member, ref) WHERE ref IS NOT NULL;
-- committee queues: open and leased reports in arrival order
CREATE INDEX IF NOT EXISTS reports_queue ON reports(committee, received_us, state)
    WHERE state <> 'closed';
-- monthly audits (covering: the audit never reads the rows themselves)
CREATE INDEX IF NOT EXISTS reports_month2
    ON reports(month, member, state, outcome, committee, topic, category);
-- the audit's supervision section: a month's closed reports, how long each
-- took (covering; a report enters it when closed)
CREATE INDEX IF NOT EXISTS reports_closed ON reports(month, committee, received_us, closed_us)
    WHERE state = 'closed';
-- a member's own reports, newest first (minyi mine, the web door's "my reports")
CREATE INDEX IF NOT EXISTS reports_member ON reports(member, received_us);
-- content duplicates
CREATE INDEX IF NOT EXISTS reports_content ON reports(content_key);

-- Everything that happened to a report: routed, imported, leased, released,
-- reassigned, closed.  detail is a JSON object (e.g. {"from","to"}).
CREATE TABLE IF NOT EXISTS history (
    report_id TEXT NOT NULL REFERENCES reports(id),
    at_us     INTEGER NOT NULL,
    event     TEXT NOT NULL,
    who       TEXT,
    detail    TEXT
);
CREATE INDEX IF NOT EXISTS history_report ON history(report_id, at_us);

-- 督办: one row per report that became overdue, written when the archiver
-- first saw it past a deadline; it also tracks the office's notify command
-- for that report (run once; retried at next_us until it succeeds).
CREATE TABLE IF NOT EXISTS notices (
    report_id TEXT PRIMARY KEY REFERENCES reports(id),
    kind      TEXT NOT NULL,      -- take_up | close: the deadline first missed
    days      INTEGER NOT NULL,   -- how overdue when first seen (calendar days)
    first_us  INTEGER NOT NULL,   -- when first seen overdue
    tries     INTEGER NOT NULL DEFAULT 0,  -- notify runs so far
    next_us   INTEGER,            -- next notify run; NULL: nothing (left) to run
    done_us   INTEGER,            -- when the notify command succeeded
    error     TEXT                -- why the last run failed
);
CREATE INDEX IF NOT EXISTS notices_next ON notices(next_us) WHERE next_us IS NOT NULL;

-- 报送: the upstream spool.  A report closed as `forwarded` gets a row in
-- the same transaction as its close (the trigger), so it is on disk before
-- anyone is told it was handed over; the archiver delivers it to the next
-- level's collector until that collector acknowledges it, and later reads
-- back the outcome there.
CREATE TABLE IF NOT EXISTS upstream (
    report_id   TEXT PRIMARY KEY REFERENCES reports(id),
    state       TEXT NOT NULL DEFAULT 'pending',  -- pending | sent | closed (final)
    upstream_id TEXT,             -- the id the next level gave it
    tries       INTEGER NOT NULL DEFAULT 0,
    next_us     INTEGER NOT NULL DEFAULT 0,  -- next delivery try / outcome poll
    queued_us   INTEGER,          -- when it was closed as forwarded
    sent_us     INTEGER,          -- when the next level acknowledged it
    outcome     TEXT,             -- the next level's outcome, once closed there
    note        TEXT,             -- its note
    outcome2    TEXT,             -- forwarded further: the level above's outcome
    outcome_us  INTEGER,
    error       TEXT              -- why the last try failed
);
CREATE INDEX IF NOT EXISTS upstream_due ON upstream(state, next_us);
CREATE TRIGGER IF NOT EXISTS upstream_enqueue AFTER UPDATE OF outcome ON reports
    WHEN NEW.outcome = 'forwarded' AND OLD.outcome IS NOT 'forwarded'
BEGIN
    INSERT OR IGNORE INTO upstream(report_id, queued_us) VALUES (NEW.id, NEW.closed_us);
END;

-- Monthly counts per member (the quota tracker reads these).
CREATE VIEW IF NOT EXISTS monthly_counts AS
    SELECT month, member, count(*) AS reports,
           sum(outcome = 'adopted') AS adopted, sum(outcome = 'forwarded') AS forwarded,
           sum(outcome = 'filed') AS filed, sum(outcome = 'declined') AS declined
    FROM reports GROUP BY month, member;

-- Queue depths per committee.
CREATE VIEW IF NOT EXISTS queues AS
    SELECT committee, sum(state = 'open') AS open, sum(state = 'leased') AS leased,
           min(received_us) AS oldest_us
    FROM reports WHERE state <> 'closed' GROUP BY committee;

-- Which archive this is, and how many transactions it has committed.  The
-- collector remembers both from the archiver's confirmations, so an archive
-- replaced by another or by an older copy of itself (a restore) is noticed
-- and the collector's duplicate index, which may name reports the restored
-- archive lacks, is set aside (README: Recovering the archive).
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,               -- generation | commits
    value NOT NULL
);
INSERT OR IGNORE INTO meta VALUES ('generation', lower(hex(randomblob(8))));
INSERT OR IGNORE INTO meta VALUES ('commits', 0);
