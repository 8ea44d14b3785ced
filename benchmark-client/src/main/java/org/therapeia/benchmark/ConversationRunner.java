package org.therapeia.benchmark;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Carries on N conversations of T turns, C at a time ({@link WorkQueue}): a conversation sends
 * its next turn as soon as its last one is answered, since the next prompt holds that reply. A
 * turn that fails ends its conversation (there is no reply to send back), and its remaining turns
 * are counted as not sent.
 */
final class ConversationRunner {

    /**
     * How one turn ended.
     *
     * @param conversation the conversation's number, from 0
     * @param turn         the turn's index, from 1
     */
    record TurnOutcome(int conversation, int turn, RequestOutcome outcome) {
    }

    /**
     * What a run gave.
     *
     * @param turns     the turns sent, by conversation then turn
     * @param notSent   turns not sent because an earlier turn of their conversation failed
     * @param wallNanos from the first turn sent to the last one completed
     */
    record RunResult(List<TurnOutcome> turns, int notSent, long wallNanos) {
    }

    private ConversationRunner() {
    }

    static RunResult run(int conversations, int turns, int concurrency, BenchmarkRunner.Sender sender,
            Progress progress) throws InterruptedException {
        List<TurnOutcome> outcomes = new ArrayList<>();
        int[] notSent = new int[1];
        long start = System.nanoTime();
        WorkQueue.run(conversations, concurrency, c -> {
            Conversation conversation = new Conversation(c);
            List<TurnOutcome> mine = new ArrayList<>(turns);
            for (int t = 1; t <= turns; t++) {
                RequestInput input = conversation.nextTurn();
                RequestOutcome outcome = BenchmarkRunner.sendSafely(sender, input);
                if (outcome.success() && outcome.reply() == null) {
                    // a 200 without the reply's text cannot be carried on
                    outcome = RequestOutcome.failed(200, RequestOutcome.INVALID_RESPONSE, outcome.latencyNanos());
                }
                mine.add(new TurnOutcome(c, t, outcome));
                progress.completed(outcome);
                if (!outcome.success()) {
                    progress.notSent(turns - t);
                    synchronized (notSent) {
                        notSent[0] += turns - t;
                    }
                    break;
                }
                conversation.answered(input, outcome.reply());
            }
            synchronized (outcomes) {
                outcomes.addAll(mine);
            }
        });
        long wall = System.nanoTime() - start;
        outcomes.sort(Comparator.comparingInt(TurnOutcome::conversation).thenComparingInt(TurnOutcome::turn));
        return new RunResult(outcomes, notSent[0], wall);
    }
}
