package org.therapeia.it;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;

/**
 * Two Payara Server instances in one deployment group share the response cache: the checks of
 * {@link SharedCacheChecks} (those of ClusterIT but for its node without a secret), run by the
 * failsafe execution payara-server, before the Arquillian test classes start their own domain.
 *
 * <p>The domain (its own, {@link PayaraServerDomain}) gets what an operator sets up by hand
 * before running the script: a deployment group {@value #GROUP}, a configuration
 * {@value #CONFIG} copied from default-config, a node of type CONFIG on localhost whose folder is
 * under target/, and two instances of that group on it, A and B, each on a block of free ports,
 * started with {@code start-local-instance}. Then
 * {@code payara-config/cluster/payara-server-setup.sh} runs with {@code TARGET} the group and
 * {@code CONFIG} the configuration: the libraries, the JVM options, the Data Grid (TCP/IP
 * discovery between the two on loopback: both instances share the configuration and its start
 * port, so B's member takes the next port), {@code restart-deployment-group}, and the WAR
 * deployed to the group. The DAS's environment, which the instances inherit, carries the cache
 * secret, the admin token and what ClusterIT sets for its nodes ({@code cache.size}
 * {@value SharedCacheChecks#CACHE_SIZE}, one warm-up request, one engine thread).
 *
 * <p>The instances' logs are {@code target/it/payara-server/cluster/nodes/therapeia-node/instance-*
 * /logs/server.log}; the domain and both instances are stopped in {@link #stopDomain()} whatever
 * happened (see PayaraServerDomain for the rest).
 */
@Order(0)
class PayaraServerClusterIT extends SharedCacheChecks {

    private static final String GROUP = "therapeia-group";
    private static final String CONFIG = "therapeia-config";
    private static final String NODE = "therapeia-node";
    private static final Duration READY_LIMIT = Duration.ofMinutes(5);
    private static final Duration CLUSTER_LIMIT = Duration.ofSeconds(90);

    private static PayaraServerDomain domain;
    private static Instance a;
    private static Instance b;
    private static String cluster;
    private static int dataGridPort;

    @BeforeAll
    static void startDeploymentGroup() {
        Path dir = ServerFiles.path("therapeia.it.dir").resolve("cluster");
        cluster = "therapeia-it-" + RUN;
        domain = PayaraServerDomain.start("therapeia-cluster", dir, Map.of(
                "ADMIN_TOKEN", ServerFiles.adminToken(),
                "CACHE_SECRET", "it-cache-secret-" + UUID.randomUUID(),
                "CACHE_SIZE", Integer.toString(CACHE_SIZE),
                "WARMUP_REQUESTS", "1",
                "ENGINE_THREADS", "1"));
        Path nodes = dir.resolve("nodes");
        domain.asadmin("create-deployment-group", GROUP);
        domain.asadmin("copy-config", "default-config", CONFIG);
        // as ClusterIT's nodes: a killed member is dropped within seconds, two clusters merge soon
        domain.asadmin("create-jvm-options", "--target", CONFIG, "-Dhazelcast.heartbeat.interval.seconds=1"
                + ":-Dhazelcast.max.no.heartbeat.seconds=15:-Dhazelcast.merge.first.run.delay.seconds=5"
                + ":-Dhazelcast.merge.next.run.delay.seconds=5");
        domain.asadmin("create-node-config", "--nodehost", "localhost", "--nodedir", nodes.toString(),
                "--installdir", ServerFiles.path("therapeia.it.payara-server").toString(), NODE);
        a = Instance.create("instance-a", nodes);
        b = Instance.create("instance-b", nodes);
        a.start();
        b.start();

        // an offset --portbase leaves unused; the second member to start takes the next port
        dataGridPort = a.portBase + 90;
        domain.runSetupScript(Map.ofEntries(
                Map.entry("TARGET", GROUP),
                Map.entry("CONFIG", CONFIG),
                Map.entry("SERVER_LIB", ServerFiles.path("therapeia.server.lib").toString()),
                Map.entry("WAR", ServerFiles.path("therapeia.it.war").toString()),
                Map.entry("NATIVE_LIBRARY", ServerFiles.path("therapeia.native.library").toString()),
                Map.entry("CLUSTER_NAME", cluster),
                Map.entry("CLUSTER_MEMBERS", "127.0.0.1:" + dataGridPort + ",127.0.0.1:" + (dataGridPort + 1)),
                Map.entry("CLUSTER_INTERFACES", "127.0.0.1"),
                Map.entry("CLUSTER_PORT", Integer.toString(dataGridPort)),
                Map.entry("MODEL_PATH", ServerFiles.model().toString()),
                Map.entry("DEVICE", "cpu")));
        System.out.println("PayaraServerClusterIT: cluster " + cluster + ", Data Grid ports " + dataGridPort + "+; A http "
                + a.api.base() + ", B http " + b.api.base() + "; files in " + dir);

        a.awaitHealth("ready", READY_LIMIT);
        b.awaitHealth("ready", READY_LIMIT);
        // Payara logs the Data Grid's member list whenever a member joins; the cluster's name tells
        // it from the grid the instances were in before the script's settings applied
        String together = "DG Name: " + cluster + " DG Size: 2";
        long deadline = System.nanoTime() + CLUSTER_LIMIT.toNanos();
        while (!(a.logSince(0).contains(together) || b.logSince(0).contains(together))) {
            a.assertAlive();
            b.assertAlive();
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the two instances did not form one cluster within " + CLUSTER_LIMIT
                        + " (no '" + together + "' in " + a.logFile() + " or " + b.logFile() + ")");
            }
            Api.sleep(200);
        }
    }

    @AfterAll
    static void stopDomain() {
        if (domain != null) {
            domain.close();
        }
    }

    @Override
    protected CacheNode nodeA() {
        return a;
    }

    @Override
    protected CacheNode nodeB() {
        return b;
    }

    @Override
    protected String clusterName() {
        return cluster;
    }

    @Override
    protected String memberAddress() {
        // the configuration's start port: A's member or B's, whichever restarted first; a Hazelcast
        // client reaches the whole cluster through either
        return "127.0.0.1:" + dataGridPort;
    }

    /** A Payara Server instance of the group, on a block of free ports. */
    private static final class Instance implements CacheNode {

        final String name;
        final int portBase;
        final Path home;
        final Path nodes;
        final Api api;

        private Instance(String name, int portBase, Path nodes) {
            this.name = name;
            this.portBase = portBase;
            this.nodes = nodes;
            this.home = nodes.resolve(NODE).resolve(name);
            this.api = new Api(URI.create("http://127.0.0.1:" + (portBase + 80) + "/"));
        }

        static Instance create(String name, Path nodes) {
            Instance instance = new Instance(name, FreePorts.block(), nodes);
            domain.asadmin("create-local-instance", "--node", NODE, "--nodedir", nodes.toString(), "--config", CONFIG,
                    "--deploymentgroup", GROUP, "--portbase", Integer.toString(instance.portBase), name);
            return instance;
        }

        void start() {
            domain.asadmin("start-local-instance", "--node", NODE, "--nodedir", nodes.toString(), name);
        }

        /** The instance's process, from the pid file Payara writes (a restart writes a new one). */
        private Optional<ProcessHandle> process() {
            try {
                long pid = Long.parseLong(Files.readString(home.resolve("config/pid")).trim());
                return ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
            } catch (IOException | NumberFormatException e) {
                return Optional.empty();
            }
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public Api api() {
            return api;
        }

        @Override
        public Path logFile() {
            return home.resolve("logs/server.log");
        }

        @Override
        public void assertAlive() {
            if (process().isEmpty()) {
                String log = logSince(Math.max(0, logLength() - 3000));
                throw new AssertionError(name + " is not running; its log, " + logFile() + ", ends with:\n" + log);
            }
        }

        @Override
        public void kill() {
            ProcessHandle p = process().orElseThrow(() -> new AssertionError(name + " is not running"));
            p.destroyForcibly();
            try {
                p.onExit().get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new AssertionError(name + " (pid " + p.pid() + ") did not die", e);
            }
        }
    }
}
