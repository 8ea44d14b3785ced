package org.therapeia.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.cache.HazelcastCachingProvider;
import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import javax.cache.CacheManager;
import javax.cache.Caching;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.therapeia.TestConfig;
import org.therapeia.config.InferenceConfig;

/** Against a real Hazelcast member (Payara's JCache provider), joined to nothing, on loopback. */
class ResponseCacheTest {

    private static HazelcastInstance hazelcast;
    private static CacheManager manager;

    @BeforeAll
    static void startHazelcast() {
        String name = "therapeia-test-" + UUID.randomUUID();
        Config config = new Config(name).setClusterName(name);
        config.setProperty("hazelcast.phone.home.enabled", "false");
        config.setProperty("hazelcast.logging.type", "jdk");
        config.getNetworkConfig().setPortAutoIncrement(true);
        config.getNetworkConfig().getInterfaces().setEnabled(true).addInterface("127.0.0.1");
        config.getNetworkConfig().getJoin().getMulticastConfig().setEnabled(false);
        config.getNetworkConfig().getJoin().getTcpIpConfig().setEnabled(false);
        config.getNetworkConfig().getJoin().getAutoDetectionConfig().setEnabled(false);
        hazelcast = Hazelcast.newHazelcastInstance(config);
        manager = Caching.getCachingProvider("com.hazelcast.cache.HazelcastMemberCachingProvider")
                .getCacheManager(null, null, HazelcastCachingProvider.propertiesByInstanceName(name));
    }

    @AfterAll
    static void stopHazelcast() {
        manager.close();
        hazelcast.shutdown();
    }

    private static ResponseCache cache(String name, int size, int ttlSeconds) {
        InferenceConfig config = TestConfig.inference(Map.of("CACHE_NAME", name, "CACHE_SIZE", Integer.toString(size),
                "CACHE_TTL", Integer.toString(ttlSeconds)));
        ResponseCache cache = new ResponseCache(manager, config);
        cache.open();
        return cache;
    }

    private static final CachedReply REPLY = new CachedReply("I hear you.", 4, 20, 0, "stop");

    @Test
    void putGetClear() {
        ResponseCache cache = cache("put-get", 100, 3600);
        assertEquals(Optional.empty(), cache.get("k"));
        cache.put("k", REPLY);
        assertEquals(Optional.of(REPLY), cache.get("k"));
        assertEquals(1, cache.size());
        cache.clear();
        assertEquals(Optional.empty(), cache.get("k"));
        assertEquals(0, cache.size());
    }

    @Test
    void sizeIsCountedAndTheLimitHolds() {
        ResponseCache cache = cache("limit", 5, 3600);
        AtomicLong now = new AtomicLong();
        cache.clock(now::get);
        for (int i = 0; i < 12; i++) {
            cache.put("k" + i, REPLY);
            now.addAndGet(2_000_000_000L); // recount each time
        }
        assertEquals(5, cache.size());
        assertEquals(5, cache.maxSize());
        assertEquals(7, cache.skippedFull());
    }

    @Test
    void entriesExpireAfterTheTtl() throws InterruptedException {
        ResponseCache cache = cache("ttl", 100, 1);
        cache.put("k", REPLY);
        assertTrue(cache.get("k").isPresent());
        long deadline = System.nanoTime() + 15_000_000_000L;
        while (cache.get("k").isPresent() && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        assertEquals(Optional.empty(), cache.get("k"));
    }

    @Test
    void aSecondBeanFindsTheSameCache() {
        ResponseCache a = cache("shared", 100, 3600);
        ResponseCache b = cache("shared", 100, 3600);
        a.put("k", REPLY);
        assertEquals(Optional.of(REPLY), b.get("k"));
    }

    @Test
    void jsonRoundTripKeepsUnicode() {
        CachedReply r = new CachedReply("Ça va \"bien\" 😀\n", 3, 1, 2, "length");
        assertEquals(r, CachedReply.fromJson(r.toJson()));
    }
}
