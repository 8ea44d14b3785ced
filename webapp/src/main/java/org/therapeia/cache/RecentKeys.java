package org.therapeia.cache;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The stored keys this node has written or served, least recently used first: where the response
 * cache finds what to evict when it is full. Local to the node (each node evicts among the
 * entries it knows); holds keys only, at most {@code capacity} of them (the oldest are forgotten
 * first). Keys that left the cache some other way (expiry, a clear, another node's eviction) stay
 * until they come up for eviction, where removing them finds nothing and the next one is tried.
 */
final class RecentKeys {

    private final LinkedHashMap<String, Boolean> keys;

    RecentKeys(int capacity) {
        // access order: get and put move a key to the most recent end
        keys = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                return size() > capacity;
            }
        };
    }

    /** Marks {@code key} as just used. */
    synchronized void touch(String key) {
        keys.put(key, Boolean.TRUE);
    }

    synchronized void forget(String key) {
        keys.remove(key);
    }

    /** Removes and returns the least recently used key, or null when none is known. */
    synchronized String pollLeastRecent() {
        Iterator<String> it = keys.keySet().iterator();
        if (!it.hasNext()) {
            return null;
        }
        String key = it.next();
        it.remove();
        return key;
    }

    synchronized void clear() {
        keys.clear();
    }

    synchronized int size() {
        return keys.size();
    }
}
