/* roster: the member roster (members.json), read-only after load.
 *
 * File format: {"members": [{"id": "M001", "name": "张伟", "sector": "经济界",
 *   "group": "第一活动组", "active": true, "joined": "2023-01-01",
 *   "left": null}, ...]}
 * `active`, `joined`, `left` are optional (active defaults to true).  A member
 * who left stays in the roster so their history keeps its names.
 *
 * Ownership: roster_load returns a roster freed with roster_free(&r); lookups
 * return borrowed pointers valid until then.
 */
#ifndef MINYI_ROSTER_H
#define MINYI_ROSTER_H
#include <stddef.h>

struct roster_member {
    char *id, *name, *sector, *group;
    int active;
    char joined[11], left[11];    /* "YYYY-MM-DD" or "" */
};

struct roster {
    struct roster_member *members;  /* in file order */
    size_t n;
    struct roster_index *index;     /* private: ids sorted for roster_find */
};

/* Load `path`. Returns 0 and *out, or -1 with "FILE: members[N]: message" in
 * err. Duplicate ids are an error. */
int roster_load(const char *path, struct roster **out, char *err, size_t errlen);
/* Free *r; sets *r = NULL. NULL-safe. */
void roster_free(struct roster **r);
/* The member with this id, or NULL (borrowed). */
const struct roster_member *roster_find(const struct roster *r, const char *id);

#endif
