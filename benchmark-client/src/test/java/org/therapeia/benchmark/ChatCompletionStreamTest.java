package org.therapeia.benchmark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** A streamed chat completion read chunk by chunk, and what the client makes of it. */
class ChatCompletionStreamTest {

    private static final String ROLE = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":"
            + "[{\"index\":0,\"delta\":{\"role\":\"assistant\"},\"finish_reason\":null}]}";
    private static final String TEXT = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":"
            + "[{\"index\":0,\"delta\":{\"content\":\"I hear\"},\"finish_reason\":null}]}";
    private static final String FINISH = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":"
            + "[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}";
    private static final String USAGE = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[],"
            + "\"usage\":{\"prompt_tokens\":30,\"completion_tokens\":12,\"total_tokens\":42,"
            + "\"prompt_tokens_details\":{\"cached_tokens\":20}}}";
    private static final String MORE_TEXT = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":"
            + "[{\"index\":0,\"delta\":{\"content\":\" you.\"},\"finish_reason\":null}]}";
    private static final String DONE = "data: [DONE]";

    @Test
    void readsTheFirstContentTheUsageAndDone() {
        long start = System.nanoTime();
        ChatCompletionStream s = ChatCompletionStream.read(List.of(ROLE, "", TEXT, "", FINISH, "", USAGE, "", DONE, "")
                .iterator(), start);
        assertTrue(s.done());
        assertNull(s.error());
        assertFalse(s.malformed());
        assertEquals(12, s.completionTokens());
        assertTrue(s.firstPieceNanos() > 0 && s.firstPieceNanos() <= System.nanoTime() - start);

        RequestOutcome o = new OpenAiApi("m", 0).readStream(List.of(ROLE, "", TEXT, "", FINISH, "", USAGE, "", DONE,
                "").iterator(), start);
        assertTrue(o.success());
        assertEquals(12, o.tokensGenerated());
        assertTrue(o.firstPieceNanos() > 0);
    }

    @Test
    void joinsTheContentAndReadsThePromptUsage() {
        List<String> lines = List.of(ROLE, "", TEXT, "", MORE_TEXT, "", FINISH, "", USAGE, "", DONE, "");
        ChatCompletionStream s = ChatCompletionStream.read(lines.iterator(), System.nanoTime());
        assertEquals("I hear you.", s.content());
        assertEquals(new PromptUsage(30, 20), s.prompt());

        RequestOutcome o = new OpenAiApi("m", 0).readStream(lines.iterator(), System.nanoTime());
        assertEquals("I hear you.", o.reply());
        assertEquals(30, o.promptTokens());
        assertEquals(20, o.reusedTokens());
    }

    @Test
    void theRoleChunkIsNotTheFirstPiece() {
        ChatCompletionStream s = ChatCompletionStream.read(List.of(ROLE, "", FINISH, "", USAGE, "", DONE, "")
                .iterator(), System.nanoTime());
        assertEquals(0, s.firstPieceNanos(), "an empty reply has no first piece");
        assertTrue(s.done());
    }

    @Test
    void anErrorEventFailsTheRequestByItsCode() {
        List<String> lines = List.of(ROLE, "", TEXT, "", "data: {\"error\":{\"message\":\"late\",\"type\":"
                + "\"timeout_error\",\"param\":null,\"code\":\"timeout\"}}", "", DONE, "");
        assertEquals("timeout", ChatCompletionStream.read(lines.iterator(), System.nanoTime()).error());
        RequestOutcome o = new OpenAiApi("m", 0).readStream(lines.iterator(), System.nanoTime());
        assertFalse(o.success());
        assertEquals("stream_error_timeout", o.errorKey());
        assertEquals("server_error", ChatCompletionStream.read(List.of("data: {\"error\":{\"message\":\"x\","
                + "\"type\":\"server_error\",\"code\":null}}", "").iterator(), System.nanoTime()).error(),
                "no code: the type");
    }

    @Test
    void withoutDoneOrUsageTheReplyIsInvalid() {
        OpenAiApi api = new OpenAiApi("m", 0);
        assertEquals(RequestOutcome.INVALID_RESPONSE, api.readStream(List.of(ROLE, "", TEXT, "", USAGE, "")
                .iterator(), System.nanoTime()).errorKey(), "cut off before [DONE]");
        assertEquals(RequestOutcome.INVALID_RESPONSE, api.readStream(List.of(ROLE, "", FINISH, "", DONE, "")
                .iterator(), System.nanoTime()).errorKey(), "no usage chunk");
        assertEquals(RequestOutcome.INVALID_RESPONSE, api.readStream(List.of("data: {not json", "", USAGE, "", DONE,
                "").iterator(), System.nanoTime()).errorKey(), "a chunk that is not JSON");
    }
}
