// Curator 5.4 compatibility scenarios. Usage:
//   java CuratorSuite HOST:PORT [SCENARIO...]
// Prints one line per scenario: RESULT curator <scenario> pass|fail <detail>
// Exit status 0 when every scenario passed, 1 otherwise.

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.curator.framework.api.transaction.OperationType;
import org.apache.curator.framework.recipes.atomic.AtomicValue;
import org.apache.curator.framework.recipes.atomic.DistributedAtomicLong;
import org.apache.curator.framework.recipes.barriers.DistributedBarrier;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.recipes.leader.LeaderSelector;
import org.apache.curator.framework.recipes.leader.LeaderSelectorListenerAdapter;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.InterProcessReadWriteLock;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreV2;
import org.apache.curator.framework.recipes.locks.Lease;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.curator.framework.recipes.nodes.PersistentTtlNode;
import org.apache.curator.framework.recipes.queue.DistributedQueue;
import org.apache.curator.framework.recipes.queue.QueueBuilder;
import org.apache.curator.framework.recipes.queue.QueueConsumer;
import org.apache.curator.framework.recipes.queue.QueueSerializer;
import org.apache.curator.framework.recipes.shared.SharedCount;
import org.apache.curator.framework.recipes.shared.SharedCountListener;
import org.apache.curator.framework.recipes.shared.SharedCountReader;
import org.apache.curator.framework.recipes.shared.VersionedValue;
import org.apache.curator.framework.recipes.watch.PersistentWatcher;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.RetryNTimes;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;

public class CuratorSuite {
    static final String SUITE = "curator";
    static final long SCENARIO_TIMEOUT_MS = 30_000;
    static final long SUITE_BUDGET_MS = 150_000;
    static final String UUID_RE = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";

    static String connect;
    static String root;

    interface Scenario {
        String run(Ctx ctx) throws Exception;
    }

    // ------------------------------------------------------------------ helpers

    static class Ctx {
        final String name;
        final String base;
        final List<AutoCloseable> closers = Collections.synchronizedList(new ArrayList<>());

        Ctx(String name) {
            this.name = name;
            this.base = root + "/" + name;
        }

        CuratorFramework client() throws Exception {
            return client(connect, 10_000);
        }

        CuratorFramework client(int sessionMs) throws Exception {
            return client(connect, sessionMs);
        }

        CuratorFramework client(String cs, int sessionMs) throws Exception {
            CuratorFramework c = CuratorFrameworkFactory.builder()
                    .connectString(cs)
                    .sessionTimeoutMs(sessionMs)
                    .connectionTimeoutMs(5_000)
                    .retryPolicy(new RetryNTimes(40, 250))
                    .build();
            closers.add(c);
            c.start();
            if (!c.blockUntilConnected(10, TimeUnit.SECONDS)) {
                throw new AssertionError("Curator client did not connect to " + cs + " within 10 s");
            }
            return c;
        }

        /** Create this scenario's (persistent) base node and return its path. */
        String mkbase(CuratorFramework c) throws Exception {
            c.create().creatingParentsIfNeeded().forPath(base);
            return base;
        }

        <T extends AutoCloseable> T defer(T t) {
            closers.add(t);
            return t;
        }

        Actor actor() {
            return defer(new Actor(name));
        }

        void closeAll() {
            List<AutoCloseable> l;
            synchronized (closers) {
                l = new ArrayList<>(closers);
                closers.clear();
            }
            Collections.reverse(l);
            for (AutoCloseable c : l) {
                try {
                    c.close();
                } catch (Throwable ignore) {
                }
            }
        }
    }

    /** A single thread; Curator locks are owned by the thread that acquires them. */
    static class Actor implements AutoCloseable {
        final ExecutorService ex;

        Actor(String name) {
            ex = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "actor-" + name);
                t.setDaemon(true);
                return t;
            });
        }

        <T> Future<T> submit(Callable<T> c) {
            return ex.submit(c);
        }

        <T> T call(Callable<T> c, long ms) throws Exception {
            return get(ex.submit(c), ms, "actor call");
        }

        @Override
        public void close() {
            ex.shutdownNow();
        }
    }

    static <T> T get(Future<T> f, long ms, String what) throws Exception {
        try {
            return f.get(ms, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("timed out after " + ms + " ms: " + what);
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof Exception) throw (Exception) c;
            if (c instanceof Error) throw (Error) c;
            throw e;
        }
    }

    static void check(boolean cond, String msg) {
        if (!cond) throw new AssertionError(msg);
    }

    static void waitFor(String what, long ms, Callable<Boolean> cond) throws Exception {
        long deadline = System.currentTimeMillis() + ms;
        while (true) {
            if (cond.call()) return;
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("timed out after " + ms + " ms waiting for " + what);
            }
            Thread.sleep(50);
        }
    }

    static <T> T poll(BlockingQueue<T> q, long ms, String what) throws InterruptedException {
        T t = q.poll(ms, TimeUnit.MILLISECONDS);
        if (t == null) throw new AssertionError("timed out after " + ms + " ms waiting for " + what);
        return t;
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String s(byte[] b) {
        return b == null ? "null" : new String(b, StandardCharsets.UTF_8);
    }

    static ExecutorService pool(Ctx ctx) {
        ExecutorService p = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "pool-" + ctx.name);
            t.setDaemon(true);
            return t;
        });
        ctx.defer(p::shutdownNow);
        return p;
    }

    // ---------------------------------------------------------------- scenarios

    static String interProcessMutex(Ctx ctx) throws Exception {
        CuratorFramework c1 = ctx.client(), c2 = ctx.client();
        String lockPath = ctx.mkbase(c1) + "/lock";
        InterProcessMutex m1 = new InterProcessMutex(c1, lockPath);
        InterProcessMutex m2 = new InterProcessMutex(c2, lockPath);
        Actor a = ctx.actor(), bb = ctx.actor();

        check(a.call(() -> m1.acquire(5, TimeUnit.SECONDS), 10_000), "client 1 could not acquire a free mutex");
        check(a.call(() -> m1.acquire(5, TimeUnit.SECONDS), 10_000), "reentrant acquire by the holder failed");
        List<String> kids = c2.getChildren().forPath(lockPath);
        check(kids.size() == 1, "expected exactly 1 lock node after reentrant acquire, got " + kids);
        check(Pattern.matches("_c_" + UUID_RE + "-lock-\\d{10}", kids.get(0)), "unexpected lock node name " + kids.get(0));

        check(!bb.call(() -> m2.acquire(300, TimeUnit.MILLISECONDS), 10_000), "client 2 acquired while client 1 holds the mutex");

        Future<Boolean> f2 = bb.submit(() -> m2.acquire(20, TimeUnit.SECONDS));
        a.call(() -> { m1.release(); return null; }, 10_000); // one of two holds released
        Thread.sleep(700);
        check(!f2.isDone(), "client 2 acquired after only one of two reentrant releases");
        check(m1.isAcquiredInThisProcess(), "client 1 lost the mutex after one of two releases");
        long t0 = System.currentTimeMillis();
        a.call(() -> { m1.release(); return null; }, 10_000);
        check(get(f2, 10_000, "client 2 acquire after release"), "client 2 acquire returned false after release");
        long dt = System.currentTimeMillis() - t0;
        check(!m1.isAcquiredInThisProcess() && m2.isAcquiredInThisProcess(), "wrong holder after hand-over");
        kids = c1.getChildren().forPath(lockPath);
        check(kids.size() == 1, "expected 1 lock node while client 2 holds, got " + kids);
        bb.call(() -> { m2.release(); return null; }, 10_000);
        kids = c1.getChildren().forPath(lockPath);
        check(kids.isEmpty(), "lock nodes left after final release: " + kids);
        return "reentrant hold, hand-over in " + dt + " ms";
    }

    static String interProcessReadWriteLock(Ctx ctx) throws Exception {
        CuratorFramework c1 = ctx.client(), c2 = ctx.client(), c3 = ctx.client();
        String p = ctx.mkbase(c1) + "/rw";
        InterProcessReadWriteLock rw1 = new InterProcessReadWriteLock(c1, p);
        InterProcessReadWriteLock rw2 = new InterProcessReadWriteLock(c2, p);
        InterProcessReadWriteLock rw3 = new InterProcessReadWriteLock(c3, p);
        Actor r1 = ctx.actor(), r2 = ctx.actor(), w = ctx.actor();

        check(r1.call(() -> rw1.readLock().acquire(5, TimeUnit.SECONDS), 10_000), "reader 1 could not acquire");
        check(r2.call(() -> rw2.readLock().acquire(5, TimeUnit.SECONDS), 10_000), "reader 2 blocked while only reader 1 holds (readers must share)");
        check(!w.call(() -> rw3.writeLock().acquire(300, TimeUnit.MILLISECONDS), 10_000), "writer acquired while readers hold");

        Future<Boolean> fw = w.submit(() -> rw3.writeLock().acquire(20, TimeUnit.SECONDS));
        r1.call(() -> { rw1.readLock().release(); return null; }, 10_000);
        Thread.sleep(500);
        check(!fw.isDone(), "writer acquired while reader 2 still holds");
        r2.call(() -> { rw2.readLock().release(); return null; }, 10_000);
        check(get(fw, 10_000, "writer acquire after readers released"), "writer acquire returned false");

        check(!r1.call(() -> rw1.readLock().acquire(300, TimeUnit.MILLISECONDS), 10_000), "reader acquired while writer holds");
        Future<Boolean> fr = r1.submit(() -> rw1.readLock().acquire(20, TimeUnit.SECONDS));
        Thread.sleep(500);
        check(!fr.isDone(), "reader acquired while writer holds (blocking acquire)");
        w.call(() -> { rw3.writeLock().release(); return null; }, 10_000);
        check(get(fr, 10_000, "reader acquire after writer released"), "reader acquire returned false");
        r1.call(() -> { rw1.readLock().release(); return null; }, 10_000);
        List<String> kids = c2.getChildren().forPath(p);
        check(kids.isEmpty(), "lock nodes left after release: " + kids);
        return "2 readers shared; writer excluded both ways";
    }

    static String interProcessSemaphoreV2(Ctx ctx) throws Exception {
        CuratorFramework c1 = ctx.client(), c2 = ctx.client(), c3 = ctx.client();
        String p = ctx.mkbase(c1) + "/sem";
        InterProcessSemaphoreV2 s1 = new InterProcessSemaphoreV2(c1, p, 2);
        InterProcessSemaphoreV2 s2 = new InterProcessSemaphoreV2(c2, p, 2);
        InterProcessSemaphoreV2 s3 = new InterProcessSemaphoreV2(c3, p, 2);
        ExecutorService ex = pool(ctx);

        Lease l1 = s1.acquire(5, TimeUnit.SECONDS);
        check(l1 != null, "lease 1 not granted");
        Lease l2 = s2.acquire(5, TimeUnit.SECONDS);
        check(l2 != null, "lease 2 not granted (max is 2)");
        Lease extra = s3.acquire(300, TimeUnit.MILLISECONDS);
        check(extra == null, "third lease granted while 2 of max 2 are held");
        check(s1.getParticipantNodes().size() == 2, "participants " + s1.getParticipantNodes());

        Future<Lease> f3 = ex.submit(() -> s3.acquire(20, TimeUnit.SECONDS));
        Thread.sleep(500);
        check(!f3.isDone(), "third lease granted before any release");
        l1.close();
        Lease l3 = get(f3, 10_000, "lease 3 after lease 1 released");
        check(l3 != null, "lease 3 not granted after release");
        check(s1.acquire(300, TimeUnit.MILLISECONDS) == null, "lease granted beyond max after hand-over");
        l2.close();
        l3.close();
        waitFor("no participants after closing all leases", 5_000, () -> s1.getParticipantNodes().isEmpty());
        return "max 2 leases respected";
    }

    static String leaderLatch(Ctx ctx) throws Exception {
        CuratorFramework c1 = ctx.client(), c2 = ctx.client();
        String p = ctx.mkbase(c1) + "/latch";
        LeaderLatch l1 = new LeaderLatch(c1, p, "A");
        LeaderLatch l2 = new LeaderLatch(c2, p, "B");
        BlockingQueue<String> ev = new LinkedBlockingQueue<>();
        for (LeaderLatch l : Arrays.asList(l1, l2)) {
            String id = l.getId();
            l.addListener(new LeaderLatchListener() {
                public void isLeader() { ev.add(id + "+"); }
                public void notLeader() { ev.add(id + "-"); }
            });
        }
        ctx.defer(l1);
        ctx.defer(l2);
        l1.start();
        l2.start();
        waitFor("a leader", 10_000, () -> l1.hasLeadership() || l2.hasLeadership());
        Thread.sleep(500);
        check(l1.hasLeadership() ^ l2.hasLeadership(), "leadership not exclusive: A=" + l1.hasLeadership() + " B=" + l2.hasLeadership());
        LeaderLatch leader = l1.hasLeadership() ? l1 : l2;
        LeaderLatch other = leader == l1 ? l2 : l1;
        check(other.getLeader().getId().equals(leader.getId()), "follower sees leader " + other.getLeader().getId() + ", expected " + leader.getId());
        check(leader.getParticipants().size() == 2, "participants " + leader.getParticipants());
        for (String n : c1.getChildren().forPath(p)) {
            check(Pattern.matches("_c_" + UUID_RE + "-latch-\\d{10}", n), "unexpected latch node name " + n);
        }
        String first = poll(ev, 5_000, "isLeader callback");
        check(first.equals(leader.getId() + "+"), "first listener event " + first);

        leader.close();
        check(other.await(10, TimeUnit.SECONDS), "leadership not handed over within 10 s of closing the leader");
        check(other.hasLeadership(), "follower has no leadership after await");
        waitFor("1 participant after close", 5_000, () -> other.getParticipants().size() == 1);
        check(other.getLeader().getId().equals(other.getId()), "getLeader after hand-over is " + other.getLeader().getId());
        return "leader " + leader.getId() + " then " + other.getId();
    }

    static String leaderSelector(Ctx ctx) throws Exception {
        CuratorFramework c1 = ctx.client(), c2 = ctx.client();
        String p = ctx.mkbase(c1) + "/selector";
        AtomicInteger concurrent = new AtomicInteger(), maxConcurrent = new AtomicInteger();
        List<String> order = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch done = new CountDownLatch(6);
        List<LeaderSelector> sels = new ArrayList<>();
        for (Object[] o : new Object[][] {{c1, "A"}, {c2, "B"}}) {
            String id = (String) o[1];
            LeaderSelector sel = new LeaderSelector((CuratorFramework) o[0], p, new LeaderSelectorListenerAdapter() {
                @Override
                public void takeLeadership(CuratorFramework client) throws Exception {
                    int n = concurrent.incrementAndGet();
                    maxConcurrent.accumulateAndGet(n, Math::max);
                    order.add(id);
                    try {
                        Thread.sleep(150);
                    } finally {
                        concurrent.decrementAndGet();
                        done.countDown();
                    }
                }
            });
            sel.setId(id);
            sel.autoRequeue();
            sels.add(ctx.defer(sel));
        }
        for (LeaderSelector s : sels) s.start();
        check(done.await(20, TimeUnit.SECONDS), "only " + order.size() + " leadership turns in 20 s: " + order);
        for (LeaderSelector s : sels) s.close();
        List<String> turns;
        synchronized (order) {
            turns = new ArrayList<>(order.subList(0, 6));
        }
        check(maxConcurrent.get() == 1, "two takeLeadership calls ran at once");
        check(turns.contains("A") && turns.contains("B"), "only one selector led: " + turns);
        for (int i = 1; i < turns.size(); i++) {
            check(!turns.get(i).equals(turns.get(i - 1)), "leadership not taken in turn: " + turns);
        }
        return "turns " + String.join("", turns);
    }

    static String curatorCache(Ctx ctx) throws Exception {
        CuratorFramework c1 = ctx.client(), c2 = ctx.client();
        String p = ctx.mkbase(c1) + "/cache";
        c1.create().forPath(p, b("root"));
        BlockingQueue<String> ev = new LinkedBlockingQueue<>();
        CountDownLatch init = new CountDownLatch(1);
        CuratorCache cache = ctx.defer(CuratorCache.build(c1, p));
        cache.listenable().addListener(new CuratorCacheListener() {
            public void event(Type type, ChildData oldData, ChildData data) {
                ChildData d = data != null ? data : oldData;
                ev.add(type + " " + d.getPath() + " " + s(d.getData()));
            }

            public void initialized() {
                init.countDown();
            }
        });
        cache.start();
        check(init.await(10, TimeUnit.SECONDS), "cache not initialized within 10 s");
        expect(ev, "NODE_CREATED " + p + " root");

        c2.create().forPath(p + "/a", b("1"));
        expect(ev, "NODE_CREATED " + p + "/a 1");
        c2.setData().forPath(p + "/a", b("2"));
        expect(ev, "NODE_CHANGED " + p + "/a 2");
        c2.create().forPath(p + "/a/b", b("x"));
        expect(ev, "NODE_CREATED " + p + "/a/b x");
        c2.setData().forPath(p + "/a/b", b("y"));
        expect(ev, "NODE_CHANGED " + p + "/a/b y");
        c2.delete().forPath(p + "/a/b");
        expect(ev, "NODE_DELETED " + p + "/a/b y");
        c2.delete().forPath(p + "/a");
        expect(ev, "NODE_DELETED " + p + "/a 2");
        c2.setData().forPath(p, b("root2"));
        expect(ev, "NODE_CHANGED " + p + " root2");
        String extra = ev.poll(300, TimeUnit.MILLISECONDS);
        check(extra == null, "unexpected extra event " + extra);
        check(cache.size() == 1, "cache size " + cache.size() + ", expected 1");
        check(s(cache.get(p).get().getData()).equals("root2"), "cached root data wrong");
        return "7 events";
    }

    static void expect(BlockingQueue<String> q, String want) throws InterruptedException {
        String got = poll(q, 5_000, "event '" + want + "'");
        check(got.equals(want), "expected event '" + want + "', got '" + got + "'");
    }

    static String persistentWatcher(Ctx ctx) throws Exception {
        // One session per watcher: the server keeps one watch mode per (connection, path),
        // so a recursive addWatch on the same connection and path would replace the plain one.
        CuratorFramework c1 = ctx.client(), c2 = ctx.client(), c3 = ctx.client();
        String p = ctx.mkbase(c1) + "/pw";
        c1.create().forPath(p, b("0"));
        BlockingQueue<String> flat = new LinkedBlockingQueue<>(), rec = new LinkedBlockingQueue<>();
        CountDownLatch reset = new CountDownLatch(2);
        PersistentWatcher wf = ctx.defer(new PersistentWatcher(c1, p, false));
        PersistentWatcher wr = ctx.defer(new PersistentWatcher(c3, p, true));
        wf.getListenable().addListener(e -> { if (e.getType() != Watcher.Event.EventType.None) flat.add(e.getType() + " " + e.getPath()); });
        wr.getListenable().addListener(e -> { if (e.getType() != Watcher.Event.EventType.None) rec.add(e.getType() + " " + e.getPath()); });
        wf.getResetListenable().addListener(reset::countDown);
        wr.getResetListenable().addListener(reset::countDown);
        wf.start();
        wr.start();
        check(reset.await(10, TimeUnit.SECONDS), "persistent watches not registered within 10 s");

        for (int i = 1; i <= 3; i++) {
            c2.setData().forPath(p, b("v" + i));
            expect(flat, "NodeDataChanged " + p);
            expect(rec, "NodeDataChanged " + p);
        }
        c2.create().forPath(p + "/c", b("x"));
        expect(flat, "NodeChildrenChanged " + p);
        expect(rec, "NodeCreated " + p + "/c");
        c2.setData().forPath(p + "/c", b("y"));
        expect(rec, "NodeDataChanged " + p + "/c");
        c2.create().forPath(p + "/c/d");
        expect(rec, "NodeCreated " + p + "/c/d");
        c2.delete().forPath(p + "/c/d");
        expect(rec, "NodeDeleted " + p + "/c/d");
        c2.delete().forPath(p + "/c");
        expect(flat, "NodeChildrenChanged " + p);
        expect(rec, "NodeDeleted " + p + "/c");
        c2.setData().forPath(p, b("v4"));
        expect(flat, "NodeDataChanged " + p);
        expect(rec, "NodeDataChanged " + p);
        Thread.sleep(300);
        check(flat.isEmpty(), "unexpected extra events on non-recursive watch: " + flat);
        check(rec.isEmpty(), "unexpected extra events on recursive watch: " + rec);
        return "persistent + persistent-recursive, 4 data changes";
    }

    static String distributedAtomicLong(Ctx ctx) throws Exception {
        CuratorFramework c1 = ctx.client(), c2 = ctx.client();
        String p = ctx.mkbase(c1) + "/counter";
        DistributedAtomicLong d1 = new DistributedAtomicLong(c1, p, new RetryNTimes(1000, 2));
        DistributedAtomicLong d2 = new DistributedAtomicLong(c2, p, new RetryNTimes(1000, 2));
        ExecutorService ex = pool(ctx);
        Set<Long> seen = Collections.synchronizedSet(new HashSet<>());
        AtomicInteger failures = new AtomicInteger();
        List<Future<Integer>> fs = new ArrayList<>();
        for (DistributedAtomicLong d : Arrays.asList(d1, d2)) {
            fs.add(ex.submit(() -> {
                int ok = 0;
                for (int i = 0; i < 50; i++) {
                    AtomicValue<Long> r = d.increment();
                    if (!r.succeeded()) {
                        failures.incrementAndGet();
                        continue;
                    }
                    if (r.postValue() != r.preValue() + 1) throw new AssertionError("post " + r.postValue() + " != pre " + r.preValue() + " + 1");
                    if (!seen.add(r.postValue())) throw new AssertionError("value " + r.postValue() + " produced twice");
                    ok++;
                }
                return ok;
            }));
        }
        int ok = 0;
        for (Future<Integer> f : fs) ok += get(f, 25_000, "increments");
        check(failures.get() == 0, failures.get() + " increments did not succeed");
        long v = d1.get().postValue();
        check(ok == 100 && v == 100, "expected 100, counter is " + v + " after " + ok + " successful increments");
        check(d2.get().postValue() == 100, "second client reads " + d2.get().postValue());
        return "100 increments from 2 clients, all values distinct";
    }

    static String distributedQueue(Ctx ctx) throws Exception {
        CuratorFramework c1 = ctx.client(), c2 = ctx.client();
        String p = ctx.mkbase(c1) + "/queue";
        QueueSerializer<String> ser = new QueueSerializer<String>() {
            public byte[] serialize(String item) { return b(item); }
            public String deserialize(byte[] bytes) { return s(bytes); }
        };
        List<String> got = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch all = new CountDownLatch(20);
        QueueConsumer<String> consumer = new QueueConsumer<String>() {
            public void consumeMessage(String m) { got.add(m); all.countDown(); }
            public void stateChanged(CuratorFramework c, ConnectionState s) { }
        };
        DistributedQueue<String> producer = ctx.defer(QueueBuilder.builder(c1, null, ser, p).buildQueue());
        producer.start();
        List<String> want = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            String item = String.format("item-%02d", i);
            want.add(item);
            producer.put(item);
        }
        waitFor("20 queue nodes", 10_000, () -> c1.getChildren().forPath(p).size() == 20);
        DistributedQueue<String> cq = ctx.defer(QueueBuilder.builder(c2, consumer, ser, p).buildQueue());
        cq.start();
        check(all.await(15, TimeUnit.SECONDS), "consumed only " + got.size() + " of 20 items");
        check(want.equals(new ArrayList<>(got)), "consumed out of order: " + got);
        // a second batch produced while the consumer is running
        List<String> want2 = new ArrayList<>(want);
        for (int i = 20; i < 25; i++) {
            String item = String.format("item-%02d", i);
            want2.add(item);
            producer.put(item);
        }
        waitFor("25 items consumed", 10_000, () -> got.size() >= 25);
        check(want2.equals(new ArrayList<>(got)), "consumed out of order: " + got);
        waitFor("queue empty", 5_000, () -> c1.getChildren().forPath(p).isEmpty());
        return "25 items in order";
    }

    static String distributedBarrier(Ctx ctx) throws Exception {
        CuratorFramework c1 = ctx.client(), c2 = ctx.client(), c3 = ctx.client();
        String p = ctx.mkbase(c1) + "/barrier";
        ExecutorService ex = pool(ctx);
        check(new DistributedBarrier(c2, p).waitOnBarrier(2, TimeUnit.SECONDS), "waitOnBarrier blocked with no barrier set");
        DistributedBarrier b1 = new DistributedBarrier(c1, p);
        b1.setBarrier();
        check(c2.checkExists().forPath(p) != null, "barrier node missing after setBarrier");
        check(!new DistributedBarrier(c3, p).waitOnBarrier(300, TimeUnit.MILLISECONDS), "waitOnBarrier returned true while barrier set");
        Future<Boolean> w2 = ex.submit(() -> new DistributedBarrier(c2, p).waitOnBarrier(20, TimeUnit.SECONDS));
        Future<Boolean> w3 = ex.submit(() -> new DistributedBarrier(c3, p).waitOnBarrier(20, TimeUnit.SECONDS));
        Thread.sleep(700);
        check(!w2.isDone() && !w3.isDone(), "waiter released while barrier set");
        b1.removeBarrier();
        check(get(w2, 10_000, "waiter 2 release"), "waiter 2 returned false");
        check(get(w3, 10_000, "waiter 3 release"), "waiter 3 returned false");
        return "2 waiters released on removeBarrier";
    }

    static String sharedCount(Ctx ctx) throws Exception {
        CuratorFramework c1 = ctx.client(), c2 = ctx.client();
        String p = ctx.mkbase(c1) + "/count";
        SharedCount sc1 = ctx.defer(new SharedCount(c1, p, 0));
        SharedCount sc2 = ctx.defer(new SharedCount(c2, p, 0));
        BlockingQueue<Integer> seen1 = new LinkedBlockingQueue<>(), seen2 = new LinkedBlockingQueue<>();
        sc1.addListener(listener(seen1));
        sc2.addListener(listener(seen2));
        sc1.start();
        sc2.start();
        VersionedValue<Integer> v1 = sc1.getVersionedValue(), v2 = sc2.getVersionedValue();
        check(v1.getValue() == 0 && v2.getValue() == 0, "initial values " + v1.getValue() + "," + v2.getValue());
        check(sc1.trySetCount(v1, 5), "trySetCount with current version failed");
        check(!sc2.trySetCount(v2, 6), "trySetCount with stale version succeeded");
        Integer n = poll(seen2, 5_000, "listener on client 2 to see 5");
        check(n == 5, "client 2 listener saw " + n + ", expected 5");
        Stat st = new Stat();
        byte[] raw = c2.getData().storingStatIn(st).forPath(p);
        check(raw.length == 4 && ByteBuffer.wrap(raw).getInt() == 5, "stored bytes " + Arrays.toString(raw));
        check(st.getVersion() == 1, "node version " + st.getVersion() + ", expected 1");
        try {
            c2.setData().withVersion(0).forPath(p, ByteBuffer.allocate(4).putInt(9).array());
            throw new AssertionError("setData with stale version 0 succeeded");
        } catch (KeeperException.BadVersionException expected) {
        }
        check(sc2.getCount() == 5, "client 2 count " + sc2.getCount());
        sc2.setCount(7);
        waitFor("client 1 listener to see 7", 5_000, () -> seen1.contains(7));
        waitFor("client 1 count 7", 5_000, () -> sc1.getCount() == 7);
        VersionedValue<Integer> v = sc1.getVersionedValue();
        check(v.getVersion() == 2, "version after two sets " + v.getVersion());
        check(sc1.trySetCount(v, 8), "trySetCount at version 2 failed");
        return "versioned sets, listeners saw 5 and 7";
    }

    static SharedCountListener listener(BlockingQueue<Integer> q) {
        return new SharedCountListener() {
            public void countHasChanged(SharedCountReader r, int newCount) { q.add(newCount); }
            public void stateChanged(CuratorFramework c, ConnectionState s) { }
        };
    }

    static String persistentNode(Ctx ctx) throws Exception {
        CuratorFramework c1 = ctx.client(), c2 = ctx.client();
        String p = ctx.mkbase(c1) + "/eph";
        long sid = c1.getZookeeperClient().getZooKeeper().getSessionId();
        PersistentNode pn = ctx.defer(new PersistentNode(c1, CreateMode.EPHEMERAL, false, p, b("hello")));
        pn.start();
        check(pn.waitForInitialCreate(10, TimeUnit.SECONDS), "initial create did not complete in 10 s");
        Stat s1 = c2.checkExists().forPath(p);
        check(s1 != null, "node missing after initial create");
        check(s1.getEphemeralOwner() == sid, "ephemeralOwner " + Long.toHexString(s1.getEphemeralOwner()) + " != session " + Long.toHexString(sid));
        long czxid = s1.getCzxid();
        for (int round = 1; round <= 2; round++) {
            c2.delete().forPath(p);
            final long prev = czxid;
            waitFor("node recreated after deletion " + round, 10_000, () -> {
                Stat s = c2.checkExists().forPath(p);
                return s != null && s.getCzxid() != prev;
            });
            Stat s2 = new Stat();
            byte[] d = c2.getData().storingStatIn(s2).forPath(p);
            check(s2.getEphemeralOwner() == sid, "recreated node owner " + Long.toHexString(s2.getEphemeralOwner()));
            check(s(d).equals("hello"), "recreated node data " + s(d));
            czxid = s2.getCzxid();
        }
        pn.close();
        waitFor("node deleted after close", 5_000, () -> c2.checkExists().forPath(p) == null);
        return "ephemeral recreated twice";
    }

    static String persistentTtlNode(Ctx ctx) throws Exception {
        CuratorFramework c1 = ctx.client(), c2 = ctx.client();
        String p = ctx.mkbase(c1) + "/ttl";
        String touch = p + "/" + PersistentTtlNode.DEFAULT_CHILD_NODE_NAME;
        long ttl = 1000;
        PersistentTtlNode tn = ctx.defer(new PersistentTtlNode(c1, p, ttl, b("ttl-data")));
        tn.start();
        check(tn.waitForInitialCreate(10, TimeUnit.SECONDS), "initial create did not complete in 10 s");
        waitFor("TTL child " + touch, 5_000, () -> c2.checkExists().forPath(touch) != null);
        Stat ts = c2.checkExists().forPath(touch);
        // Java ZooKeeper reports ephemeralOwner 0 for TTL and container nodes.
        check(ts.getEphemeralOwner() == 0, "TTL child ephemeralOwner 0x" + Long.toHexString(ts.getEphemeralOwner()) + ", expected 0");
        Stat ps = c2.checkExists().forPath(p);
        check(ps.getEphemeralOwner() == 0, "container parent ephemeralOwner 0x" + Long.toHexString(ps.getEphemeralOwner()) + ", expected 0");
        // Held for 4 TTLs with a 1 s container check: the node must stay.
        long end = System.currentTimeMillis() + 4_000;
        while (System.currentTimeMillis() < end) {
            check(c2.checkExists().forPath(p) != null, "TTL node parent vanished while held");
            check(c2.checkExists().forPath(touch) != null, "TTL child vanished while held");
            Thread.sleep(250);
        }
        check(s(c2.getData().forPath(p)).equals("ttl-data"), "parent data wrong");
        tn.close();
        long t0 = System.currentTimeMillis();
        waitFor("TTL child to expire after close", 15_000, () -> c2.checkExists().forPath(touch) == null);
        waitFor("container parent to be reaped after its TTL child expired", 15_000, () -> c2.checkExists().forPath(p) == null);
        return "held 4 s; expired and reaped " + (System.currentTimeMillis() - t0) + " ms after close";
    }

    static String transactionCommit(Ctx ctx) throws Exception {
        CuratorFramework c1 = ctx.client(), c2 = ctx.client();
        String base = ctx.mkbase(c1);
        String a = base + "/a", del = base + "/del";
        c1.create().forPath(del, b("gone"));
        List<CuratorTransactionResult> res = c1.transaction().forOperations(
                c1.transactionOp().create().forPath(a, b("x")),
                c1.transactionOp().setData().forPath(a, b("y")),
                c1.transactionOp().check().withVersion(1).forPath(a),
                c1.transactionOp().delete().forPath(del));
        check(res.size() == 4, "result count " + res.size());
        OperationType[] types = {OperationType.CREATE, OperationType.SET_DATA, OperationType.CHECK, OperationType.DELETE};
        for (int i = 0; i < 4; i++) {
            check(res.get(i).getType() == types[i], "result " + i + " type " + res.get(i).getType());
            check(res.get(i).getError() == 0, "result " + i + " error " + res.get(i).getError());
        }
        check(a.equals(res.get(0).getResultPath()), "create result path " + res.get(0).getResultPath());
        check(res.get(1).getResultStat() != null && res.get(1).getResultStat().getVersion() == 1, "setData result stat " + res.get(1).getResultStat());
        Stat st = new Stat();
        check(s(c2.getData().storingStatIn(st).forPath(a)).equals("y"), "data after commit");
        check(st.getVersion() == 1, "version after commit " + st.getVersion());
        check(c2.checkExists().forPath(del) == null, "deleted node still exists");
        long mzxid = st.getMzxid();
        check(st.getCzxid() == mzxid, "create and setData of one transaction have different zxids");
        return "create+setData+check+delete committed at one zxid";
    }

    static String transactionFailure(Ctx ctx) throws Exception {
        CuratorFramework c1 = ctx.client(), c2 = ctx.client();
        String base = ctx.mkbase(c1);
        String a = base + "/a", c = base + "/c";
        c1.create().forPath(a, b("y"));
        try {
            c1.transaction().forOperations(
                    c1.transactionOp().create().forPath(c, b("z")),
                    c1.transactionOp().setData().withVersion(99).forPath(a, b("w")),
                    c1.transactionOp().delete().forPath(a));
            throw new AssertionError("transaction with a bad version committed");
        } catch (KeeperException e) {
            check(e.code() == KeeperException.Code.BADVERSION, "transaction failed with " + e.code() + ", expected BADVERSION");
            List<OpResult> rs = e.getResults();
            check(rs != null && rs.size() == 3, "per-op results " + rs);
            int[] want = {KeeperException.Code.OK.intValue(), KeeperException.Code.BADVERSION.intValue(), KeeperException.Code.RUNTIMEINCONSISTENCY.intValue()};
            int[] got = new int[3];
            for (int i = 0; i < 3; i++) {
                check(rs.get(i) instanceof OpResult.ErrorResult, "result " + i + " is " + rs.get(i).getClass().getSimpleName());
                got[i] = ((OpResult.ErrorResult) rs.get(i)).getErr();
            }
            check(Arrays.equals(want, got), "per-op errors " + Arrays.toString(got) + ", expected " + Arrays.toString(want));
        }
        check(c2.checkExists().forPath(c) == null, "create from the failed transaction was applied");
        Stat st = new Stat();
        check(s(c2.getData().storingStatIn(st).forPath(a)).equals("y") && st.getVersion() == 0, "node changed by failed transaction");
        // A failing check op alone also aborts.
        try {
            c1.transaction().forOperations(
                    c1.transactionOp().create().forPath(c, b("z")),
                    c1.transactionOp().check().withVersion(5).forPath(a));
            throw new AssertionError("transaction with a failing check committed");
        } catch (KeeperException.BadVersionException expected) {
        }
        check(c2.checkExists().forPath(c) == null, "create from the failed check transaction was applied");
        return "BADVERSION, per-op [0,-103,-2], nothing applied";
    }

    static String protectionContainers(Ctx ctx) throws Exception {
        CuratorFramework c1 = ctx.client(), c2 = ctx.client();
        String base = ctx.mkbase(c1);
        String top = base + "/prot", parent = top + "/x/y";
        String created = c1.create().creatingParentContainersIfNeeded().withProtection()
                .withMode(CreateMode.EPHEMERAL_SEQUENTIAL).forPath(parent + "/node", b("d"));
        check(created.startsWith(parent + "/"), "created path " + created);
        String name = ZKPaths.getNodeFromPath(created);
        check(Pattern.matches("_c_" + UUID_RE + "-node\\d{10}", name), "node name lacks protection prefix: " + name);
        Stat st = new Stat();
        check(s(c2.getData().storingStatIn(st).forPath(created)).equals("d"), "data of protected node");
        check(st.getEphemeralOwner() == c1.getZookeeperClient().getZooKeeper().getSessionId(), "protected node is not ephemeral to client 1");
        for (String q : Arrays.asList(top, top + "/x", parent)) {
            Stat ps = new Stat();
            c2.getData().storingStatIn(ps).forPath(q);
            // Java ZooKeeper reports ephemeralOwner 0 for container nodes.
            check(ps.getEphemeralOwner() == 0, q + " ephemeralOwner 0x" + Long.toHexString(ps.getEphemeralOwner()) + ", expected 0");
        }
        // control: a persistent parent that loses its child must stay
        String plain = base + "/plain";
        c1.create().forPath(plain);
        c1.create().forPath(plain + "/k");
        c1.delete().forPath(plain + "/k");

        c1.delete().forPath(created);
        long t0 = System.currentTimeMillis();
        waitFor("empty container " + parent + " to be reaped", 15_000, () -> c2.checkExists().forPath(parent) == null);
        waitFor("container " + top + " to be reaped after its child went", 15_000, () -> c2.checkExists().forPath(top) == null);
        long dt = System.currentTimeMillis() - t0;
        check(c2.checkExists().forPath(plain) != null, "persistent node " + plain + " was reaped like a container");
        return "name " + name.substring(0, 3) + "<uuid>-node<seq>; containers reaped in " + dt + " ms";
    }

    /** Blackholes a client's connection for longer than its session timeout. */
    static class Proxy implements AutoCloseable {
        final ServerSocket ss;
        final String host;
        final int port;
        volatile boolean frozen;
        volatile boolean closed;
        final List<Socket> socks = Collections.synchronizedList(new ArrayList<>());

        Proxy(String target) throws IOException {
            int i = target.lastIndexOf(':');
            host = target.substring(0, i);
            port = Integer.parseInt(target.substring(i + 1));
            ss = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
            Thread t = new Thread(this::acceptLoop, "proxy-accept");
            t.setDaemon(true);
            t.start();
        }

        String address() {
            return "127.0.0.1:" + ss.getLocalPort();
        }

        void acceptLoop() {
            while (!closed) {
                try {
                    Socket in = ss.accept();
                    if (frozen) {
                        in.close();
                        continue;
                    }
                    Socket out = new Socket();
                    out.connect(new InetSocketAddress(host, port), 5_000);
                    socks.add(in);
                    socks.add(out);
                    pump(in, out);
                    pump(out, in);
                } catch (IOException e) {
                    if (closed) return;
                }
            }
        }

        void pump(Socket from, Socket to) {
            Thread t = new Thread(() -> {
                byte[] buf = new byte[8192];
                try (InputStream i = from.getInputStream(); OutputStream o = to.getOutputStream()) {
                    int n;
                    while ((n = i.read(buf)) > 0) o.write(buf, 0, n);
                } catch (IOException ignore) {
                } finally {
                    try { from.close(); } catch (IOException ignore) { }
                    try { to.close(); } catch (IOException ignore) { }
                }
            }, "proxy-pump");
            t.setDaemon(true);
            t.start();
        }

        void freeze() {
            frozen = true;
            synchronized (socks) {
                for (Socket s : socks) {
                    try { s.close(); } catch (IOException ignore) { }
                }
                socks.clear();
            }
        }

        void thaw() {
            frozen = false;
        }

        @Override
        public void close() throws IOException {
            closed = true;
            freeze();
            ss.close();
        }
    }

    static String sessionExpiry(Ctx ctx) throws Exception {
        CuratorFramework c2 = ctx.client();
        String p = ctx.mkbase(c2) + "/eph";
        Proxy proxy = ctx.defer(new Proxy(connect));
        CuratorFramework c1 = ctx.client(proxy.address(), 4_000);
        BlockingQueue<ConnectionState> states = new LinkedBlockingQueue<>();
        c1.getConnectionStateListenable().addListener((c, s) -> states.add(s));
        ZooKeeper zk = c1.getZookeeperClient().getZooKeeper();
        long sid = zk.getSessionId();
        int negotiated = zk.getSessionTimeout();
        check(negotiated >= 4_000 && negotiated <= 6_000, "negotiated session timeout " + negotiated + " for a 4000 ms request");
        PersistentNode pn = ctx.defer(new PersistentNode(c1, CreateMode.EPHEMERAL, false, p, b("e")));
        pn.start();
        check(pn.waitForInitialCreate(10, TimeUnit.SECONDS), "initial create did not complete");
        check(c2.checkExists().forPath(p).getEphemeralOwner() == sid, "node not owned by client 1's session");

        proxy.freeze();
        long t0 = System.currentTimeMillis();
        waitFor("server to expire the partitioned session and delete its ephemeral", 15_000, () -> c2.checkExists().forPath(p) == null);
        long expiredAfter = System.currentTimeMillis() - t0;
        check(expiredAfter >= negotiated - 1_000, "ephemeral deleted " + expiredAfter + " ms into a partition, before the " + negotiated + " ms session timeout");
        Thread.sleep(1_000);
        proxy.thaw();
        waitFor("client 1 to report LOST", 15_000, () -> states.contains(ConnectionState.LOST));
        waitFor("client 1 to reconnect with a new session", 15_000, () -> {
            ZooKeeper z = c1.getZookeeperClient().getZooKeeper();
            return c1.getZookeeperClient().isConnected() && z.getSessionId() != sid && z.getSessionId() != 0;
        });
        long sid2 = c1.getZookeeperClient().getZooKeeper().getSessionId();
        waitFor("ephemeral recreated under the new session", 15_000, () -> {
            Stat s = c2.checkExists().forPath(p);
            return s != null && s.getEphemeralOwner() == sid2;
        });
        return "expired " + expiredAfter + " ms into partition (timeout " + negotiated + "); states " + states;
    }

    // --------------------------------------------------------------------- main

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: CuratorSuite HOST:PORT [SCENARIO...]");
            System.exit(2);
        }
        connect = args[0];
        root = "/compat-curator-" + Long.toHexString(System.currentTimeMillis()) + "-" + Long.toHexString(ProcessHandle.current().pid());

        Map<String, Scenario> all = new LinkedHashMap<>();
        all.put("InterProcessMutex", CuratorSuite::interProcessMutex);
        all.put("InterProcessReadWriteLock", CuratorSuite::interProcessReadWriteLock);
        all.put("InterProcessSemaphoreV2", CuratorSuite::interProcessSemaphoreV2);
        all.put("LeaderLatch", CuratorSuite::leaderLatch);
        all.put("LeaderSelector", CuratorSuite::leaderSelector);
        all.put("CuratorCache", CuratorSuite::curatorCache);
        all.put("PersistentWatcher", CuratorSuite::persistentWatcher);
        all.put("DistributedAtomicLong", CuratorSuite::distributedAtomicLong);
        all.put("DistributedQueue", CuratorSuite::distributedQueue);
        all.put("DistributedBarrier", CuratorSuite::distributedBarrier);
        all.put("SharedCount", CuratorSuite::sharedCount);
        all.put("PersistentNode", CuratorSuite::persistentNode);
        all.put("PersistentTtlNode", CuratorSuite::persistentTtlNode);
        all.put("TransactionCommit", CuratorSuite::transactionCommit);
        all.put("TransactionFailure", CuratorSuite::transactionFailure);
        all.put("ProtectionContainers", CuratorSuite::protectionContainers);
        all.put("SessionExpiry", CuratorSuite::sessionExpiry);

        if (args.length == 2 && args[1].equals("--list")) {
            for (String n : all.keySet()) System.out.println(n);
            return;
        }
        List<String> names = args.length > 1 ? Arrays.asList(args).subList(1, args.length) : new ArrayList<>(all.keySet());

        String unreachable = null;
        try (Socket probe = new Socket()) {
            int i = connect.lastIndexOf(':');
            probe.connect(new InetSocketAddress(connect.substring(0, i), Integer.parseInt(connect.substring(i + 1))), 3_000);
        } catch (Exception e) {
            unreachable = "server " + connect + " not reachable: " + e;
        }
        if (unreachable != null) {
            for (String name : names) report(name, false, unreachable);
            System.exit(1);
        }

        long suiteDeadline = System.currentTimeMillis() + SUITE_BUDGET_MS;
        boolean allPassed = true;
        for (String name : names) {
            Scenario sc = all.get(name);
            if (sc == null) {
                report(name, false, "unknown scenario");
                allPassed = false;
                continue;
            }
            long budget = Math.min(SCENARIO_TIMEOUT_MS, suiteDeadline - System.currentTimeMillis());
            if (budget <= 0) {
                report(name, false, "not run: suite time budget exhausted");
                allPassed = false;
                continue;
            }
            Ctx ctx = new Ctx(name);
            java.util.concurrent.atomic.AtomicReference<Thread> thread = new java.util.concurrent.atomic.AtomicReference<>();
            ExecutorService ex = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "scenario-" + name);
                t.setDaemon(true);
                thread.set(t);
                return t;
            });
            long t0 = System.currentTimeMillis();
            Future<String> f = ex.submit(() -> sc.run(ctx));
            boolean ok;
            String detail;
            try {
                detail = f.get(budget, TimeUnit.MILLISECONDS);
                ok = true;
            } catch (TimeoutException e) {
                ok = false;
                detail = "timed out after " + budget + " ms";
                System.err.println("[" + name + "] " + detail + "; stack of the scenario thread:");
                Thread st = thread.get();
                if (st != null) {
                    for (StackTraceElement el : st.getStackTrace()) System.err.println("\tat " + el);
                }
                f.cancel(true);
            } catch (java.util.concurrent.ExecutionException e) {
                ok = false;
                Throwable c = e.getCause();
                detail = (c instanceof AssertionError) ? String.valueOf(c.getMessage()) : c.getClass().getName() + ": " + c.getMessage();
                System.err.println("[" + name + "] failed:");
                c.printStackTrace(System.err);
            } catch (Throwable t) {
                ok = false;
                detail = t.toString();
            }
            ctx.closeAll();
            ex.shutdownNow();
            long dt = System.currentTimeMillis() - t0;
            report(name, ok, detail + " (" + dt + " ms)");
            allPassed &= ok;
        }
        cleanup();
        System.out.flush();
        System.exit(allPassed ? 0 : 1);
    }

    static void report(String name, boolean ok, String detail) {
        String d = detail == null ? "" : detail.replaceAll("[\\r\\n\\t]+", " ").trim();
        if (d.length() > 400) d = d.substring(0, 400) + "...";
        System.out.println("RESULT " + SUITE + " " + name + " " + (ok ? "pass" : "fail") + " " + d);
        System.out.flush();
    }

    static void cleanup() {
        Thread t = new Thread(() -> {
            try (CuratorFramework c = CuratorFrameworkFactory.builder().connectString(connect)
                    .sessionTimeoutMs(10_000).connectionTimeoutMs(3_000).retryPolicy(new RetryNTimes(2, 200)).build()) {
                c.start();
                if (c.blockUntilConnected(3, TimeUnit.SECONDS) && c.checkExists().forPath(root) != null) {
                    c.delete().deletingChildrenIfNeeded().forPath(root);
                }
            } catch (Throwable ignore) {
            }
        }, "cleanup");
        t.setDaemon(true);
        t.start();
        try {
            t.join(8_000);
        } catch (InterruptedException ignore) {
        }
    }
}
