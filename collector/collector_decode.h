/* collector_decode: the bytes of a drop file -> UTF-8 -> a report.
 *
 * The only iconv user.  A file may be UTF-8 (with or without a byte-order
 * mark), UTF-16 LE/BE with a byte-order mark, or GB18030 (what Windows
 * editors on Chinese systems write as "ANSI").  Anything else, and anything
 * that looks binary (NUL bytes without a UTF-16 mark, control characters in
 * what would be GB18030), is bad_encoding.  Valid UTF-8 always wins over
 * GB18030: plain ASCII is both.  The same decoding applies to .json and
 * .txt files; the submit socket does not use it (socket input is UTF-8 only).
 *
 * Nothing here touches the disk: the drop folder (collector_drop) reads the
 * file and calls collector_decode_report.
 */
#ifndef MINYI_COLLECTOR_DECODE_H
#define MINYI_COLLECTOR_DECODE_H
#include <stddef.h>

struct report;
struct report_error;

/* Which parser the decoded text goes to. */
enum collector_decode_kind {
    COLLECTOR_DECODE_JSON,        /* drop/NAME.json: report_parse_submission */
    COLLECTOR_DECODE_TEXT,        /* drop/MEMBER/NAME.txt: report_parse_text */
};

/* Convert buf[0..len) to UTF-8 without a byte-order mark.  Returns 0 with
 * *out (NUL-terminated, caller frees) and *outlen, or -1 with err filled:
 * missing_field "empty file" (nothing but white space), bad_encoding
 * "binary file" or "not UTF-8, UTF-16 or GB18030" (and a few precise UTF-16
 * / BOM details).  On error *out is NULL. */
int collector_decode_text(const char *buf, size_t len, char **out, size_t *outlen,
                          struct report_error *err);

/* Decode buf[0..len) (at most max_bytes, else too_large) and parse it as
 * `kind`; member is the MEMBER folder for text files (ignored for JSON).
 * Returns 0 with *out (source REPORT_SOURCE_DROP, caller frees with
 * report_free), or -1 with err filled and *out NULL. */
int collector_decode_report(enum collector_decode_kind kind, const char *member,
                            const char *buf, size_t len, size_t max_bytes,
                            struct report **out, struct report_error *err);

#endif
