/*
 * ZooKeeper C client (libzookeeper_mt 3.8) compatibility scenarios.
 *
 *   compat HOST:PORT [SCENARIO...]
 *
 * Each scenario runs in a forked child with an alarm() bound; the parent prints
 * "RESULT c <scenario> pass|fail <detail>" for each and exits 0 iff all passed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zookeeper/zookeeper.h>

#define SCENARIO_ALARM_S 20
#define SUITE_BUDGET_S 150
/* The digest ACL id for "compat:secret": base64(sha1("compat:secret")). */
#define DIGEST_USER "compat:secret"
#define DIGEST_ID "compat:vsMoek7F1sUFrzDIF24UBo9/apc="

static const char *hostport;
static char base[256]; /* per-run root, e.g. /compat-c-<pid>-<time> */
static int result_fd = -1;

/* ------------------------------------------------------------------ reporting */

static void finish(int ok, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t') *p = ' ';
    char line[700];
    int n = snprintf(line, sizeof line, "%s %s", ok ? "pass" : "fail", msg);
    if (write(result_fd, line, n) < 0) { /* nothing more to do */ }
    _exit(ok ? 0 : 1);
}

#define FAIL(...) finish(0, __VA_ARGS__)
#define CHECK(cond, ...) do { if (!(cond)) { fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); FAIL(__VA_ARGS__); } } while (0)
#define CHECK_RC(rc, want, what) do { int _rc = (rc); if (_rc != (want)) FAIL("%s: got %d (%s), expected %d (%s)", what, _rc, zerror(_rc), (want), zerror(want)); } while (0)

/* ------------------------------------------------------------- event capture */

#define MAXEV 128
struct event { int type, state; char path[256]; };
struct watch_log {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct event ev[MAXEV];
    int n;
    int last_state;
};

static struct watch_log *new_log(void)
{
    struct watch_log *l = calloc(1, sizeof *l);
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    return l;
}

static void log_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    (void)zh;
    struct watch_log *l = ctx;
    pthread_mutex_lock(&l->mu);
    if (l->n < MAXEV) {
        l->ev[l->n].type = type;
        l->ev[l->n].state = state;
        snprintf(l->ev[l->n].path, sizeof l->ev[l->n].path, "%s", path ? path : "");
        l->n++;
    }
    if (type == ZOO_SESSION_EVENT) l->last_state = state;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

static void deadline_in(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) { ts->tv_sec++; ts->tv_nsec -= 1000000000L; }
}

/* Wait for an event of type (and path, if not NULL) at index >= *from; returns its index or -1. */
static int wait_event(struct watch_log *l, int *from, int type, const char *path, int state, int ms)
{
    struct timespec ts;
    deadline_in(&ts, ms);
    pthread_mutex_lock(&l->mu);
    for (;;) {
        for (int i = *from; i < l->n; i++) {
            if (l->ev[i].type == type && (!path || strcmp(path, l->ev[i].path) == 0) &&
                (state == 0 || l->ev[i].state == state)) {
                *from = i + 1;
                pthread_mutex_unlock(&l->mu);
                return i;
            }
        }
        if (pthread_cond_timedwait(&l->cv, &l->mu, &ts) == ETIMEDOUT) break;
    }
    pthread_mutex_unlock(&l->mu);
    return -1;
}

static int count_events(struct watch_log *l, int from, int type)
{
    int c = 0;
    pthread_mutex_lock(&l->mu);
    for (int i = from; i < l->n; i++)
        if (l->ev[i].type == type) c++;
    pthread_mutex_unlock(&l->mu);
    return c;
}

static int log_len(struct watch_log *l)
{
    pthread_mutex_lock(&l->mu);
    int n = l->n;
    pthread_mutex_unlock(&l->mu);
    return n;
}

static const char *evname(int t)
{
    if (t == ZOO_CREATED_EVENT) return "CREATED";
    if (t == ZOO_DELETED_EVENT) return "DELETED";
    if (t == ZOO_CHANGED_EVENT) return "CHANGED";
    if (t == ZOO_CHILD_EVENT) return "CHILD";
    if (t == ZOO_SESSION_EVENT) return "SESSION";
    if (t == ZOO_NOTWATCHING_EVENT) return "NOTWATCHING";
    return "?";
}

static void describe(struct watch_log *l, int from, char *out, size_t cap)
{
    size_t off = 0;
    out[0] = 0;
    pthread_mutex_lock(&l->mu);
    for (int i = from; i < l->n && off + 1 < cap; i++)
        off += snprintf(out + off, cap - off, "%s%s(%d)%s", i > from ? "," : "", evname(l->ev[i].type), l->ev[i].state, l->ev[i].path);
    pthread_mutex_unlock(&l->mu);
    if (!out[0]) snprintf(out, cap, "none");
}

/* ------------------------------------------------------------------ sessions */

static zhandle_t *connect_to(const char *hp, struct watch_log **logp, int timeout_ms)
{
    struct watch_log *l = new_log();
    zhandle_t *zh = zookeeper_init(hp, log_watcher, timeout_ms, 0, l, 0);
    if (!zh) FAIL("zookeeper_init(%s) failed: %s", hp, strerror(errno));
    int from = 0;
    if (wait_event(l, &from, ZOO_SESSION_EVENT, NULL, ZOO_CONNECTED_STATE, 10000) < 0)
        FAIL("no ZOO_CONNECTED_STATE from %s within 10 s (state %d)", hp, zoo_state(zh));
    if (logp) *logp = l;
    return zh;
}

static zhandle_t *zconnect(struct watch_log **logp)
{
    return connect_to(hostport, logp, 10000);
}

/* Create /base and /base/<name>; returns the scenario directory in dir. */
static void mkdir_scenario(zhandle_t *zh, const char *name, char *dir, size_t cap)
{
    int rc = zoo_create(zh, base, "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0);
    if (rc != ZOK && rc != ZNODEEXISTS) FAIL("create %s: %s", base, zerror(rc));
    snprintf(dir, cap, "%s/%s", base, name);
    rc = zoo_create(zh, dir, "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0);
    if (rc != ZOK) FAIL("create %s: %s", dir, zerror(rc));
}

static void msleep(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

/* ----------------------------------------------------------------- scenarios */

static void sc_crud(void)
{
    char dir[300], p[400], buf[64], out[400];
    zhandle_t *zh = zconnect(NULL);
    mkdir_scenario(zh, "crud", dir, sizeof dir);
    snprintf(p, sizeof p, "%s/node", dir);

    CHECK_RC(zoo_create(zh, p, "v0", 2, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, out, sizeof out), ZOK, "create");
    CHECK(strcmp(out, p) == 0, "create returned path %s, expected %s", out, p);
    CHECK_RC(zoo_create(zh, p, "dup", 3, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0), ZNODEEXISTS, "create existing");
    char missing[400];
    snprintf(missing, sizeof missing, "%s/nope/child", dir);
    CHECK_RC(zoo_create(zh, missing, "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0), ZNONODE, "create under missing parent");

    struct Stat st;
    int len = sizeof buf;
    CHECK_RC(zoo_get(zh, p, 0, buf, &len, &st), ZOK, "get");
    CHECK(len == 2 && memcmp(buf, "v0", 2) == 0, "get returned %d bytes '%.*s'", len, len > 0 ? len : 0, buf);
    CHECK(st.version == 0 && st.dataLength == 2 && st.czxid == st.mzxid && st.ephemeralOwner == 0 && st.numChildren == 0,
          "stat after create: version %d dataLength %d", st.version, st.dataLength);

    CHECK_RC(zoo_set(zh, p, "v1", 2, 0), ZOK, "set with version 0");
    CHECK_RC(zoo_set(zh, p, "bad", 3, 0), ZBADVERSION, "set with stale version 0");
    struct Stat st2;
    CHECK_RC(zoo_set2(zh, p, "v2", 2, -1, &st2), ZOK, "set2 with version -1");
    CHECK(st2.version == 2 && st2.mzxid > st.mzxid && st2.czxid == st.czxid, "set2 stat version %d", st2.version);
    len = sizeof buf;
    CHECK_RC(zoo_get(zh, p, 0, buf, &len, &st), ZOK, "get after set");
    CHECK(len == 2 && memcmp(buf, "v2", 2) == 0 && st.version == 2, "get after set returned '%.*s' version %d", len > 0 ? len : 0, buf, st.version);

    /* empty data vs. a parent with children */
    char child[420];
    snprintf(child, sizeof child, "%s/kid", p);
    CHECK_RC(zoo_create(zh, child, NULL, -1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0), ZOK, "create child with null data");
    len = sizeof buf;
    CHECK_RC(zoo_get(zh, child, 0, buf, &len, &st), ZOK, "get child");
    CHECK(len == -1 || len == 0, "null-data child returned length %d", len);
    CHECK_RC(zoo_delete(zh, p, -1), ZNOTEMPTY, "delete node with a child");
    CHECK_RC(zoo_delete(zh, child, -1), ZOK, "delete child");

    CHECK_RC(zoo_delete(zh, p, 1), ZBADVERSION, "delete with stale version 1");
    CHECK_RC(zoo_delete(zh, p, 2), ZOK, "delete with version 2");
    len = sizeof buf;
    CHECK_RC(zoo_get(zh, p, 0, buf, &len, &st), ZNONODE, "get after delete");
    CHECK_RC(zoo_delete(zh, p, -1), ZNONODE, "delete missing");
    CHECK_RC(zoo_set(zh, p, "x", 1, -1), ZNONODE, "set missing");
    zookeeper_close(zh);
    finish(1, "create/get/set/delete, ZBADVERSION, ZNODEEXISTS, ZNOTEMPTY");
}

static int is_seq_name(const char *name, const char *prefix, long *seq)
{
    size_t pl = strlen(prefix);
    if (strncmp(name, prefix, pl) != 0 || strlen(name) != pl + 10) return 0;
    for (int i = 0; i < 10; i++)
        if (name[pl + i] < '0' || name[pl + i] > '9') return 0;
    *seq = strtol(name + pl, NULL, 10);
    return 1;
}

static void sc_ephemeral_sequential(void)
{
    char dir[300], p[400], out[400];
    zhandle_t *zh = zconnect(NULL);
    zhandle_t *other = zconnect(NULL);
    mkdir_scenario(zh, "ephseq", dir, sizeof dir);
    int64_t sid = zoo_client_id(zh)->client_id;

    snprintf(p, sizeof p, "%s/eph", dir);
    CHECK_RC(zoo_create(zh, p, "e", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL, NULL, 0), ZOK, "create ephemeral");
    struct Stat st;
    CHECK_RC(zoo_exists(other, p, 0, &st), ZOK, "exists ephemeral from other session");
    CHECK(st.ephemeralOwner == sid, "ephemeralOwner %llx, expected session %llx", (long long)st.ephemeralOwner, (long long)sid);
    char under[420];
    snprintf(under, sizeof under, "%s/child", p);
    CHECK_RC(zoo_create(zh, under, "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0), ZNOCHILDRENFOREPHEMERALS, "create under ephemeral");

    long prev = -1;
    char pref[420];
    snprintf(pref, sizeof pref, "%s/s-", dir);
    for (int i = 0; i < 3; i++) {
        CHECK_RC(zoo_create(zh, pref, "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT_SEQUENTIAL, out, sizeof out), ZOK, "create persistent sequential");
        long seq;
        CHECK(is_seq_name(out, pref, &seq), "sequential path %s lacks a %%010d suffix", out);
        CHECK(prev < 0 || seq > prev, "sequence did not increase: %ld then %ld", prev, seq);
        prev = seq;
    }
    snprintf(pref, sizeof pref, "%s/e-", dir);
    CHECK_RC(zoo_create(zh, pref, "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL_SEQUENTIAL, out, sizeof out), ZOK, "create ephemeral sequential");
    long seq;
    CHECK(is_seq_name(out, pref, &seq), "ephemeral sequential path %s lacks a %%010d suffix", out);
    /* the parent's counter counts every child created: eph, 3 persistent sequential, this one */
    CHECK(seq == 4, "ephemeral sequential suffix %ld, expected 4 (5th child of the directory)", seq);
    char eseq[400];
    snprintf(eseq, sizeof eseq, "%s", out);
    CHECK_RC(zoo_exists(other, eseq, 0, &st), ZOK, "exists ephemeral sequential");
    CHECK(st.ephemeralOwner == sid, "ephemeral sequential owner %llx", (long long)st.ephemeralOwner);

    zookeeper_close(zh);
    CHECK_RC(zoo_exists(other, p, 0, &st), ZNONODE, "ephemeral after its session closed");
    CHECK_RC(zoo_exists(other, eseq, 0, &st), ZNONODE, "ephemeral sequential after its session closed");
    struct String_vector kids;
    CHECK_RC(zoo_get_children(other, dir, 0, &kids), ZOK, "get_children");
    CHECK(kids.count == 3, "%d children left, expected the 3 persistent sequential nodes", kids.count);
    deallocate_String_vector(&kids);
    zookeeper_close(other);
    finish(1, "ephemeral owner, %%010d suffixes, ephemerals gone on close");
}

static void sc_watch(void)
{
    char dir[300], p[400], buf[64], desc[400];
    struct watch_log *gl;
    zhandle_t *zh = zconnect(&gl);
    zhandle_t *other = zconnect(NULL);
    mkdir_scenario(zh, "watch", dir, sizeof dir);
    snprintf(p, sizeof p, "%s/w", dir);
    CHECK_RC(zoo_create(zh, p, "a", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0), ZOK, "create");

    struct watch_log *wl = new_log();
    struct Stat st;
    int len = sizeof buf, from = 0;
    CHECK_RC(zoo_wget(zh, p, log_watcher, wl, buf, &len, &st), ZOK, "wget");
    CHECK_RC(zoo_set(other, p, "b", 1, -1), ZOK, "set from other session");
    if (wait_event(wl, &from, ZOO_CHANGED_EVENT, p, 0, 5000) < 0) {
        describe(wl, 0, desc, sizeof desc);
        FAIL("no ZOO_CHANGED_EVENT for %s within 5 s; watcher saw %s", p, desc);
    }
    /* one-shot: a second change must not fire again */
    CHECK_RC(zoo_set(other, p, "c", 1, -1), ZOK, "second set");
    msleep(500);
    CHECK(count_events(wl, from, ZOO_CHANGED_EVENT) == 0, "one-shot watch fired twice");

    /* exists-watch on a missing node fires on create */
    char q[420];
    snprintf(q, sizeof q, "%s/later", dir);
    CHECK_RC(zoo_wexists(zh, q, log_watcher, wl, &st), ZNONODE, "wexists missing");
    CHECK_RC(zoo_create(other, q, "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0), ZOK, "create watched");
    if (wait_event(wl, &from, ZOO_CREATED_EVENT, q, 0, 5000) < 0) FAIL("no ZOO_CREATED_EVENT for %s", q);

    /* child watch */
    struct String_vector kids;
    CHECK_RC(zoo_wget_children(zh, dir, log_watcher, wl, &kids), ZOK, "wget_children");
    deallocate_String_vector(&kids);
    char r[420];
    snprintf(r, sizeof r, "%s/third", dir);
    CHECK_RC(zoo_create(other, r, "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0), ZOK, "create child");
    if (wait_event(wl, &from, ZOO_CHILD_EVENT, dir, 0, 5000) < 0) FAIL("no ZOO_CHILD_EVENT for %s", dir);

    /* data watch fires DELETED on delete */
    len = sizeof buf;
    CHECK_RC(zoo_wget(zh, p, log_watcher, wl, buf, &len, &st), ZOK, "wget again");
    CHECK(len == 1 && buf[0] == 'c', "wget data '%.*s'", len > 0 ? len : 0, buf);
    CHECK_RC(zoo_delete(other, p, -1), ZOK, "delete watched");
    if (wait_event(wl, &from, ZOO_DELETED_EVENT, p, 0, 5000) < 0) FAIL("no ZOO_DELETED_EVENT for %s", p);

    /* legacy watch flag goes to the global watcher */
    int gfrom = log_len(gl);
    len = sizeof buf;
    CHECK_RC(zoo_get(zh, q, 1, buf, &len, &st), ZOK, "get with watch=1");
    CHECK_RC(zoo_set(other, q, "z", 1, -1), ZOK, "set global-watched");
    if (wait_event(gl, &gfrom, ZOO_CHANGED_EVENT, q, 0, 5000) < 0) FAIL("global watcher saw no ZOO_CHANGED_EVENT for %s", q);

    msleep(200);
    describe(wl, 0, desc, sizeof desc);
    CHECK(log_len(wl) == 4, "watcher events %s", desc);
    zookeeper_close(other);
    zookeeper_close(zh);
    finish(1, "CHANGED once, CREATED, CHILD, DELETED, global watcher");
}

static void sc_multi(void)
{
    char dir[300], a[400], del[400], pathbuf[400], buf[64];
    zhandle_t *zh = zconnect(NULL);
    mkdir_scenario(zh, "multi", dir, sizeof dir);
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(del, sizeof del, "%s/del", dir);
    CHECK_RC(zoo_create(zh, del, "gone", 4, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0), ZOK, "setup create");

    zoo_op_t ops[4];
    zoo_op_result_t res[4];
    struct Stat setst;
    memset(res, 0, sizeof res);
    zoo_create_op_init(&ops[0], a, "x", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, pathbuf, sizeof pathbuf);
    zoo_set_op_init(&ops[1], a, "y", 1, 0, &setst);
    zoo_check_op_init(&ops[2], a, 1);
    zoo_delete_op_init(&ops[3], del, 0);
    CHECK_RC(zoo_multi(zh, 4, ops, res), ZOK, "multi create+set+check+delete");
    for (int i = 0; i < 4; i++) CHECK(res[i].err == ZOK, "op %d err %d", i, res[i].err);
    CHECK(strcmp(pathbuf, a) == 0, "multi create returned path '%s'", pathbuf);
    CHECK(setst.version == 1, "multi set stat version %d", setst.version);

    struct Stat st;
    int len = sizeof buf;
    CHECK_RC(zoo_get(zh, a, 0, buf, &len, &st), ZOK, "get after multi");
    CHECK(len == 1 && buf[0] == 'y' && st.version == 1 && st.czxid == st.mzxid, "state after multi: '%.*s' v%d", len > 0 ? len : 0, buf, st.version);
    CHECK_RC(zoo_exists(zh, del, 0, &st), ZNONODE, "deleted by multi");
    zookeeper_close(zh);
    finish(1, "4 ops committed at one zxid");
}

static void sc_multi_fail(void)
{
    char dir[300], a[400], c[400], pathbuf[400], buf[64];
    zhandle_t *zh = zconnect(NULL);
    mkdir_scenario(zh, "multifail", dir, sizeof dir);
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(c, sizeof c, "%s/c", dir);
    CHECK_RC(zoo_create(zh, a, "y", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0), ZOK, "setup create");

    zoo_op_t ops[3];
    zoo_op_result_t res[3];
    struct Stat setst;
    memset(res, 0, sizeof res);
    zoo_create_op_init(&ops[0], c, "z", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, pathbuf, sizeof pathbuf);
    zoo_set_op_init(&ops[1], a, "w", 1, 99, &setst);
    zoo_delete_op_init(&ops[2], a, -1);
    CHECK_RC(zoo_multi(zh, 3, ops, res), ZBADVERSION, "multi with a bad version");
    int want[3] = { ZOK, ZBADVERSION, ZRUNTIMEINCONSISTENCY };
    CHECK(res[0].err == want[0] && res[1].err == want[1] && res[2].err == want[2],
          "per-op results [%d,%d,%d], expected [%d,%d,%d]", res[0].err, res[1].err, res[2].err, want[0], want[1], want[2]);

    struct Stat st;
    CHECK_RC(zoo_exists(zh, c, 0, &st), ZNONODE, "create of failed multi applied");
    int len = sizeof buf;
    CHECK_RC(zoo_get(zh, a, 0, buf, &len, &st), ZOK, "node of failed multi");
    CHECK(len == 1 && buf[0] == 'y' && st.version == 0, "failed multi changed the node: '%.*s' v%d", len > 0 ? len : 0, buf, st.version);

    /* a failing check alone aborts, and on a missing node reports ZNONODE */
    zoo_op_t ops2[2];
    zoo_op_result_t res2[2];
    char nope[420];
    snprintf(nope, sizeof nope, "%s/nope", dir);
    zoo_create_op_init(&ops2[0], c, "z", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, pathbuf, sizeof pathbuf);
    zoo_check_op_init(&ops2[1], nope, 0);
    CHECK_RC(zoo_multi(zh, 2, ops2, res2), ZNONODE, "multi with check on a missing node");
    CHECK(res2[0].err == ZOK && res2[1].err == ZNONODE, "per-op results [%d,%d]", res2[0].err, res2[1].err);
    CHECK_RC(zoo_exists(zh, c, 0, &st), ZNONODE, "create of failed check multi applied");
    zookeeper_close(zh);
    finish(1, "ZBADVERSION with per-op [0,-103,-2]; nothing applied");
}

static int auth_rc = 1;
static pthread_mutex_t auth_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t auth_cv = PTHREAD_COND_INITIALIZER;
static void auth_done(int rc, const void *data)
{
    (void)data;
    pthread_mutex_lock(&auth_mu);
    auth_rc = rc;
    pthread_cond_broadcast(&auth_cv);
    pthread_mutex_unlock(&auth_mu);
}

static int add_auth_sync(zhandle_t *zh, const char *cred)
{
    pthread_mutex_lock(&auth_mu);
    auth_rc = 1;
    pthread_mutex_unlock(&auth_mu);
    int rc = zoo_add_auth(zh, "digest", cred, strlen(cred), auth_done, NULL);
    if (rc != ZOK) return rc;
    struct timespec ts;
    deadline_in(&ts, 5000);
    pthread_mutex_lock(&auth_mu);
    while (auth_rc == 1)
        if (pthread_cond_timedwait(&auth_cv, &auth_mu, &ts) == ETIMEDOUT) break;
    rc = auth_rc;
    pthread_mutex_unlock(&auth_mu);
    return rc == 1 ? ZOPERATIONTIMEOUT : rc;
}

static void sc_acl(void)
{
    char dir[300], p[400], q[400], buf[64];
    zhandle_t *zh = zconnect(NULL);
    zhandle_t *anon = zconnect(NULL);
    mkdir_scenario(zh, "acl", dir, sizeof dir);
    snprintf(p, sizeof p, "%s/secret", dir);
    snprintf(q, sizeof q, "%s/creator", dir);

    /* without auth, the "auth" scheme has nothing to expand to */
    CHECK_RC(zoo_create(anon, q, "", 0, &ZOO_CREATOR_ALL_ACL, ZOO_PERSISTENT, NULL, 0), ZINVALIDACL, "create with CREATOR_ALL_ACL without auth");

    CHECK_RC(add_auth_sync(zh, DIGEST_USER), ZOK, "zoo_add_auth digest");
    struct ACL acl_entry = { ZOO_PERM_ALL, { "digest", DIGEST_ID } };
    struct ACL_vector acl = { 1, &acl_entry };
    CHECK_RC(zoo_create(zh, p, "s", 1, &acl, ZOO_PERSISTENT, NULL, 0), ZOK, "create with digest ACL");
    CHECK_RC(zoo_create(zh, q, "c", 1, &ZOO_CREATOR_ALL_ACL, ZOO_PERSISTENT, NULL, 0), ZOK, "create with CREATOR_ALL_ACL");

    struct Stat st;
    int len = sizeof buf;
    CHECK_RC(zoo_get(zh, p, 0, buf, &len, &st), ZOK, "get by the authenticated session");
    CHECK(len == 1 && buf[0] == 's', "authenticated get data");

    const char *nodes[2] = { p, q };
    for (int i = 0; i < 2; i++) {
        struct ACL_vector got;
        CHECK_RC(zoo_get_acl(zh, nodes[i], &got, &st), ZOK, "get_acl");
        CHECK(got.count == 1, "%s has %d ACL entries", nodes[i], got.count);
        CHECK(got.data[0].perms == ZOO_PERM_ALL && strcmp(got.data[0].id.scheme, "digest") == 0 && strcmp(got.data[0].id.id, DIGEST_ID) == 0,
              "%s ACL is %d %s:%s, expected %d digest:%s", nodes[i], got.data[0].perms, got.data[0].id.scheme, got.data[0].id.id, ZOO_PERM_ALL, DIGEST_ID);
        CHECK(st.aversion == 0, "aversion %d", st.aversion);
        deallocate_ACL_vector(&got);

        len = sizeof buf;
        CHECK_RC(zoo_get(anon, nodes[i], 0, buf, &len, &st), ZNOAUTH, "get without auth");
        CHECK_RC(zoo_set(anon, nodes[i], "x", 1, -1), ZNOAUTH, "set without auth");
    }
    /* wrong password still has no access */
    CHECK_RC(add_auth_sync(anon, "compat:wrong"), ZOK, "zoo_add_auth with another password");
    len = sizeof buf;
    CHECK_RC(zoo_get(anon, p, 0, buf, &len, &st), ZNOAUTH, "get with the wrong password");

    /* read-only ACL for world: readable but not writable */
    struct ACL ro[2] = { { ZOO_PERM_READ, { "world", "anyone" } }, { ZOO_PERM_ALL, { "digest", DIGEST_ID } } };
    struct ACL_vector rov = { 2, ro };
    CHECK_RC(zoo_set_acl(zh, p, 0, &rov), ZOK, "set_acl");
    CHECK_RC(zoo_set_acl(zh, p, 0, &rov), ZBADVERSION, "set_acl with stale aversion");
    len = sizeof buf;
    CHECK_RC(zoo_get(anon, p, 0, buf, &len, &st), ZOK, "get with world:anyone READ");
    CHECK(st.aversion == 1, "aversion after set_acl %d", st.aversion);
    CHECK_RC(zoo_set(anon, p, "x", 1, -1), ZNOAUTH, "set with only READ");
    char sub[420];
    snprintf(sub, sizeof sub, "%s/sub", p);
    CHECK_RC(zoo_create(anon, sub, "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0), ZNOAUTH, "create a child with only READ on the parent");
    CHECK_RC(zoo_create(zh, sub, "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0), ZOK, "create a child with ALL on the parent");
    zookeeper_close(anon);
    zookeeper_close(zh);
    finish(1, "digest ACL enforced (ZNOAUTH), get_acl, set_acl");
}

/* ZooKeeper 3.8 checks no permission on exists (3.9 requires READ). */
/* The server's "major.minor.patch" from the srvr four-letter word (whitelisted by default). */
static int server_version(int *maj, int *min, int *pat)
{
    char host[256];
    snprintf(host, sizeof host, "%s", hostport);
    char *colon = strrchr(host, ':');
    if (!colon) return 0;
    *colon = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(colon + 1)) };
    if (fd < 0 || inet_pton(AF_INET, host, &a.sin_addr) != 1 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) return 0;
    if (write(fd, "srvr", 4) != 4) { close(fd); return 0; }
    char buf[512];
    ssize_t n, off = 0;
    while (off < (ssize_t)sizeof buf - 1 && (n = read(fd, buf + off, sizeof buf - 1 - off)) > 0) off += n;
    buf[off] = 0;
    close(fd);
    return sscanf(buf, "Zookeeper version: %d.%d.%d", maj, min, pat) == 3;
}

/* exists() on a node the caller may not READ: ZOOKEEPER-2590 (3.8.4, 3.9.2) made it
 * NOAUTH; older servers return the Stat. Each server must behave as its version says. */
static void sc_acl_exists(void)
{
    char dir[300], p[400];
    int maj, min, pat;
    CHECK(server_version(&maj, &min, &pat), "could not read the server version from srvr");
    int checks_read = maj > 3 || (maj == 3 && (min > 9 || (min == 9 && pat >= 2) || (min == 8 && pat >= 4)));
    zhandle_t *zh = zconnect(NULL);
    zhandle_t *anon = zconnect(NULL);
    mkdir_scenario(zh, "aclexists", dir, sizeof dir);
    snprintf(p, sizeof p, "%s/secret", dir);
    CHECK_RC(add_auth_sync(zh, DIGEST_USER), ZOK, "zoo_add_auth digest");
    struct ACL acl_entry = { ZOO_PERM_ALL, { "digest", DIGEST_ID } };
    struct ACL_vector acl = { 1, &acl_entry };
    CHECK_RC(zoo_create(zh, p, "s", 1, &acl, ZOO_PERSISTENT, NULL, 0), ZOK, "create with digest ACL");
    struct Stat st;
    memset(&st, 0, sizeof st);
    if (checks_read) {
        CHECK_RC(zoo_exists(anon, p, 0, &st), ZNOAUTH, "exists without READ (ZOOKEEPER-2590 server)");
        CHECK_RC(zoo_exists(anon, p, 1, &st), ZNOAUTH, "exists with watch without READ");
        CHECK_RC(zoo_exists(zh, p, 0, &st), ZOK, "exists with READ");
    } else {
        CHECK_RC(zoo_exists(anon, p, 0, &st), ZOK, "exists without auth on a pre-ZOOKEEPER-2590 server");
        CHECK(st.dataLength == 1 && st.version == 0, "exists stat dataLength %d version %d", st.dataLength, st.version);
        CHECK_RC(zoo_exists(anon, p, 1, &st), ZOK, "exists with watch without auth");
    }
    zookeeper_close(anon);
    zookeeper_close(zh);
    finish(1, checks_read ? "exists needs READ (server >= 3.8.4/3.9.2)" : "exists needs no permission (server < 3.8.4)");
}

static void sc_exists_missing(void)
{
    char dir[300], p[400];
    zhandle_t *zh = zconnect(NULL);
    mkdir_scenario(zh, "exists", dir, sizeof dir);
    snprintf(p, sizeof p, "%s/missing", dir);
    struct Stat st;
    CHECK_RC(zoo_exists(zh, p, 0, &st), ZNONODE, "exists on a missing node");
    CHECK_RC(zoo_exists(zh, dir, 0, &st), ZOK, "exists on an existing node");
    CHECK(st.numChildren == 0 && st.version == 0, "stat of existing node");
    CHECK_RC(zoo_exists(zh, "/", 0, &st), ZOK, "exists /");
    CHECK_RC(zoo_exists(zh, "/zookeeper", 0, &st), ZOK, "exists /zookeeper");
    CHECK_RC(zoo_exists(zh, "no-slash", 0, &st), ZBADARGUMENTS, "exists with a relative path");
    zookeeper_close(zh);
    finish(1, "ZNONODE for missing, ZOK for existing");
}

static int cmpstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void sc_get_children(void)
{
    char dir[300], p[400];
    zhandle_t *zh = zconnect(NULL);
    mkdir_scenario(zh, "children", dir, sizeof dir);
    const char *names[3] = { "c", "a", "b" };
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        CHECK_RC(zoo_create(zh, p, "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0), ZOK, "create child");
    }
    struct String_vector kids;
    CHECK_RC(zoo_get_children(zh, dir, 0, &kids), ZOK, "get_children");
    CHECK(kids.count == 3, "get_children count %d", kids.count);
    qsort(kids.data, kids.count, sizeof(char *), cmpstr);
    CHECK(strcmp(kids.data[0], "a") == 0 && strcmp(kids.data[1], "b") == 0 && strcmp(kids.data[2], "c") == 0, "children %s,%s,%s", kids.data[0], kids.data[1], kids.data[2]);
    deallocate_String_vector(&kids);
    struct Stat st;
    CHECK_RC(zoo_get_children2(zh, dir, 0, &kids, &st), ZOK, "get_children2");
    CHECK(kids.count == 3 && st.numChildren == 3 && st.cversion == 3, "get_children2 numChildren %d cversion %d", st.numChildren, st.cversion);
    deallocate_String_vector(&kids);
    snprintf(p, sizeof p, "%s/a", dir);
    CHECK_RC(zoo_get_children(zh, p, 0, &kids), ZOK, "get_children of a leaf");
    CHECK(kids.count == 0, "leaf has %d children", kids.count);
    deallocate_String_vector(&kids);
    snprintf(p, sizeof p, "%s/missing", dir);
    CHECK_RC(zoo_get_children(zh, p, 0, &kids), ZNONODE, "get_children of a missing node");
    CHECK_RC(zoo_get_children(zh, "/", 0, &kids), ZOK, "get_children /");
    int has_zk = 0;
    for (int i = 0; i < kids.count; i++) if (strcmp(kids.data[i], "zookeeper") == 0) has_zk = 1;
    deallocate_String_vector(&kids);
    CHECK(has_zk, "/ has no zookeeper child");
    zookeeper_close(zh);
    finish(1, "3 children, numChildren/cversion 3");
}

static void sc_config(void)
{
    char buf[1024];
    zhandle_t *zh = zconnect(NULL);
    struct Stat st;
    int len = sizeof buf;
    CHECK_RC(zoo_get(zh, "/zookeeper/config", 0, buf, &len, &st), ZOK, "get /zookeeper/config");
    CHECK(len <= 0, "/zookeeper/config has %d bytes: %.*s", len, len > 0 ? len : 0, buf);
    len = sizeof buf;
    CHECK_RC(zoo_getconfig(zh, 0, buf, &len, &st), ZOK, "zoo_getconfig");
    CHECK(len <= 0, "zoo_getconfig returned %d bytes", len);
    struct String_vector kids;
    CHECK_RC(zoo_get_children(zh, "/zookeeper", 0, &kids), ZOK, "get_children /zookeeper");
    int has_config = 0, has_quota = 0;
    for (int i = 0; i < kids.count; i++) {
        if (strcmp(kids.data[i], "config") == 0) has_config = 1;
        if (strcmp(kids.data[i], "quota") == 0) has_quota = 1;
    }
    deallocate_String_vector(&kids);
    CHECK(has_config && has_quota, "/zookeeper children lack config or quota");
    zookeeper_close(zh);
    finish(1, "/zookeeper/config readable and empty (len %d)", len);
}

/* ---------------------------------------------------- TCP proxy for reconnects */

struct proxy {
    int lfd, port;
    struct sockaddr_in target;
    volatile int frozen;
    pthread_mutex_t mu;
    int fds[64];
    int nfds;
};

struct pair { struct proxy *px; int a, b; };

static void *pump(void *arg)
{
    struct pair *pr = arg;
    char buf[8192];
    struct pollfd pf[2] = { { pr->a, POLLIN, 0 }, { pr->b, POLLIN, 0 } };
    for (;;) {
        if (poll(pf, 2, 200) < 0 && errno != EINTR) break;
        int done = 0;
        for (int i = 0; i < 2 && !done; i++) {
            if (pf[i].revents & (POLLIN | POLLHUP | POLLERR)) {
                ssize_t n = read(pf[i].fd, buf, sizeof buf);
                if (n <= 0) { done = 1; break; }
                if (write(pf[1 - i].fd, buf, n) != n) done = 1;
            }
        }
        if (done) break;
    }
    shutdown(pr->a, SHUT_RDWR);
    shutdown(pr->b, SHUT_RDWR);
    return NULL;
}

static void *proxy_accept(void *arg)
{
    struct proxy *px = arg;
    for (;;) {
        int c = accept(px->lfd, NULL, NULL);
        if (c < 0) { if (errno == EINTR) continue; return NULL; }
        if (px->frozen) { close(c); continue; }
        int s = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(s, (struct sockaddr *)&px->target, sizeof px->target) < 0) { close(c); close(s); continue; }
        pthread_mutex_lock(&px->mu);
        if (px->nfds + 2 <= 64) { px->fds[px->nfds++] = c; px->fds[px->nfds++] = s; }
        pthread_mutex_unlock(&px->mu);
        struct pair *pr = malloc(sizeof *pr);
        pr->px = px; pr->a = c; pr->b = s;
        pthread_t t;
        pthread_create(&t, NULL, pump, pr);
        pthread_detach(t);
    }
}

static struct proxy *proxy_start(void)
{
    struct proxy *px = calloc(1, sizeof *px);
    pthread_mutex_init(&px->mu, NULL);
    char host[256];
    snprintf(host, sizeof host, "%s", hostport);
    char *colon = strrchr(host, ':');
    if (!colon) FAIL("bad HOST:PORT %s", hostport);
    *colon = 0;
    px->target.sin_family = AF_INET;
    px->target.sin_port = htons(atoi(colon + 1));
    if (strcmp(host, "localhost") == 0) snprintf(host, sizeof host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &px->target.sin_addr) != 1) FAIL("proxy needs an IPv4 address, got %s", host);
    px->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { 0 };
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(px->lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(px->lfd, 16) < 0) FAIL("proxy bind: %s", strerror(errno));
    socklen_t al = sizeof a;
    getsockname(px->lfd, (struct sockaddr *)&a, &al);
    px->port = ntohs(a.sin_port);
    pthread_t t;
    pthread_create(&t, NULL, proxy_accept, px);
    pthread_detach(t);
    return px;
}

/* Drop every proxied connection; while frozen, refuse new ones. */
static void proxy_drop(struct proxy *px, int freeze)
{
    px->frozen = freeze;
    pthread_mutex_lock(&px->mu);
    for (int i = 0; i < px->nfds; i++) shutdown(px->fds[i], SHUT_RDWR);
    px->nfds = 0;
    pthread_mutex_unlock(&px->mu);
}

static void sc_reconnect_watches(void)
{
    char dir[300], w1[400], w2[400], buf[64], hp[64], desc[600];
    zhandle_t *admin = zconnect(NULL);
    mkdir_scenario(admin, "reconnect", dir, sizeof dir);
    snprintf(w1, sizeof w1, "%s/w1", dir);
    snprintf(w2, sizeof w2, "%s/w2", dir);
    CHECK_RC(zoo_create(admin, w1, "a", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0), ZOK, "create w1");
    CHECK_RC(zoo_create(admin, w2, "a", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0), ZOK, "create w2");

    struct proxy *px = proxy_start();
    snprintf(hp, sizeof hp, "127.0.0.1:%d", px->port);
    struct watch_log *gl;
    zhandle_t *zh = connect_to(hp, &gl, 10000);
    int64_t sid = zoo_client_id(zh)->client_id;
    struct watch_log *wl = new_log();
    struct Stat st;
    int len = sizeof buf, from = 0, gfrom = log_len(gl);
    CHECK_RC(zoo_wget(zh, w1, log_watcher, wl, buf, &len, &st), ZOK, "wget w1");

    /* 1: connection dropped and re-established at once; the watch is re-registered */
    proxy_drop(px, 0);
    if (wait_event(gl, &gfrom, ZOO_SESSION_EVENT, NULL, ZOO_CONNECTING_STATE, 5000) < 0) FAIL("no CONNECTING state after the connection dropped");
    if (wait_event(gl, &gfrom, ZOO_SESSION_EVENT, NULL, ZOO_CONNECTED_STATE, 10000) < 0) {
        describe(gl, 0, desc, sizeof desc);
        FAIL("did not reconnect within 10 s; session events %s", desc);
    }
    CHECK(zoo_client_id(zh)->client_id == sid, "reconnected with a different session");
    CHECK_RC(zoo_set(admin, w1, "b", 1, -1), ZOK, "set w1");
    if (wait_event(wl, &from, ZOO_CHANGED_EVENT, w1, 0, 5000) < 0) {
        describe(wl, 0, desc, sizeof desc);
        FAIL("watch on w1 lost across reconnect (setWatches); watcher saw %s", desc);
    }

    /* 2: node changed while disconnected; setWatches with the old zxid fires at once */
    len = sizeof buf;
    CHECK_RC(zoo_wget(zh, w2, log_watcher, wl, buf, &len, &st), ZOK, "wget w2");
    proxy_drop(px, 1);
    if (wait_event(gl, &gfrom, ZOO_SESSION_EVENT, NULL, ZOO_CONNECTING_STATE, 5000) < 0) FAIL("no CONNECTING state after the partition");
    CHECK_RC(zoo_set(admin, w2, "b", 1, -1), ZOK, "set w2 while the watcher is disconnected");
    msleep(300);
    CHECK(count_events(wl, from, ZOO_CHANGED_EVENT) == 0, "event delivered while disconnected");
    px->frozen = 0;
    if (wait_event(gl, &gfrom, ZOO_SESSION_EVENT, NULL, ZOO_CONNECTED_STATE, 10000) < 0) FAIL("did not reconnect after the partition");
    if (wait_event(wl, &from, ZOO_CHANGED_EVENT, w2, 0, 5000) < 0) {
        describe(wl, 0, desc, sizeof desc);
        FAIL("change made while disconnected not reported after reconnect; watcher saw %s", desc);
    }
    CHECK(zoo_client_id(zh)->client_id == sid, "session changed across the partition");
    len = sizeof buf;
    CHECK_RC(zoo_get(zh, w2, 0, buf, &len, &st), ZOK, "get after reconnect");
    CHECK(len == 1 && buf[0] == 'b', "stale data after reconnect");
    zookeeper_close(zh);
    zookeeper_close(admin);
    finish(1, "watches survive reconnect; missed change fired on setWatches");
}

/* ----------------------------------------------------------------- cleanup */

static void delete_tree(zhandle_t *zh, const char *p)
{
    struct String_vector kids;
    if (zoo_get_children(zh, p, 0, &kids) == ZOK) {
        for (int i = 0; i < kids.count; i++) {
            char c[1024];
            snprintf(c, sizeof c, "%s/%s", p, kids.data[i]);
            delete_tree(zh, c);
        }
        deallocate_String_vector(&kids);
    }
    zoo_delete(zh, p, -1);
}

/* ------------------------------------------------------------------- driver */

struct scenario { const char *name; void (*fn)(void); };
static const struct scenario scenarios[] = {
    { "CreateGetSetDelete", sc_crud },
    { "EphemeralSequential", sc_ephemeral_sequential },
    { "Watch", sc_watch },
    { "Multi", sc_multi },
    { "MultiFailure", sc_multi_fail },
    { "Acl", sc_acl },
    { "AclExistsWithoutAuth", sc_acl_exists },
    { "ExistsMissing", sc_exists_missing },
    { "GetChildren", sc_get_children },
    { "ZookeeperConfig", sc_config },
    { "ReconnectSetWatches", sc_reconnect_watches },
};
#define NSCEN (sizeof scenarios / sizeof scenarios[0])

static int run_one(const struct scenario *s)
{
    int pfd[2];
    if (pipe(pfd) < 0) { printf("RESULT c %s fail pipe: %s\n", s->name, strerror(errno)); return 0; }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        result_fd = pfd[1];
        alarm(SCENARIO_ALARM_S);
        s->fn();
        finish(0, "scenario returned without a verdict");
    }
    close(pfd[1]);
    char msg[800];
    size_t off = 0;
    ssize_t n;
    while (off + 1 < sizeof msg && (n = read(pfd[0], msg + off, sizeof msg - 1 - off)) > 0) off += n;
    msg[off] = 0;
    close(pfd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    int ok = 0;
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        printf("RESULT c %s fail %s (signal %d)\n", s->name, sig == SIGALRM ? "timed out after " "20 s" : "crashed", sig);
    } else if (off == 0) {
        printf("RESULT c %s fail exited %d without a verdict\n", s->name, WEXITSTATUS(status));
    } else {
        ok = strncmp(msg, "pass ", 5) == 0 && WEXITSTATUS(status) == 0;
        printf("RESULT c %s %s\n", s->name, msg);
    }
    fflush(stdout);
    return ok;
}

/* A plain TCP connect, so a dead server fails fast; NULL when reachable. */
static const char *server_reachable(void)
{
    static char err[128];
    char host[256];
    snprintf(host, sizeof host, "%s", hostport);
    char *colon = strrchr(host, ':');
    if (!colon) return "no port in HOST:PORT";
    *colon = 0;
    struct sockaddr_in a = { 0 };
    a.sin_family = AF_INET;
    a.sin_port = htons(atoi(colon + 1));
    if (strcmp(host, "localhost") == 0) snprintf(host, sizeof host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) return NULL; /* not IPv4: let the client try */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    if (rc < 0) snprintf(err, sizeof err, "%s", strerror(errno));
    close(fd);
    return rc < 0 ? err : NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s HOST:PORT [SCENARIO...] | --list\n", argv[0]);
        return 2;
    }
    if (strcmp(argv[1], "--list") == 0) {
        for (size_t i = 0; i < NSCEN; i++) puts(scenarios[i].name);
        return 0;
    }
    hostport = argv[1];
    zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    snprintf(base, sizeof base, "/compat-c-%ld-%ld", (long)getpid(), (long)tv.tv_sec);

    const struct scenario *todo[64];
    size_t ntodo = 0;
    int all = 1;
    if (argc == 2) {
        for (size_t i = 0; i < NSCEN; i++) todo[ntodo++] = &scenarios[i];
    } else {
        for (int a = 2; a < argc && ntodo < 64; a++) {
            size_t i;
            for (i = 0; i < NSCEN; i++)
                if (strcmp(argv[a], scenarios[i].name) == 0) break;
            if (i == NSCEN) { printf("RESULT c %s fail unknown scenario\n", argv[a]); all = 0; continue; }
            todo[ntodo++] = &scenarios[i];
        }
    }

    const char *unreachable = server_reachable();
    time_t start = time(NULL);
    for (size_t i = 0; i < ntodo; i++) {
        if (unreachable) {
            printf("RESULT c %s fail server %s not reachable: %s\n", todo[i]->name, hostport, unreachable);
            all = 0;
        } else if (time(NULL) - start + SCENARIO_ALARM_S > SUITE_BUDGET_S + SCENARIO_ALARM_S / 2) {
            printf("RESULT c %s fail not run: suite time budget exhausted\n", todo[i]->name);
            all = 0;
        } else {
            all &= run_one(todo[i]);
        }
    }
    fflush(stdout);
    if (unreachable) return 1;

    /* best-effort cleanup, bounded */
    pid_t pid = fork();
    if (pid == 0) {
        alarm(10);
        zhandle_t *zh = zookeeper_init(hostport, NULL, 10000, 0, NULL, 0);
        for (int i = 0; i < 50 && zh && zoo_state(zh) != ZOO_CONNECTED_STATE; i++) msleep(100);
        if (zh && zoo_state(zh) == ZOO_CONNECTED_STATE) {
            add_auth_sync(zh, DIGEST_USER); /* the Acl scenario's nodes need it */
            delete_tree(zh, base);
        }
        if (zh) zookeeper_close(zh);
        _exit(0);
    }
    if (pid > 0) waitpid(pid, NULL, 0);
    return all ? 0 : 1;
}
