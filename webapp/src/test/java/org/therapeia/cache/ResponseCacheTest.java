package org.therapeia.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.cache.HazelcastCachingProvider;
import com.hazelcast.cache.ICache;
import com.hazelcast.config.CacheConfig;
import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import java.io.IOException;
import java.io.InvalidObjectException;
import java.io.ObjectInputStream;
import java.io.Serializable;
import java.net.URI;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.Caching;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.processor.EntryProcessor;
import javax.cache.processor.MutableEntry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.therapeia.TestConfig;
import org.therapeia.config.InferenceConfig;
import org.therapeia.engine.SamplingParams;

/**
 * Against real Hazelcast members (Payara's JCache provider) on loopback: one standalone (no
 * discovery: what Payara Micro's --nocluster gives), one configured for TCP/IP discovery (what
 * a cluster gives), each a cluster of its own.
 */
class ResponseCacheTest {

    private static final String SECRET = "a test secret of at least 32 characters";
    private static final CachedReply REPLY = new CachedReply("I hear you.", 4, 20, 0, "stop");

    private static HazelcastInstance standalone;
    private static HazelcastInstance clustered;
    private static CacheManager manager;
    private static CacheManager clusteredManager;

    @BeforeAll
    static void startHazelcast() {
        standalone = Hazelcast.newHazelcastInstance(config(false));
        clustered = Hazelcast.newHazelcastInstance(config(true));
        manager = managerOf(standalone);
        clusteredManager = managerOf(clustered);
    }

    private static Config config(boolean tcpIp) {
        String name = "therapeia-test-" + UUID.randomUUID();
        Config config = new Config(name).setClusterName(name);
        config.setProperty("hazelcast.phone.home.enabled", "false");
        config.setProperty("hazelcast.logging.type", "jdk");
        config.getNetworkConfig().setPortAutoIncrement(true);
        config.getNetworkConfig().getInterfaces().setEnabled(true).addInterface("127.0.0.1");
        config.getNetworkConfig().getJoin().getMulticastConfig().setEnabled(false);
        config.getNetworkConfig().getJoin().getAutoDetectionConfig().setEnabled(false);
        // its only member is itself: a cluster of one, configured as a cluster
        config.getNetworkConfig().getJoin().getTcpIpConfig().setEnabled(tcpIp).addMember("127.0.0.1");
        return config;
    }

    private static CacheManager managerOf(HazelcastInstance member) {
        // a URI per member: the provider keeps one manager per URI and class loader
        return Caching.getCachingProvider("com.hazelcast.cache.HazelcastMemberCachingProvider")
                .getCacheManager(URI.create("therapeia-test:" + member.getName()), null,
                        HazelcastCachingProvider.propertiesByInstanceName(member.getName()));
    }

    @AfterAll
    static void stopHazelcast() {
        manager.close();
        clusteredManager.close();
        standalone.shutdown();
        clustered.shutdown();
    }

    private static ResponseCache cache(CacheManager on, String name, int size, String secret,
                                       List<CacheEntryRejected> rejections) {
        Map<String, String> env = new HashMap<>(Map.of("CACHE_NAME", name, "CACHE_SIZE", Integer.toString(size)));
        if (secret != null) {
            env.put("CACHE_SECRET", secret);
        }
        InferenceConfig config = TestConfig.inference(env);
        ResponseCache cache = new ResponseCache(on, config, rejections::add);
        cache.open();
        return cache;
    }

    private static ResponseCache cache(String name, int size) {
        return cache(manager, name, size, SECRET, new ArrayList<>());
    }

    private static CacheKey key(String input) {
        return CacheKey.of("f".repeat(64), "Be kind.", List.of(), input, SamplingParams.greedy(16));
    }

    private static CachedReply reply(int i) {
        return new CachedReply("reply " + i, i, 10, 0, "stop");
    }

    /** The cache as anyone on the cluster sees it: stored keys and sealed values. */
    private static Cache<String, String> raw(String name) {
        return manager.getCache(name, String.class, String.class);
    }

    @Test
    void putGetClear() {
        ResponseCache cache = cache("put-get", 100);
        assertEquals(ResponseCache.Mode.SHARED, cache.mode());
        assertEquals(Optional.empty(), cache.get(key("k")));
        cache.put(key("k"), REPLY);
        assertEquals(Optional.of(REPLY), cache.get(key("k")));
        assertEquals(1, cache.size());
        assertEquals(1, cache.clear());
        assertEquals(Optional.empty(), cache.get(key("k")));
        assertEquals(0, cache.size());
    }

    @Test
    void storedKeysAndValuesRevealNoRequest() {
        ResponseCache cache = cache("stored", 100);
        cache.put(key("I feel anxious."), REPLY);
        Cache.Entry<String, String> entry = raw("stored").iterator().next();
        assertEquals(CacheSecret.of(SECRET).storedKey(key("I feel anxious.")), entry.getKey());
        assertTrue(entry.getKey().matches("[0-9a-f]{64}"));
        assertTrue(entry.getValue().startsWith("v2:"), "sealed");
        assertFalse(entry.getValue().contains("hear"), "the reply is not readable off the grid");
    }

    @Test
    void anEntryPastItsSealedExpiryIsAMissNotAForgery() {
        List<CacheEntryRejected> rejections = new ArrayList<>();
        ResponseCache cache = cache(manager, "expired", 100, SECRET, rejections);
        AtomicLong now = new AtomicLong(1_000_000);
        cache.wallClock(now::get);
        cache.put(key("k"), REPLY);
        String stored = CacheSecret.of(SECRET).storedKey(key("k"));
        String genuine = raw("expired").get(stored);
        now.addAndGet(3_600_000 - 1); // cache.ttl is 3600 s
        assertEquals(Optional.of(REPLY), cache.get(key("k")), "within cache.ttl");
        now.incrementAndGet();
        assertEquals(Optional.empty(), cache.get(key("k")), "past it, whatever the grid keeps");
        assertNull(raw("expired").get(stored), "removed");
        // a genuine copy put back later (a replay) is no better
        raw("expired").put(stored, genuine);
        assertEquals(Optional.empty(), cache.get(key("k")));
        assertEquals(0, cache.rejected(), "an expired entry is not a forged one");
        assertTrue(rejections.isEmpty());
    }

    @Test
    void aFullCacheEvictsTheLeastRecentlyUsed() {
        ResponseCache cache = cache("lru", 5);
        for (int i = 0; i < 5; i++) {
            cache.put(key("k" + i), reply(i));
        }
        assertEquals(5, cache.size());
        assertTrue(cache.get(key("k0")).isPresent()); // k0 is now the most recently used
        for (int i = 5; i < 8; i++) {
            cache.put(key("k" + i), reply(i));
        }
        assertEquals(5, raw("lru").unwrap(ICache.class).size(), "never more than cache.size");
        assertEquals(3, cache.evictions());
        for (int i : new int[] {1, 2, 3}) {
            assertEquals(Optional.empty(), cache.get(key("k" + i)), "k" + i + ": least recently used, evicted");
        }
        for (int i : new int[] {0, 4, 5, 6, 7}) {
            assertEquals(Optional.of(reply(i)), cache.get(key("k" + i)), "k" + i + " kept");
        }
        // and it keeps caching: every new entry is there, the count stays at the limit
        for (int i = 8; i < 60; i++) {
            cache.put(key("k" + i), reply(i));
            assertEquals(Optional.of(reply(i)), cache.get(key("k" + i)), "k" + i + " cached though the cache is full");
        }
        assertEquals(5, raw("lru").unwrap(ICache.class).size());
    }

    @Test
    void entriesAnotherMemberWroteAreEvictedToo() {
        ResponseCache a = cache("two-writers", 5);
        for (int i = 0; i < 5; i++) {
            a.put(key("a" + i), reply(i));
        }
        ResponseCache b = cache("two-writers", 5); // knows none of a's entries
        for (int i = 0; i < 3; i++) {
            b.put(key("b" + i), reply(i));
            assertEquals(Optional.of(reply(i)), b.get(key("b" + i)));
        }
        assertEquals(5, raw("two-writers").unwrap(ICache.class).size());
        assertEquals(3, b.evictions());
    }

    @Test
    void theSizeIsACountAtMostASecondOld() {
        ResponseCache cache = cache("size", 100);
        AtomicLong now = new AtomicLong();
        cache.clock(now::get);
        cache.put(key("x"), REPLY);
        assertEquals(1, cache.size());
        raw("size").put("written-by-someone-else", "v1:x:y");
        assertEquals(1, cache.size(), "within the second: the last count");
        now.addAndGet(1_000_000_000L);
        assertEquals(2, cache.size(), "a second later: counted again");
        assertEquals(100, cache.maxSize());
    }

    @Test
    void hazelcastsOwnEvictionIsConfiguredAsABackstop() {
        cache("backstop", 50);
        ICache<?, ?> cache = raw("backstop").unwrap(ICache.class);
        CacheConfig<?, ?> config = cache.getConfiguration(CacheConfig.class);
        assertEquals(ResponseCache.HAZELCAST_EVICTION_FLOOR, config.getEvictionConfig().getSize());
        assertEquals("LRU", config.getEvictionConfig().getEvictionPolicy().name());
    }

    @Test
    void forgedEntriesAreMissesAreRemovedAndAreCounted() {
        List<CacheEntryRejected> rejections = new ArrayList<>();
        ResponseCache cache = cache(manager, "forged", 100, SECRET, rejections);
        Cache<String, String> raw = raw("forged");
        CacheSecret secret = CacheSecret.of(SECRET);
        String forged = "Stop taking your medication.";

        // 1. plain text under the key the service looks up (a forger on the cluster reads the keys there)
        String k1 = secret.storedKey(key("q1"));
        raw.put(k1, forged);
        assertEquals(Optional.empty(), cache.get(key("q1")));
        assertNull(raw.get(k1), "removed");

        // 2. a genuine sealed value moved to another request's key
        cache.put(key("q2"), REPLY);
        String k3 = secret.storedKey(key("q3"));
        raw.put(k3, raw.get(secret.storedKey(key("q2"))));
        assertEquals(Optional.empty(), cache.get(key("q3")));
        assertEquals(Optional.of(REPLY), cache.get(key("q2")), "the genuine one still answers");

        // 3. a genuine entry's value replaced by a sealed-looking forgery
        String k2 = secret.storedKey(key("q2"));
        String genuine = raw.get(k2);
        raw.put(k2, genuine.substring(0, genuine.lastIndexOf(':') + 1)
                + Base64.getUrlEncoder().withoutPadding().encodeToString(new byte[64]));
        assertEquals(Optional.empty(), cache.get(key("q2")));

        // 4. sealed with another secret
        CacheSecret guessed = CacheSecret.of("guessed".repeat(6));
        String k4 = secret.storedKey(key("q4"));
        raw.put(k4, guessed.seal(k4, new CachedReply(forged, 4, 20, 0, "stop").toJson(), Long.MAX_VALUE));
        assertEquals(Optional.empty(), cache.get(key("q4")));

        // 5. not even a string: the JCache API checks types, a member's own code need not
        String k5 = secret.storedKey(key("q5"));
        raw.invoke(k5, new PlantAnInteger());
        assertEquals(Optional.empty(), cache.get(key("q5")));
        assertFalse(raw.containsKey(k5), "removed");

        // 6. nothing this member can deserialise (a class it lacks, a stream that throws)
        String k6 = secret.storedKey(key("q6"));
        raw.invoke(k6, new PlantAnUnreadable());
        assertEquals(Optional.empty(), cache.get(key("q6")));
        assertFalse(raw.containsKey(k6), "removed");

        assertEquals(6, cache.rejected());
        assertEquals(6, rejections.size());
        // the service computes and caches a genuine reply again
        cache.put(key("q1"), REPLY);
        assertEquals(Optional.of(REPLY), cache.get(key("q1")));
        assertEquals(6, cache.rejected());
    }

    /** A value whose deserialisation fails. */
    static final class Unreadable implements Serializable {
        private void readObject(ObjectInputStream in) throws IOException {
            throw new InvalidObjectException("planted");
        }
    }

    /** Like {@link PlantAnInteger}, a value that no member can read back. */
    static final class PlantAnUnreadable implements EntryProcessor<String, String, Void>, Serializable {
        @Override
        @SuppressWarnings({"unchecked", "rawtypes"})
        public Void process(MutableEntry<String, String> entry, Object... arguments) {
            ((MutableEntry) entry).setValue(new Unreadable());
            return null;
        }
    }

    /** Runs on the member that owns the key, where no type check applies. */
    static final class PlantAnInteger implements EntryProcessor<String, String, Void>, Serializable {
        @Override
        @SuppressWarnings({"unchecked", "rawtypes"})
        public Void process(MutableEntry<String, String> entry, Object... arguments) {
            ((MutableEntry) entry).setValue(42);
            return null;
        }
    }

    @Test
    void withoutASecretAStandaloneNodeKeepsItsEntriesToItself() {
        ResponseCache a = cache(manager, "private", 100, null, new ArrayList<>());
        ResponseCache b = cache(manager, "private", 100, null, new ArrayList<>());
        assertEquals(ResponseCache.Mode.PRIVATE, a.mode());
        a.put(key("k"), REPLY);
        assertEquals(Optional.of(REPLY), a.get(key("k")));
        assertEquals(Optional.empty(), b.get(key("k")), "another process's random secret: another key");
        assertEquals(0, b.rejected());
    }

    @Test
    void aSecondNodeWithTheSameSecretFindsTheEntries() {
        ResponseCache a = cache("shared", 100);
        ResponseCache b = cache("shared", 100);
        a.put(key("k"), REPLY);
        assertEquals(Optional.of(REPLY), b.get(key("k")));
    }

    @Test
    void aClusteredNodeWithoutASecretRefusesTheCache() {
        ResponseCache refused = cache(clusteredManager, "refused", 100, null, new ArrayList<>());
        assertEquals(ResponseCache.Mode.REFUSED, refused.mode());
        refused.put(key("k"), REPLY);
        assertEquals(Optional.empty(), refused.get(key("k")));
        assertEquals(0, refused.size());
        assertNull(clusteredManager.getCache("refused"), "not even created");

        ResponseCache withSecret = cache(clusteredManager, "refused", 100, SECRET, new ArrayList<>());
        assertEquals(ResponseCache.Mode.SHARED, withSecret.mode());
        withSecret.put(key("k"), REPLY);
        assertEquals(Optional.of(REPLY), withSecret.get(key("k")));
    }

    @Test
    void aCacheThatCannotBeOpenedLeavesTheServiceWithoutOne() {
        // a cache of that name created before the service, untyped (by anyone on the cluster)
        manager.createCache("untyped", new MutableConfiguration<Object, Object>());
        ResponseCache cache = cache("untyped", 100);
        assertEquals(ResponseCache.Mode.UNAVAILABLE, cache.mode());
        cache.put(key("k"), REPLY);
        assertEquals(Optional.empty(), cache.get(key("k")));
        assertEquals(0, cache.size());
    }

    @Test
    void aDisabledCacheIsNeverOpened() {
        InferenceConfig config = TestConfig.inference(Map.of("CACHE_NAME", "disabled", "ENABLE_RESPONSE_CACHE", "false"));
        ResponseCache cache = new ResponseCache(clusteredManager, config, e -> { });
        cache.open();
        assertEquals(ResponseCache.Mode.DISABLED, cache.mode());
        assertNull(clusteredManager.getCache("disabled"));
    }

    @Test
    void entriesExpireAfterTheTtl() throws InterruptedException {
        InferenceConfig config = TestConfig.inference(Map.of("CACHE_NAME", "ttl", "CACHE_TTL", "1",
                "CACHE_SECRET", SECRET));
        ResponseCache cache = new ResponseCache(manager, config, e -> { });
        cache.open();
        cache.put(key("k"), REPLY);
        assertTrue(cache.get(key("k")).isPresent());
        long deadline = System.nanoTime() + 15_000_000_000L;
        while (cache.get(key("k")).isPresent() && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        assertEquals(Optional.empty(), cache.get(key("k")));
    }

    @Test
    void jsonRoundTripKeepsUnicode() {
        CachedReply r = new CachedReply("Ça va \"bien\" 😀\n", 3, 1, 2, "length");
        assertEquals(r, CachedReply.fromJson(r.toJson()));
    }
}
