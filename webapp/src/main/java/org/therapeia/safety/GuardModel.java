package org.therapeia.safety;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadFactory;
import org.therapeia.api.ChatMessage;
import org.therapeia.engine.Engine;
import org.therapeia.engine.EngineOptions;
import org.therapeia.engine.SamplingParams;
import org.therapeia.inference.ChatTemplate;
import org.therapeia.inference.Generation;
import org.therapeia.inference.Scheduler;
import org.therapeia.inference.SchedulerListener;
import org.therapeia.inference.Tokenizer;
import org.therapeia.inference.TokenizerConfig;

/**
 * A guard model (Llama Guard 3 or Qwen3Guard-Gen) run by Therapeia's own engine as a second
 * instance, with its own tokenizer, chat template and scheduler (its own engine thread), so that
 * it never waits behind the main model's generations and may sit on another device. Each
 * judgement is one greedy generation of a few tokens, read by the family's {@link GuardFormat}.
 */
public final class GuardModel implements AutoCloseable {

    /** How long close() lets judgements in progress finish before failing them. */
    private static final Duration DRAIN = Duration.ofSeconds(2);

    private final GuardFormat format;
    private final GuardPrompt prompt;
    private final Tokenizer tokenizer;
    private final Engine engine;
    private final Scheduler scheduler;
    private final int promptBudget;

    private GuardModel(GuardFormat format, GuardPrompt prompt, Tokenizer tokenizer, Engine engine,
                       Scheduler scheduler) {
        this.format = format;
        this.prompt = prompt;
        this.tokenizer = tokenizer;
        this.engine = engine;
        this.scheduler = scheduler;
        this.promptBudget = (int) engine.stats().maxContext() - format.maxNewTokens();
    }

    /**
     * The guard's prompt side, read apart from its engine (see {@link SafetyGuard#start} for why):
     * the chat template, whose rendering of a one-turn conversation has been tried once, and the
     * tokenizer.
     */
    record Prompting(GuardPrompt prompt, Tokenizer tokenizer) {

        private static final List<ChatMessage> PROBE = List.of(new ChatMessage(ChatMessage.USER, "Hello."));

        /** @throws RuntimeException naming the file when the folder's tokenizer or template is not usable */
        static Prompting read(Path modelDir) {
            TokenizerConfig tokenizerConfig = TokenizerConfig.load(modelDir);
            GuardPrompt prompt = new GuardPrompt(new ChatTemplate(tokenizerConfig.chatTemplate(),
                    tokenizerConfig.bosToken(), tokenizerConfig.eosToken()));
            Tokenizer tokenizer = Tokenizer.load(modelDir.resolve(TokenizerConfig.TOKENIZER_JSON));
            try {
                prompt.encode(tokenizer, PROBE, Integer.MAX_VALUE);
            } catch (RuntimeException | LinkageError e) {
                tokenizer.close();
                throw e;
            }
            return new Prompting(prompt, tokenizer);
        }
    }

    /**
     * Loads the guard in {@code options.modelDir()}; its engine thread comes from {@code threads}.
     *
     * @throws RuntimeException naming the file or setting when the folder is not a usable guard model
     */
    public static GuardModel open(EngineOptions options, int queueCapacity, ThreadFactory threads) {
        return open(Prompting.read(options.modelDir()), options, queueCapacity, threads);
    }

    /**
     * Opens the guard's engine for {@code prompting} (read from {@code options.modelDir()}); closes
     * its tokenizer when that fails.
     */
    static GuardModel open(Prompting prompting, EngineOptions options, int queueCapacity, ThreadFactory threads) {
        Engine engine = null;
        try {
            engine = Engine.open(options);
            GuardFormat format = GuardFormat.forArchitecture(engine.architecture());
            if (engine.stats().maxContext() <= format.maxNewTokens()) {
                throw new IllegalArgumentException("the guard model's context (" + engine.stats().maxContext()
                        + " tokens) leaves no room for a prompt");
            }
            Scheduler scheduler = new Scheduler(engine, options.maxSlots(), queueCapacity, threads, System::nanoTime,
                    SchedulerListener.NONE);
            return new GuardModel(format, prompting.prompt(), prompting.tokenizer(), engine, scheduler.start());
        } catch (RuntimeException | LinkageError e) {
            prompting.tokenizer().close();
            if (engine != null) {
                engine.close();
            }
            throw e;
        }
    }

    /** The family, for the audit record. */
    public GuardFormat format() {
        return format;
    }

    /**
     * Asks the guard about the last user turn of {@code conversation} (alternating turns, user
     * first and last: {@link GuardConversation}). The future completes with the verdict, or
     * exceptionally: {@link GuardOutputUnreadableException} when the answer is not a documented
     * one, the scheduler's exceptions when the generation fails or outlives {@code timeout}.
     * Cancelling it gives the generation up.
     */
    public CompletableFuture<GuardVerdict> judge(List<ChatMessage> conversation, Duration timeout) {
        int[] ids = prompt.encode(tokenizer, conversation, promptBudget);
        CompletableFuture<Generation> generation = scheduler.submit(ids, SamplingParams.greedy(format.maxNewTokens()),
                timeout);
        CompletableFuture<GuardVerdict> verdict = generation.thenApply(g -> format.parse(tokenizer.decode(g.tokens()))
                .orElseThrow(GuardOutputUnreadableException::new));
        verdict.whenComplete((v, e) -> {
            if (verdict.isCancelled()) {
                generation.cancel(false);
            }
        });
        return verdict;
    }

    /** Fails what is still running after a short drain and frees the engine, once its thread has ended. Idempotent. */
    @Override
    public void close() {
        boolean ended = scheduler.shutdown(DRAIN);
        tokenizer.close();
        if (ended) {
            engine.close();
        }
    }
}
