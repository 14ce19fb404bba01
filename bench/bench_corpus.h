/* bench_corpus: the benchmark corpus (JSON Lines with title and body, made by
 * bench/corpus.py) read into reports, for the tools of bench/.
 * Ownership: the array and every report are the caller's (report_free each,
 * then free the array). */
#ifndef MINYI_BENCH_CORPUS_H
#define MINYI_BENCH_CORPUS_H
#include <stddef.h>

struct report;

/* Every line of path with a string title and body as a report of member
 * M001; *n of them (0 and NULL when the file cannot be read). */
struct report **bench_corpus(const char *path, size_t *n);

#endif
