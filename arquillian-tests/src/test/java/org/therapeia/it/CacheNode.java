package org.therapeia.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** One node of a clustered service, as {@link SharedCacheChecks} uses it: Payara Micro process or Payara Server instance. */
interface CacheNode {

    /** The service on this node (no API key). */
    Api api();

    /** Fails the test, with the end of the node's log, if its process has ended. */
    void assertAlive();

    /** Ends the process with SIGKILL: its Hazelcast member vanishes without a graceful shutdown. */
    void kill();

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
