package org.therapeia.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * What the server wrote: Payara's log file(s) and, on Payara Micro, its console output (stdout and
 * stderr; {@link ServerFiles#consoleLog()}).
 */
final class ServerLogs {

    private ServerLogs() {
    }

    /** Every file of the log folder and the console copy. */
    static List<Path> files() {
        List<Path> files = new ArrayList<>();
        try (Stream<Path> logs = Files.list(ServerFiles.logDir())) {
            // Payara Server's logs/ also holds a folder (access/)
            logs.filter(p -> Files.isRegularFile(p) && !p.getFileName().toString().endsWith(".lck"))
                    .forEach(files::add);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (TestTarget.current() == TestTarget.PAYARA_MICRO) {
            files.add(ServerFiles.consoleLog());
        }
        return files;
    }

    static String read(Path file) {
        try {
            // lenient: a log line may hold bytes that are not UTF-8
            return new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Everything, concatenated. */
    static String all() {
        StringBuilder b = new StringBuilder();
        for (Path f : files()) {
            b.append(read(f)).append('\n');
        }
        return b.toString();
    }

    /** Waits until the log files stop growing (Payara writes its log file from a queue), at most {@code millis}. */
    static void settle(long millis) {
        long deadline = System.currentTimeMillis() + millis;
        long last = -1;
        int quiet = 0;
        while (System.currentTimeMillis() < deadline && quiet < 4) {
            long size = files().stream().mapToLong(f -> f.toFile().length()).sum();
            quiet = size == last ? quiet + 1 : 0;
            last = size;
            Api.sleep(250);
        }
    }
}
