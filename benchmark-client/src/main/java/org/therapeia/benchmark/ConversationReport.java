package org.therapeia.benchmark;

import java.net.URI;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;

/**
 * The numbers of a conversation run, per turn index: turn t of every conversation carries the
 * same length of history, so how its time to the first token moves from turn 1 to turn T shows
 * whether the service recomputes the history (it grows) or reuses it (it stays flat). Times cover
 * the successful turns; failures are counted by status, as in {@link BenchmarkReport}.
 *
 * @param conversations  conversations started
 * @param turns          turns per conversation
 * @param concurrency    conversations at once
 * @param wallSeconds    from the first turn sent to the last one completed
 * @param sent           turns sent
 * @param successes      turns answered
 * @param notSent        turns not sent because an earlier turn of their conversation failed
 * @param errors         failures by status ("503") or kind ("timeout"), sorted
 * @param firstToken     where the time to the first token comes from
 * @param perTurn        one row per turn index that was sent, in order
 * @param all            all turns together (its {@code turn} is 0)
 */
public record ConversationReport(Api api, URI url, int conversations, int turns, int concurrency, boolean useCache,
        Integer maxNewTokens, boolean stream, double wallSeconds, long sent, long successes, int notSent,
        Map<String, Long> errors, FirstTokenSource firstToken, List<TurnSummary> perTurn, TurnSummary all) {

    /** Where a run's time to the first token is read. */
    public enum FirstTokenSource {
        /** The seed's {@code metadata.time_to_first_token}: from the request's arrival in the service. */
        SERVICE("service", "metadata.time_to_first_token, from arrival in the service"),
        /** This client, from sending to the first piece of a streamed reply (OpenAI's reply has no such field). */
        CLIENT("client", "measured here, from sending to the first streamed piece"),
        /** Neither: OpenAI's API, not streamed. */
        NONE("none", "not measured (OpenAI's reply does not report it; add --stream)");

        private final String word;
        private final String description;

        FirstTokenSource(String word, String description) {
            this.word = word;
            this.description = description;
        }

        public String word() {
            return word;
        }

        public String description() {
            return description;
        }

        static FirstTokenSource of(Api api, boolean stream) {
            return api.reportsServerFigures() ? SERVICE : stream ? CLIENT : NONE;
        }
    }

    /**
     * One turn index (or all of them).
     *
     * @param turn         the turn's index, from 1; 0 for all turns together
     * @param successes    turns answered
     * @param firstToken   their time to the first token; empty when not measured
     * @param latency      their latency, measured here from sending to the whole reply
     * @param promptTokens their prompt tokens; -1 when a reply did not report them, or none was answered
     * @param reusedTokens of those, reused from an earlier request's KV cache; -1 when not reported
     */
    public record TurnSummary(int turn, long successes, LatencySummary firstToken, LatencySummary latency,
            long promptTokens, long reusedTokens) {

        /** Prompt tokens the service computed (prefilled); -1 when not reported. */
        public long computedTokens() {
            return promptTokens < 0 || reusedTokens < 0 ? -1 : promptTokens - reusedTokens;
        }
    }

    public ConversationReport {
        errors = Collections.unmodifiableMap(new TreeMap<>(errors));
        perTurn = List.copyOf(perTurn);
    }

    static ConversationReport of(BenchmarkOptions options, ConversationRunner.RunResult run) {
        FirstTokenSource source = FirstTokenSource.of(options.api(), options.stream());
        Map<String, Long> errors = new TreeMap<>();
        long successes = 0;
        for (ConversationRunner.TurnOutcome turn : run.turns()) {
            if (turn.outcome().success()) {
                successes++;
            } else {
                errors.merge(turn.outcome().errorKey(), 1L, Long::sum);
            }
        }
        List<TurnSummary> perTurn = new ArrayList<>();
        for (int t = 1; t <= options.turns(); t++) {
            int index = t;
            List<RequestOutcome> outcomes = run.turns().stream().filter(turn -> turn.turn() == index)
                    .map(ConversationRunner.TurnOutcome::outcome).toList();
            if (!outcomes.isEmpty()) {
                perTurn.add(summary(t, outcomes, source));
            }
        }
        TurnSummary all = summary(0, run.turns().stream().map(ConversationRunner.TurnOutcome::outcome).toList(),
                source);
        return new ConversationReport(options.api(), options.url(), options.conversations(), options.turns(),
                options.concurrency(), options.useCache(), options.maxNewTokens(), options.stream(),
                run.wallNanos() / 1e9, run.turns().size(), successes, run.notSent(), errors, source, perTurn, all);
    }

    private static TurnSummary summary(int turn, List<RequestOutcome> outcomes, FirstTokenSource source) {
        Histogram firstToken = LatencySummary.newHistogram();
        Histogram latency = LatencySummary.newHistogram();
        long successes = 0;
        long prompt = 0;
        long reused = 0;
        for (RequestOutcome outcome : outcomes) {
            if (!outcome.success()) {
                continue;
            }
            successes++;
            latency.recordValue(Math.max(0, outcome.latencyNanos()));
            long ttft = switch (source) {
                case SERVICE -> Math.round(Math.max(0, outcome.serverFirstToken()) * 1e9);
                case CLIENT -> outcome.firstPieceNanos();
                case NONE -> 0;
            };
            if (ttft > 0) {
                firstToken.recordValue(ttft);
            }
            // one reply without the figures makes the sum unknown, rather than too small
            prompt = prompt < 0 || outcome.promptTokens() < 0 ? -1 : prompt + outcome.promptTokens();
            reused = reused < 0 || outcome.reusedTokens() < 0 ? -1 : reused + outcome.reusedTokens();
        }
        // no reply, no count: unknown rather than 0
        return new TurnSummary(turn, successes, LatencySummary.of(firstToken), LatencySummary.of(latency),
                successes > 0 ? prompt : -1, successes > 0 ? reused : -1);
    }
}
