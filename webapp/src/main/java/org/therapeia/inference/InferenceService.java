package org.therapeia.inference;

import jakarta.annotation.Resource;
import jakarta.enterprise.concurrent.ManagedExecutorService;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import java.util.function.Function;
import org.therapeia.api.ChatMessage;
import org.therapeia.api.InferenceMetadata;
import org.therapeia.api.InferenceRequest;
import org.therapeia.api.InferenceResponse;
import org.therapeia.cache.CacheKey;
import org.therapeia.cache.CachedReply;
import org.therapeia.cache.ResponseCache;
import org.therapeia.config.InferenceConfig;
import org.therapeia.engine.SamplingParams;
import org.therapeia.metrics.LatencyTracker;
import org.therapeia.metrics.ServiceMetrics;

/**
 * One inference, end to end: response cache, chat template and tokenizer (the prompt), the
 * scheduler's engine thread, detokenisation, metrics and the cache again. Nothing here logs what
 * the person or the model wrote.
 */
@ApplicationScoped
public class InferenceService {

    private static final double NANOS = 1e9;

    @Resource
    private ManagedExecutorService managedExecutor;

    private InferenceConfig config;
    private ModelRuntime runtime;
    private ResponseCache cache;
    private LatencyTracker tracker;
    private ServiceMetrics metrics;

    protected InferenceService() {
    }

    @Inject
    public InferenceService(InferenceConfig config, ModelRuntime runtime, ResponseCache cache, LatencyTracker tracker,
                            ServiceMetrics metrics) {
        this.config = config;
        this.runtime = runtime;
        this.cache = cache;
        this.tracker = tracker;
        this.metrics = metrics;
    }

    /**
     * Answers {@code request}. Synchronous failures (not ready, queue full, prompt too long, chat
     * template refusal) are thrown; the generation's own (timeout, engine error) fail the stage.
     *
     * @param arrivalNanos when the request arrived ({@link System#nanoTime()})
     */
    public CompletableFuture<InferenceResponse> infer(InferenceRequest request, long arrivalNanos) {
        return infer(request, arrivalNanos, null);
    }

    /**
     * Answers {@code request} as {@link #infer(InferenceRequest, long)} does, and hands the reply's
     * text to {@code pieces} as it is generated (a cached reply in one piece); the pieces, heard in
     * order and never two at once, concatenate to the final {@code response} (some may be empty:
     * tokens that added no text yet; see {@link StreamingDecoder} for the rare exception). Cancelling the
     * returned future gives the generation up: it leaves the queue or the engine at the engine
     * thread's next turn, and nothing is cached.
     *
     * @param pieces null when the caller wants only the final reply
     */
    public CompletableFuture<InferenceResponse> infer(InferenceRequest request, long arrivalNanos,
                                                      Consumer<String> pieces) {
        LoadedModel model = runtime.ready();
        String systemPrompt = request.systemPrompt() != null ? request.systemPrompt() : config.defaultSystemPrompt();
        List<ChatMessage> history = request.conversationHistory();
        List<ChatMessage> window = history.subList(Math.max(0, history.size() - config.contextWindow()),
                history.size());
        SamplingParams params = samplingParams(request);

        boolean useCache = config.enableResponseCache() && request.useCache();
        String key = null;
        if (useCache) {
            // without a seed a sampled reply is as good as any other: one entry for all of them
            SamplingParams keyParams = request.seed() == null ? withSeed(params, -1) : params;
            key = CacheKey.of(model.modelId(), systemPrompt, window, request.userInput(), keyParams, request.stop());
            Optional<CachedReply> hit = cache.get(key);
            tracker.cacheLookup(hit.isPresent());
            metrics.cacheLookup(hit.isPresent());
            if (hit.isPresent()) {
                if (pieces != null && !hit.get().response().isEmpty()) {
                    pieces.accept(hit.get().response());
                }
                return CompletableFuture.completedFuture(fromCache(hit.get(), model, arrivalNanos));
            }
        }

        // the whole history: the builder keeps the last context_window messages, starting at a user turn
        Prompt prompt = model.promptBuilder().build(systemPrompt, history, request.userInput(), params.maxNewTokens(),
                model.maxContext());
        String cacheKey = key;
        StopStrings stops = new StopStrings(request.stop());
        StreamingDecoder decoder = pieces == null && stops.isEmpty() ? null
                : new StreamingDecoder(model.tokenizer()::decode, pieces == null ? piece -> { } : pieces, executor(),
                        stops);
        CompletableFuture<Generation> generation = model.scheduler().submit(prompt.ids(), params,
                config.requestTimeout(), decoder == null ? TokenListener.NONE : decoder);
        // handleAsync, not thenApplyAsync: a failed generation must also leave the engine thread
        // before anyone hears of it (a failure skips thenApplyAsync's executor)
        CompletableFuture<InferenceResponse> reply = generation.handleAsync((g, failure) -> {
            if (failure != null) {
                if (decoder != null) {
                    decoder.stop(); // no piece may follow the failure
                }
                throw failure instanceof CompletionException c ? c : new CompletionException(failure);
            }
            return complete(g, prompt, model, cacheKey, arrivalNanos, decoder, stops);
        }, executor());
        reply.whenComplete((r, failure) -> {
            if (reply.isCancelled()) {
                generation.cancel(false);
            }
        });
        return reply;
    }

    private InferenceResponse complete(Generation g, Prompt prompt, LoadedModel model, String cacheKey,
                                       long arrivalNanos, StreamingDecoder decoder, StopStrings stops) {
        int[] tokens = g.tokens();
        String decoded = model.tokenizer().decode(tokens);
        String finishReason = g.stoppedByEos() ? "stop" : "length";
        if (stops.firstMatch(decoded) >= 0) {
            tokens = tokensToStop(tokens, decoder.tokensAtStop(), stops, model.tokenizer()::decode);
            decoded = model.tokenizer().decode(tokens);
            decoded = decoded.substring(0, Math.max(0, stops.firstMatch(decoded)));
            finishReason = "stop";
        }
        String text = decoded.strip();
        if (decoder != null) {
            decoder.finish(text);
        }
        if (cacheKey != null) {
            cache.put(cacheKey, new CachedReply(text, tokens.length, prompt.ids().length, prompt.historyMessages(),
                    finishReason));
        }
        long latency = System.nanoTime() - arrivalNanos;
        tracker.record(latency);
        metrics.requestCompleted(latency, false);
        metrics.generationSpeed(g.tokens().length, g.generationNanos());
        return new InferenceResponse(text, latency / NANOS, false, tokens.length,
                new InferenceMetadata(g.generationNanos() / NANOS, prompt.ids().length, g.firstTokenNanos() / NANOS,
                        g.queueNanos() / NANOS, prompt.historyMessages(), finishReason, model.modelId()));
    }

    /**
     * The fewest leading tokens whose text holds a stop string (what the reply used; the engine may
     * have produced a few more before the scheduler ended it), searched down from where the
     * streaming decoder first saw one.
     */
    static int[] tokensToStop(int[] tokens, int seenAt, StopStrings stops, Function<int[], String> decode) {
        int k = tokens.length;
        if (seenAt > 0 && seenAt < k && stops.firstMatch(decode.apply(Arrays.copyOf(tokens, seenAt))) >= 0) {
            k = seenAt;
        }
        while (k > 1 && stops.firstMatch(decode.apply(Arrays.copyOf(tokens, k - 1))) >= 0) {
            k--;
        }
        return Arrays.copyOf(tokens, k);
    }

    private InferenceResponse fromCache(CachedReply reply, LoadedModel model, long arrivalNanos) {
        long latency = System.nanoTime() - arrivalNanos;
        tracker.record(latency);
        metrics.requestCompleted(latency, true);
        return new InferenceResponse(reply.response(), latency / NANOS, true, reply.tokensGenerated(),
                new InferenceMetadata(0.0, reply.inputTokens(), 0.0, 0.0, reply.historyMessages(),
                        reply.finishReason(), model.modelId()));
    }

    /** The request's overrides over the configured defaults; a sampled request without a seed gets a random one. */
    SamplingParams samplingParams(InferenceRequest r) {
        double temperature = r.temperature() != null ? r.temperature() : config.temperature();
        long seed = r.seed() != null ? r.seed() : temperature == 0 ? 0 : ThreadLocalRandom.current().nextLong();
        return new SamplingParams(
                r.maxNewTokens() != null ? r.maxNewTokens() : config.maxNewTokens(),
                temperature,
                r.topK() != null ? r.topK() : config.topK(),
                r.topP() != null ? r.topP() : config.topP(),
                r.repetitionPenalty() != null ? r.repetitionPenalty() : config.repetitionPenalty(),
                r.frequencyPenalty() != null ? r.frequencyPenalty() : 0.0,
                r.presencePenalty() != null ? r.presencePenalty() : 0.0,
                seed);
    }

    private static SamplingParams withSeed(SamplingParams p, long seed) {
        return p.withSeed(seed);
    }

    /** Completions leave the engine thread at once: decoding and the cache write run here. */
    private Executor executor() {
        return managedExecutor != null ? managedExecutor : ForkJoinPool.commonPool();
    }
}
