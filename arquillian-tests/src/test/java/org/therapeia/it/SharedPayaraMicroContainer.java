package org.therapeia.it;

import fish.payara.arquillian.container.payara.managed.PayaraMicroContainerConfiguration;
import fish.payara.arquillian.container.payara.managed.PayaraMicroDeployableContainer;
import java.util.logging.Logger;
import org.jboss.arquillian.container.spi.client.container.DeployableContainer;
import org.jboss.arquillian.container.spi.client.container.DeploymentException;
import org.jboss.arquillian.container.spi.client.container.LifecycleException;
import org.jboss.arquillian.container.spi.client.protocol.ProtocolDescription;
import org.jboss.arquillian.container.spi.client.protocol.metadata.ProtocolMetaData;
import org.jboss.arquillian.container.spi.client.protocol.metadata.HTTPContext;
import org.jboss.shrinkwrap.api.Archive;
import org.jboss.shrinkwrap.descriptor.api.Descriptor;

/**
 * Payara Micro's Arquillian container starts a server in {@code deploy} and kills it in
 * {@code undeploy}, so every test class would pay a server start (15 to 20 s here). This one
 * delegates to it but keeps the server of the first deployment running for the whole suite:
 * later deployments of the same archive get the running server, undeploy does nothing, and the
 * server stops when Arquillian stops the container (after the last test class).
 *
 * <p>Before the start it prepares the server's files ({@link ServerFiles}): a fresh exploded
 * copy of the service WAR, the log folder, and a copy of the server's console output.
 */
public class SharedPayaraMicroContainer implements DeployableContainer<PayaraMicroContainerConfiguration> {

    private static final Logger LOG = Logger.getLogger(SharedPayaraMicroContainer.class.getName());

    private final PayaraMicroDeployableContainer delegate = new PayaraMicroDeployableContainer();
    private Archive<?> running;
    private ProtocolMetaData metaData;

    @Override
    public Class<PayaraMicroContainerConfiguration> getConfigurationClass() {
        return delegate.getConfigurationClass();
    }

    @Override
    public void setup(PayaraMicroContainerConfiguration configuration) {
        delegate.setup(configuration);
    }

    @Override
    public void start() throws LifecycleException {
        delegate.start();
    }

    @Override
    public ProtocolDescription getDefaultProtocol() {
        return delegate.getDefaultProtocol();
    }

    @Override
    public synchronized ProtocolMetaData deploy(Archive<?> archive) throws DeploymentException {
        if (running != null) {
            if (!running.getName().equals(archive.getName())) {
                throw new DeploymentException("the shared Payara Micro runs " + running.getName() + "; "
                        + archive.getName() + " needs a server of its own");
            }
            return metaData;
        }
        ServerFiles.prepare();
        ProtocolMetaData started = delegate.deploy(archive);
        if (started == null || started.getContexts(HTTPContext.class).isEmpty()) {
            throw new DeploymentException("Payara Micro did not start (see its output above)");
        }
        running = archive;
        metaData = started;
        LOG.info("shared Payara Micro started for " + archive.getName());
        return metaData;
    }

    @Override
    public void undeploy(Archive<?> archive) {
        // the server stays up for the next test class; stop() ends it
    }

    @Override
    public synchronized void stop() throws LifecycleException {
        if (running != null) {
            try {
                delegate.undeploy(running);
            } catch (DeploymentException e) {
                throw new LifecycleException("cannot stop Payara Micro", e);
            } finally {
                running = null;
                metaData = null;
            }
        }
        delegate.stop();
    }

    @Override
    public void deploy(Descriptor descriptor) throws DeploymentException {
        delegate.deploy(descriptor);
    }

    @Override
    public void undeploy(Descriptor descriptor) throws DeploymentException {
        delegate.undeploy(descriptor);
    }
}
