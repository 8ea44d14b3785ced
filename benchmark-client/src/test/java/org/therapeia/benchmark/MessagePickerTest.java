package org.therapeia.benchmark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MessagePickerTest {

    @Test
    void fortyDistinctMessagesAndFourContexts() {
        assertEquals(40, TherapeuticMessages.MESSAGES.size());
        assertEquals(40, new HashSet<>(TherapeuticMessages.MESSAGES).size());
        assertEquals(4, TherapeuticMessages.CONTEXTS.size());
        assertTrue(TherapeuticMessages.CONTEXTS.get(0).isEmpty());
        for (List<ChatTurn> context : TherapeuticMessages.CONTEXTS) {
            for (ChatTurn turn : context) {
                assertTrue(turn.role().equals("user") || turn.role().equals("assistant"), turn.role());
            }
        }
    }

    @Test
    void sameSeedSameRequestsInTheSameOrder() {
        assertEquals(new MessagePicker(42).next(500), new MessagePicker(42).next(500));
        assertNotEquals(new MessagePicker(42).next(50), new MessagePicker(43).next(50));
    }

    @Test
    void theSequenceIsPinned() {
        // java.util.Random is specified to its algorithm: these never change between JVMs or runs,
        // so a benchmark named by its seed sends the same requests anywhere
        List<String> keys = new MessagePicker(42).next(8).stream().map(RequestInput::key).toList();
        assertEquals(List.of("12/2", "0/3", "1/2", "0/1", "2/1", "10/3", "15/3", "0/1"), keys);
        // the default workload: 100 requests, 51 of them distinct
        assertEquals(51, new MessagePicker(42).next(100).stream().map(RequestInput::key).distinct().count());
        RequestInput first = new MessagePicker(42).next();
        assertEquals(TherapeuticMessages.MESSAGES.get(first.messageIndex()), first.userInput());
        assertEquals(TherapeuticMessages.CONTEXTS.get(first.contextIndex()), first.history());
    }

    @Test
    void zipfFavoursTheFirstMessages() {
        MessagePicker picker = new MessagePicker(7);
        int[] counts = new int[TherapeuticMessages.MESSAGES.size()];
        int[] contexts = new int[TherapeuticMessages.CONTEXTS.size()];
        int n = 200_000;
        for (int i = 0; i < n; i++) {
            RequestInput input = picker.next();
            counts[input.messageIndex()]++;
            contexts[input.contextIndex()]++;
        }
        double harmonic = 0;
        for (int k = 1; k <= 40; k++) {
            harmonic += 1.0 / k;
        }
        // P(k) = (1/k) / H_40; the first is about 23%, the 40th about 0.6%
        assertEquals(1 / harmonic, picker.probability(0), 1e-12);
        assertEquals(1 / harmonic, counts[0] / (double) n, 0.005);
        assertEquals(0.5 / harmonic, counts[1] / (double) n, 0.005);
        assertEquals(1 / (40 * harmonic), counts[39] / (double) n, 0.002);
        assertTrue(counts[0] > counts[9] && counts[9] > counts[39]);
        for (int c : contexts) {
            assertEquals(0.25, c / (double) n, 0.01);
        }
    }

    @Test
    void probabilitiesSumToOneAndUniformWhenExponentIsZero() {
        MessagePicker uniform = new MessagePicker(List.of("a", "b", "c", "d"), List.of(List.of()), 0, 1);
        double sum = 0;
        for (int k = 0; k < 4; k++) {
            assertEquals(0.25, uniform.probability(k), 1e-12);
            sum += uniform.probability(k);
        }
        assertEquals(1.0, sum, 1e-12);
        Set<String> seen = new HashSet<>();
        for (RequestInput input : uniform.next(200)) {
            seen.add(input.userInput());
        }
        assertEquals(Set.of("a", "b", "c", "d"), seen);
    }

    @Test
    void theDefaultWorkloadRepeatsSomeRequests() {
        // what makes the cache matter: of 100 requests, some but not most are repeats
        List<RequestInput> inputs = new MessagePicker(BenchmarkOptions.DEFAULT_SEED).next(100);
        long distinct = inputs.stream().map(RequestInput::key).distinct().count();
        assertTrue(distinct >= 40 && distinct <= 75, "distinct: " + distinct);
    }

    @Test
    void refusesEmptyInputs() {
        assertThrows(IllegalArgumentException.class, () -> new MessagePicker(List.of(), List.of(List.of()), 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new MessagePicker(List.of("a"), List.of(), 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new MessagePicker(List.of("a"), List.of(List.of()), -1, 1));
    }
}
