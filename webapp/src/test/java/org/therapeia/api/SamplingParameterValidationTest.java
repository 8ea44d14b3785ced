package org.therapeia.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.therapeia.TestConfig;
import org.therapeia.config.SamplingRanges;

/**
 * The generation parameters at and past the edges of their ranges (SamplingRanges): every JSON
 * number that parses is either accepted with a value the engine computes safely, or refused with a
 * 400 naming the field and stating the range. The extremes of an attacker or a careless client:
 * huge, negative, subnormal, beyond a double or a long, -0, fractions for integers, numbers as
 * strings, numbers of a thousand digits (the parser refuses longer ones: a bad body).
 */
class SamplingParameterValidationTest {

    private static final String MANY_ZEROS = "0".repeat(1000);

    private final InferenceRequestReader reader = new InferenceRequestReader(TestConfig.inference(Map.of(
            "LIMITS_MAX_NEW_TOKENS", "512",
            "LIMITS_BODY_BYTES", "100000")));

    private InferenceRequest read(String field, String jsonValue) {
        String body = "{\"user_input\": \"hi\", \"" + field + "\": " + jsonValue + "}";
        return reader.read(new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8)));
    }

    static Stream<Arguments> refused() {
        return Stream.of(
                // temperature: 0, or [0.01, 5]
                Arguments.of("temperature", "-0.1", "0.01 and 5"),
                Arguments.of("temperature", "1e-39", "0.01 and 5"),
                Arguments.of("temperature", "4.9e-324", "0.01 and 5"),
                Arguments.of("temperature", "1e-400", "0.01 and 5"),
                Arguments.of("temperature", "0.0099", "0.01 and 5"),
                Arguments.of("temperature", "5.0001", "0.01 and 5"),
                Arguments.of("temperature", "1e308", "0.01 and 5"),
                Arguments.of("temperature", "1e400", "0.01 and 5"),
                Arguments.of("temperature", "-1e400", "0.01 and 5"),
                Arguments.of("temperature", "1e999999999", "0.01 and 5"),
                Arguments.of("temperature", "0." + MANY_ZEROS + "1", "0.01 and 5"),
                Arguments.of("temperature", "\"0.5\"", "0.01 and 5"),
                Arguments.of("temperature", "\"NaN\"", "0.01 and 5"),
                Arguments.of("temperature", "\"Infinity\"", "0.01 and 5"),
                Arguments.of("temperature", "true", "0.01 and 5"),
                Arguments.of("temperature", "[0.5]", "0.01 and 5"),
                // top_p: (0, 1]
                Arguments.of("top_p", "0", "greater than 0 and at most 1"),
                Arguments.of("top_p", "-0.0", "greater than 0 and at most 1"),
                Arguments.of("top_p", "1e-400", "greater than 0 and at most 1"),
                Arguments.of("top_p", "1.0001", "greater than 0 and at most 1"),
                Arguments.of("top_p", "-1", "greater than 0 and at most 1"),
                Arguments.of("top_p", "1e308", "greater than 0 and at most 1"),
                // top_k: an integer in [0, 2^31 - 1]
                Arguments.of("top_k", "-1", "between 0 (off) and 2147483647"),
                Arguments.of("top_k", "2147483648", "between 0 (off) and 2147483647"),
                Arguments.of("top_k", "9223372036854775808", "between 0 (off) and 2147483647"),
                Arguments.of("top_k", "1e19", "between 0 (off) and 2147483647"),
                Arguments.of("top_k", "1e999999999", "between 0 (off) and 2147483647"),
                Arguments.of("top_k", "1.5", "between 0 (off) and 2147483647"),
                Arguments.of("top_k", "1e-400", "between 0 (off) and 2147483647"),
                Arguments.of("top_k", "5." + MANY_ZEROS + "1", "between 0 (off) and 2147483647"),
                Arguments.of("top_k", "\"50\"", "between 0 (off) and 2147483647"),
                // repetition_penalty: [0.01, 10]
                Arguments.of("repetition_penalty", "0", "between 0.01 and 10"),
                Arguments.of("repetition_penalty", "-0.0", "between 0.01 and 10"),
                Arguments.of("repetition_penalty", "1e-39", "between 0.01 and 10"),
                Arguments.of("repetition_penalty", "4.9e-324", "between 0.01 and 10"),
                Arguments.of("repetition_penalty", "0.0099", "between 0.01 and 10"),
                Arguments.of("repetition_penalty", "10.01", "between 0.01 and 10"),
                Arguments.of("repetition_penalty", "1e308", "between 0.01 and 10"),
                Arguments.of("repetition_penalty", "-1.1", "between 0.01 and 10"),
                // seed: any 64-bit integer
                Arguments.of("seed", "9223372036854775808", "9223372036854775807"),
                Arguments.of("seed", "-9223372036854775809", "9223372036854775807"),
                Arguments.of("seed", "1e19", "9223372036854775807"),
                Arguments.of("seed", "1e999999999", "9223372036854775807"),
                Arguments.of("seed", "-1e999999999", "9223372036854775807"),
                Arguments.of("seed", "1" + MANY_ZEROS, "9223372036854775807"),
                Arguments.of("seed", "0.5", "9223372036854775807"),
                Arguments.of("seed", "1e-999999999", "9223372036854775807"),
                Arguments.of("seed", "\"42\"", "9223372036854775807"),
                // max_new_tokens: an integer in [1, limits.max-new-tokens]
                Arguments.of("max_new_tokens", "0", "between 1 and 512"),
                Arguments.of("max_new_tokens", "-0.0", "between 1 and 512"),
                Arguments.of("max_new_tokens", "-5", "between 1 and 512"),
                Arguments.of("max_new_tokens", "513", "between 1 and 512"),
                Arguments.of("max_new_tokens", "2147483648", "between 1 and 512"),
                Arguments.of("max_new_tokens", "-9223372036854775809", "between 1 and 512"),
                Arguments.of("max_new_tokens", "1e308", "between 1 and 512"),
                Arguments.of("max_new_tokens", "32.5", "between 1 and 512"));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("refused")
    void outOfRangeIsRefusedNamingTheFieldAndItsRange(String field, String jsonValue, String range) {
        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> read(field, jsonValue));
        assertEquals(field, e.field(), e::getMessage);
        assertTrue(e.getMessage().contains(range), e.getMessage());
        assertTrue(e.getMessage().length() < 200, "the message states the rule, never the value");
    }

    @Test
    void theEdgesOfEachRangeAreAccepted() {
        assertEquals(0.0, read("temperature", "0").temperature());
        assertEquals(0.0, read("temperature", "0.0").temperature());
        assertEquals(0.0, read("temperature", "0e10").temperature());
        assertEquals(0.01, read("temperature", "0.01").temperature());
        assertEquals(5.0, read("temperature", "5").temperature());
        assertEquals(0.7, read("temperature", "7e-1").temperature());

        assertEquals(1e-300, read("top_p", "1e-300").topP());
        assertEquals(1.0, read("top_p", "1").topP());

        assertEquals(0, read("top_k", "0").topK());
        assertEquals(Integer.MAX_VALUE, read("top_k", "2147483647").topK());
        assertEquals(50, read("top_k", "5e1").topK());
        assertEquals(5, read("top_k", "5." + MANY_ZEROS).topK());

        assertEquals(0.01, read("repetition_penalty", "0.01").repetitionPenalty());
        assertEquals(10.0, read("repetition_penalty", "10").repetitionPenalty());

        assertEquals(Long.MIN_VALUE, read("seed", "-9223372036854775808").seed());
        assertEquals(Long.MAX_VALUE, read("seed", "9223372036854775807").seed());
        assertEquals(42L, read("seed", "4.2e1").seed());
        assertEquals(0L, read("seed", "-0").seed());

        assertEquals(1, read("max_new_tokens", "1").maxNewTokens());
        assertEquals(512, read("max_new_tokens", "512.0").maxNewTokens());
    }

    @Test
    void negativeZeroTemperatureIsGreedyWithAPositiveZero() {
        Double t = read("temperature", "-0.0").temperature();
        assertEquals(0.0, t);
        assertEquals(Double.doubleToRawLongBits(0.0), Double.doubleToRawLongBits(t));
    }

    @Test
    void aNumberBeyondWhatTheParserHoldsIsABadBody() {
        for (String number : new String[] {"1" + "0".repeat(2000), "0." + "0".repeat(2000) + "1", "1e99999999999",
                "-1e-99999999999"}) {
            InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> read("seed", number));
            assertEquals("body", e.field());
            assertTrue(e.getMessage().contains("number"), e.getMessage());
        }
    }

    @Test
    void configuredDefaultsAreHeldToTheSameRanges() {
        for (Map.Entry<String, String> bad : Map.of("TEMPERATURE", "1e-39", "TOP_P", "0", "TOP_K", "-1",
                "REPETITION_PENALTY", "1e-39").entrySet()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> TestConfig.inference(Map.of(bad.getKey(), bad.getValue())));
            String property = bad.getKey().toLowerCase(java.util.Locale.ROOT);
            assertTrue(e.getMessage().contains(property), e.getMessage());
        }
        assertFalse(SamplingRanges.temperature(Double.NaN));
        assertFalse(SamplingRanges.topP(Double.NaN));
        assertFalse(SamplingRanges.repetitionPenalty(Double.NaN));
    }
}
