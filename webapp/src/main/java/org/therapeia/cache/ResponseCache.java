package org.therapeia.cache;

import com.hazelcast.cache.ICache;
import com.hazelcast.config.CacheConfig;
import com.hazelcast.config.EvictionConfig;
import com.hazelcast.config.EvictionPolicy;
import com.hazelcast.config.MaxSizePolicy;
import com.hazelcast.nio.serialization.HazelcastSerializationException;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;
import jakarta.inject.Inject;
import java.util.Iterator;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.expiry.CreatedExpiryPolicy;
import javax.cache.expiry.Duration;
import org.therapeia.config.InferenceConfig;

/**
 * The cluster-wide response cache: a JCache {@code Cache<String, String>} (Hazelcast on Payara)
 * named {@code cache.name}, entries expiring {@code cache.ttl} after they were written.
 *
 * <p><b>Trust.</b> Entries are stored under keyed hashes, encrypted and authenticated
 * ({@link CacheSecret}); an entry that fails the check is a miss, is removed, and is announced
 * as a {@link CacheEntryRejected} event (counted by the metrics). An entry carries its expiry,
 * {@code cache.ttl} after it was written, under the same check: past it, it is a miss and is
 * removed, whatever expiry the grid's own cache has. The secret is
 * {@code cache.secret}; without it a node alone uses a random secret of its own, and a node in
 * a cluster ({@link DataGrid}) refuses the cache: it neither reads nor writes it, and readiness
 * says so ({@link Mode#REFUSED}). Sharing the cache needs the same secret on every member.
 *
 * <p><b>Size.</b> At most {@code cache.size} entries, cluster-wide: before a put, the cache is
 * counted (Hazelcast's {@code ICache.size()}, a count per partition, not a walk over entries)
 * and, when full, entries are evicted first: the least recently used of those this node wrote or
 * served, else any entry. So a full cache keeps caching. (Puts racing on several threads or
 * nodes can pass the limit by a few for a moment; the next put evicts back down to it.)
 * Hazelcast's own LRU eviction is also
 * configured, at {@code max(cache.size, }{@value #HAZELCAST_EVICTION_FLOOR}{@code )} entries: it
 * is enforced per partition (a limit of 1000 lets about 3500 in), so it is not the limit, only a
 * bound on memory for entries this service did not write. The size reported is such a count,
 * at most {@value #SIZE_MEMO_MILLIS} ms old.
 *
 * <p>A cache failure never fails a request: it reads as a miss and is logged without key or value.
 */
@ApplicationScoped
public class ResponseCache {

    /** How this node uses the cache, decided when it opens. */
    public enum Mode {
        /** {@code cache.secret} is set: entries are shared with every member that has the same secret. */
        SHARED,
        /** Standalone without {@code cache.secret}: a random secret of this process; entries are its own. */
        PRIVATE,
        /** Clustered without {@code cache.secret}: the cache is not used, and readiness is DOWN. */
        REFUSED,
        /** The cache could not be opened (the log says why): requests are served without it. */
        UNAVAILABLE,
        /** {@code enable_response_cache=false}. */
        DISABLED
    }

    private static final Logger LOG = Logger.getLogger(ResponseCache.class.getName());
    private static final long SIZE_MEMO_MILLIS = 1000;
    /** Hazelcast's default entry limit for a cache. */
    static final int HAZELCAST_EVICTION_FLOOR = 10_000;
    /** Evicting stops after this many removals beyond the limit found nothing (keys gone some other way). */
    private static final int EXTRA_EVICTION_ATTEMPTS = 64;

    private CacheManager cacheManager;
    private InferenceConfig config;
    private Consumer<CacheEntryRejected> rejections;
    private LongSupplier clock = System::nanoTime;
    /** Epoch milliseconds: the expiry sealed into each entry is read on every member. */
    private LongSupplier wallClock = System::currentTimeMillis;

    private volatile Mode mode = Mode.DISABLED;
    private Cache<String, String> cache;
    private ICache<String, String> counter;
    private CacheSecret secret;
    private RecentKeys recent;

    private final AtomicLong sizeMemo = new AtomicLong(-1);
    private volatile long sizeMemoAt;
    private final AtomicLong evictions = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();

    protected ResponseCache() {
    }

    @Inject
    public ResponseCache(CacheManager cacheManager, InferenceConfig config, Event<CacheEntryRejected> rejections) {
        this(cacheManager, config, (Consumer<CacheEntryRejected>) rejections::fire);
    }

    /** Outside a container (tests): rejections go to {@code rejections}. */
    public ResponseCache(CacheManager cacheManager, InferenceConfig config, Consumer<CacheEntryRejected> rejections) {
        this.cacheManager = cacheManager;
        this.config = config;
        this.rejections = rejections;
    }

    @PostConstruct
    @SuppressWarnings("unchecked") // ICache of the Cache<String, String> it unwraps
    void open() {
        if (!config.enableResponseCache()) {
            mode = Mode.DISABLED;
            return;
        }
        Optional<String> clustering = DataGrid.clustering(cacheManager);
        Optional<String> configured = config.cacheSecret();
        if (configured.isPresent()) {
            secret = CacheSecret.of(configured.get());
        } else if (clustering.isEmpty()) {
            secret = CacheSecret.random();
        } else {
            mode = Mode.REFUSED;
            LOG.severe("response cache refused: this node is in a cluster (" + clustering.get() + ") but "
                    + "cache.secret (CACHE_SECRET) is not set, so no member could trust another's entries. Set "
                    + "the same cache.secret on every member; until then this node uses no cache and is not ready.");
            return;
        }
        recent = new RecentKeys(config.cacheSize());
        try {
            Cache<String, String> opened = openCache(config.cacheName());
            counter = opened.unwrap(ICache.class);
            cache = opened;
        } catch (RuntimeException e) { // e.g. a cache of that name declared with other types
            mode = Mode.UNAVAILABLE;
            counter = null;
            LOG.severe("response cache " + config.cacheName() + " could not be opened, serving without it: "
                    + e.getClass().getName() + ": " + e.getMessage());
            return;
        }
        mode = configured.isPresent() ? Mode.SHARED : Mode.PRIVATE;
        LOG.info("response cache " + config.cacheName() + ": " + (clustering.isPresent() ? "clustered ("
                + clustering.get() + ")" : "standalone") + ", " + (mode == Mode.SHARED
                ? "entries sealed with cache.secret" : "entries sealed with a random secret of this process")
                + ", at most " + config.cacheSize() + " entries for " + config.cacheTtl().toSeconds() + " s");
    }

    private Cache<String, String> openCache(String name) {
        Cache<String, String> existing = cacheManager.getCache(name, String.class, String.class);
        if (existing != null) { // created by another member, or declared in the Hazelcast configuration
            return existing;
        }
        CacheConfig<String, String> configuration = new CacheConfig<>();
        configuration.setTypes(String.class, String.class);
        configuration.setStoreByValue(true);
        configuration.setStatisticsEnabled(true);
        configuration.setExpiryPolicyFactory(CreatedExpiryPolicy.factoryOf(
                new Duration(TimeUnit.SECONDS, config.cacheTtl().toSeconds())));
        configuration.setEvictionConfig(new EvictionConfig()
                .setEvictionPolicy(EvictionPolicy.LRU)
                .setMaxSizePolicy(MaxSizePolicy.ENTRY_COUNT)
                .setSize(Math.max(config.cacheSize(), HAZELCAST_EVICTION_FLOOR)));
        try {
            return cacheManager.createCache(name, configuration);
        } catch (javax.cache.CacheException e) { // another member created it first
            return cacheManager.getCache(name, String.class, String.class);
        }
    }

    /** The reply stored for {@code key}, if there is one and it passes its check. */
    public Optional<CachedReply> get(CacheKey key) {
        if (cache == null) {
            return Optional.empty();
        }
        String stored = secret.storedKey(key);
        try {
            Cache<String, ?> untyped = cache; // a forger may have stored anything, not only strings
            Object value;
            try {
                value = untyped.get(stored);
            } catch (HazelcastSerializationException unreadable) { // no genuine entry fails to deserialise
                reject(stored, null);
                return Optional.empty();
            }
            if (value == null) {
                return Optional.empty();
            }
            String sealed = value instanceof String s ? s : null;
            Optional<CacheSecret.Opened> opened = sealed != null ? secret.unseal(stored, sealed) : Optional.empty();
            if (opened.isEmpty()) {
                reject(stored, value);
                return Optional.empty();
            }
            if (opened.get().expiresAtMillis() <= wallClock.getAsLong()) {
                // genuine but past cache.ttl: a copy put back, or a declared cache that keeps entries longer
                cache.remove(stored, sealed);
                recent.forget(stored);
                return Optional.empty();
            }
            CachedReply reply = CachedReply.fromJson(opened.get().value());
            recent.touch(stored);
            return Optional.of(reply);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "response cache read failed: " + e.getClass().getName());
            return Optional.empty();
        }
    }

    /** Stores a complete reply, evicting the least recently used entries first when the cache is full. */
    public void put(CacheKey key, CachedReply reply) {
        if (cache == null) {
            return;
        }
        String stored = secret.storedKey(key);
        try {
            long count = makeRoom();
            long expiresAt = wallClock.getAsLong() + config.cacheTtl().toMillis();
            cache.put(stored, secret.seal(stored, reply.toJson(), expiresAt));
            recent.touch(stored);
            sizeMemo.set(count + 1);
            sizeMemoAt = clock.getAsLong();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "response cache write failed: " + e.getClass().getName());
        }
    }

    /** Evicts until there is room for one more entry; returns the count left. */
    private long makeRoom() {
        long limit = config.cacheSize();
        long count = counter.size();
        long attempts = Math.max(0, count - limit + 1) + EXTRA_EVICTION_ATTEMPTS;
        for (long attempt = 0; count >= limit && attempt < attempts; attempt++) {
            String victim = recent.pollLeastRecent();
            if (victim == null) {
                victim = anyStoredKey(); // entries this node never saw: written by another member
            }
            if (victim == null) {
                break;
            }
            if (cache.remove(victim)) {
                count--;
                evictions.incrementAndGet();
            }
        }
        return count;
    }

    private String anyStoredKey() {
        try {
            Iterator<Cache.Entry<String, String>> it = cache.iterator();
            return it.hasNext() ? it.next().getKey() : null;
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** Removes an entry that failed its check (only if it still holds what was read) and announces it. */
    private void reject(String stored, Object value) {
        try {
            if (value instanceof String s) {
                cache.remove(stored, s);
            } else {
                cache.remove(stored);
            }
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "removing a rejected response cache entry failed: " + e.getClass().getName());
        }
        recent.forget(stored);
        long n = rejected.incrementAndGet();
        if (Long.bitCount(n) == 1) { // 1, 2, 4, 8...: a flood of forgeries cannot flood the log
            LOG.warning("response cache: " + n + " entr" + (n == 1 ? "y" : "ies") + " failed the authentication "
                    + "check so far (forged or altered: something that is not this service writes to the cache; "
                    + "check who can reach the cluster port). Each was a miss and was removed.");
        }
        rejections.accept(new CacheEntryRejected());
    }

    /** Removes every entry, cluster-wide; returns how many there were. */
    public long clear() {
        if (cache == null) {
            return 0;
        }
        long before = counter.size();
        cache.clear();
        recent.clear();
        sizeMemo.set(0);
        sizeMemoAt = clock.getAsLong();
        return before;
    }

    /** Entries now in the cache, cluster-wide: a count at most a second old. */
    public long size() {
        if (counter == null) {
            return 0;
        }
        long now = clock.getAsLong();
        long memo = sizeMemo.get();
        if (memo >= 0 && now - sizeMemoAt < TimeUnit.MILLISECONDS.toNanos(SIZE_MEMO_MILLIS)) {
            return memo;
        }
        try {
            long n = counter.size();
            sizeMemo.set(n);
            sizeMemoAt = now;
            return n;
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "counting the response cache failed: " + e.getClass().getName());
            return Math.max(memo, 0);
        }
    }

    public int maxSize() {
        return config.cacheSize();
    }

    public Mode mode() {
        return mode;
    }

    /** Entries this node evicted to make room. */
    public long evictions() {
        return evictions.get();
    }

    /** Entries this node found failing their check (and removed). */
    public long rejected() {
        return rejected.get();
    }

    /** For tests: the clock for the size memo. */
    void clock(LongSupplier clock) {
        this.clock = clock;
    }

    /** For tests: the wall clock (epoch milliseconds) for the entries' expiry. */
    void wallClock(LongSupplier wallClock) {
        this.wallClock = wallClock;
    }
}
