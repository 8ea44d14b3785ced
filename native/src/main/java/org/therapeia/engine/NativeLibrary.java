package org.therapeia.engine;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Loads {@code libtherapeia_jni.so} once per class loader: from an explicit path when one is
 * configured (system property {@value #PATH_PROPERTY}, else environment variable {@value #PATH_ENV}),
 * otherwise by name from {@code java.library.path}.
 *
 * <p>A native library binds to the class loader that loaded it, so the jar holding this class
 * belongs on the server's class path (Payara Micro {@code --addlibs}), not in a WAR's
 * {@code WEB-INF/lib}: a redeployed WAR would fail with "already loaded in another classloader".
 */
public final class NativeLibrary {

    public static final String PATH_PROPERTY = "therapeia.native.library";
    public static final String PATH_ENV = "THERAPEIA_NATIVE_LIBRARY";
    public static final String LIBRARY_NAME = "therapeia_jni";

    private static final Object LOCK = new Object();
    private static volatile String loadedFrom;

    private NativeLibrary() {
    }

    /**
     * Loads the library unless already loaded; safe to call from any thread, any number of times.
     * A failed attempt is not remembered, so a corrected configuration works on the next call.
     *
     * @throws EngineException naming where it looked and why loading failed
     */
    public static void load() {
        if (loadedFrom != null) {
            return;
        }
        synchronized (LOCK) {
            if (loadedFrom != null) {
                return;
            }
            String configured = configuredPath();
            if (configured != null) {
                Path path = Path.of(configured).toAbsolutePath();
                if (!Files.isRegularFile(path)) {
                    throw new EngineException("Therapeia native library " + path + " (from " + source()
                            + ") does not exist");
                }
                try {
                    System.load(path.toString());
                } catch (UnsatisfiedLinkError e) {
                    throw new EngineException("cannot load the Therapeia native library " + path + " (from "
                            + source() + "): " + e.getMessage(), e);
                }
                loadedFrom = path.toString();
            } else {
                try {
                    System.loadLibrary(LIBRARY_NAME);
                } catch (UnsatisfiedLinkError e) {
                    throw new EngineException("cannot load the Therapeia native library lib" + LIBRARY_NAME
                            + ".so from java.library.path (" + System.getProperty("java.library.path")
                            + "); set -D" + PATH_PROPERTY + "=/path/to/lib" + LIBRARY_NAME + ".so or "
                            + PATH_ENV + ": " + e.getMessage(), e);
                }
                loadedFrom = "java.library.path";
            }
        }
    }

    /** Where the library was loaded from (a path, or "java.library.path"), or null if not loaded yet. */
    public static String loadedFrom() {
        return loadedFrom;
    }

    private static String configuredPath() {
        String property = System.getProperty(PATH_PROPERTY);
        if (property != null && !property.isBlank()) {
            return property.strip();
        }
        String env = System.getenv(PATH_ENV);
        if (env != null && !env.isBlank()) {
            return env.strip();
        }
        return null;
    }

    private static String source() {
        String property = System.getProperty(PATH_PROPERTY);
        return property != null && !property.isBlank() ? "system property " + PATH_PROPERTY
                : "environment variable " + PATH_ENV;
    }
}
