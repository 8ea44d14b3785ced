package org.therapeia.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * Payara Server processes (a DAS, its instances) that run from a folder of the build: found
 * through the {@code config/pid} file Payara writes for each of them, and stopped (SIGTERM, then
 * SIGKILL after 20 s). {@code asadmin start-domain} detaches the DAS from the process that
 * started it, so nothing else ends it: the tests call this when they close a domain, from a JVM
 * shutdown hook, and before they create a domain (what an earlier, killed build left), and
 * Maven's post-integration-test phase runs {@link #main} over the whole folder, failed tests or not.
 *
 * <p>A pid is only acted on while its process's command line names the folder, so a pid file
 * whose process has ended and whose number was reused stops nothing else.
 */
public final class LeftoverPayaraProcesses {

    private static final Duration GRACE = Duration.ofSeconds(20);

    private LeftoverPayaraProcesses() {
    }

    /**
     * {@code args}: folders (the tests' domains, the installation); stops every Payara process
     * running from them and says how many there were.
     */
    public static void main(String[] args) {
        for (String arg : args) {
            Path dir = Path.of(arg).toAbsolutePath().normalize();
            List<ProcessHandle> stopped = stopUnder(dir);
            System.out.println("Payara Server processes left running under " + dir + ": " + stopped.size()
                    + (stopped.isEmpty() ? "" : " (stopped: pids " + stopped.stream().map(p -> "" + p.pid()).toList()
                    + ")"));
        }
    }

    /** Stops every Payara process running from {@code dir}; returns those it found alive. */
    static List<ProcessHandle> stopUnder(Path dir) {
        List<ProcessHandle> alive = running(dir);
        alive.forEach(ProcessHandle::destroy);
        for (ProcessHandle p : alive) {
            if (!awaitExit(p, GRACE)) {
                p.destroyForcibly();
                awaitExit(p, GRACE);
            }
        }
        return alive;
    }

    /** The live processes of the pid files under {@code dir} whose command line names {@code dir}. */
    static List<ProcessHandle> running(Path dir) {
        List<ProcessHandle> found = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return found;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path pidFile : (Iterable<Path>) files.filter(LeftoverPayaraProcesses::isPidFile)::iterator) {
                pid(pidFile).flatMap(ProcessHandle::of)
                        .filter(p -> p.isAlive() && p.info().commandLine().orElse("").contains(dir.toString()))
                        .ifPresent(found::add);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return found;
    }

    private static boolean isPidFile(Path p) {
        return p.getFileName().toString().equals("pid") && p.getParent() != null
                && p.getParent().getFileName().toString().equals("config") && Files.isRegularFile(p);
    }

    private static Optional<Long> pid(Path pidFile) {
        try {
            return Optional.of(Long.parseLong(Files.readString(pidFile).trim()));
        } catch (IOException | NumberFormatException unreadable) {
            return Optional.empty();
        }
    }

    private static boolean awaitExit(ProcessHandle p, Duration limit) {
        CompletableFuture<ProcessHandle> exit = p.onExit();
        try {
            exit.get(limit.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            return !p.isAlive();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !p.isAlive();
        }
    }
}
