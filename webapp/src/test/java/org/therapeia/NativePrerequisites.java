package org.therapeia;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * What the tests over the real engine need: the JNI library and the default model, both built by
 * Maven before the tests run. A missing one fails the test, so that a build whose native part went
 * missing is red, not green with the engine's tests quietly skipped. Only a developer who says so
 * ({@code -Dtherapeia.require.native=false}) gets those tests skipped instead.
 */
public final class NativePrerequisites {

    /** The system property that, set to {@code false}, lets a missing prerequisite skip rather than fail. */
    public static final String REQUIRE = "therapeia.require.native";

    private NativePrerequisites() {
    }

    /** The JNI library named by {@code therapeia.native.library}. */
    public static void engineLibrary() {
        requireFile("therapeia.native.library", "",
                "the native engine is not built (native/target/cmake/libtherapeia_jni.so)");
    }

    /** The default model's weights in the folder named by {@code therapeia.test.model}. */
    public static void defaultModel() {
        requireFile("therapeia.test.model", "model.safetensors",
                "the default model is not built (scripts/make-default-model.py)");
    }

    /** transformers' greedy replies with the default model, in the file named by {@code therapeia.test.model.replies}. */
    public static void defaultModelReplies() {
        requireFile("therapeia.test.model.replies", "",
                "transformers' greedy replies are not recorded (webapp/src/test/python/greedy_replies.py)");
    }

    private static void requireFile(String property, String file, String missing) {
        String value = System.getProperty(property);
        if (value != null && !value.isBlank() && Files.isRegularFile(Path.of(value).resolve(file))) {
            return;
        }
        String why = missing + ": " + property + " = " + value;
        if ("false".equalsIgnoreCase(System.getProperty(REQUIRE))) {
            Assumptions.abort(why + " (skipped: " + REQUIRE + "=false)");
        }
        fail(why + " (to skip such tests instead, run with -D" + REQUIRE + "=false)");
    }
}
