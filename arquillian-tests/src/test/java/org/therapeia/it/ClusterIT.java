package org.therapeia.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * Two real Payara Micro nodes share one response cache (issue 5, DESIGN.md section 7), which
 * trusts no entry it did not seal (issue 10). A plain JUnit 5 test run by failsafe, not an
 * Arquillian one: Arquillian's Payara Micro container runs one server with {@code --nocluster},
 * and this test needs clustered ones, which it starts and stops itself as operating system
 * processes ({@code java -jar payara-micro.jar}).
 *
 * <p>The nodes, A and B, run the same WAR file as the other integration tests, the engine and
 * tokenizer jars through {@code --addlibs}, the default model, the admin token, a
 * {@code CACHE_SECRET} (in their environment, as the launchers pass it) and {@code cache.size}
 * {@value #CACHE_SIZE}. They form a Hazelcast cluster on the loopback address only, never by
 * multicast: a cluster name unique to the run, {@code --clustermode tcpip:} naming both members'
 * ports, {@code --interfaces 127.0.0.1} and {@code -Dhazelcast.socket.bind.any=false}; their HTTP
 * listeners bind 127.0.0.1 as well (payara-config/pre-boot-commands.asadmin with
 * {@code HOST=127.0.0.1}). Node C is configured the same way for a cluster of its own, without a
 * cache secret. Every port is a free one picked by the test. The nodes' console output (Payara's
 * log included) goes to {@code target/it/cluster/node-a.log}, {@code node-b.log} and
 * {@code node-c.log}.
 *
 * <p>The six properties, in this order (property 1 is this class's own; 2 to 6 are
 * {@link SharedCacheChecks}, which {@link PayaraServerClusterIT} runs on Payara Server as well):
 * <ol>
 *   <li>C, clustered without a cache secret, refuses the cache: readiness DOWN (the
 *       {@code response-cache} check, mode {@code REFUSED}), nothing cached; then C stops;</li>
 *   <li>a reply computed through A (a miss there) is a cache hit through B, with the same reply;</li>
 *   <li>a cache clear through B (with the admin token) makes the next request through A a miss;</li>
 *   <li>entries forged through Hazelcast itself ({@link CacheForger}: a client that knows only the
 *       cluster name) under the keys the service uses are misses, never the forged text, and each
 *       is counted in {@code therapeia_cache_rejected_total}: a made-up MAC, plain text, and a
 *       genuine sealed value moved to another request's key;</li>
 *   <li>a full cache keeps caching: {@value #CACHE_SIZE} + 16 distinct replies through A and B in
 *       turn are each a hit through the other node, the cluster then holds {@value #CACHE_SIZE}
 *       entries, the least recently used went first;</li>
 *   <li>no cached entry is lost when A dies: entries are put through A, A's process is killed
 *       ({@code SIGKILL}: no graceful shutdown that could hand its partitions over), and each entry
 *       is then a hit through B, with the same reply. This holds because the response cache, a
 *       JCache created through the standard API, gets Hazelcast's default backup count: one
 *       synchronous backup, so every entry is also on the other member. Twelve entries are
 *       put: each lands in one of 271 partitions, about half of them owned by A, so the chance that
 *       none was owned by A (and the test proved nothing) is about 1 in 4000.</li>
 * </ol>
 *
 * <p>Payara Micro keeps its default, host-aware partitioning (backups on another host than their
 * primary). With both members on one host, Hazelcast splits them into two partition groups so
 * that the first backup still exists; property 6 shows that it does.
 *
 * <p>With {@code -Dtherapeia.it.cluster.hzconfig=FILE} the nodes take their whole Data Grid
 * configuration from a Hazelcast file instead ({@code --hzconfigfile}, the {@code hazelcast-tcpip}
 * mode of payara-config/cluster/start-micro-node.sh), its {@code ${therapeia.cluster.*}}
 * placeholders set per node: {@code payara-config/cluster/hazelcast-tcpip.xml} passes; a copy with
 * {@code <backup-count>0</backup-count>} makes property 6 fail, which shows that the test can.
 *
 * <p>The processes are the test's own: started in {@link #startNodes()}, destroyed in
 * {@link #stopNodes()} whatever happened (and by a shutdown hook if the test JVM is stopped
 * first). Each node warms up with one request only, to keep the class short.
 */
@Order(0)
class ClusterIT extends SharedCacheChecks {

    private static final Duration READY_LIMIT = Duration.ofMinutes(3);
    private static final Duration CLUSTER_LIMIT = Duration.ofSeconds(90);
    /** The nodes' cache.secret (CACHE_SECRET), as a Kubernetes Secret would hand it over. */
    private static final String CACHE_SECRET = "it-cache-secret-" + UUID.randomUUID();

    private static Node a;
    private static Node b;
    /** Clustered by its configuration (a cluster of its own) but without a cache secret. */
    private static Node c;
    private static String cluster;
    private static int hzA;
    private static Thread killer;

    @BeforeAll
    static void startNodes() throws IOException {
        for (String input : new String[] {"therapeia.it.war", "therapeia.it.micro-jar", "therapeia.it.preboot",
                "therapeia.server.lib", "therapeia.native.library", "therapeia.it.model"}) {
            if (!Files.exists(ServerFiles.path(input))) {
                throw new IllegalStateException(input + " " + ServerFiles.path(input) + " does not exist: build the "
                        + "project first (mvn -B install -DskipTests) and run the tests through Maven");
            }
        }
        Path dir = ServerFiles.path("therapeia.it.dir").resolve("cluster");
        ServerFiles.deleteTree(dir);
        Files.createDirectories(dir);

        int[] ports = FreePorts.loopback(6);
        hzA = ports[0];
        int hzB = ports[1];
        String members = "127.0.0.1:" + hzA + ",127.0.0.1:" + hzB;
        cluster = "therapeia-it-" + RUN;
        killer = new Thread(ClusterIT::killAll, "cluster-it-cleanup");
        Runtime.getRuntime().addShutdownHook(killer);

        // both at once: their Hazelcast members find each other through the member list
        a = Node.start("node-a", ports[2], hzA, members, cluster, CACHE_SECRET, dir);
        b = Node.start("node-b", ports[3], hzB, members, cluster, CACHE_SECRET, dir);
        // C: TCP/IP discovery of a cluster of its own (it joins neither A nor B), and no secret
        c = Node.start("node-c", ports[5], ports[4], "127.0.0.1:" + ports[4], cluster + "-c", null, dir);
        System.out.println("ClusterIT: cluster " + cluster + ", members " + members + "; A http " + ports[2]
                + ", B http " + ports[3] + ", C (no cache secret) http " + ports[5] + "; logs in " + dir);

        a.awaitHealth("ready", READY_LIMIT);
        b.awaitHealth("ready", READY_LIMIT);
        // Payara logs the member list ("Data Grid Status ... DG Size: n") when its Hazelcast member is
        // up and whenever a member joins or leaves; a two-member list in either log means one cluster
        long deadline = System.nanoTime() + CLUSTER_LIMIT.toNanos();
        while (!(a.log().contains("DG Size: 2") || b.log().contains("DG Size: 2"))) {
            a.assertAlive();
            b.assertAlive();
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the two nodes did not form one cluster within " + CLUSTER_LIMIT
                        + " (no 'DG Size: 2' in " + a.logFile + " or " + b.logFile + ")");
            }
            Api.sleep(200);
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
        return "127.0.0.1:" + hzA;
    }

    @AfterAll
    static void stopNodes() {
        killAll();
        if (killer != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(killer);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs anyway
            }
        }
    }

    @Test
    @Order(1)
    void aClusteredNodeWithoutACacheSecretRefusesTheCache() {
        c.awaitHealth("started", READY_LIMIT);  // the model is loaded (readiness may still be DOWN)
        // ready is the model's check and the cache's: the model warms up, the cache stays refused
        Api.Reply ready = c.api.get("health/ready", "application/json");
        long deadline = System.nanoTime() + READY_LIMIT.toNanos();
        while (!check(ready, "model").getString("status").equals("UP") && System.nanoTime() < deadline) {
            c.assertAlive();
            Api.sleep(250);
            ready = c.api.get("health/ready", "application/json");
        }
        assertEquals("UP", check(ready, "model").getString("status"), ready::toString);
        assertEquals(503, ready.status(), ready::toString);
        JsonObject cacheCheck = check(ready, "response-cache");
        assertEquals("DOWN", cacheCheck.getString("status"), ready::toString);
        assertEquals("REFUSED", cacheCheck.getJsonObject("data").getString("mode"), ready::toString);
        assertTrue(c.log().contains("response cache refused"), "the reason is in C's log, " + c.logFile);
        // it caches nothing: the same request twice is computed twice
        JsonObject request = request("Am I cached on C, run " + RUN + "?");
        assertFalse(c.api.inferOk(request).getBoolean("cache_hit"));
        assertFalse(c.api.inferOk(request).getBoolean("cache_hit"));
        c.stop(); // two nodes are enough for the rest
    }

    private static JsonObject check(Api.Reply health, String name) {
        return health.json().getJsonArray("checks").getValuesAs(JsonObject.class).stream()
                .filter(o -> o.getString("name").equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no check " + name + " in " + health));
    }


    private static synchronized void killAll() {
        for (Node node : new Node[] {a, b, c}) {
            if (node != null) {
                node.stop();
            }
        }
    }

    /** One Payara Micro process started by this test. */
    private static final class Node implements CacheNode {

        final String name;
        final Path logFile;
        final Api api;
        private final ProcessBuilder builder;
        private Process process;
        private boolean restarted;

        private Node(String name, Path logFile, Api api, ProcessBuilder builder) throws IOException {
            this.name = name;
            this.logFile = logFile;
            this.api = api;
            this.builder = builder;
            this.process = builder.start();
        }

        /** Starts the process again, once, should Payara itself have failed to boot ({@link PayaraBootFailure}). */
        private void restartAfterPayaraBootFailure() {
            if (!restarted && PayaraBootFailure.seenIn(log())) {
                restarted = true;
                process = PayaraBootFailure.restart(process, builder, logFile);
            }
        }

        /** @param cacheSecret the node's CACHE_SECRET, or null for none */
        static Node start(String name, int httpPort, int hzPort, String members, String cluster, String cacheSecret,
                          Path dir) throws IOException {
            Path tmp = Files.createDirectories(dir.resolve("tmp-" + name));
            Path log = dir.resolve(name + ".log");
            List<String> command = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx768m",
                    "-Djava.io.tmpdir=" + tmp,
                    "-Dtherapeia.native.library=" + ServerFiles.path("therapeia.native.library"),
                    // system properties beat environment variables in MicroProfile Config
                    "-Dmodel.path=" + ServerFiles.model(),
                    "-Dadmin.token=" + ServerFiles.adminToken(),
                    "-Dwarmup.requests=1",
                    "-Dengine.threads=1",
                    "-Dcache.size=" + CACHE_SIZE,
                    "-Dai.djl.offline=true",
                    "-Dhazelcast.phone.home.enabled=false",
                    "-Dhazelcast.socket.bind.any=false",
                    // a killed member is normally dropped at once (its connections are refused);
                    // heartbeats bound the wait where it is not
                    "-Dhazelcast.heartbeat.interval.seconds=1",
                    "-Dhazelcast.max.no.heartbeat.seconds=15",
                    // should the two start as two clusters, they merge in seconds, not minutes
                    "-Dhazelcast.merge.first.run.delay.seconds=5",
                    "-Dhazelcast.merge.next.run.delay.seconds=5",
                    "-jar", ServerFiles.path("therapeia.it.micro-jar").toString(),
                    "--deploy", ServerFiles.path("therapeia.it.war").toString(),
                    "--contextroot", "/",
                    "--port", Integer.toString(httpPort),
                    "--prebootcommandfile", ServerFiles.path("therapeia.it.preboot").toString(),
                    "--addlibs", ServerFiles.path("therapeia.server.lib").toString(),
                    "--disablephonehome",
                    "--name", name));
            String hzConfig = System.getProperty("therapeia.it.cluster.hzconfig", "");
            if (hzConfig.isBlank()) {
                command.addAll(List.of("--clustername", cluster, "--clustermode", "tcpip:" + members,
                        "--interfaces", "127.0.0.1", "--startport", Integer.toString(hzPort)));
            } else {
                // the file replaces Payara's Data Grid settings; its placeholders are system properties
                int jar = command.indexOf("-jar");
                command.addAll(jar, List.of("-Dtherapeia.cluster.name=" + cluster,
                        "-Dtherapeia.cluster.port=" + hzPort, "-Dtherapeia.cluster.members=" + members,
                        "-Dtherapeia.cluster.interface=127.0.0.1"));
                command.addAll(List.of("--hzconfigfile", Path.of(hzConfig).toAbsolutePath().toString()));
            }
            ProcessBuilder builder = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile());
            builder.environment().put("HOST", "127.0.0.1"); // the HTTP listener's address (pre-boot command)
            builder.environment().put("OPT_OUT_TRACKING", "true");
            // as the launchers pass it on: an environment variable, never a command-line argument
            builder.environment().remove("CACHE_SECRET");
            if (cacheSecret != null) {
                builder.environment().put("CACHE_SECRET", cacheSecret);
            }
            Files.writeString(dir.resolve(name + ".command.txt"), String.join(" ", command) + "\n");
            return new Node(name, log, new Api(URI.create("http://127.0.0.1:" + httpPort + "/")), builder);
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public void checkBooting() {
            restartAfterPayaraBootFailure();
            assertAlive();
        }

        @Override
        public Api api() {
            return api;
        }

        @Override
        public Path logFile() {
            return logFile;
        }

        @Override
        public void assertAlive() {
            if (!process.isAlive()) {
                throw new AssertionError(name + " exited with status " + process.exitValue() + "; its log, "
                        + logFile + ", ends with:\n" + tail(log(), 3000));
            }
        }

        /** SIGKILL: the member vanishes without a graceful Hazelcast shutdown. */
        @Override
        public void kill() {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            try {
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    throw new AssertionError(name + " (pid " + process.pid() + ") did not die");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        /** Asks the process to stop, then kills it if it is still there after a few seconds. */
        void stop() {
            if (!process.isAlive()) {
                return;
            }
            process.descendants().forEach(ProcessHandle::destroy);
            process.destroy();
            try {
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    kill();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                kill();
            }
        }

        String log() {
            return logSince(0);
        }

        private static String tail(String text, int chars) {
            return text.length() <= chars ? text : text.substring(text.length() - chars);
        }
    }
}
