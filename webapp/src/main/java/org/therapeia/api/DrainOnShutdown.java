package org.therapeia.api;

import jakarta.enterprise.inject.spi.CDI;
import jakarta.ws.rs.ext.Provider;
import java.time.Duration;
import java.util.logging.Logger;
import org.glassfish.jersey.server.spi.Container;
import org.glassfish.jersey.server.spi.ContainerLifecycleListener;
import org.therapeia.inference.ModelRuntime;

/**
 * Drains the model ({@link ModelRuntime#drain()}) when the REST application begins to shut down,
 * on SIGTERM as on undeploy, while the replies and streams in flight can still be written; waits
 * for those replies to be written ({@link RepliesInFlight}, up to 10 s); then closes the model
 * ({@link ModelRuntime#stop()}).
 *
 * <p>Why here and not only in {@code ModelRuntime}'s {@code @PreDestroy}: Payara stops a web
 * application by destroying its servlets first, Jersey among them, and its CDI beans after.
 * Once Jersey has shut down, a reply can no longer be written (measured: a resumed request got
 * nothing and its connection was closed at exit, a stream's writes failed with "ServiceLocator
 * has been shut down", and the stream ended without its last event). Jersey tells its
 * lifecycle listeners first, before it takes anything down; blocking here for the drain keeps
 * it up until the generations in flight have finished or ended with a problem. Jakarta EE itself
 * has no callback this early. {@code @PreDestroy} still stops the runtime where this never runs.
 */
@Provider
public class DrainOnShutdown implements ContainerLifecycleListener {

    private static final Logger LOG = Logger.getLogger(DrainOnShutdown.class.getName());
    /** A reply to a slow client may take this long to be written once its generation ended. */
    private static final Duration REPLY_WRITING_LIMIT = Duration.ofSeconds(10);

    @Override
    public void onStartup(Container container) {
    }

    @Override
    public void onReload(Container container) {
    }

    @Override
    public void onShutdown(Container container) {
        // looked up, not injected: Jersey, not CDI, creates its lifecycle listeners
        ModelRuntime runtime = CDI.current().select(ModelRuntime.class).get();
        runtime.drain();
        try {
            // the drained generations' replies are still being decoded and written
            if (!CDI.current().select(RepliesInFlight.class).get().awaitNone(REPLY_WRITING_LIMIT)) {
                LOG.warning("replies still unwritten after " + REPLY_WRITING_LIMIT.toSeconds() + " s; closing anyway");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        runtime.stop();
    }
}
