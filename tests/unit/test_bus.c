/* test_bus.c: the ZeroMQ wrapper -- ROUTER replies reach REQ and DEALER
 * clients, malformed (empty, multipart) messages are recognised, oversized
 * messages are cut off by ZMQ_MAXMSGSIZE, requests time out. */
#include "bus.h"
#include "harness.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/minyi-test-bus.XXXXXX";
static char ep[256];

/* Serve one request on the ROUTER: reply "echo:<body>" or "bad" if malformed. */
static void serve_one(struct bus_sock *srv)
{
    struct bus_msg m;
    struct bus_poll p = {.sock = srv, .fd = -1};
    if (bus_poll(&p, 1, 2000) <= 0 || bus_recv(srv, &m, 1) < 0)
        return;
    size_t len;
    const char *body = bus_msg_body(&m, &len);
    char out[128];
    int n = body ? snprintf(out, sizeof out, "echo:%.*s", (int)len, body)
                 : snprintf(out, sizeof out, "bad:%zu", m.nframes);
    bus_reply(srv, &m, out, (size_t)n);
    bus_msg_clear(&m);
}

static void test_req_and_dealer(struct bus *b, struct bus_sock *srv)
{
    char err[256];
    struct bus_sock *req = bus_open(b, BUS_REQ, ep, 0, NULL, err, sizeof err);
    struct bus_sock *dealer = bus_open(b, BUS_DEALER, ep, 0, NULL, err, sizeof err);
    struct bus_msg m;
    CHECK(req && dealer, "clients connect: %s", err);
    if (!req || !dealer)
        return;
    bus_send(req, "hi", 2, 0);
    serve_one(srv);
    CHECK(bus_recv(req, &m, 0) == 0, "REQ gets a reply");
    CHECK_STR("REQ reply", m.nkept ? (char *)m.frame[0].data : NULL, "echo:hi");
    bus_msg_clear(&m);

    bus_send(dealer, "yo", 2, 0);      /* DEALER without an empty delimiter */
    serve_one(srv);
    CHECK(bus_recv(dealer, &m, 0) == 0, "DEALER gets a reply");
    CHECK_STR("DEALER reply", m.nkept ? (char *)m.frame[m.nkept - 1].data : NULL, "echo:yo");
    bus_msg_clear(&m);

    bus_send(dealer, "", 0, 0);        /* an empty message */
    serve_one(srv);
    CHECK(bus_recv(dealer, &m, 0) == 0, "empty message answered");
    CHECK(m.nkept && strncmp(m.frame[m.nkept - 1].data, "bad:", 4) == 0,
          "empty message is malformed: got \"%s\"", m.nkept ? (char *)m.frame[m.nkept - 1].data : "");
    bus_msg_clear(&m);
    bus_close(&req);
    bus_close(&dealer);
    CHECK(req == NULL, "bus_close nulls");
}

static void test_request_timeout(struct bus *b)
{
    char *reply = NULL, ep2[300];
    snprintf(ep2, sizeof ep2, "ipc://%s/nobody.sock", dir);
    int rc = bus_request(b, ep2, "{}", 2, 100, &reply, NULL);
    CHECK(rc < 0 && errno == ETIMEDOUT, "no server: got rc %d errno %d, want ETIMEDOUT", rc, errno);
    CHECK(reply == NULL, "no reply on timeout");
}

static void test_maxmsgsize(struct bus *b)
{
    char err[256], ep3[300];
    snprintf(ep3, sizeof ep3, "ipc://%s/small.sock", dir);
    struct bus_opts o = {.maxmsgsize = 100};
    struct bus_sock *pull = bus_open(b, BUS_PULL, ep3, 1, &o, err, sizeof err);
    struct bus_sock *push = bus_open(b, BUS_PUSH, ep3, 0, NULL, err, sizeof err);
    char big[1000], small[] = "small";
    struct bus_msg m;
    memset(big, 'x', sizeof big);
    bus_send(push, big, sizeof big, 0);
    struct bus_poll p = {.sock = pull, .fd = -1};
    bus_poll(&p, 1, 300);
    CHECK(!p.readable, "an oversized message is never delivered");
    bus_close(&push);                  /* the peer was disconnected; reconnect */
    push = bus_open(b, BUS_PUSH, ep3, 0, NULL, err, sizeof err);
    bus_send(push, small, sizeof small, 0);
    bus_poll(&p, 1, 2000);
    CHECK(p.readable && bus_recv(pull, &m, 1) == 0, "the socket still serves afterwards");
    if (p.readable)
        bus_msg_clear(&m);
    bus_close(&push);
    bus_close(&pull);
}

static void test_bad_endpoint(struct bus *b)
{
    char err[256] = "", longep[300];
    memset(longep, 'a', sizeof longep);
    memcpy(longep, "ipc://", 6);
    longep[sizeof longep - 1] = '\0';
    CHECK(bus_open(b, BUS_PULL, longep, 1, NULL, err, sizeof err) == NULL &&
              strstr(err, "longer than"),
          "overlong ipc path: got \"%s\"", err);
    CHECK(bus_open(b, BUS_PULL, "nonsense://x", 1, NULL, err, sizeof err) == NULL,
          "bad transport refused");
}

int main(void)
{
    char err[256];
    if (!mkdtemp(dir))
        return 1;
    snprintf(ep, sizeof ep, "ipc://%s/srv.sock", dir);
    struct bus *b = bus_new();
    struct bus_sock *srv = bus_open(b, BUS_ROUTER, ep, 1, NULL, err, sizeof err);
    CHECK(srv != NULL, "bind ROUTER: %s", err);
    if (srv)
        test_req_and_dealer(b, srv);
    test_request_timeout(b);
    test_maxmsgsize(b);
    test_bad_endpoint(b);
    bus_close(&srv);
    bus_destroy(&b);
    CHECK(b == NULL, "bus_destroy nulls");
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return harness_done();
}
