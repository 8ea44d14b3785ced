package org.therapeia.api.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.therapeia.api.InferenceMetadata;
import org.therapeia.api.InferenceResponse;

/** The exact JSON of each chunk and of the completion: compact, in OpenAI's field order. */
class ChatCompletionJsonTest {

    private final ChatCompletionJson json = new ChatCompletionJson("chatcmpl-1", 1700000000L, "tiny");

    private static InferenceResponse reply(String text, String finishReason) {
        // 5 of the 12 prompt tokens reused from a warm KV cache slot
        return new InferenceResponse(text, 0.5, false, 7, new InferenceMetadata(0.4, 12, 5, 0.1, 0.0, 2, finishReason,
                "tiny", null));
    }

    @Test
    void completion() {
        assertEquals("{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1700000000,\"model\":\"tiny\","
                + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"I hear \\\"you\\\".\"},"
                + "\"logprobs\":null,\"finish_reason\":\"stop\"}],"
                + "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":7,\"total_tokens\":19,"
                + "\"prompt_tokens_details\":{\"cached_tokens\":5}}}",
                json.completion(reply("I hear \"you\".", "stop")).toString());
    }

    @Test
    void chunksShareIdCreatedAndModel() {
        String head = "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,"
                + "\"model\":\"tiny\",";
        assertEquals(head + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"},\"logprobs\":null,"
                + "\"finish_reason\":null}]}", json.roleChunk().toString());
        assertEquals(head + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"I hear\\n\"},\"logprobs\":null,"
                + "\"finish_reason\":null}]}", json.contentChunk("I hear\n").toString());
        assertEquals(head + "\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"length\"}]}",
                json.finishChunk(reply("x", "length")).toString());
        assertEquals(head + "\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":7,"
                + "\"total_tokens\":19,\"prompt_tokens_details\":{\"cached_tokens\":5}}}",
                json.usageChunk(reply("x", "stop")).toString());
    }

    @Test
    void aStopStringOrEndOfSequenceIsStop() {
        assertEquals("stop", json.completion(reply("x", "stop")).getJsonArray("choices").getJsonObject(0)
                .getString("finish_reason"));
        assertEquals("length", json.completion(reply("x", "length")).getJsonArray("choices").getJsonObject(0)
                .getString("finish_reason"));
    }
}
