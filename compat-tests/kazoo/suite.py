#!/usr/bin/env python3
"""kazoo suite: the Python client kazoo 2.11.0 against a server.

    suite.py HOST:PORT   run every scenario, printing "RESULT kazoo <scenario> pass|fail <why>"
    suite.py --list      print the scenario names

Each scenario is a function that raises on the first wrong answer. Every wait is bounded:
kazoo calls carry timeouts where kazoo allows, and an alarm stops a scenario after 40 s.
"""

import logging
import re
import signal
import socket
import sys
import threading
import time
import traceback

from kazoo.client import KazooClient
from kazoo.exceptions import (
    BadVersionError,
    LockTimeout,
    NoAuthError,
    NoChildrenForEphemeralsError,
    NodeExistsError,
    NoNodeError,
    NotEmptyError,
    RolledBackError,
    RuntimeInconsistency,
)
from kazoo.protocol.states import EventType, KazooState
from kazoo.security import READ_ACL_UNSAFE, make_digest_acl, make_digest_acl_credential

HOSTS = None
BASE = "/kazoo"
CLIENTS = []  # every client a scenario started; stopped after it
PROXIES = []  # likewise for proxies
FAST_RETRY = {"max_tries": -1, "delay": 0.1, "backoff": 1, "max_jitter": 0.05}


def client(**kw):
    kw.setdefault("hosts", HOSTS)
    kw.setdefault("timeout", 10.0)
    c = KazooClient(**kw)
    CLIENTS.append(c)
    c.start(timeout=15)
    return c


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def eq(got, want, what):
    check(got == want, f"{what}: got {got!r}, want {want!r}")


def raises(exc, fn, *args, **kw):
    try:
        fn(*args, **kw)
    except exc:
        return
    except Exception as e:  # noqa: BLE001
        raise AssertionError(f"{fn.__name__}{args}: raised {e!r}, want {exc.__name__}")
    raise AssertionError(f"{fn.__name__}{args}: no error, want {exc.__name__}")


def wait(event, what, timeout=10):
    check(event.wait(timeout), f"timed out after {timeout} s waiting for {what}")


def wait_for(pred, what, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Proxy:
    """A loopback TCP proxy in front of the server. cut() drops every connection through
    it and refuses new ones until resume(): a client behind it loses the server while the
    server keeps its session."""

    def __init__(self):
        host, port = HOSTS.rsplit(":", 1)
        self.target = (host, int(port))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.hosts = f"127.0.0.1:{self.listener.getsockname()[1]}"
        self.open, self.stopped = threading.Event(), threading.Event()
        self.open.set()
        self.socks, self.lock = [], threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()
        PROXIES.append(self)

    def _accept(self):
        while not self.stopped.is_set():
            try:
                down, _ = self.listener.accept()
            except OSError:
                continue
            if not self.open.is_set():
                down.close()
                continue
            up = socket.create_connection(self.target, timeout=5)
            up.settimeout(None)
            with self.lock:
                self.socks += [down, up]
            for a, b in ((down, up), (up, down)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src, dst):
        try:
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        self.open.clear()
        with self.lock:
            socks, self.socks = self.socks, []
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def resume(self):
        self.open.set()

    def stop(self):
        self.stopped.set()
        self.cut()
        self.listener.close()


# ---------------------------------------------------------------- scenarios


def sc_crud():
    c = client()
    p = f"{BASE}/crud"
    eq(c.create(p, b"hello"), p, "create returns the path")
    data, st = c.get(p)
    eq(data, b"hello", "data")
    eq((st.version, st.cversion, st.aversion, st.numChildren, st.dataLength, st.ephemeralOwner),
       (0, 0, 0, 0, 5, 0), "fresh stat (version, cversion, aversion, numChildren, dataLength, owner)")
    eq(st.czxid, st.mzxid, "czxid == mzxid")
    eq(st.pzxid, st.czxid, "pzxid == czxid")
    check(abs(st.ctime / 1000 - time.time()) < 60, f"ctime {st.ctime} is not now (ms)")
    st2 = c.set(p, b"world!")
    eq((st2.version, st2.dataLength), (1, 6), "stat after set")
    check(st2.mzxid > st.mzxid, "mzxid grows on set")
    check(st2.mtime >= st.mtime, "mtime grows on set")
    eq(c.get(p)[0], b"world!", "data after set")
    c.create(f"{p}/b", b"")
    c.create(f"{p}/a", b"")
    eq(sorted(c.get_children(p)), ["a", "b"], "children")
    kids, st3 = c.get_children(p, include_data=True)
    eq((sorted(kids), st3.numChildren, st3.cversion), (["a", "b"], 2, 2), "getChildren2")
    c.delete(f"{p}/a")
    st4 = c.exists(p)
    eq((st4.numChildren, st4.cversion), (1, 3), "numChildren, cversion after a delete")
    check(st4.pzxid > st3.pzxid, "pzxid grows on a child's delete")
    c.delete(f"{p}/b")
    c.delete(p)
    eq(c.exists(p), None, "exists after delete")
    raises(NoNodeError, c.get, p)


def sc_errors():
    c = client()
    p = f"{BASE}/err"
    c.create(p, b"x")
    raises(NodeExistsError, c.create, p, b"y")
    raises(NoNodeError, c.create, f"{p}/a/b", b"")
    c.create(f"{p}/a")
    raises(NotEmptyError, c.delete, p)
    raises(BadVersionError, c.set, p, b"z", version=3)
    raises(BadVersionError, c.delete, f"{p}/a", version=2)
    raises(NoNodeError, c.set, f"{BASE}/nope", b"")
    raises(NoNodeError, c.delete, f"{BASE}/nope")
    eq(c.set(p, b"z", version=0).version, 1, "set with the right version")
    c.delete(f"{p}/a", version=0)
    eq(c.get(p)[0], b"z", "data")


def sc_ephemeral():
    a, b = client(), client()
    p = f"{BASE}/eph"
    a.create(p, b"e", ephemeral=True)
    eq(b.exists(p).ephemeralOwner, a.client_id[0], "ephemeralOwner is the session id")
    raises(NoChildrenForEphemeralsError, a.create, f"{p}/kid", b"")
    a.stop()
    eq(b.exists(p), None, "ephemeral after its session closed")


def sc_sequence():
    c = client()
    p = f"{BASE}/seq"
    c.create(p)
    eq(c.create(f"{p}/n-", b"", sequence=True), f"{p}/n-0000000000", "first sequential")
    c.create(f"{p}/plain")
    c.delete(f"{p}/plain")
    # The suffix counts creates under the parent; deletes do not advance it.
    eq(c.create(f"{p}/n-", b"", sequence=True), f"{p}/n-0000000002", "after a create + delete")
    es = c.create(f"{p}/e-", b"", ephemeral=True, sequence=True)
    eq(es, f"{p}/e-0000000003", "ephemeral sequential")
    eq(c.exists(es).ephemeralOwner, c.client_id[0], "its owner")
    eq(c.exists(p).cversion, 5, "parent cversion (creates and deletes)")


def sc_data_watch():
    a, b = client(), client()
    p = f"{BASE}/dw"
    b.create(p, b"v1")
    seen, changed = [], threading.Event()

    @a.DataWatch(p)
    def _watch(data, stat):
        seen.append((data, stat.version if stat else None))
        changed.set()

    wait_for(lambda: len(seen) >= 1, "the DataWatch's first call")
    eq(seen[0], (b"v1", 0), "first call")
    changed.clear()
    b.set(p, b"v2")
    wait(changed, "DataWatch after set")
    eq(seen[-1], (b"v2", 1), "after set")
    changed.clear()
    b.delete(p)
    wait(changed, "DataWatch after delete")
    eq(seen[-1], (None, None), "after delete")
    changed.clear()
    b.create(p, b"v3")
    wait(changed, "DataWatch after re-create")
    eq(seen[-1], (b"v3", 0), "after re-create")


def sc_one_shot_watches():
    a, b = client(), client()
    p = f"{BASE}/os"
    events = []
    ev = threading.Event()

    def cb(e):
        events.append((e.type, e.path))
        ev.set()

    eq(a.exists(p, watch=cb), None, "exists on a missing node")
    b.create(p, b"1")
    wait(ev, "exists watch")
    eq(events, [(EventType.CREATED, p)], "exists watch event")
    ev.clear()
    a.get(p, watch=cb)
    b.set(p, b"2")
    wait(ev, "get watch")
    ev.clear()
    b.set(p, b"3")  # one-shot: no second event
    a.get_children(p, watch=cb)
    b.create(f"{p}/kid")
    wait(ev, "child watch")
    ev.clear()
    b.create(f"{p}/kid2")
    a.sync(p)
    time.sleep(0.3)
    eq(events, [(EventType.CREATED, p), (EventType.CHANGED, p), (EventType.CHILD, p)],
       "events (each watch fires once)")


def sc_children_watch():
    a, b = client(), client()
    p = f"{BASE}/cw"
    b.create(p)
    b.create(f"{p}/x")
    lists, ev = [], threading.Event()

    @a.ChildrenWatch(p)
    def _watch(children):
        lists.append(sorted(children))
        ev.set()

    wait_for(lambda: lists, "the ChildrenWatch's first call")
    eq(lists[0], ["x"], "first call")
    ev.clear()
    b.create(f"{p}/y")
    wait(ev, "ChildrenWatch after create")
    eq(lists[-1], ["x", "y"], "after create")
    ev.clear()
    b.delete(f"{p}/x")
    wait(ev, "ChildrenWatch after delete")
    eq(lists[-1], ["y"], "after delete")
    ev.clear()
    b.set(p, b"data")  # data changes do not fire child watches
    b.sync(p)
    time.sleep(0.3)
    check(not ev.is_set(), f"ChildrenWatch fired on a data change: {lists}")


def sc_transaction_commit():
    c = client()
    p = f"{BASE}/tx"
    c.create(p, b"0")
    c.create(f"{p}/old")
    t = c.transaction()
    t.create(f"{p}/new", b"1")
    t.set_data(p, b"x")
    t.check(p, 1)  # the version the set_data above gave it
    t.delete(f"{p}/old")
    res = t.commit()
    eq(len(res), 4, "result count")
    eq(res[0], f"{p}/new", "create result")
    eq(res[1].version, 1, "set_data result stat version")
    eq(res[2:], [True, True], "check and delete results")
    eq(sorted(c.get_children(p)), ["new"], "children after commit")
    data, st = c.get(p)
    eq((data, st.version), (b"x", 1), "data after commit")
    new_st = c.exists(f"{p}/new")
    eq(new_st.czxid, st.mzxid, "one zxid for the whole transaction")


def sc_transaction_abort():
    c = client()
    p = f"{BASE}/txa"
    c.create(p, b"0")
    t = c.transaction()
    t.create(f"{p}/new", b"1")
    t.check(p, 5)  # wrong version
    t.set_data(p, b"x")
    res = t.commit()
    eq([type(r) for r in res], [RolledBackError, BadVersionError, RuntimeInconsistency],
       "per-op results")
    eq(c.get_children(p), [], "nothing created")
    data, st = c.get(p)
    eq((data, st.version), (b"0", 0), "data untouched")


def sc_acl_digest():
    owner = client()
    p = f"{BASE}/acl"
    acl = make_digest_acl("u", "p", all=True)
    owner.add_auth("digest", "u:p")
    owner.create(p, b"secret", acl=[acl])
    acls, st = owner.get_acls(p)
    eq(len(acls), 1, "ACL count")
    eq((acls[0].id.scheme, acls[0].id.id, acls[0].perms),
       ("digest", make_digest_acl_credential("u", "p"), 31), "ACL")
    eq(make_digest_acl_credential("u", "p"), "u:Jq7wMyA/w2Vd5WIDAKdu4OIIFEQ=", "digest")
    anon = client()
    raises(NoAuthError, anon.get, p)
    raises(NoAuthError, anon.set, p, b"x")
    raises(NoAuthError, anon.get_acls, p)
    # exists needs READ from ZooKeeper 3.8.4 / 3.9.2 on (ZOOKEEPER-2590), none before;
    # kazoo reads the version the server claims from envi.
    v = anon.server_version()
    if v >= (3, 9, 2) or (3, 8, 4) <= v < (3, 9, 0):
        raises(NoAuthError, anon.exists, p)
    else:
        check(anon.exists(p) is not None, f"exists needs no permission on {v}")
    wrong = client(auth_data=[("digest", "u:wrong")])
    raises(NoAuthError, wrong.get, p)
    good = client(auth_data=[("digest", "u:p")])
    eq(good.get(p)[0], b"secret", "data with auth")
    # A world-readable node: reads pass, writes are refused.
    r = f"{BASE}/acl-ro"
    owner.create(r, b"r")
    owner.set_acls(r, READ_ACL_UNSAFE)
    acls, st = anon.get_acls(r)
    eq((acls, st.aversion), (READ_ACL_UNSAFE, 1), "ACL and aversion after set_acls")
    eq(anon.get(r)[0], b"r", "read of a world-readable node")
    raises(NoAuthError, owner.set, r, b"w")
    raises(NoAuthError, owner.create, f"{r}/kid")


def sc_lock():
    a, b = client(), client()
    p = f"{BASE}/lock"
    la, lb = a.Lock(p, "a"), b.Lock(p, "b")
    check(la.acquire(timeout=5), "a acquires the free lock")
    raises(LockTimeout, lb.acquire, timeout=1)  # a holds it
    got = threading.Event()

    def contend():
        if lb.acquire(timeout=15):
            got.set()

    th = threading.Thread(target=contend, daemon=True)
    th.start()
    wait_for(lambda: len(a.get_children(p)) == 2, "b's contender node")
    eq(sorted(la.contenders()), ["a", "b"], "contenders")
    time.sleep(0.3)
    check(not got.is_set(), "b got the lock while a held it")
    la.release()
    wait(got, "b to acquire after a released")
    th.join(5)
    lb.release()
    eq(a.get_children(p), [], "lock nodes after both released")


def sc_election():
    a, b = client(), client()
    p = f"{BASE}/election"
    ea, eb = a.Election(p, "a"), b.Election(p, "b")
    leading = {"a": threading.Event(), "b": threading.Event()}
    stop = {"a": threading.Event(), "b": threading.Event()}

    def lead(name):
        leading[name].set()
        stop[name].wait(20)

    ta = threading.Thread(target=ea.run, args=(lead, "a"), daemon=True)
    ta.start()
    wait(leading["a"], "a to lead")
    tb = threading.Thread(target=eb.run, args=(lead, "b"), daemon=True)
    tb.start()
    wait_for(lambda: len(eb.contenders()) == 2, "two candidates")
    eq(eb.contenders(), ["a", "b"], "contenders, leader first")
    time.sleep(0.3)
    check(not leading["b"].is_set(), "b leads while a does")
    stop["a"].set()  # a's leadership ends: b takes over
    wait(leading["b"], "b to lead after a stepped down")
    eq(eb.contenders(), ["b"], "contenders after a left")
    stop["b"].set()
    ta.join(5)
    tb.join(5)


def sc_session_expiry():
    a = client(timeout=4.0)
    states = []
    lost = threading.Event()

    def listener(state):
        states.append(state)
        if state == KazooState.LOST:
            lost.set()

    a.add_listener(listener)
    p = f"{BASE}/expiring"
    a.create(p, b"", ephemeral=True)
    sid, passwd = a.client_id
    # A second connection on A's session, then closeSession on it: the session ends.
    twin = client(client_id=(sid, passwd))
    eq(twin.client_id[0], sid, "the twin resumed A's session")
    twin.stop()
    observer = client()
    eq(observer.exists(p), None, "A's ephemeral after its session was closed")
    wait(lost, "A to see its session LOST", timeout=20)
    # kazoo then starts a new session by itself.
    wait_for(lambda: a.connected and a.client_id and a.client_id[0] != sid,
             "A's new session", timeout=15)
    eq(a.exists(p), None, "the ephemeral from A's new session")


def sc_resume_closed_session():
    a = client(timeout=4.0)
    sid, passwd = a.client_id
    a.stop()  # sends closeSession
    # The server refuses to resume a closed session (it answers the connect with timeout
    # 0): kazoo reports LOST and starts a new session.
    dead = client(client_id=(sid, passwd))
    states = []
    dead.add_listener(states.append)
    wait_for(lambda: dead.connected and dead.client_id[0] != sid, "a new session")
    check(dead.client_id[0] != sid, "a closed session was resumed")


def sc_connection_loss():
    a, b = client(timeout=10.0), client()
    p = f"{BASE}/cl"
    b.create(p, b"v1")
    a.create(f"{p}-eph", b"", ephemeral=True)
    sid = a.client_id[0]
    states, seen = [], []
    reconnected, changed = threading.Event(), threading.Event()

    def listener(state):
        states.append(state)
        if state == KazooState.CONNECTED and KazooState.SUSPENDED in states:
            reconnected.set()

    a.add_listener(listener)

    @a.DataWatch(p)
    def _watch(data, stat):
        seen.append(data)
        changed.set()

    wait_for(lambda: seen, "the DataWatch's first call")
    changed.clear()
    a._connection._socket.shutdown(socket.SHUT_RDWR)  # drop A's TCP connection
    wait(reconnected, "SUSPENDED then CONNECTED", timeout=20)
    eq(a.client_id[0], sid, "the same session after reconnecting")
    check(KazooState.LOST not in states, f"session lost: {states}")
    check(b.exists(f"{p}-eph") is not None, "A's ephemeral survived the reconnect")
    b.set(p, b"v2")
    wait(changed, "the DataWatch to fire after the reconnect")
    eq(seen[-1], b"v2", "DataWatch data after the reconnect")


def sc_failed_writes_use_zxids():
    # Java gives every write a zxid before checking it: a refused create, set or multi
    # still uses one (it is logged as an error txn).
    c = client()
    p = f"{BASE}/zx"
    c.create(p)
    z1 = c.exists(c.create(f"{p}/a")).czxid
    raises(NodeExistsError, c.create, f"{p}/a")
    z2 = c.exists(c.create(f"{p}/b")).czxid
    raises(BadVersionError, c.set, f"{p}/a", b"", version=9)
    t = c.transaction()
    t.create(f"{p}/c")
    t.check(p, 9)
    eq(type(t.commit()[1]), BadVersionError, "the multi failed")
    z3 = c.exists(c.create(f"{p}/d")).czxid
    eq((z2 - z1, z3 - z2), (2, 3), "zxids between successful creates")


class _Negotiated(logging.Handler):
    def __init__(self):
        super().__init__()
        self.timeouts = []

    def emit(self, record):
        m = re.search(r"negotiated session timeout: (\d+)", record.getMessage())
        if m:
            self.timeouts.append(int(m.group(1)))


def sc_session_timeout_negotiation():
    # min/maxSessionTimeout default to 2 and 20 ticks: 4000 and 40000 ms. kazoo logs the
    # negotiated timeout (at its BLATHER level) and keeps it nowhere else.
    log = logging.getLogger("suite.negotiation")
    handler = _Negotiated()
    log.addHandler(handler)
    log.setLevel(1)
    log.propagate = False
    for asked in (1.0, 10.0, 100.0):
        client(timeout=asked, logger=log).stop()
    eq(handler.timeouts, [4000, 10000, 40000], "negotiated timeouts for 1 s, 10 s, 100 s")


def sc_watches_across_reconnect():
    # Changes made while a client is away reach it when it comes back. kazoo sends no
    # setWatches: its DataWatch and ChildrenWatch recipes read again on reconnect, while a
    # plain one-shot watch dies with the old connection (the server drops a connection's
    # watches when it closes).
    proxy = Proxy()
    a, b = client(hosts=proxy.hosts, connection_retry=FAST_RETRY), client()
    p = f"{BASE}/away"
    b.create(p, b"v1")
    sid = a.client_id[0]
    states, data, kids, created = [], [], [], threading.Event()
    a.add_listener(states.append)
    a.DataWatch(p)(lambda d, st: data.append(d))
    a.ChildrenWatch(p)(lambda ch: kids.append(sorted(ch)))
    a.exists(f"{p}-later", watch=lambda e: e.type == EventType.CREATED and created.set())
    wait_for(lambda: data and kids, "the watches' first calls")
    proxy.cut()
    wait_for(lambda: KazooState.SUSPENDED in states, "A to notice the cut")
    b.set(p, b"v2")
    b.create(f"{p}/kid")
    b.create(f"{p}-later")
    time.sleep(0.3)
    eq((data[-1], kids[-1], created.is_set()), (b"v1", [], False), "A saw nothing while away")
    proxy.resume()
    wait_for(lambda: states[-1] == KazooState.CONNECTED, "A to reconnect", timeout=15)
    eq(a.client_id[0], sid, "the same session")
    wait_for(lambda: data[-1] == b"v2", "the DataWatch to fire on reconnect")
    wait_for(lambda: kids[-1] == ["kid"], "the ChildrenWatch to fire on reconnect")
    a.sync(p)
    time.sleep(0.3)
    check(not created.is_set(), "a plain watch of the closed connection fired")


def sc_session_timeout_expiry():
    # A client cut off for longer than its session timeout: the server expires the session
    # by itself, deletes its ephemerals, and refuses the session when the client returns.
    proxy = Proxy()
    a = client(hosts=proxy.hosts, timeout=4.0, connection_retry=FAST_RETRY)
    observer = client()
    p = f"{BASE}/timeout"
    a.create(p, b"", ephemeral=True)
    sid = a.client_id[0]
    lost = threading.Event()
    a.add_listener(lambda s: s == KazooState.LOST and lost.set())
    started = time.monotonic()
    proxy.cut()
    wait_for(lambda: observer.exists(p) is None, "the server to expire A's session", 20)
    took = time.monotonic() - started
    check(took > 3.0, f"session expired after {took:.1f} s, before its 4 s timeout")
    proxy.resume()
    wait(lost, "A to see LOST when it returns", timeout=15)
    wait_for(lambda: a.connected and a.client_id[0] != sid, "A's new session", timeout=15)


def sc_four_letter_words():
    c = client()
    eq(c.command(b"ruok"), "imok", "ruok")
    srvr = c.command(b"srvr")
    check("Mode: standalone\n" in srvr, f"srvr lacks 'Mode: standalone': {srvr!r}")
    version = c.server_version()  # kazoo parses envi's zookeeper.version= line
    check(len(version) == 3 and version >= (3, 5, 0), f"server_version {version}")


def sc_tree_cache():
    from kazoo.recipe.cache import TreeCache, TreeEvent
    a, b = client(), client()
    root = BASE + "/treecache"
    a.ensure_path(root + "/pre")
    events = []
    cache = TreeCache(a, root)
    cache.listen(lambda e: events.append((e.event_type, e.event_data.path if e.event_data else None)))
    cache.start()
    wait_for(lambda: (TreeEvent.INITIALIZED, None) in events, "the cache to initialise")
    b.create(root + "/x", b"v1")
    wait_for(lambda: cache.get_data(root + "/x") is not None and cache.get_data(root + "/x").data == b"v1", "x in the cache")
    b.set(root + "/x", b"v2")
    wait_for(lambda: cache.get_data(root + "/x").data == b"v2", "the update in the cache")
    b.delete(root + "/x")
    wait_for(lambda: cache.get_data(root + "/x") is None, "the delete in the cache")
    # The cache updates itself before it calls listeners: wait for the event, not the state.
    wait_for(lambda: (TreeEvent.NODE_REMOVED, root + "/x") in events, f"NODE_REMOVED among {events}")
    check((TreeEvent.NODE_ADDED, root + "/x") in events and (TreeEvent.NODE_UPDATED, root + "/x") in events, f"events {events}")
    eq(sorted(cache.get_children(root)), ["pre"], "cached children")
    cache.close()


def sc_read_write_lock():
    a, b, c = client(), client(), client()
    root = BASE + "/rwlock"
    r1, r2, w = a.ReadLock(root, "r1"), b.ReadLock(root, "r2"), c.WriteLock(root, "w")
    check(r1.acquire(timeout=5) and r2.acquire(timeout=5), "two readers share the lock")
    got = []
    t = threading.Thread(target=lambda: got.append(w.acquire(timeout=10)))
    t.start()
    time.sleep(0.5)
    check(not got, "the writer waits while readers hold the lock")
    r1.release()
    r2.release()
    t.join(10)
    eq(got, [True], "writer acquired after both readers released")
    r3 = a.ReadLock(root, "r3")
    raises(LockTimeout, r3.acquire, timeout=0.5)  # a reader waits while the writer holds it
    w.release()
    check(r3.acquire(timeout=5), "reader acquired after the writer released")
    r3.release()


def sc_semaphore():
    a, b, c = client(), client(), client()
    root = BASE + "/semaphore"
    s1, s2, s3 = a.Semaphore(root, "a", max_leases=2), b.Semaphore(root, "b", max_leases=2), c.Semaphore(root, "c", max_leases=2)
    check(s1.acquire(timeout=5) and s2.acquire(timeout=5), "two leases granted")
    check(not s3.acquire(blocking=False), "a third lease is refused")
    eq(sorted(s1.lease_holders()), ["a", "b"], "lease holders")
    s1.release()
    check(s3.acquire(timeout=5), "third lease granted once one is released")
    s2.release()
    s3.release()


def sc_barrier():
    a, b = client(), client()
    root = BASE + "/barrier"
    bar = a.Barrier(root)
    bar.create()
    released = []
    t = threading.Thread(target=lambda: released.append(b.Barrier(root).wait(10)))
    t.start()
    time.sleep(0.5)
    check(not released, "the waiter waits while the barrier stands")
    bar.remove()
    t.join(10)
    eq(released, [True], "waiter released when the barrier is removed")


def sc_double_barrier():
    a, b = client(), client()
    root = BASE + "/dbarrier"
    d1, d2 = a.DoubleBarrier(root, 2), b.DoubleBarrier(root, 2)
    entered = []
    t = threading.Thread(target=lambda: (d2.enter(), entered.append(2)))
    t.start()
    time.sleep(0.5)
    check(not entered, "the first participant waits for the second to enter")
    d1.enter()
    t.join(10)
    eq(entered, [2], "both entered")
    left = []
    t = threading.Thread(target=lambda: (d2.leave(), left.append(2)))
    t.start()
    time.sleep(0.3)
    d1.leave()
    t.join(10)
    eq(left, [2], "both left")
    eq(a.get_children(root), [], "no participant nodes remain")


def sc_counter():
    a, b = client(), client()
    root = BASE + "/counter"
    ca, cb = a.Counter(root), b.Counter(root)
    done = []
    def bump(counter, n):
        for _ in range(n):
            counter += 1
        done.append(n)
    t1 = threading.Thread(target=bump, args=(ca, 25))
    t2 = threading.Thread(target=bump, args=(cb, 25))
    t1.start(); t2.start(); t1.join(20); t2.join(20)
    eq(len(done), 2, "both incrementers finished")
    eq(a.Counter(root).value, 50, "concurrent increments from two clients")
    cb -= 8
    eq(ca.value, 42, "decrement seen by the other client")


def sc_queue():
    a, b = client(), client()
    root = BASE + "/queue"
    q = a.Queue(root)
    for i in range(5):
        q.put(b"item%d" % i)
    q.put(b"urgent", priority=1)
    got = [b.Queue(root).get() for _ in range(6)]
    eq(got, [b"urgent"] + [b"item%d" % i for i in range(5)], "priority first, then FIFO")
    eq(b.Queue(root).get(), None, "empty queue")


def sc_locking_queue():
    a, b = client(), client()
    root = BASE + "/lqueue"
    qa, qb = a.LockingQueue(root), b.LockingQueue(root)
    qa.put_all([b"x", b"y"])
    eq(qb.get(5), b"x", "first item")
    check(qb.holds_lock(), "the consumer holds the item")
    check(qb.consume(), "item consumed")
    eq(qa.get(5), b"y", "second item to the other consumer")
    check(qa.release(), "item released back")
    eq(qb.get(5), b"y", "released item handed out again")
    check(qb.consume(), "second item consumed")
    eq(len(qa), 0, "queue empty")


def sc_party():
    a, b = client(), client()
    root = BASE + "/party"
    pa, pb = a.Party(root, "alice"), b.Party(root, "bob")
    pa.join()
    pb.join()
    eq(sorted(pa), ["alice", "bob"], "members")
    eq(len(pb), 2, "party size")
    pb.leave()
    eq(list(pa), ["alice"], "member left")


def sc_set_partitioner():
    a, b = client(), client()
    root = BASE + "/partitioner"
    items = ("p1", "p2", "p3", "p4")
    sa = a.SetPartitioner(root, set=items, time_boundary=0.5, identifier="a")
    sb = b.SetPartitioner(root, set=items, time_boundary=0.5, identifier="b")
    def settle(*ps):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            for p in ps:
                if p.release:
                    p.release_set()
                elif p.allocating:
                    p.wait_for_acquire(timeout=0.2)
            if all(p.acquired for p in ps):
                return
            time.sleep(0.05)
        raise AssertionError(f"partitions did not settle: {[p.state for p in ps]}")
    settle(sa, sb)
    got_a, got_b = set(sa), set(sb)
    check(got_a and got_b and not (got_a & got_b) and got_a | got_b == set(items), f"partition {got_a} {got_b}")
    sa.finish()
    sb.finish()


def sc_non_blocking_lease():
    import datetime
    a, b = client(), client()
    root = BASE + "/lease"
    la = a.NonBlockingLease(root, datetime.timedelta(seconds=2), identifier="a")
    check(bool(la), "first lease obtained")
    lb = b.NonBlockingLease(root, datetime.timedelta(seconds=2), identifier="b")
    check(not lb, "second lease refused while the first is valid")
    time.sleep(2.5)
    lb = b.NonBlockingLease(root, datetime.timedelta(seconds=2), identifier="b")
    check(bool(lb), "lease obtained after the first expired")


SCENARIOS = [name[3:] for name in list(globals()) if name.startswith("sc_")]


def main():
    global HOSTS
    if sys.argv[1:] == ["--list"]:
        print("\n".join(SCENARIOS))
        return 0
    HOSTS = sys.argv[1]
    logging.basicConfig(level=logging.CRITICAL)

    def alarm(*_):
        raise TimeoutError("scenario took over 40 s")

    signal.signal(signal.SIGALRM, alarm)
    try:
        setup = client(auth_data=[("digest", "u:p")])
        if setup.exists(BASE):  # left by an earlier run against the same server
            setup.delete(BASE, recursive=True)
        setup.create(BASE)
        setup.stop()
    except Exception as e:  # noqa: BLE001
        for name in SCENARIOS:
            print(f"RESULT kazoo {name} fail setup: {type(e).__name__}: {e}", flush=True)
        return 1
    failed = 0
    for name in SCENARIOS:
        signal.alarm(40)
        try:
            globals()[f"sc_{name}"]()
            detail = "pass"
        except Exception as e:  # noqa: BLE001
            failed += 1
            tb = traceback.extract_tb(e.__traceback__)
            here = [f for f in tb if f.name.startswith("sc_")] or tb
            where = here[-1]
            detail = f"fail {type(e).__name__}: {e} (line {where.lineno}: {where.line})"
            detail = detail.replace("\n", " ")
        finally:
            signal.alarm(0)
        print(f"RESULT kazoo {name} {detail}", flush=True)
        while PROXIES:
            PROXIES.pop().stop()
        while CLIENTS:
            c = CLIENTS.pop()
            try:
                c.stop()
                c.close()
            except Exception:  # noqa: BLE001
                pass
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
