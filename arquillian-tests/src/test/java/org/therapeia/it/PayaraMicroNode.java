package org.therapeia.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * A Payara Micro process of a test's own, beside the shared server: the service WAR at "/", the
 * engine and tokenizer jars through {@code --addlibs}, its HTTP listener on a free loopback port, no
 * cluster ({@code --nocluster}), and whatever system properties the test adds (a different
 * {@code model.path}, say). Its console output, Payara's log included, goes to
 * {@code <dir>/<name>.log}; its runtime folder is {@code <dir>/runtime-<name>} ({@code --rootdir}:
 * Payara's default temporary one is deleted by a shutdown hook while the application still
 * drains), and a JVM crash report would be {@code <dir>/hs_err-<name>-<pid>.log}. Closing it stops
 * the process (SIGTERM, then SIGKILL after 10 s); a shutdown hook does the same should the test JVM
 * stop first.
 */
final class PayaraMicroNode implements AutoCloseable {

    final String name;
    final Path dir;
    final Path logFile;
    final Api api;
    private final ProcessBuilder builder;
    private Process process;
    private boolean restarted;
    private final Thread cleanup;

    private PayaraMicroNode(String name, Path dir, Path logFile, Api api, ProcessBuilder builder) throws IOException {
        this.name = name;
        this.dir = dir;
        this.logFile = logFile;
        this.api = api;
        this.builder = builder;
        this.process = builder.start();
        this.cleanup = new Thread(this::stop, name + "-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
    }

    /** Starts the process again, once, should Payara itself have failed to boot ({@link PayaraBootFailure}). */
    private void restartAfterPayaraBootFailure() {
        if (!restarted && PayaraBootFailure.seenIn(log())) {
            restarted = true;
            process = PayaraBootFailure.restart(process, builder, logFile);
        }
    }

    /** Starts a node; {@code properties} are JVM options ({@code -Dname=value}) added after the defaults. */
    static PayaraMicroNode start(String name, Path dir, List<String> properties) throws IOException {
        return start(name, dir, properties, ServerFiles.path("therapeia.it.war"));
    }

    /**
     * Starts a node that deploys {@code deployment}: the WAR file, or a folder with the WAR
     * unpacked (touching its {@code .reload} file redeploys it in the running server).
     */
    static PayaraMicroNode start(String name, Path dir, List<String> properties, Path deployment)
            throws IOException {
        for (String input : new String[] {"therapeia.it.war", "therapeia.it.micro-jar", "therapeia.it.preboot",
                "therapeia.server.lib", "therapeia.native.library"}) {
            if (!Files.exists(ServerFiles.path(input))) {
                throw new IllegalStateException(input + " " + ServerFiles.path(input) + " does not exist: build the "
                        + "project first and run the tests through Maven");
            }
        }
        Files.createDirectories(dir);
        Path tmp = Files.createDirectories(dir.resolve("tmp-" + name));
        Path log = dir.resolve(name + ".log");
        Path runtime = dir.resolve("runtime-" + name);
        ServerFiles.deleteTree(runtime);
        int port = FreePorts.loopback(1)[0];
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx768m",
                "-Djava.io.tmpdir=" + tmp,
                "-XX:ErrorFile=" + dir.resolve("hs_err-" + name + "-%p.log"),
                "-Dtherapeia.native.library=" + ServerFiles.path("therapeia.native.library"),
                "-Dwarmup.requests=1",
                "-Dengine.threads=1",
                "-Dai.djl.offline=true",
                "-Dhazelcast.phone.home.enabled=false"));
        command.addAll(properties);
        command.addAll(List.of(
                "-jar", ServerFiles.path("therapeia.it.micro-jar").toString(),
                "--deploy", deployment.toString(),
                "--contextroot", "/",
                "--rootdir", runtime.toString(),
                "--port", Integer.toString(port),
                "--prebootcommandfile", ServerFiles.path("therapeia.it.preboot").toString(),
                "--addlibs", ServerFiles.path("therapeia.server.lib").toString(),
                "--nocluster",
                "--disablephonehome",
                "--name", name));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().put("HOST", "127.0.0.1"); // the HTTP listener's address (pre-boot command)
        builder.environment().put("OPT_OUT_TRACKING", "true");
        builder.environment().remove("MODEL_PATH"); // system properties decide, not the caller's environment
        Files.writeString(dir.resolve(name + ".command.txt"), String.join(" ", command) + "\n");
        return new PayaraMicroNode(name, dir, log, new Api(URI.create("http://127.0.0.1:" + port + "/")), builder);
    }

    /**
     * Polls {@code path} (JSON) until {@code until} accepts a reply, the process dies, or
     * {@code limit} passes; returns the accepted reply.
     */
    Api.Reply await(String path, Predicate<Api.Reply> until, Duration limit) {
        long deadline = System.nanoTime() + limit.toNanos();
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            restartAfterPayaraBootFailure();
            assertAlive();
            try {
                Api.Reply reply = api.get(path, "application/json");
                if (until.test(reply)) {
                    return reply;
                }
                last = reply.toString();
            } catch (UncheckedIOException notListening) {
                last = notListening.getCause().toString();
            }
            Api.sleep(250);
        }
        throw new AssertionError(name + ": " + path + " not as awaited within " + limit + ": " + last + " (see "
                + logFile + ")");
    }

    void assertAlive() {
        if (!process.isAlive()) {
            String log = log();
            throw new AssertionError(name + " exited with status " + process.exitValue() + "; its log, " + logFile
                    + ", ends with:\n" + log.substring(Math.max(0, log.length() - 3000)));
        }
    }

    /**
     * Sends SIGTERM, as a platform that stops the service does, and waits up to {@code limit}
     * for the process to end by itself.
     *
     * @return its exit status, or empty while it still runs
     */
    OptionalInt terminate(Duration limit) {
        signalTerm();
        return awaitExit(limit);
    }

    /** Sends SIGTERM, as a platform that stops the service does, and returns at once. */
    void signalTerm() {
        process.destroy();
    }

    /** Whether the process still runs. */
    boolean isAlive() {
        return process.isAlive();
    }

    /**
     * Waits up to {@code limit} for the process to end by itself.
     *
     * @return its exit status, or empty while it still runs
     */
    OptionalInt awaitExit(Duration limit) {
        try {
            return process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS) ? OptionalInt.of(process.exitValue())
                    : OptionalInt.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** JVM crash reports this node's process wrote (none, unless it crashed). */
    List<Path> crashReports() {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().startsWith("hs_err-" + name + "-")).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Everything the process wrote so far. */
    String log() {
        try {
            return Files.readString(logFile, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public void close() {
        stop();
        try {
            Runtime.getRuntime().removeShutdownHook(cleanup);
        } catch (IllegalStateException shuttingDown) {
            // the hook runs anyway
        }
    }

    private void stop() {
        if (!process.isAlive()) {
            return;
        }
        process.descendants().forEach(ProcessHandle::destroy);
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                process.waitFor(30, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
