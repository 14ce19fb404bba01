/* test_access.c: the principals file (parsing, errors naming the
 * principal, lookups, reading it again) and who may do what. */
#include "access.h"
#include "harness.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/minyi-test-access.XXXXXX";

static char *write_file(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static const char *const good =
    "{\"principals\": ["
    "{\"name\": \"li\", \"role\": \"clerk\", \"committees\": [\"jiaoke\", \"shefa\"], \"uids\": [5001]},"
    "{\"name\": \"M001\", \"role\": \"member\", \"uids\": [5002]},"
    "{\"name\": \"zhang\", \"role\": \"member\", \"member\": \"M002\", \"uids\": [5003]},"
    "{\"name\": \"office\", \"role\": \"staff\", \"uids\": [5004]},"
    "{\"name\": \"web\", \"role\": \"gateway\", \"key\": \"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\"},"
    "{\"name\": \"router1\", \"role\": \"daemon\", \"key\": \"Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID\"},"
    "{\"name\": \"old\", \"role\": \"staff\", \"revoked\": true, \"uids\": [5005],"
    " \"key\": \"0000000000000000000000000000000000000000\"},"
    "{\"name\": \"old\", \"role\": \"clerk\", \"committees\": [\"jiaoke\"],"
    " \"key\": \"1111111111111111111111111111111111111111\"}]}";

struct may_case {
    const char *who;              /* principal name; NULL: nobody */
    enum access_act act;
    const char *committee, *member;
    int want;                     /* 0 allowed, -1 refused */
};

static const struct may_case may_cases[] = {
    {"M001", ACCESS_SUBMIT, NULL, "M001", 0},
    {"M001", ACCESS_SUBMIT, NULL, "M002", -1},
    {"zhang", ACCESS_SUBMIT, NULL, "M002", 0},
    {"zhang", ACCESS_SUBMIT, NULL, "zhang", -1},
    {"M001", ACCESS_SHOW, "jiaoke", "M001", 0},
    {"M001", ACCESS_SHOW, "jiaoke", "M009", -1},
    {"M001", ACCESS_QUEUE, "jiaoke", NULL, -1},
    {"M001", ACCESS_STATUS, NULL, NULL, -1},
    {"li", ACCESS_QUEUE, "jiaoke", NULL, 0},
    {"li", ACCESS_QUEUE, "shefa", NULL, 0},
    {"li", ACCESS_QUEUE, "nongye", NULL, -1},
    {"li", ACCESS_SHOW, "nongye", "M001", -1},
    {"li", ACCESS_CHANGE, NULL, NULL, 0},             /* the store checks the lease */
    {"li", ACCESS_SUBMIT, NULL, "M001", -1},
    {"li", ACCESS_MANAGE, NULL, NULL, -1},
    {"li", ACCESS_AUDIT, NULL, NULL, -1},
    {"office", ACCESS_AUDIT, NULL, NULL, 0},
    {"office", ACCESS_MANAGE, NULL, NULL, 0},
    {"office", ACCESS_QUEUE, "nongye", NULL, 0},
    {"web", ACCESS_SUBMIT, NULL, "M001", -1},         /* alone: only for someone */
    {"web", ACCESS_SHOW, "jiaoke", "M001", -1},
    {"web", ACCESS_AUDIT, NULL, NULL, 0},
    {"web", ACCESS_STATUS, NULL, NULL, 0},
    {"web", ACCESS_MANAGE, NULL, NULL, -1},
    {"router1", ACCESS_STATUS, NULL, NULL, 0},
    {"router1", ACCESS_SUBMIT, NULL, "M001", -1},
    {"local", ACCESS_MANAGE, NULL, NULL, 0},
    {NULL, ACCESS_SUBMIT, NULL, "M001", -1},
    {NULL, ACCESS_STATUS, NULL, NULL, -1},
};

static void test_may(struct access *a)
{
    for (size_t i = 0; i < sizeof may_cases / sizeof may_cases[0]; i++) {
        const struct may_case *c = &may_cases[i];
        const struct access_principal *p = c->who ? access_by_name(a, c->who) : NULL;
        char why[256] = "";
        CHECK(!c->who || p, "case %zu: principal %s found", i, c->who);
        int got = access_may(p, c->act, c->committee, c->member, why, sizeof why);
        CHECK(got == c->want, "case %zu (%s, act %d, %s, %s): got %d, want %d (%s)", i,
              c->who ? c->who : "nobody", (int)c->act, c->committee ? c->committee : "-",
              c->member ? c->member : "-", got, c->want, why);
        if (got < 0)
            CHECK(why[0] != '\0', "case %zu: a refusal says why", i);
    }
}

static void test_lookups(struct access *a)
{
    CHECK_STR("by uid", access_name(access_by_uid(a, 5001)), "li");
    CHECK_STR("root is the local admin", access_name(access_by_uid(a, 0)), "local");
    CHECK_STR("our own account too", access_name(access_by_uid(a, geteuid())), "local");
    CHECK_STR("an unknown uid is nobody", access_name(access_by_uid(a, 5999)), "nobody");
    CHECK_STR("by key", access_name(access_by_key(a, "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7")),
              "web");
    CHECK_STR("an unknown key", access_name(access_by_key(a, "x")), "nobody");
    struct bus_msg m = {.peer_uid = 5002};
    CHECK_STR("a message's ipc peer", access_name(access_of_msg(a, &m)), "M001");
    snprintf(m.user_id, sizeof m.user_id, "rq:rM>}U?@Lns47E1%%kR.o@n%%FcmmsL/@{H8]yf7");
    CHECK_STR("a CURVE user id (the client's key) wins", access_name(access_of_msg(a, &m)),
              "web");
    snprintf(m.user_id, sizeof m.user_id, "Zne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID");
    CHECK_STR("a key no longer listed is nobody", access_name(access_of_msg(a, &m)), "nobody");
    CHECK_STR("a revoked key is nobody",
              access_name(access_by_key(a, "0000000000000000000000000000000000000000")),
              "nobody");
    CHECK_STR("a revoked account is nobody", access_name(access_by_uid(a, 5005)), "nobody");
    CHECK_STR("a name revoked and issued again is the new one",
              access_by_name(a, "old") ? access_role_name(access_by_name(a, "old")->role) : "",
              "clerk");
    CHECK_STR("no server key yet: it is nobody", access_name(access_by_key(a, "Zne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID")), "nobody");
    access_set_daemon_key(a, "Zne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID");
    const struct access_principal *d = access_by_key(a, "Zne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID");
    CHECK(d && d->role == ACCESS_DAEMON && !strcmp(d->name, "daemon"),
          "the server key's holder is the daemon");
    CHECK_INT("a gateway may name who acts", access_may_act_for(access_by_name(a, "web")), 1);
    CHECK_INT("a clerk may not", access_may_act_for(access_by_name(a, "li")), 0);
}

/* A gateway acting for a person: both must be allowed. */
struct as_case {
    const char *sender, *as;
    enum access_act act;
    const char *committee, *member;
    int want;
};

static const struct as_case as_cases[] = {
    {"web", "M001", ACCESS_SUBMIT, NULL, "M001", 0},
    {"web", "M001", ACCESS_SUBMIT, NULL, "M002", -1},
    {"web", "M001", ACCESS_SHOW, "jiaoke", "M001", 0},
    {"web", "M001", ACCESS_SHOW, "jiaoke", "M002", -1},
    {"web", "M001", ACCESS_AUDIT, NULL, NULL, -1},     /* a member may not, so neither */
    {"web", "li", ACCESS_QUEUE, "jiaoke", NULL, 0},
    {"web", "li", ACCESS_QUEUE, "nongye", NULL, -1},
    {"web", "office", ACCESS_AUDIT, NULL, NULL, 0},
    {"web", "office", ACCESS_MANAGE, NULL, NULL, -1},   /* staff may; a gateway never passes it on */
    {"office", "li", ACCESS_QUEUE, "jiaoke", NULL, -1}, /* only a gateway acts for someone */
    {"li", "li", ACCESS_QUEUE, "jiaoke", NULL, 0},      /* as itself: its own rights */
};

static void test_as(struct access *a)
{
    for (size_t i = 0; i < sizeof as_cases / sizeof as_cases[0]; i++) {
        const struct as_case *c = &as_cases[i];
        char why[256] = "";
        int got = access_may_as(access_by_name(a, c->sender), access_by_name(a, c->as), c->act,
                                c->committee, c->member, why, sizeof why);
        CHECK(got == c->want, "as case %zu (%s as %s, act %d): got %d, want %d (%s)", i,
              c->sender, c->as, c->act, got, c->want, why);
    }
    char why[256] = "";
    access_may_as(access_by_name(a, "web"), access_by_name(a, "M001"), ACCESS_SHOW, "jiaoke",
                  "M002", why, sizeof why);
    CHECK(strstr(why, "M001 (member)") && strstr(why, "through gateway web"), "why: %s", why);
    CHECK_STR("a person by name", access_name(access_person(a, "li")), "li");
    CHECK_STR("a gateway is no person", access_name(access_person(a, "web")), "nobody");
    CHECK_STR("nor a daemon", access_name(access_person(a, "router1")), "nobody");
    CHECK_STR("nor the local admin", access_name(access_person(a, "local")), "nobody");
    CHECK_STR("nor an unknown name", access_name(access_person(a, "ghost")), "nobody");
    CHECK_STR("a member by roster id", access_name(access_member_person(a, "M002")), "zhang");
    CHECK_STR("a name is not a roster id", access_name(access_member_person(a, "zhang")),
              "nobody");
}

struct bad_case {
    const char *text, *want;      /* want: a part of the error */
};

static const struct bad_case bad_cases[] = {
    {"[]", "want {\"principals\""},
    {"{\"principals\": [{\"role\": \"staff\"}]}", "principal 1: want a \"name\""},
    {"{\"principals\": [{\"name\": \"a\", \"role\": \"king\"}]}", "principal 1: role is"},
    {"{\"principals\": [{\"name\": \"a\", \"role\": \"clerk\"}]}", "a clerk needs"},
    {"{\"principals\": [{\"name\": \"a\", \"role\": \"staff\", \"key\": \"short\"}]}", "key: want 40"},
    {"{\"principals\": [{\"name\": \"a\", \"role\": \"staff\", \"users\": [\"no-such-user-xyz\"]}]}",
     "no account"},
    {"{\"principals\": [{\"name\": \"a\", \"role\": \"staff\"}, {\"name\": \"a\", \"role\": \"admin\"}]}",
     "principal 2: name \"a\" twice"},
};

static void test_bad_files(void)
{
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        char err[512] = "";
        struct access *a = access_load(write_file("bad.json", bad_cases[i].text), err, sizeof err);
        CHECK(!a && strstr(err, bad_cases[i].want), "bad case %zu: got \"%s\", want \"%s\"", i,
              err, bad_cases[i].want);
        access_free(&a);
    }
}

static void test_refresh(void)
{
    char err[512] = "";
    char *path = write_file("live.json", good);
    struct access *a = access_load(path, err, sizeof err);
    CHECK(a != NULL, "loads: %s", err);
    if (!a)
        return;
    CHECK_INT("unchanged: not read again", access_refresh(a, 5000, err, sizeof err), 0);
    write_file("live.json", "{\"principals\": [{\"name\": \"M001\", \"role\": \"member\", "
                            "\"uids\": [5002, 6000]}]}");
    CHECK_INT("within a second of the last look: not yet", access_refresh(a, 5500, err,
                                                                         sizeof err), 0);
    CHECK_INT("changed: read again", access_refresh(a, 6100, err, sizeof err), 1);
    CHECK_STR("a revoked principal is gone", access_name(access_by_name(a, "li")), "nobody");
    CHECK_STR("a new uid is there", access_name(access_by_uid(a, 6000)), "M001");
    write_file("live.json", "{\"principals\": 7, \"x\": 1}");
    CHECK_INT("a bad new file: -1", access_refresh(a, 7200, err, sizeof err), -1);
    CHECK_STR("and the old table stays", access_name(access_by_uid(a, 6000)), "M001");
    access_free(&a);
    CHECK(a == NULL, "access_free nulls the pointer");
    char absent[600];
    snprintf(absent, sizeof absent, "%s/absent.json", dir);
    a = access_load(absent, err, sizeof err);
    CHECK(a != NULL, "an absent file is only the local admin");
    if (a)
        CHECK_STR("root is admin", access_name(access_by_uid(a, 0)), "local");
    access_free(&a);
}

int main(void)
{
    char err[512] = "";
    if (!mkdtemp(dir))
        return 1;
    struct access *a = access_load(write_file("access.json", good), err, sizeof err);
    CHECK(a != NULL, "the example file loads: %s", err);
    if (a) {
        test_may(a);
        test_lookups(a);
        test_as(a);
    }
    access_free(&a);
    test_bad_files();
    test_refresh();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", dir);
    return harness_done();
}
