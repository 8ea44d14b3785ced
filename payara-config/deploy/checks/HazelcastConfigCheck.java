import com.hazelcast.cache.HazelcastCachingProvider;
import com.hazelcast.config.CacheConfig;
import com.hazelcast.config.CacheSimpleConfig;
import com.hazelcast.config.CacheSimpleConfig.ExpiryPolicyFactoryConfig.TimedExpiryPolicyFactoryConfig;
import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.KubernetesConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.internal.config.ConfigLoader;
import java.io.FileInputStream;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.Caching;
import javax.cache.spi.CachingProvider;

/**
 * Checks payara-config/cluster/hazelcast-*.xml with the Hazelcast that Payara Micro 6.2025.10
 * bundles (5.3.8), loading them as Payara does (ConfigLoader, system-property placeholders):
 * the join settings, and the response cache's declaration against the webapp's defaults
 * (cache.name, cache.ttl). Then it starts two members on loopback from hazelcast-tcpip.xml,
 * fills the cache through one the way the webapp's ResponseCache opens it, kills that member
 * without a graceful shutdown, and reads every entry back from the other: what backup-count 1
 * promises.
 *
 * <p>Usage: java -cp hazelcast.jar:cache-api.jar HazelcastConfigCheck.java CLUSTER_DIR MP_CONFIG_PROPERTIES
 * <br>or: ... HazelcastConfigCheck.java --rendered FILE BACKUP_COUNT (a file payara-server-setup.sh
 * wrote: it must load without any system property and carry that backup count)
 */
@SuppressWarnings({"unchecked", "rawtypes"})
public class HazelcastConfigCheck {

    private static int failures;

    public static void main(String[] args) throws Exception {
        Logger.getLogger("").setLevel(Level.WARNING);
        Logger.getLogger("com.hazelcast").setLevel(Level.WARNING);
        if (args[0].equals("--rendered")) {
            checkRendered(Path.of(args[1]), Integer.parseInt(args[2]));
            return;
        }
        Path clusterDir = Path.of(args[0]);
        Properties mp = new Properties();
        try (InputStream in = new FileInputStream(args[1])) {
            mp.load(in);
        }
        String cacheName = mp.getProperty("cache.name");
        long ttl = Long.parseLong(mp.getProperty("cache.ttl"));
        String clusterName = "therapeia-check-" + ProcessHandle.current().pid();

        int port1 = freePort();
        int port2 = freePort();
        String members = "127.0.0.1:" + port1 + ",127.0.0.1:" + port2;
        System.setProperty("therapeia.cluster.name", clusterName);
        System.setProperty("therapeia.cluster.interface", "127.0.0.1");
        System.setProperty("therapeia.cluster.members", members);
        System.setProperty("therapeia.kubernetes.namespace", "therapeia");
        System.setProperty("therapeia.kubernetes.service", "therapeia-hazelcast");
        System.setProperty("hazelcast.phone.home.enabled", "false");

        // --- hazelcast-tcpip.xml: structure
        System.setProperty("therapeia.cluster.port", Integer.toString(port1));
        Path tcpip = clusterDir.resolve("hazelcast-tcpip.xml");
        Config a = ConfigLoader.load(tcpip.toString());
        checkCommon(tcpip, a, clusterName, cacheName, ttl);
        JoinConfig join = a.getNetworkConfig().getJoin();
        check(tcpip, "tcp-ip join enabled", join.getTcpIpConfig().isEnabled());
        check(tcpip, "members from therapeia.cluster.members",
                join.getTcpIpConfig().getMembers().equals(List.of(members.split(","))));
        check(tcpip, "binds to the configured interface only", a.getNetworkConfig().getInterfaces().isEnabled()
                && a.getNetworkConfig().getInterfaces().getInterfaces().contains("127.0.0.1")
                && "false".equals(a.getProperty("hazelcast.socket.bind.any")));
        check(tcpip, "member port from therapeia.cluster.port", a.getNetworkConfig().getPort() == port1
                && !a.getNetworkConfig().isPortAutoIncrement());

        // --- hazelcast-kubernetes.xml: structure
        Path kubernetes = clusterDir.resolve("hazelcast-kubernetes.xml");
        Config k = ConfigLoader.load(kubernetes.toString());
        checkCommon(kubernetes, k, clusterName, cacheName, ttl);
        KubernetesConfig kc = k.getNetworkConfig().getJoin().getKubernetesConfig();
        check(kubernetes, "kubernetes join enabled, tcp-ip off", kc.isEnabled()
                && !k.getNetworkConfig().getJoin().getTcpIpConfig().isEnabled());
        check(kubernetes, "namespace, service name and port from system properties",
                "therapeia".equals(kc.getProperty("namespace"))
                        && "therapeia-hazelcast".equals(kc.getProperty("service-name"))
                        && Integer.toString(port1).equals(kc.getProperty("service-port")));

        if (failures > 0) {
            System.out.println("hazelcast config: " + failures + " problem(s)");
            System.exit(1);
        }

        // --- two live members from hazelcast-tcpip.xml; the first one dies, the cache survives
        System.setProperty("therapeia.cluster.port", Integer.toString(port2));
        Config b = ConfigLoader.load(tcpip.toString());
        HazelcastInstance first = Hazelcast.newHazelcastInstance(a);
        HazelcastInstance second = Hazelcast.newHazelcastInstance(b);
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (first.getCluster().getMembers().size() < 2 && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            check(tcpip, "two members joined over tcp-ip on loopback", first.getCluster().getMembers().size() == 2);

            int entries = 500;
            Cache<String, String> cacheA = openLikeResponseCache(first, cacheName);
            CacheConfig<?, ?> effective = cacheA.getConfiguration(CacheConfig.class);
            check(tcpip, "the webapp's typed getCache returns the declared cache (backup-count "
                    + effective.getBackupCount() + ")", effective.getBackupCount() >= 1);
            for (int i = 0; i < entries; i++) {
                cacheA.put("key-" + i, "{\"response\":\"reply " + i + "\"}");
            }
            first.getLifecycleService().terminate(); // a crash, not a graceful hand-over
            Cache<String, String> cacheB = openLikeResponseCache(second, cacheName);
            int found = 0;
            for (int i = 0; i < entries; i++) {
                if (cacheB.get("key-" + i) != null) {
                    found++;
                }
            }
            check(tcpip, "all " + entries + " entries readable after the other member died (found " + found + ")",
                    found == entries);
        } finally {
            second.shutdown();
            if (first.getLifecycleService().isRunning()) {
                first.getLifecycleService().terminate();
            }
        }
        if (failures > 0) {
            System.out.println("hazelcast config: " + failures + " problem(s)");
            System.exit(1);
        }
        System.out.println("hazelcast config: ok");
    }

    private static void checkRendered(Path file, int backupCount) throws java.io.IOException {
        Config config = ConfigLoader.load(file.toString());
        JoinConfig join = config.getNetworkConfig().getJoin();
        check(file, "loads with no system property set, tcp-ip members " + join.getTcpIpConfig().getMembers(),
                join.getTcpIpConfig().isEnabled() && !join.getTcpIpConfig().getMembers().isEmpty()
                        && join.getTcpIpConfig().getMembers().stream().noneMatch(m -> m.contains("${"))
                        && !config.getClusterName().contains("${"));
        boolean found = false;
        for (CacheSimpleConfig cache : config.getCacheConfigs().values()) {
            found |= cache.getBackupCount() == backupCount;
        }
        check(file, "cache backup-count " + backupCount, found);
        if (failures > 0) {
            System.exit(1);
        }
    }

    /** As org.therapeia.cache.ResponseCache.open(): a typed getCache, which finds the declared cache. */
    private static Cache<String, String> openLikeResponseCache(HazelcastInstance member, String name) {
        CachingProvider provider = Caching.getCachingProvider("com.hazelcast.cache.HazelcastMemberCachingProvider");
        CacheManager manager = provider.getCacheManager(null, null,
                HazelcastCachingProvider.propertiesByInstanceItself(member));
        Cache<String, String> cache = manager.getCache(name, String.class, String.class);
        if (cache == null) {
            throw new IllegalStateException("cache " + name + " is not declared");
        }
        return cache;
    }

    private static void checkCommon(Path file, Config config, String clusterName, String cacheName, long ttl) {
        JoinConfig join = config.getNetworkConfig().getJoin();
        check(file, "cluster name from therapeia.cluster.name", clusterName.equals(config.getClusterName()));
        check(file, "multicast off", !join.getMulticastConfig().isEnabled());
        check(file, "auto-detection off", !join.getAutoDetectionConfig().isEnabled());
        check(file, "phone home off", "false".equals(config.getProperty("hazelcast.phone.home.enabled")));
        CacheSimpleConfig cache = config.getCacheConfigs().get(cacheName);
        check(file, "declares the cache '" + cacheName + "' (the webapp's cache.name)", cache != null);
        if (cache == null) {
            return;
        }
        check(file, "backup-count at least 1 (is " + cache.getBackupCount() + ")", cache.getBackupCount() >= 1);
        check(file, "key and value types java.lang.String", "java.lang.String".equals(cache.getKeyType())
                && "java.lang.String".equals(cache.getValueType()));
        TimedExpiryPolicyFactoryConfig expiry = cache.getExpiryPolicyFactoryConfig() == null ? null
                : cache.getExpiryPolicyFactoryConfig().getTimedExpiryPolicyFactoryConfig();
        boolean sameTtl = expiry != null
                && expiry.getExpiryPolicyType() == TimedExpiryPolicyFactoryConfig.ExpiryPolicyType.CREATED
                && expiry.getDurationConfig().getTimeUnit().toSeconds(expiry.getDurationConfig().getDurationAmount())
                        == ttl;
        check(file, "expiry CREATED " + ttl + " s, the webapp's cache.ttl", sameTtl);
    }

    private static void check(Path file, String what, boolean ok) {
        System.out.println((ok ? "  ok   " : "  FAIL ") + file.getFileName() + ": " + what);
        if (!ok) {
            failures++;
        }
    }

    private static int freePort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
