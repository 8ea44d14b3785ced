package org.therapeia.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** One node of a clustered service, as {@link SharedCacheChecks} uses it: Payara Micro process or Payara Server instance. */
interface CacheNode {

    /** The service on this node (no API key). */
    Api api();

    /** Fails the test, with the end of the node's log, if its process has ended. */
    void assertAlive();

    /** Ends the process with SIGKILL: its Hazelcast member vanishes without a graceful shutdown. */
    void kill();

    /** The node's name in test messages. */
    String name();

    /**
     * Called before every poll of {@link #awaitHealth}: fails the test, with the end of the log, if the
     * node's process has ended. A node that can mend a known boot failure does so here first.
     */
    default void checkBooting() {
        assertAlive();
    }

    /**
     * Until /health/{@code check} (ready, started, ...) answers 200, polling every 250 ms; fails with
     * the last answer and the log's name after {@code limit}.
     */
    default void awaitHealth(String check, Duration limit) {
        long deadline = System.nanoTime() + limit.toNanos();
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            checkBooting();
            try {
                Api.Reply reply = api().get("health/" + check, "application/json");
                if (reply.status() == 200) {
                    return;
                }
                last = reply.toString();
            } catch (UncheckedIOException notListening) {
                last = notListening.getCause().toString();
            }
            Api.sleep(250);
        }
        throw new AssertionError(name() + " was not " + check + " within " + limit + ": " + last + " (see "
                + logFile() + ")");
    }

    /** The node's log file (Payara's log and, for Payara Micro, its whole console output). */
    Path logFile();

    default long logLength() {
        return logFile().toFile().length();
    }

    /** What the log gained after {@code offset} (a {@link #logLength()} seen earlier); "" before it exists. */
    default String logSince(long offset) {
        try {
            byte[] bytes = Files.readAllBytes(logFile());
            int from = (int) Math.min(offset, bytes.length);
            return new String(bytes, from, bytes.length - from, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
