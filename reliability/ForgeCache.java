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
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.cache.Cache;

/**
 * The intruder of reliability/forged_cache.py: what anyone who reaches a Therapeia cluster's
 * Hazelcast port can do (Hazelcast open source asks only for the cluster name). It connects as a
 * Hazelcast client (Hazelcast 5.3.8, what Payara Micro 6.2025.10 bundles) and overwrites every
 * entry of the response cache with a forgery, in turn: the forged text as it is; a value shaped
 * like a sealed entry ("v2:" + expiry + ":" + base64url(nonce, ciphertext, tag)) whose "ciphertext"
 * is the forged reply JSON with a made-up tag;
 * the genuine sealed value of another entry. Prints {"planted": N, "by_kind": {...}} as JSON.
 *
 * <p>Payara registers a serializer of its own (type id 1) for Java-serializable objects (the
 * cache's configuration holds one), which a client must read before it can open the cache: an
 * application component id, then the object, each in Java serialization (read off Payara's
 * PayaraHazelcastSerializer; ClusterIT's CacheForger does the same).
 *
 *   java -cp hazelcast-5.3.8.jar:cache-api-1.1.1.jar ForgeCache.java CLUSTER HOST:PORT CACHE TEXT
 */
public class ForgeCache {

    public static void main(String[] args) {
        ClientConfig config = new ClientConfig();
        config.setClusterName(args[0]);
        config.getNetworkConfig().addAddress(args[1]);
        config.getSerializationConfig().setGlobalSerializerConfig(new GlobalSerializerConfig()
                .setImplementation(new PayaraSerialization()).setOverrideJavaSerialization(true));
        config.setProperty("hazelcast.client.statistics.enabled", "false");
        HazelcastInstance client = HazelcastClient.newHazelcastClient(config);
        try {
            ICache<String, String> cache = client.getCacheManager().getCache(args[2]);
            String text = args[3];
            List<String> keys = new ArrayList<>();
            Map<String, String> genuine = new TreeMap<>();
            for (Iterator<Cache.Entry<String, String>> it = cache.iterator(); it.hasNext(); ) {
                Cache.Entry<String, String> e = it.next();
                keys.add(e.getKey());
                genuine.put(e.getKey(), e.getValue());
            }
            String reply = "{\"response\":\"" + text.replace("\\", "\\\\").replace("\"", "\\\"")
                    + "\",\"tokens_generated\":8,\"input_tokens\":20,\"history_messages\":0,\"finish_reason\":\"stop\"}";
            byte[] replyBytes = reply.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            byte[] body = new byte[12 + replyBytes.length + 16]; // a zero nonce, the reply, a zero tag
            System.arraycopy(replyBytes, 0, body, 12, replyBytes.length);
            String madeUp = "v2:" + Long.MAX_VALUE + ":" + Base64.getUrlEncoder().withoutPadding().encodeToString(body);
            int[] byKind = new int[3];
            for (int i = 0; i < keys.size(); i++) {
                int kind = keys.size() > 1 ? i % 3 : i % 2;
                String forged = switch (kind) {
                    case 0 -> text;
                    case 1 -> madeUp;
                    default -> genuine.get(keys.get((i + 1) % keys.size()));
                };
                cache.put(keys.get(i), forged);
                byKind[kind]++;
            }
            System.out.println("{\"planted\": " + keys.size() + ", \"by_kind\": {\"plain_text\": " + byKind[0]
                    + ", \"made_up_mac\": " + byKind[1] + ", \"moved_from_another_key\": " + byKind[2] + "}}");
        } finally {
            client.shutdown();
        }
    }

    /** Payara's serializer for Java-serializable objects (type id 1). */
    static final class PayaraSerialization implements StreamSerializer<Object> {

        @Override
        public int getTypeId() {
            return 1;
        }

        @Override
        public void write(ObjectDataOutput out, Object object) throws IOException {
            writeJava(out, null);
            writeJava(out, object);
        }

        @Override
        public Object read(ObjectDataInput in) throws IOException {
            readJava(in);
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
