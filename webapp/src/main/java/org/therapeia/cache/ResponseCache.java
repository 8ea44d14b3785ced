package org.therapeia.cache;

import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Iterator;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.expiry.CreatedExpiryPolicy;
import javax.cache.expiry.Duration;
import org.therapeia.config.InferenceConfig;

/**
 * The cluster-wide response cache: a JCache {@code Cache<String, String>} (Hazelcast on Payara)
 * named {@code cache.name}, entries expiring {@code cache.ttl} after they were written.
 *
 * <p>Size: JCache has no entry limit, and Hazelcast's own is enforced per partition (a limit of
 * 1000 holds about 3.5x that), so the limit {@code cache.size} is kept here: a put is skipped
 * while the cache holds that many entries, until entries expire or the cache is cleared. The size
 * reported is counted by iterating the cache (at most once a second), not estimated.
 *
 * <p>A cache failure never fails a request: it reads as a miss and is logged without key or value.
 */
@ApplicationScoped
public class ResponseCache {

    private static final Logger LOG = Logger.getLogger(ResponseCache.class.getName());
    private static final long SIZE_MEMO_NANOS = TimeUnit.SECONDS.toNanos(1);

    private CacheManager cacheManager;
    private InferenceConfig config;
    private LongSupplier clock = System::nanoTime;
    private Cache<String, String> cache;

    private final AtomicLong sizeMemo = new AtomicLong(-1);
    private volatile long sizeMemoAt;
    private final AtomicLong skippedFull = new AtomicLong();

    protected ResponseCache() {
    }

    @Inject
    public ResponseCache(CacheManager cacheManager, InferenceConfig config) {
        this.cacheManager = cacheManager;
        this.config = config;
    }

    @PostConstruct
    void open() {
        String name = config.cacheName();
        Cache<String, String> existing = cacheManager.getCache(name, String.class, String.class);
        if (existing != null) {
            cache = existing;
            return;
        }
        MutableConfiguration<String, String> configuration = new MutableConfiguration<String, String>()
                .setTypes(String.class, String.class)
                .setStoreByValue(true)
                .setStatisticsEnabled(true)
                .setExpiryPolicyFactory(CreatedExpiryPolicy.factoryOf(
                        new Duration(TimeUnit.SECONDS, config.cacheTtl().toSeconds())));
        try {
            cache = cacheManager.createCache(name, configuration);
        } catch (javax.cache.CacheException e) { // another member created it first
            cache = cacheManager.getCache(name, String.class, String.class);
        }
    }

    public Optional<CachedReply> get(String key) {
        try {
            String json = cache.get(key);
            return json == null ? Optional.empty() : Optional.of(CachedReply.fromJson(json));
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "response cache read failed: " + e.getClass().getName());
            return Optional.empty();
        }
    }

    /** Stores a complete reply unless the cache holds {@code cache.size} entries already. */
    public void put(String key, CachedReply reply) {
        try {
            if (size() >= config.cacheSize()) {
                skippedFull.incrementAndGet();
                return;
            }
            cache.put(key, reply.toJson());
            sizeMemo.updateAndGet(n -> n < 0 ? n : n + 1);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "response cache write failed: " + e.getClass().getName());
        }
    }

    /** Removes every entry, cluster-wide. */
    public void clear() {
        cache.clear();
        sizeMemo.set(0);
        sizeMemoAt = clock.getAsLong();
    }

    /** Entries now in the cache, counted (at most one count a second). */
    public long size() {
        long now = clock.getAsLong();
        long memo = sizeMemo.get();
        if (memo >= 0 && now - sizeMemoAt < SIZE_MEMO_NANOS) {
            return memo;
        }
        long n = 0;
        try {
            for (Iterator<Cache.Entry<String, String>> it = cache.iterator(); it.hasNext(); it.next()) {
                n++;
            }
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "counting the response cache failed: " + e.getClass().getName());
            return Math.max(memo, 0);
        }
        sizeMemo.set(n);
        sizeMemoAt = now;
        return n;
    }

    public int maxSize() {
        return config.cacheSize();
    }

    /** Puts skipped because the cache was full. */
    public long skippedFull() {
        return skippedFull.get();
    }

    /** For tests: the clock for the size memo. */
    void clock(LongSupplier clock) {
        this.clock = clock;
    }
}
