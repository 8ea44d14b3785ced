package org.therapeia.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/** Sixteen requests at once all succeed, and the engine decoded them in batches larger than one. */
@Order(3)
class ConcurrencyIT extends RunningService {

    private static final int REQUESTS = 16;

    @Test
    void sixteenConcurrentRequestsAllSucceedInBatches() {
        Map<String, Double> before = api.prometheus();
        long totalBefore = api.get(Api.METRICS_JSON, "application/json").json().getJsonNumber("total_requests")
                .longValue();

        List<CompletableFuture<Api.Reply>> replies = new ArrayList<>();
        for (int i = 0; i < REQUESTS; i++) {
            replies.add(api.postAsync(Api.INFERENCE, Api.object("user_input", "Concurrent request number " + i + ".",
                    "use_cache", false, "max_new_tokens", 96, "seed", (long) i).build().toString()));
        }
        for (CompletableFuture<Api.Reply> f : replies) {
            Api.Reply reply = f.join();
            assertEquals(200, reply.status(), reply::toString);
            JsonObject json = reply.json();
            InferenceIT.assertSeedFields(json);
            assertFalse(json.getBoolean("cache_hit"));
        }

        Map<String, Double> after = api.prometheus();
        double steps = Api.sample(after, "therapeia_engine_batch_size_count")
                - Api.sample(before, "therapeia_engine_batch_size_count");
        double sequenceSteps = Api.sample(after, "therapeia_engine_batch_size_sum")
                - Api.sample(before, "therapeia_engine_batch_size_sum");
        assertTrue(steps > 0, "engine steps were counted");
        assertTrue(sequenceSteps / steps > 1.0,
                "mean batch size over these requests is above one: " + sequenceSteps + " / " + steps);
        assertTrue(Api.sample(after, "therapeia_engine_batch_size_max") > 1, "a batch larger than one");

        long totalAfter = api.get(Api.METRICS_JSON, "application/json").json().getJsonNumber("total_requests")
                .longValue();
        assertTrue(totalAfter - totalBefore >= REQUESTS, "all counted: " + totalBefore + " -> " + totalAfter);
    }
}
