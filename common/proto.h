/* proto: the messages between minyi's processes (JSON; single frames but
 * for archive).
 *
 *   submit   client REQ/DEALER -> collector ROUTER
 *            request: a report object (SPEC.md)
 *            reply:   {"ok": true, "id": ID [, "duplicate": true]}
 *                     {"ok": false, "error": CODE, "detail": TEXT}
 *   route    collector PUSH -> router PULL:    report_encode() of the report
 *   archive  router PUSH -> archiver PULL:     the report, committee, tags, best
 *            topic and category (five frames; archiver.c)
 *            route and archive each have a large lane (route_large,
 *            archive_large) for messages over 8 KB: config.h, "Lanes"
 *   confirm  archiver PUSH -> collector PULL:  {"v": 1, "confirm": [ID, ...]}
 *            sent only after the transaction holding those ids committed
 *            (also for ids the archive already had)
 *   query    minyi REQ -> archiver ROUTER:     {"cmd": NAME, ...}
 *   ctl      minyi REQ -> collector/router ROUTER: {"cmd": "status"|"reload"}
 *            every reply: {"ok": true, ...} or {"ok": false, "error": CODE,
 *            "detail": TEXT}; CODE for queries: bad_request, not_found,
 *            conflict, internal, busy.
 *
 * Query commands (archiver) and their fields:
 *   pull      committee, limit, lease (seconds), who -> reports: [...]
 *   queue     committee, limit                  -> reports: [...], open, leased
 *   mine      member, limit                     -> reports: [...] newest first
 *   ack       id, outcome, note, who            -> id, state
 *   release   id, who                           -> id, state
 *   reassign  id, committee, who                -> id, committee
 *   show      id                                -> report: {...}
 *   audit     month ("YYYY-MM")                 -> audit: {...SPEC.md shape...}
 *   import    reports: [...]                    -> imported, duplicates, errors: [...]
 *   history   (for rules learn) limit, since_id -> reports: [{id, title, body,
 *             committee (final), routed_committee, topics: [{topic, category,
 *             score}]}], closed or reassigned reports in id order after
 *             since_id
 *   status                                      -> daemon, counters, queues
 */
#ifndef MINYI_PROTO_H
#define MINYI_PROTO_H

#define PROTO_VERSION 1

#endif
