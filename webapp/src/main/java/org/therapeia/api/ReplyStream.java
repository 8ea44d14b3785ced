package org.therapeia.api;

import java.util.concurrent.CompletionStage;
import java.util.concurrent.Future;

/** A streamed reply as one API frames it ({@link ReplyEvents}, {@code ChatCompletionEvents}); {@link StreamedReplies} drives it. */
public interface ReplyStream {

    /** The request was taken: what a stream says before the first piece (nothing, by default). */
    default void begun() {
    }

    /** A piece of the reply's text, in order; empty when tokens added no text yet. */
    void text(String piece);

    /**
     * The reply or the failure, then the end of the stream (a cancelled generation just ends it).
     * The stage returned completes once the stream is closed.
     */
    CompletionStage<?> finish(InferenceResponse reply, Throwable failure);

    /** The generation to cancel when the client goes. */
    void cancelsOnDisconnect(Future<?> generation);
}
