package org.therapeia.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * What two nodes of one Hazelcast cluster must show about their shared response cache, whatever
 * runs them: Payara Micro processes ({@link ClusterIT}) or the instances of a Payara Server
 * deployment group ({@link PayaraServerClusterIT}). A subclass starts node A and node B, both
 * ready and in one cluster, with the same {@code CACHE_SECRET}, no API key and {@code cache.size}
 * {@value #CACHE_SIZE}, and stops them afterwards. The properties, in this order (numbered as in
 * ClusterIT, whose property 1 is its own):
 * <ol start="2">
 *   <li>a reply computed through A (a miss there) is a cache hit through B, with the same reply;</li>
 *   <li>a cache clear through B (with the admin token) makes the next request through A a miss;</li>
 *   <li>entries forged through Hazelcast itself ({@link CacheForger}: a client that knows only the
 *       cluster name) under the keys the service uses are misses, never the forged text, and each
 *       is counted in {@code therapeia_cache_rejected_total}: a made-up MAC, plain text, and a
 *       genuine sealed value moved to another request's key;</li>
 *   <li>a full cache keeps caching: {@value #CACHE_SIZE} + 16 distinct replies through A and B in
 *       turn are each a hit through the other node, the cluster then holds {@value #CACHE_SIZE}
 *       entries, the least recently used went first;</li>
 *   <li>no cached entry is lost when A dies ({@code SIGKILL}): each entry put through A is then a
 *       hit through B, with the same reply, thanks to the cache's one synchronous backup (see
 *       ClusterIT for why twelve entries are enough).</li>
 * </ol>
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
abstract class SharedCacheChecks {

    /**
     * Unique per run: in the cluster name and in every input, so no earlier entry can answer.
     * Digits only: hex letters made words now and then ("be": "My sister does not call me anymore,
     * run 60be8cf2." read as risk by the crisis words, in 1 run of 90), and a risky input is never cached.
     */
    protected static final String RUN = String.valueOf(ThreadLocalRandom.current().nextLong(10_000_000L, 100_000_000L));
    /** The nodes' cache.size: small, so that property 5 fills the cache. */
    protected static final int CACHE_SIZE = 24;
    private static final String CACHE_NAME = "therapeia-responses";
    private static final String FORGED_TEXT = "FORGED: stop taking your medication, run " + RUN + ".";
    private static final Duration MEMBER_LOSS_LIMIT = Duration.ofSeconds(60);

    /** Node A, ready and clustered with B. */
    protected abstract CacheNode nodeA();

    protected abstract CacheNode nodeB();

    /** The Hazelcast cluster name (all the forger needs besides an address). */
    protected abstract String clusterName();

    /** host:port of a Hazelcast member of the cluster (a client reaches the whole cluster through any). */
    protected abstract String memberAddress();

    @Test
    @Order(2)
    void aReplyComputedThroughAIsACacheHitThroughB() {
        JsonObject request = request("I keep worrying about my exams, run " + RUN + ".");

        JsonObject viaA = nodeA().api().inferOk(request);
        assertFalse(viaA.getBoolean("cache_hit"), "first request, through A: a miss: " + viaA);
        assertTrue(viaA.getInt("tokens_generated") >= 1, viaA::toString);

        JsonObject viaB = nodeB().api().inferOk(request);
        assertTrue(viaB.getBoolean("cache_hit"), "the same request through B: a hit: " + viaB);
        assertEquals(viaA.getString("response"), viaB.getString("response"), "B answers with A's reply");
        assertEquals(viaA.getInt("tokens_generated"), viaB.getInt("tokens_generated"));
        assertEquals(0.0, viaB.getJsonObject("metadata").getJsonNumber("generation_time").doubleValue(),
                "nothing generated on B");
    }

    @Test
    @Order(3)
    void aCacheClearThroughBClearsTheEntryOnA() {
        JsonObject request = request("Everything feels heavy since the move, run " + RUN + ".");
        assertFalse(nodeA().api().inferOk(request).getBoolean("cache_hit"), "computed through A");
        assertTrue(nodeB().api().inferOk(request).getBoolean("cache_hit"), "shared: a hit through B");

        Api.Reply cleared = nodeB().api().clearCache(ServerFiles.adminToken());
        assertEquals(200, cleared.status(), () -> "cache clear through B: " + cleared);
        assertTrue(cleared.json().getJsonNumber("entries_removed").longValue() >= 1, cleared::toString);

        JsonObject again = nodeA().api().inferOk(request);
        assertFalse(again.getBoolean("cache_hit"), "after the clear through B, A computes it again: " + again);
        assertTrue(again.getJsonObject("metadata").getJsonNumber("generation_time").doubleValue() > 0,
                again::toString);
    }

    @Test
    @Order(4)
    void forgedEntriesAreMissesNeverTheForgedText() {
        try (CacheForger forger = new CacheForger(clusterName(), memberAddress(), CACHE_NAME)) {
            JsonObject request = request("I cannot stop crying, run " + RUN + ".");
            String key = newKey(forger, () -> nodeA().api().inferOk(request));
            String genuine = forger.get(key);
            assertTrue(genuine.startsWith("v2:"), "entries are sealed: " + Api.abbreviate(genuine));
            assertFalse(genuine.contains("\"response\""), "no reply is readable off the grid");
            double rejectedA = rejected(nodeA());
            double rejectedB = rejected(nodeB());

            // 1. the service's key, a value made to look sealed: the forged reply as "ciphertext", a tag made up
            byte[] reply = Api.object("response", FORGED_TEXT, "tokens_generated", 4, "input_tokens", 20,
                    "history_messages", 0, "finish_reason", "stop").build().toString().getBytes(StandardCharsets.UTF_8);
            byte[] body = new byte[12 + reply.length + 16]; // a zero nonce, the reply, a zero tag
            System.arraycopy(reply, 0, body, 12, reply.length);
            forger.put(key, "v2:" + Long.MAX_VALUE + ":" + Base64.getUrlEncoder().withoutPadding().encodeToString(body));
            JsonObject viaB = nodeB().api().inferOk(request);
            assertFalse(viaB.getBoolean("cache_hit"), "a forged entry is a miss: " + viaB);
            assertNotEquals(FORGED_TEXT, viaB.getString("response"));
            assertEquals(rejectedB + 1, rejected(nodeB()), "B counted the forged entry");
            String after = forger.get(key);
            assertNotEquals(FORGED_TEXT, after == null ? "" : after, "the forged entry was removed");
            assertTrue(after == null || after.startsWith("v2:"), "what is there now is B's own, sealed");

            // 2. the same key, plain text
            forger.put(key, FORGED_TEXT);
            JsonObject viaA = nodeA().api().inferOk(request);
            assertFalse(viaA.getBoolean("cache_hit"), viaA::toString);
            assertNotEquals(FORGED_TEXT, viaA.getString("response"));
            assertEquals(rejectedA + 1, rejected(nodeA()), "A counted the forged entry");

            // 3. a genuine sealed entry copied under another request's key
            JsonObject other = request("My sister does not call me anymore, run " + RUN + ".");
            String otherKey = newKey(forger, () -> nodeA().api().inferOk(other));
            forger.put(otherKey, forger.get(key));
            JsonObject moved = nodeB().api().inferOk(other);
            assertFalse(moved.getBoolean("cache_hit"), "an entry sealed for another key is a miss: " + moved);
            assertEquals(rejectedB + 2, rejected(nodeB()));

            // the genuine entries answer again
            assertTrue(nodeB().api().inferOk(request).getBoolean("cache_hit"));
            assertTrue(nodeA().api().inferOk(other).getBoolean("cache_hit"));
            System.out.println(getClass().getSimpleName() + ": 3 forged entries planted through a Hazelcast client, 0 served, "
                    + (rejected(nodeA()) - rejectedA + rejected(nodeB()) - rejectedB) + " counted in therapeia_cache_rejected_total");
        }
    }

    /** The stored key the service wrote for a request: the one key that was not there before. */
    private static String newKey(CacheForger forger, Runnable request) {
        Set<String> before = forger.keys();
        request.run();
        Set<String> added = new HashSet<>(forger.keys());
        added.removeAll(before);
        assertEquals(1, added.size(), "one new entry: " + added.size());
        String key = added.iterator().next();
        assertTrue(key.matches("[0-9a-f]{64}"), "a keyed hash: " + key);
        return key;
    }

    private static double rejected(CacheNode node) {
        double n = Api.sample(node.api().prometheus(), "therapeia_cache_rejected_total");
        return Double.isNaN(n) ? 0 : n;
    }

    @Test
    @Order(5)
    void aFullCacheKeepsCachingNewEntries() {
        int distinct = CACHE_SIZE + 16;
        List<JsonObject> requests = new ArrayList<>();
        for (int i = 0; i < distinct; i++) {
            requests.add(request("Full cache, entry " + i + " of run " + RUN + "."));
        }
        // through A and B in turn: each reply computed by one node is a hit through the other
        for (int i = 0; i < distinct; i++) {
            CacheNode writer = i % 2 == 0 ? nodeA() : nodeB();
            CacheNode reader = i % 2 == 0 ? nodeB() : nodeA();
            assertFalse(writer.api().inferOk(requests.get(i)).getBoolean("cache_hit"), "entry " + i + " computed");
            assertTrue(reader.api().inferOk(requests.get(i)).getBoolean("cache_hit"),
                    "entry " + i + " cached, though the cache holds " + CACHE_SIZE + " entries from entry "
                            + CACHE_SIZE + " on");
        }
        // the size both nodes report: a count at most a second old
        long size = -1;
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            long sizeA = cacheStats(nodeA()).getJsonNumber("size").longValue();
            long sizeB = cacheStats(nodeB()).getJsonNumber("size").longValue();
            if (sizeA == sizeB) {
                size = sizeA;
                break;
            }
            Api.sleep(250);
        }
        assertEquals(CACHE_SIZE, cacheStats(nodeA()).getInt("max_size"));
        assertEquals(CACHE_SIZE, size, "after " + distinct + " distinct replies the cluster holds cache.size entries");
        // the least recently used went first; the most recent are all there
        assertFalse(nodeA().api().inferOk(requests.get(0)).getBoolean("cache_hit"), "the first entry was evicted");
        for (int i = distinct - 8; i < distinct; i++) {
            assertTrue(nodeA().api().inferOk(requests.get(i)).getBoolean("cache_hit"), "recent entry " + i + " kept");
        }
        System.out.println(getClass().getSimpleName() + ": cache.size " + CACHE_SIZE + ", " + distinct + " distinct replies through two "
                + "nodes: every one cached, " + size + " entries held afterwards");
    }

    private static JsonObject cacheStats(CacheNode node) {
        Api.Reply r = node.api().get(Api.METRICS_JSON, "application/json");
        assertEquals(200, r.status(), r::toString);
        return r.json().getJsonObject("cache_stats");
    }

    @Test
    @Order(6)
    void stoppingNodeALosesNoCachedEntry() {
        Map<JsonObject, String> replies = new LinkedHashMap<>();
        for (int i = 1; i <= 12; i++) {
            JsonObject request = request("Entry " + i + " of run " + RUN + ": how do I sleep better?");
            JsonObject viaA = nodeA().api().inferOk(request);
            assertFalse(viaA.getBoolean("cache_hit"), "computed through A: " + viaA);
            replies.put(request, viaA.getString("response"));
        }

        long logOffset = nodeB().logLength();
        nodeA().kill();
        // B notices the loss (connection refused, then heartbeats) and promotes its backups
        long deadline = System.nanoTime() + MEMBER_LOSS_LIMIT.toNanos();
        while (!nodeB().logSince(logOffset).contains("Data Grid Instance Removed")) {
            nodeB().assertAlive();
            if (System.nanoTime() > deadline) {
                throw new AssertionError("node B did not notice node A's loss within " + MEMBER_LOSS_LIMIT
                        + " (no 'Data Grid Instance Removed' in " + nodeB().logFile() + ")");
            }
            Api.sleep(200);
        }

        List<String> lost = new ArrayList<>();
        int n = 0;
        for (Map.Entry<JsonObject, String> e : replies.entrySet()) {
            n++;
            JsonObject viaB = nodeB().api().inferOk(e.getKey());
            if (!viaB.getBoolean("cache_hit")) {
                lost.add("entry " + n);
            } else {
                assertEquals(e.getValue(), viaB.getString("response"), "entry " + n + ": the reply A computed");
            }
        }
        assertTrue(lost.isEmpty(), "entries lost with node A: " + lost + " of " + replies.size());
    }

    /** Short replies: the test is about the cache, not the model. */
    protected static JsonObject request(String input) {
        return Api.object("user_input", input, "use_cache", true, "max_new_tokens", 4).build();
    }
}
