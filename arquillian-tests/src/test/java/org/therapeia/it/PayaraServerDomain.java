package org.therapeia.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A Payara Server 6 domain of the tests' own, made with the installation Maven unpacked
 * ({@code therapeia.it.payara-server}, the zip from Maven Central, the same version as Payara
 * Micro): created in {@code <dir>/domains} on a block of free ports ({@code --portbase}, see
 * {@link FreePorts#block()}, so that a developer's own Payara on 4848 and 8080 is never in the
 * way), its HTTP listeners bound to the loopback address, started with {@code asadmin
 * start-domain}, then set up by {@code payara-config/cluster/payara-server-setup.sh} itself, as an
 * operator would: the script is what the tests check, not a copy of it.
 *
 * <p>The DAS gets its environment from {@code start-domain} (and passes it on to the instances it
 * starts): the admin token, the API key and the cache secret go there, never on a command line
 * or into domain.xml, as the README asks of operators. Every asadmin command and its output is
 * appended to {@code <dir>/asadmin.log}.
 *
 * <p>Stopped whatever happens: {@link #close()} runs {@code stop-domain} and then ends any process
 * still running from {@code dir} ({@link LeftoverPayaraProcesses}: instances, a DAS that did not
 * stop); a JVM shutdown hook does the latter should the test JVM end first; and a domain left by an
 * earlier build that was killed is stopped before a new one is created.
 */
final class PayaraServerDomain implements AutoCloseable {

    private static final Duration COMMAND_LIMIT = Duration.ofMinutes(6);

    final String name;
    final Path dir;
    final int portBase;
    private final Map<String, String> environment;
    private final Thread cleanup;

    private PayaraServerDomain(String name, Path dir, int portBase, Map<String, String> environment) {
        this.name = name;
        this.dir = dir;
        this.portBase = portBase;
        this.environment = environment;
        this.cleanup = new Thread(() -> LeftoverPayaraProcesses.stopUnder(dir), name + "-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
    }

    /**
     * Creates and starts a domain in {@code dir} (emptied first, after stopping what an earlier run
     * left running there). {@code environment}: variables for the DAS process (and its instances)
     * on top of this JVM's, less {@code MODEL_PATH} and {@code CACHE_SECRET}, which only the test decides.
     */
    static PayaraServerDomain start(String name, Path dir, Map<String, String> environment) {
        Path installation = ServerFiles.path("therapeia.it.payara-server");
        if (!Files.isRegularFile(installation.resolve("bin/asadmin"))) {
            throw new IllegalStateException("no Payara Server in " + installation + ": run the tests through Maven "
                    + "(its pre-integration-test phase unpacks fish.payara.distributions:payara)");
        }
        List<ProcessHandle> left = new ArrayList<>(LeftoverPayaraProcesses.stopUnder(dir));
        left.addAll(LeftoverPayaraProcesses.stopUnder(installation)); // its domain1, should anything have started it
        if (!left.isEmpty()) {
            System.err.println("stopped " + left.size() + " Payara Server processes an earlier run left running");
        }
        try {
            ServerFiles.deleteTree(dir);
            Files.createDirectories(dir.resolve("domains"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        PayaraServerDomain domain = new PayaraServerDomain(name, dir, FreePorts.block(), environment);
        try {
            domain.asadminLocal("create-domain", "--nopassword=true", "--portbase", Integer.toString(domain.portBase));
            domain.asadminLocal("start-domain");
            // the service's port on loopback only; the setup script's restart applies it
            domain.asadmin("set", httpListenerAddress("server-config", 1), httpListenerAddress("server-config", 2),
                    httpListenerAddress("default-config", 1), httpListenerAddress("default-config", 2));
            return domain;
        } catch (RuntimeException | AssertionError e) {
            domain.close();
            throw e;
        }
    }

    private static String httpListenerAddress(String config, int listener) {
        return "configs.config." + config + ".network-config.network-listeners.network-listener.http-listener-"
                + listener + ".address=127.0.0.1";
    }

    int adminPort() {
        return portBase + 48;
    }

    /** The DAS's HTTP listener (http-listener-1). */
    int httpPort() {
        return portBase + 80;
    }

    /** The folder holding the domain (asadmin's --domaindir). */
    Path domainDir() {
        return dir.resolve("domains");
    }

    /** The DAS's log folder: server.log and its rotated files. */
    Path logDir() {
        return domainDir().resolve(name).resolve("logs");
    }

    /** asadmin's program options that reach this DAS (no password: the domain was created without one). */
    List<String> adminArgs() {
        return List.of("--interactive=false", "--host", "127.0.0.1", "--port", Integer.toString(adminPort()));
    }

    /** Runs an asadmin subcommand against this DAS. */
    String asadmin(String... subcommand) {
        List<String> command = new ArrayList<>();
        command.add(ServerFiles.path("therapeia.it.payara-server").resolve("bin/asadmin").toString());
        command.addAll(adminArgs());
        command.addAll(List.of(subcommand));
        return run(command, Map.of());
    }

    /** Runs a local subcommand on the domain's folder (create-domain, start-domain, stop-domain). */
    private String asadminLocal(String subcommand, String... options) {
        List<String> command = new ArrayList<>(List.of(
                ServerFiles.path("therapeia.it.payara-server").resolve("bin/asadmin").toString(),
                "--interactive=false", subcommand, "--domaindir", domainDir().toString()));
        command.addAll(List.of(options));
        command.add(name);
        return run(command, Map.of());
    }

    /** Starts {@code asadmin subcommand} and returns at once; its output goes to a file asadmin-*.log in {@code dir}. */
    Process asadminInBackground(String... subcommand) {
        List<String> command = new ArrayList<>();
        command.add(ServerFiles.path("therapeia.it.payara-server").resolve("bin/asadmin").toString());
        command.addAll(adminArgs());
        command.addAll(List.of(subcommand));
        try {
            Path out = Files.createTempFile(dir, "asadmin-", ".log");
            return builder(command, Map.of()).redirectOutput(out.toFile()).start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Runs payara-config/cluster/payara-server-setup.sh against this DAS with {@code settings} (its
     * documented variables) and the asadmin of the installation; fails on a non-zero exit.
     */
    String runSetupScript(Map<String, String> settings) {
        Map<String, String> env = new HashMap<>(settings);
        env.put("ASADMIN", ServerFiles.path("therapeia.it.payara-server").resolve("bin/asadmin").toString());
        env.put("ASADMIN_ARGS", String.join(" ", adminArgs()));
        return run(List.of("bash", ServerFiles.path("therapeia.it.server-setup").toString()), env);
    }

    private ProcessBuilder builder(List<String> command, Map<String, String> extra) {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).directory(dir.toFile());
        Map<String, String> env = builder.environment();
        env.remove("MODEL_PATH");
        env.remove("CACHE_SECRET");
        env.put("AS_JAVA", System.getProperty("java.home"));
        env.put("OPT_OUT_TRACKING", "true");
        env.putAll(environment);
        env.putAll(extra);
        return builder;
    }

    private String run(List<String> command, Map<String, String> extra) {
        try {
            Path out = Files.createTempFile(dir, "command-", ".log");
            Process p = builder(command, extra).redirectOutput(out.toFile()).start();
            boolean ended = p.waitFor(COMMAND_LIMIT.toSeconds(), TimeUnit.SECONDS);
            if (!ended) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
            }
            String output = Files.readString(out, StandardCharsets.UTF_8);
            Files.delete(out);
            Files.writeString(dir.resolve("asadmin.log"), "$ " + String.join(" ", command) + "\n" + output
                    + (ended ? "exit status " + p.exitValue() : "killed after " + COMMAND_LIMIT) + "\n\n",
                    StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            if (!ended || p.exitValue() != 0) {
                throw new AssertionError(String.join(" ", command) + (ended ? " failed, exit status " + p.exitValue()
                        : " did not end within " + COMMAND_LIMIT) + ":\n" + tail(output) + "\n(see "
                        + dir.resolve("asadmin.log") + " and " + logDir() + ")");
            }
            return output;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String tail(String text) {
        return text.length() <= 3000 ? text : text.substring(text.length() - 3000);
    }

    /** Stops the domain (stop-domain, which stops the DAS), then whatever still runs from {@code dir}. */
    @Override
    public void close() {
        try {
            asadminLocal("stop-domain");
        } catch (RuntimeException | AssertionError e) {
            System.err.println("stop-domain " + name + " failed (" + e.getMessage() + "); ending its processes");
        } finally {
            LeftoverPayaraProcesses.stopUnder(dir);
            try {
                Runtime.getRuntime().removeShutdownHook(cleanup);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs anyway
            }
        }
    }
}
