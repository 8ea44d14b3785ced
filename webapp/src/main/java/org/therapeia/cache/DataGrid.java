package org.therapeia.cache;

import com.hazelcast.cache.HazelcastCacheManager;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.core.HazelcastInstance;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.cache.CacheManager;

/**
 * Whether the response cache is shared with other processes: the Hazelcast member under
 * Payara's JCache (its "Data Grid") is in a cluster, or is configured to find one. Read through
 * Hazelcast's public API: the member list, and the join settings of the member's configuration.
 *
 * <p>Clustered means any of: more than one member now; a discovery mechanism enabled (TCP/IP,
 * multicast, Kubernetes, AWS, GCP, Azure, Eureka, or Hazelcast's auto-detection where it is in
 * effect); a JCache provider that is not Hazelcast's member, or a member that cannot be asked
 * (nothing can be told then). Payara Micro 6.2025.10, measured here: {@code --nocluster} leaves
 * every mechanism off (only Payara's domain discovery strategy is configured, which finds nothing
 * outside Payara Server), so the node reads as standalone; {@code --clustermode tcpip:...} turns
 * TCP/IP on. By Payara's documentation (not run here: no Kubernetes, and multicast would join
 * strangers' servers) {@code kubernetes:...} turns Kubernetes discovery on and no option at all
 * multicast; a {@code --hzconfigfile} gives whatever its {@code join} says. On Payara Server,
 * whose deployment groups use that domain discovery, a cluster is recognised only by a second
 * member present when the cache opens: set {@code cache.secret} on every instance there.
 */
final class DataGrid {

    private DataGrid() {
    }

    /** Why the cache behind {@code manager} is shared, or empty when it is local to this process. */
    static Optional<String> clustering(CacheManager manager) {
        if (!(manager instanceof HazelcastCacheManager hazelcast)) {
            return Optional.of("JCache provider " + manager.getClass().getName());
        }
        try {
            HazelcastInstance member = hazelcast.getHazelcastInstance();
            int members = member.getCluster().getMembers().size();
            if (members > 1) {
                return Optional.of(members + " members");
            }
            return discovery(member.getConfig().getAdvancedNetworkConfig().isEnabled()
                    ? member.getConfig().getAdvancedNetworkConfig().getJoin()
                    : member.getConfig().getNetworkConfig().getJoin());
        } catch (RuntimeException e) { // a client (its configuration is not readable), a member shutting down
            return Optional.of("cannot tell: " + e.getClass().getName());
        }
    }

    private static Optional<String> discovery(JoinConfig join) {
        List<String> enabled = new ArrayList<>();
        if (join.getTcpIpConfig().isEnabled()) {
            enabled.add("tcp-ip");
        }
        if (join.getMulticastConfig().isEnabled()) {
            enabled.add("multicast");
        }
        if (join.getKubernetesConfig().isEnabled()) {
            enabled.add("kubernetes");
        }
        if (join.getAwsConfig().isEnabled()) {
            enabled.add("aws");
        }
        if (join.getGcpConfig().isEnabled()) {
            enabled.add("gcp");
        }
        if (join.getAzureConfig().isEnabled()) {
            enabled.add("azure");
        }
        if (join.getEurekaConfig().isEnabled()) {
            enabled.add("eureka");
        }
        // true only where no other mechanism is configured: then Hazelcast looks for a cloud to join
        if (join.isAutoDetectionEnabled()) {
            enabled.add("auto-detection");
        }
        return enabled.isEmpty() ? Optional.empty() : Optional.of(String.join(", ", enabled) + " discovery");
    }
}
