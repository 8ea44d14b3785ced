package org.therapeia.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Two real Payara Micro nodes share one response cache (issue 5, DESIGN.md section 7). A plain
 * JUnit 5 test run by failsafe, not an Arquillian one: Arquillian's Payara Micro container runs
 * one server with {@code --nocluster}, and this test needs two clustered ones, which it starts and
 * stops itself as operating system processes ({@code java -jar payara-micro.jar}).
 *
 * <p>The nodes, A and B, run the same WAR file as the other integration tests, the engine and
 * tokenizer jars through {@code --addlibs}, the default model, and the admin token. They form a
 * Hazelcast cluster on the loopback address only, never by multicast: a cluster name unique to
 * the run, {@code --clustermode tcpip:} naming both members' ports, {@code --interfaces 127.0.0.1}
 * and {@code -Dhazelcast.socket.bind.any=false}; their HTTP listeners bind 127.0.0.1 as well
 * (payara-config/pre-boot-commands.asadmin with {@code HOST=127.0.0.1}). Every port is a free one
 * picked by the test. The nodes' console output (Payara's log included) goes to
 * {@code target/it/cluster/node-a.log} and {@code node-b.log}.
 *
 * <p>The three properties, in this order:
 * <ol>
 *   <li>a reply computed through A (a miss there) is a cache hit through B, with the same reply;</li>
 *   <li>a cache clear through B (with the admin token) makes the next request through A a miss;</li>
 *   <li>no cached entry is lost when A dies: entries are put through A, A's process is killed
 *       ({@code SIGKILL}: no graceful shutdown that could hand its partitions over), and each entry
 *       is then a hit through B, with the same reply. This holds because the response cache, a
 *       JCache created through the standard API, gets Hazelcast's default cache configuration:
 *       one synchronous backup, so every entry is also on the other member. Twelve entries are
 *       put: each lands in one of 271 partitions, about half of them owned by A, so the chance that
 *       none was owned by A (and the test proved nothing) is about 1 in 4000.</li>
 * </ol>
 *
 * <p>Payara Micro keeps its default, host-aware partitioning (backups on another host than their
 * primary). With both members on one host, Hazelcast splits them into two partition groups so
 * that the first backup still exists; property 3 shows that it does.
 *
 * <p>With {@code -Dtherapeia.it.cluster.hzconfig=FILE} the nodes take their whole Data Grid
 * configuration from a Hazelcast file instead ({@code --hzconfigfile}, the {@code hazelcast-tcpip}
 * mode of payara-config/cluster/start-micro-node.sh), its {@code ${therapeia.cluster.*}}
 * placeholders set per node: {@code payara-config/cluster/hazelcast-tcpip.xml} passes; a copy with
 * {@code <backup-count>0</backup-count>} makes property 3 fail, which shows that the test can.
 *
 * <p>The processes are the test's own: started in {@link #startNodes()}, destroyed in
 * {@link #stopNodes()} whatever happened (and by a shutdown hook if the test JVM is stopped
 * first). Each node warms up with one request only, to keep the class short.
 */
@Order(0)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterIT {

    private static final Duration READY_LIMIT = Duration.ofMinutes(3);
    private static final Duration CLUSTER_LIMIT = Duration.ofSeconds(90);
    private static final Duration MEMBER_LOSS_LIMIT = Duration.ofSeconds(60);
    /** Unique per run: in the cluster name and in every input, so no earlier entry can answer. */
    private static final String RUN = UUID.randomUUID().toString().substring(0, 8);

    private static Node a;
    private static Node b;
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

        int[] ports = freePorts(4);
        int hzA = ports[0];
        int hzB = ports[1];
        String members = "127.0.0.1:" + hzA + ",127.0.0.1:" + hzB;
        String cluster = "therapeia-it-" + RUN;
        killer = new Thread(ClusterIT::killAll, "cluster-it-cleanup");
        Runtime.getRuntime().addShutdownHook(killer);

        // both at once: their Hazelcast members find each other through the member list
        a = Node.start("node-a", ports[2], hzA, members, cluster, dir);
        b = Node.start("node-b", ports[3], hzB, members, cluster, dir);
        System.out.println("ClusterIT: cluster " + cluster + ", members " + members + "; A http " + ports[2]
                + ", B http " + ports[3] + "; logs in " + dir);

        a.awaitReady(READY_LIMIT);
        b.awaitReady(READY_LIMIT);
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
    void aReplyComputedThroughAIsACacheHitThroughB() {
        JsonObject request = request("I keep worrying about my exams, run " + RUN + ".");

        JsonObject viaA = a.api.inferOk(request);
        assertFalse(viaA.getBoolean("cache_hit"), "first request, through A: a miss: " + viaA);
        assertTrue(viaA.getInt("tokens_generated") >= 1, viaA::toString);

        JsonObject viaB = b.api.inferOk(request);
        assertTrue(viaB.getBoolean("cache_hit"), "the same request through B: a hit: " + viaB);
        assertEquals(viaA.getString("response"), viaB.getString("response"), "B answers with A's reply");
        assertEquals(viaA.getInt("tokens_generated"), viaB.getInt("tokens_generated"));
        assertEquals(0.0, viaB.getJsonObject("metadata").getJsonNumber("generation_time").doubleValue(),
                "nothing generated on B");
    }

    @Test
    @Order(2)
    void aCacheClearThroughBClearsTheEntryOnA() {
        JsonObject request = request("Everything feels heavy since the move, run " + RUN + ".");
        assertFalse(a.api.inferOk(request).getBoolean("cache_hit"), "computed through A");
        assertTrue(b.api.inferOk(request).getBoolean("cache_hit"), "shared: a hit through B");

        Api.Reply cleared = b.api.clearCache(ServerFiles.adminToken());
        assertEquals(200, cleared.status(), () -> "cache clear through B: " + cleared);
        assertTrue(cleared.json().getJsonNumber("entries_removed").longValue() >= 1, cleared::toString);

        JsonObject again = a.api.inferOk(request);
        assertFalse(again.getBoolean("cache_hit"), "after the clear through B, A computes it again: " + again);
        assertTrue(again.getJsonObject("metadata").getJsonNumber("generation_time").doubleValue() > 0,
                again::toString);
    }

    @Test
    @Order(3)
    void stoppingNodeALosesNoCachedEntry() {
        Map<JsonObject, String> replies = new LinkedHashMap<>();
        for (int i = 1; i <= 12; i++) {
            JsonObject request = request("Entry " + i + " of run " + RUN + ": how do I sleep better?");
            JsonObject viaA = a.api.inferOk(request);
            assertFalse(viaA.getBoolean("cache_hit"), "computed through A: " + viaA);
            replies.put(request, viaA.getString("response"));
        }

        long logOffset = b.logLength();
        a.kill();
        // B notices the loss (connection refused, then heartbeats) and promotes its backups
        long deadline = System.nanoTime() + MEMBER_LOSS_LIMIT.toNanos();
        while (!b.logSince(logOffset).contains("Data Grid Instance Removed")) {
            b.assertAlive();
            if (System.nanoTime() > deadline) {
                throw new AssertionError("node B did not notice node A's loss within " + MEMBER_LOSS_LIMIT
                        + " (no 'Data Grid Instance Removed' in " + b.logFile + ")");
            }
            Api.sleep(200);
        }

        List<String> lost = new ArrayList<>();
        int n = 0;
        for (Map.Entry<JsonObject, String> e : replies.entrySet()) {
            n++;
            JsonObject viaB = b.api.inferOk(e.getKey());
            if (!viaB.getBoolean("cache_hit")) {
                lost.add("entry " + n);
            } else {
                assertEquals(e.getValue(), viaB.getString("response"), "entry " + n + ": the reply A computed");
            }
        }
        assertTrue(lost.isEmpty(), "entries lost with node A: " + lost + " of " + replies.size());
    }

    /** Short replies: the test is about the cache, not the model. */
    private static JsonObject request(String input) {
        return Api.object("user_input", input, "use_cache", true, "max_new_tokens", 4).build();
    }

    private static synchronized void killAll() {
        for (Node node : new Node[] {a, b}) {
            if (node != null) {
                node.stop();
            }
        }
    }

    /** Distinct free ports on the loopback address (held together while picked, so no two are equal). */
    private static int[] freePorts(int count) throws IOException {
        ServerSocket[] sockets = new ServerSocket[count];
        int[] ports = new int[count];
        try {
            for (int i = 0; i < count; i++) {
                sockets[i] = new ServerSocket();
                sockets[i].setReuseAddress(false);
                sockets[i].bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                ports[i] = sockets[i].getLocalPort();
            }
        } finally {
            for (ServerSocket s : sockets) {
                if (s != null) {
                    s.close();
                }
            }
        }
        return ports;
    }

    /** One Payara Micro process started by this test. */
    private static final class Node {

        final String name;
        final Path logFile;
        final Api api;
        private final Process process;

        private Node(String name, Path logFile, Api api, Process process) {
            this.name = name;
            this.logFile = logFile;
            this.api = api;
            this.process = process;
        }

        static Node start(String name, int httpPort, int hzPort, String members, String cluster, Path dir)
                throws IOException {
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
            Files.writeString(dir.resolve(name + ".command.txt"), String.join(" ", command) + "\n");
            Process process = builder.start();
            return new Node(name, log, new Api(URI.create("http://127.0.0.1:" + httpPort + "/")), process);
        }

        void awaitReady(Duration limit) {
            long deadline = System.nanoTime() + limit.toNanos();
            String last = "no answer";
            while (System.nanoTime() < deadline) {
                assertAlive();
                try {
                    Api.Reply reply = api.get("health/ready", "application/json");
                    if (reply.status() == 200) {
                        return;
                    }
                    last = reply.toString();
                } catch (UncheckedIOException notListening) {
                    last = notListening.getCause().toString();
                }
                Api.sleep(250);
            }
            throw new AssertionError(name + " was not ready within " + limit + ": " + last + " (see " + logFile + ")");
        }

        void assertAlive() {
            if (!process.isAlive()) {
                throw new AssertionError(name + " exited with status " + process.exitValue() + "; its log, "
                        + logFile + ", ends with:\n" + tail(log(), 3000));
            }
        }

        /** SIGKILL: the member vanishes without a graceful Hazelcast shutdown. */
        void kill() {
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

        long logLength() {
            return logFile.toFile().length();
        }

        String logSince(long offset) {
            try {
                byte[] bytes = Files.readAllBytes(logFile);
                int from = (int) Math.min(offset, bytes.length);
                return new String(bytes, from, bytes.length - from, StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "";
            }
        }

        private static String tail(String text, int chars) {
            return text.length() <= chars ? text : text.substring(text.length() - chars);
        }
    }
}
