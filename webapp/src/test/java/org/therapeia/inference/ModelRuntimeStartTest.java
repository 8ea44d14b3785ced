package org.therapeia.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.therapeia.NativePrerequisites;
import org.therapeia.TestConfig;

/**
 * What ModelRuntime does on the deploying thread before it hands the load to another: the
 * tokenizer and the chat template are read, and the warm-up prompt rendered, before onStart
 * returns (Payara closes the WAR's jars, the template library's among them, at the end of the
 * module's start; a class loaded from them on another thread meanwhile failed the load).
 */
class ModelRuntimeStartTest {

    @Test
    void aTemplateThatCannotRenderFailsTheStartBeforeAnyThreadIsHandedTheLoad(@TempDir Path dir) throws IOException {
        NativePrerequisites.defaultModel();
        Path model = Path.of(System.getProperty("therapeia.test.model"));
        Files.copy(model.resolve(TokenizerConfig.TOKENIZER_JSON), dir.resolve(TokenizerConfig.TOKENIZER_JSON));
        // parses; fails only when rendered
        Files.writeString(dir.resolve("tokenizer_config.json"),
                "{\"chat_template\": \"{% for m in messages %}{{ raise_exception('no such role: ' ~ m.role) }}"
                        + "{% endfor %}\", \"eos_token\": \"</s>\"}");
        ModelRuntime runtime = new ModelRuntime(
                TestConfig.inference(Map.of("MODEL_PATH", dir.toString(), "WARMUP_REQUESTS", "1")),
                SchedulerListener.NONE);

        runtime.onStart(new Object());

        assertEquals(ModelRuntime.State.FAILED, runtime.state(), "the template was not rendered before onStart returned");
        assertTrue(runtime.failure().contains("no such role"), runtime.failure());
    }
}
