package org.therapeia.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.therapeia.engine.Engine;
import org.therapeia.engine.EngineOptions;
import org.therapeia.engine.SamplingParams;
import org.therapeia.engine.StepEvent;

/**
 * A greedy reply over HTTP equals the core's greedy output for the same prompt ids. The test
 * computes the expectation on its own, in its own JVM, from the same model folder: the model's
 * chat template (tokenizer_config.json, rendered with Jinjava), its tokenizer.json (DJL), and the
 * engine through the Java binding (JNI), decoding one sequence alone with the same settings.
 */
@Order(2)
class GreedyParityIT extends RunningService {

    private static final String SYSTEM = "You are a patient listener.";
    private static final String USER = "Work has been stressful and I can't sleep.";
    private static final List<Map<String, String>> HISTORY = List.of(
            Map.of("role", "user", "content", "Hello."),
            Map.of("role", "assistant", "content", "Hello, how are you feeling today?"));
    private static final int MAX_NEW_TOKENS = 40;

    @ParameterizedTest(name = "repetition_penalty {0}")
    @ValueSource(doubles = {1.0, 1.3})
    void greedyReplyEqualsTheCoresGreedyOutput(double repetitionPenalty) throws IOException {
        var history = Json.createArrayBuilder();
        HISTORY.forEach(m -> history.add(Json.createObjectBuilder(Map.<String, Object>copyOf(m))));
        JsonObject reply = api.inferOk(Api.object("user_input", USER, "system_prompt", SYSTEM,
                "conversation_history", history, "use_cache", false, "temperature", 0.0, "top_k", 0,
                "top_p", 1.0, "repetition_penalty", repetitionPenalty, "max_new_tokens", MAX_NEW_TOKENS).build());

        Path model = ServerFiles.model();
        List<Map<String, String>> messages = new ArrayList<>();
        messages.add(Map.of("role", "system", "content", SYSTEM));
        messages.addAll(HISTORY);
        messages.add(Map.of("role", "user", "content", USER));
        String prompt = renderChatTemplate(model, messages);

        try (HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.newInstance(model.resolve("tokenizer.json"),
                Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false", "maxLength", "-1"))) {
            int[] promptIds = Arrays.stream(tokenizer.encode(prompt, false, false).getIds()).mapToInt(Math::toIntExact)
                    .toArray();
            int[] generated;
            boolean stoppedByEos;
            try (Engine engine = Engine.open(EngineOptions.defaults(model).withMaxSlots(1).withMaxContext(2048))) {
                generated = greedy(engine, promptIds,
                        new SamplingParams(MAX_NEW_TOKENS, 0.0, 0, 1.0, repetitionPenalty, 0L));
                int last = generated[generated.length - 1];
                stoppedByEos = Arrays.stream(engine.eosTokenIds()).anyMatch(id -> id == last);
            }
            String text = tokenizer.decode(Arrays.stream(generated).asLongStream().toArray(), true).strip();

            JsonObject metadata = reply.getJsonObject("metadata");
            assertEquals(promptIds.length, metadata.getInt("input_tokens"), "same prompt (template and tokenizer)");
            assertEquals(generated.length, reply.getInt("tokens_generated"), "same number of tokens");
            assertEquals(text, reply.getString("response"), "same greedy reply");
            assertEquals(stoppedByEos ? "stop" : "length", metadata.getString("finish_reason"));
            assertTrue(generated.length > 1, "a real reply, not one token");
        }
    }

    static int[] greedy(Engine engine, int[] prompt, SamplingParams params) {
        long id = engine.add(prompt, params);
        List<Integer> tokens = new ArrayList<>();
        for (int steps = 0; steps < 10_000; steps++) {
            for (StepEvent e : engine.step()) {
                if (e.sequenceId() != id) {
                    continue;
                }
                tokens.add(e.token());
                if (e.finished()) {
                    return tokens.stream().mapToInt(Integer::intValue).toArray();
                }
            }
        }
        throw new AssertionError("the engine did not finish the sequence");
    }

    /** transformers' apply_chat_template(messages, add_generation_prompt=True) for this template. */
    static String renderChatTemplate(Path model, List<Map<String, String>> messages) throws IOException {
        JsonObject config;
        try (JsonReader reader = Json.createReader(new StringReader(
                Files.readString(model.resolve("tokenizer_config.json"))))) {
            config = reader.readObject();
        }
        Jinjava jinjava = new Jinjava(JinjavaConfig.newBuilder().withTrimBlocks(true).withLstripBlocks(true).build());
        return jinjava.render(config.getString("chat_template"),
                Map.of("messages", messages, "add_generation_prompt", true));
    }
}
