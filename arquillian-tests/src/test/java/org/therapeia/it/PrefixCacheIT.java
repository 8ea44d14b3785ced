package org.therapeia.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.therapeia.engine.Engine;
import org.therapeia.engine.EngineOptions;
import org.therapeia.engine.SamplingParams;

/**
 * The prefix cache over HTTP: the second turn of a conversation (its history: the first turn and
 * the model's reply) reports the prompt tokens it reused from the first turn's slot, in the seed
 * API's metadata, in the OpenAI API's usage and in the metrics, and replies exactly as the engine
 * does without the prefix cache (computed here, in the test's JVM, as {@link GreedyParityIT} does).
 */
@Order(2)
class PrefixCacheIT extends RunningService {

    private static final String SYSTEM = "You are a patient listener; keep replies short.";
    private static final String FIRST = "I keep going over the same worries every night.";
    private static final String SECOND = "Mostly about work, and whether I am good enough.";
    private static final int MAX_NEW_TOKENS = 24;

    private JsonObject infer(String user, List<Map<String, String>> history) {
        var json = Json.createArrayBuilder();
        history.forEach(m -> json.add(Json.createObjectBuilder(Map.<String, Object>copyOf(m))));
        return api.inferOk(Api.object("user_input", user, "system_prompt", SYSTEM, "conversation_history", json,
                "use_cache", false, "temperature", 0.0, "top_k", 0, "top_p", 1.0, "repetition_penalty", 1.0,
                "max_new_tokens", MAX_NEW_TOKENS).build());
    }

    @Test
    void theSecondTurnReusesTheFirstAndRepliesAsWithoutTheCache() throws IOException {
        double reusedBefore = Api.sample(api.prometheus(), "therapeia_prompt_tokens_total", "source=\"reused\"");
        JsonObject first = infer(FIRST, List.of());
        List<Map<String, String>> history = List.of(Map.of("role", "user", "content", FIRST),
                Map.of("role", "assistant", "content", first.getString("response")));
        JsonObject second = infer(SECOND, history);

        JsonObject metadata = second.getJsonObject("metadata");
        int reused = metadata.getInt("input_tokens_reused");
        assertTrue(reused >= first.getJsonObject("metadata").getInt("input_tokens"),
                "the whole first prompt at least: reused " + reused);
        assertTrue(reused < metadata.getInt("input_tokens"), "the last prompt token is always computed");
        double reusedAfter = Api.sample(api.prometheus(), "therapeia_prompt_tokens_total", "source=\"reused\"");
        assertTrue(reusedAfter - reusedBefore >= reused, reusedBefore + " -> " + reusedAfter);

        Path model = ServerFiles.model();
        List<Map<String, String>> messages = new ArrayList<>();
        messages.add(Map.of("role", "system", "content", SYSTEM));
        messages.addAll(history);
        messages.add(Map.of("role", "user", "content", SECOND));
        String prompt = GreedyParityIT.renderChatTemplate(model, messages);
        try (HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.newInstance(model.resolve("tokenizer.json"),
                Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false", "maxLength", "-1"));
             Engine engine = Engine.open(EngineOptions.defaults(model).withMaxSlots(1).withMaxContext(2048)
                     .withPrefixCache(false))) {
            int[] promptIds = Arrays.stream(tokenizer.encode(prompt, false, false).getIds()).mapToInt(Math::toIntExact)
                    .toArray();
            int[] generated = GreedyParityIT.greedy(engine, promptIds,
                    new SamplingParams(MAX_NEW_TOKENS, 0.0, 0, 1.0, 1.0, 0L));
            assertEquals(promptIds.length, metadata.getInt("input_tokens"));
            assertEquals(tokenizer.decode(Arrays.stream(generated).asLongStream().toArray(), true).strip(),
                    second.getString("response"), "the same greedy reply as without the prefix cache");
        }

        // The OpenAI API reports the same reuse as usage.prompt_tokens_details.cached_tokens.
        var messagesJson = Json.createArrayBuilder();
        messages.forEach(m -> messagesJson.add(Json.createObjectBuilder(Map.<String, Object>copyOf(m))));
        String body = Json.createObjectBuilder().add("model", api.get("v1/models", "application/json",
                        api.keyHeader()).json().getJsonArray("data").getJsonObject(0).getString("id"))
                .add("messages", messagesJson).add("temperature", 0).add("max_tokens", 4).build().toString();
        Api.Reply reply = api.post("v1/chat/completions", body,
                Map.of("Authorization", "Bearer " + ServerFiles.apiKey()));
        assertEquals(200, reply.status(), reply.toString());
        JsonObject usage = reply.json().getJsonObject("usage");
        assertTrue(usage.getJsonObject("prompt_tokens_details").getInt("cached_tokens") >= reused,
                "the same prompt again: " + usage);
    }
}
