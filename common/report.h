/* report: the one report schema shared by every program.
 *
 *   struct report <-> JSON (member input, the wire between daemons, the spool)
 *   validation with the reason codes of SPEC.md
 *
 * Member input is decoded strictly (report_parse_submission): UTF-8 only, one
 * JSON object, no duplicate keys, no NUL, the size and field limits of
 * SPEC.md.  Between daemons the same JSON carries the fields the pipeline
 * adds (id, received_at, source, committee, topics) and is decoded with
 * report_decode.  Unknown member fields ride along in `extra`.
 *
 * Ownership: every struct report comes from report_new / a parse or decode
 * function and is freed with report_free(&r), which NULLs the pointer.  All
 * strings inside are owned by the report.  Nothing here touches the disk or
 * the network.
 */
#ifndef MINYI_REPORT_H
#define MINYI_REPORT_H
#include <stddef.h>
#include <stdint.h>

struct cJSON;

#define REPORT_MAX_BYTES 65536    /* a file or message, SPEC.md */
#define REPORT_TITLE_MAX 200      /* characters (code points) */
#define REPORT_BODY_MAX 20000     /* characters */
#define REPORT_REF_MAX 128        /* characters */
#define REPORT_MEMBER_MAX 64      /* bytes; roster ids are short */
#define REPORT_ID_LEN 22          /* "YYYYMMDD-HHMMSS-uuuuuu" (UTC) */

/* Reason codes, shared by socket replies and drop-folder reason files. */
enum report_reason {
    REPORT_OK = 0,
    REPORT_BAD_JSON,
    REPORT_BAD_UTF8,
    REPORT_BAD_ENCODING,
    REPORT_MISSING_FIELD,
    REPORT_BAD_FIELD,
    REPORT_TOO_LARGE,
    REPORT_UNKNOWN_MEMBER,
    REPORT_BUSY,
    REPORT_INTERNAL,
    REPORT_FORBIDDEN,             /* the authenticated sender may not do this */
};

struct report_error {
    enum report_reason reason;
    char detail[256];             /* one human sentence, no newline */
};

/* Where a report came in. */
enum report_source { REPORT_SOURCE_SOCKET, REPORT_SOURCE_DROP, REPORT_SOURCE_IMPORT };

/* One pattern hit that contributed to a tag: which field, which pattern of the
 * topic (0-based index into its `patterns`), byte offset, matched text. */
struct report_hit {
    char field[8];                /* "title" or "body" */
    int pattern;
    int offset;
    char *text;                   /* in the report's tag block (see below) */
};

/* A topic tag the router attached.  A report's tags, their hits and all
 * their strings live in one block the report owns (report_tags_reserve):
 * a report often carries dozens of tags, and one malloc each counted. */
struct report_tag {
    char *topic;                  /* topic id, in the tag block */
    char *category;               /* one of the 15 categories, in the block, or NULL */
    double score;
    struct report_hit *hits;      /* in the tag block */
    size_t nhits;
};

/* The tag block's bookkeeping (private to report.c). */
struct report_tagmem {
    void *block;                  /* owned: tags, then hits, then strings */
    struct report_hit *hits;
    char *strs;
    size_t nhits, hits_cap, nstrs, strs_cap;
};

struct report {
    char id[REPORT_ID_LEN + 1];   /* "" until the collector assigns one */
    int64_t received_us;          /* µs since the epoch; 0 until assigned */
    char received_at[40];         /* RFC 3339 in the configured zone, "" until assigned */
    enum report_source source;
    char *member;                 /* required */
    char *title;                  /* required */
    char *body;                   /* required */
    char *ref;                    /* optional, NULL if absent */
    char *submitted_at;           /* optional RFC 3339 as given, NULL if absent */
    char *committee;              /* set by the router, NULL before */
    struct report_tag *tags;      /* set by the router, best first; in tagmem */
    size_t ntags;
    struct report_tagmem tagmem;
    struct cJSON *extra;          /* unknown member fields (an object), or NULL */
    uint64_t content_key;         /* report_content_key, when the collector put it
                                     on the wire ("ck"); 0: not known */
};

/* A new, empty report; never NULL. Free with report_free. */
struct report *report_new(void);
/* Free *r and everything it owns; sets *r = NULL. NULL-safe. */
void report_free(struct report **r);

/* Stable lowercase code for a reason ("bad_json", ...). Never NULL. */
const char *report_reason_name(enum report_reason reason);

/* Decode a member's submission (JSON bytes, not NUL-terminated), strictly.
 * Returns 0 and *out (caller frees), or -1 with err filled (never both).
 * Checks: size <= max_bytes (too_large), valid UTF-8 (bad_utf8), one JSON
 * object without duplicate keys or \u0000 / lone surrogates (bad_json /
 * bad_utf8), member/title/body present (missing_field), types, lengths,
 * control characters and submitted_at format (bad_field).  Does not check
 * the roster: the caller answers unknown_member.  A leading UTF-8 BOM is
 * accepted and dropped.  A field minyi writes itself (report_field_reserved:
 * id, topics, committee, state, history, name, ...) is bad_field. */
int report_parse_submission(const char *buf, size_t len, size_t max_bytes,
                            struct report **out, struct report_error *err);

/* 1 if minyi writes field `name` itself (never taken from a sender, never
 * shown from a report's extra fields), else 0. */
int report_field_reserved(const char *name);

/* Build a report from a plain-text drop file of member `member`: the first
 * non-empty line is the title, the rest (leading blank lines dropped) the
 * body.  `text` must already be UTF-8 (see the collector's decoder).
 * Same return contract and field checks as report_parse_submission. */
int report_parse_text(const char *member, const char *text, size_t len,
                      struct report **out, struct report_error *err);

/* Check the fields of a report against SPEC.md (lengths, characters,
 * submitted_at).  Returns 0, or -1 with err filled. */
int report_validate(const struct report *r, struct report_error *err);

/* Serialise for the wire, the spool and the archive: a NUL-terminated,
 * unformatted JSON object with every set field (caller frees). Never NULL. */
char *report_encode(const struct report *r);

/* Decode what report_encode wrote (also accepts member input).  Returns 0 and
 * *out, or -1 with err. Version mismatches are bad_json. */
int report_decode(const char *buf, size_t len, struct report **out,
                  struct report_error *err);

/* report_decode without the field checks of report_validate (lengths,
 * characters, UTF-8): for a daemon reading what another daemon encoded that
 * checks whatever it relies on itself.  The router does: the classifier
 * checks that title and body are UTF-8 before matching them, and nothing
 * else of the report is interpreted.  Same return contract. */
int report_decode_unchecked(const char *buf, size_t len, struct report **out,
                            struct report_error *err);
/* The route message's JSON (proto.c): what report_encode writes and
 * nothing else -- a member it does not write is refused (bad_json, "unknown
 * member"); checked: also report_validate.  0 and *out, or -1 with err. */
int report_decode_wire(const char *buf, size_t len, int checked, struct report **out,
                       struct report_error *err);

/* Just its tags, best first, as JSON text (caller frees):
 * [{topic, category, score, hits: [[field, pattern, offset, text]]}] as in
 * the "topics" member of report_encode, scores rounded to 3 decimals.  The
 * router's tags frame to the archiver, which stores it without decoding it. */
char *report_encode_tags(const struct report *r);

/* Replace r's tags by an empty block with room for ntags tags (r->tags,
 * r->ntags 0), nhits hits and strbytes bytes of strings (NULs included),
 * owned by r.  Fill it with report_tags_hits and report_tags_str. */
void report_tags_reserve(struct report *r, size_t ntags, size_t nhits, size_t strbytes);
/* The next n hits of r's block (zeroed); aborts past what was reserved. */
struct report_hit *report_tags_hits(struct report *r, size_t n);
/* A NUL-terminated copy of s[0..len) in r's block; aborts past what was
 * reserved.  Lives as long as r's tags. */
char *report_tags_str(struct report *r, const char *s, size_t len);

/* Set r->id, r->received_us and r->received_at from a µs timestamp; the
 * id is the UTC time "YYYYMMDD-HHMMSS-uuuuuu", received_at is RFC 3339 with
 * milliseconds in the process's local zone (TZ is set from the config). */
void report_stamp(struct report *r, int64_t us);

/* The one RFC 3339 parser: "2026-01-31T23:59:59+08:00" ('T', 't' or a
 * space between date and time; fractions of any length; "Z" or "±hh:mm").
 * 0 and *us (µs since the epoch), or -1 if s is not such a time. */
int report_time_parse(const char *s, int64_t *us);
/* report_time_parse's µs, or -1 if s is not an RFC 3339 time. */
int64_t report_time_to_us(const char *s);
/* Parse an id back into µs since the epoch; -1 if it is not an id. */
int64_t report_id_to_us(const char *id);

/* 64-bit FNV-1a keys used for duplicate detection.  content: member, title
 * and body; ref: member and ref (0 if the report has no ref). */
uint64_t report_content_key(const struct report *r);
/* r->content_key when it came with the report, else report_content_key(r):
 * the collector computes the key once and the archiver reuses it (a key
 * that is wrong only makes a content duplicate go unnoticed: the archive
 * compares member, title and body too). */
uint64_t report_content_key_known(const struct report *r);
uint64_t report_ref_key(const struct report *r);

/* Number of Unicode code points in valid UTF-8 s[0..len). */
size_t report_utf8_chars(const char *s, size_t len);
/* 1 if s[0..len) is valid UTF-8 (no overlongs, surrogates or > U+10FFFF). */
int report_utf8_valid(const char *s, size_t len);
/* The one UTF-8 decoder: the character at s (at most `left` bytes; a
 * NUL-terminated string may pass any left >= 4, decoding stops at the NUL).
 * Returns its length (1-4) and *cp, or 0 when the bytes there are not valid
 * UTF-8 by report_utf8_valid's rules. */
size_t report_utf8_decode(const char *s, size_t left, uint32_t *cp);

#endif
