package org.therapeia.it;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.Enumeration;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * The files the shared server uses, all under {@code target/} (paths from the failsafe
 * configuration in the pom): the exploded service WAR it deploys, its log file, its console
 * output, the model, the native library.
 */
public final class ServerFiles {

    private static boolean consoleCaptured;

    private ServerFiles() {
    }

    static Path path(String property) {
        String value = System.getProperty(property);
        if (value == null || value.isBlank()) {
            throw new IllegalStateException("system property " + property + " is not set (run the tests with Maven)");
        }
        return Path.of(value).toAbsolutePath().normalize();
    }

    /** The exploded service WAR Payara Micro deploys at "/" (its .reload file redeploys it). */
    public static Path deployment() {
        return path("therapeia.it.deployment");
    }

    /** The folder of Payara's log file: Payara Micro's --logtofile, or the Payara Server domain's logs/. */
    public static Path logDir() {
        return TestTarget.current() == TestTarget.PAYARA_SERVER ? PayaraServerContainer.domain().logDir()
                : path("therapeia.it.dir").resolve("log");
    }

    /**
     * Everything the Payara Micro process wrote to its console (stdout and stderr), as the test JVM
     * read it. Payara Server has none of this: its DAS runs detached, and writes its output to its log.
     */
    public static Path consoleLog() {
        return path("therapeia.it.dir").resolve("console.log");
    }

    /** The trained default model (scripts/make-default-model.py): the shared server serves it. */
    public static Path model() {
        return path("therapeia.it.model");
    }

    /**
     * The random-weight model (scripts/make-random-model.py), for tests that need long generations:
     * its greedy replies rarely end before max_new_tokens, where the trained model's end in a sentence or three.
     */
    public static Path randomModel() {
        return path("therapeia.it.random-model");
    }

    public static String adminToken() {
        return System.getProperty("therapeia.it.admin-token");
    }

    /** The shared server's api.key (the ClusterIT nodes have none). */
    public static String apiKey() {
        return System.getProperty("therapeia.it.api-key");
    }

    /** Before the server starts: checks the inputs, unpacks a fresh WAR, empties the log folder, copies the console. */
    static synchronized void prepare() {
        for (String input : new String[] {"therapeia.it.war", "therapeia.server.lib", "therapeia.native.library",
                "therapeia.it.model"}) {
            if (!Files.exists(path(input))) {
                throw new IllegalStateException(input + " " + path(input) + " does not exist: build the project first "
                        + "(mvn -B install -DskipTests; the webapp's package step fills webapp/target/server-lib)");
            }
        }
        try {
            Path dir = path("therapeia.it.dir");
            deleteTree(dir.resolve("log"));
            Files.createDirectories(dir.resolve("log"));
            Files.createDirectories(dir.resolve("tmp"));
            deleteTree(deployment());
            unzip(path("therapeia.it.war"), deployment());
            captureConsole(consoleLog());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the server's files", e);
        }
    }

    /** Unpacks {@code war} into {@code target}. */
    static void unzip(Path war, Path target) throws IOException {
        Files.createDirectories(target);
        try (ZipFile zip = new ZipFile(war.toFile())) {
            for (Enumeration<? extends ZipEntry> entries = zip.entries(); entries.hasMoreElements(); ) {
                ZipEntry entry = entries.nextElement();
                Path out = target.resolve(entry.getName()).normalize();
                if (!out.startsWith(target)) {
                    throw new IOException("entry outside the archive: " + entry.getName());
                }
                if (entry.isDirectory()) {
                    Files.createDirectories(out);
                } else {
                    Files.createDirectories(out.getParent());
                    try (InputStream in = zip.getInputStream(entry)) {
                        Files.copy(in, out, StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
        }
    }

    /** Deletes a folder and everything under it; a missing folder is fine. */
    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
                Files.delete(p);
            }
        }
    }

    /**
     * The Arquillian container prints each line of the server's output to {@code System.out};
     * from here on that also goes to {@code file}, so a test can search everything the server
     * printed, native code's stderr included. (Tests themselves print no request text.)
     */
    private static void captureConsole(Path file) throws IOException {
        if (consoleCaptured) {
            return;
        }
        OutputStream copy = new FileOutputStream(file.toFile(), false);
        PrintStream original = System.out;
        System.setOut(new PrintStream(new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                original.write(b);
                copy.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                original.write(b, off, len);
                copy.write(b, off, len);
            }

            @Override
            public void flush() throws IOException {
                original.flush();
                copy.flush();
            }
        }, true, StandardCharsets.UTF_8));
        consoleCaptured = true;
    }
}
