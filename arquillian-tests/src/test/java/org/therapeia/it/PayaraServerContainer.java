package org.therapeia.it;

import fish.payara.arquillian.container.payara.remote.PayaraRemoteContainerConfiguration;
import fish.payara.arquillian.container.payara.remote.PayaraRemoteDeployableContainer;
import java.util.Map;
import java.util.UUID;
import org.jboss.arquillian.container.spi.client.container.DeployableContainer;
import org.jboss.arquillian.container.spi.client.container.DeploymentException;
import org.jboss.arquillian.container.spi.client.container.LifecycleException;
import org.jboss.arquillian.container.spi.client.protocol.ProtocolDescription;
import org.jboss.arquillian.container.spi.client.protocol.metadata.ProtocolMetaData;
import org.jboss.shrinkwrap.api.Archive;
import org.jboss.shrinkwrap.descriptor.api.Descriptor;

/**
 * The Payara Server run of the integration tests (failsafe execution {@code payara-server}):
 * Arquillian's Payara Server remote container, against a domain this container makes first. On
 * {@code start} it creates and starts a domain on free loopback ports ({@link PayaraServerDomain})
 * and runs {@code payara-config/cluster/payara-server-setup.sh} on it with {@code TARGET=server}:
 * the engine and tokenizer jars into the domain's lib/, the JVM options, the Data Grid (TCP/IP
 * discovery of the DAS alone, on loopback), a restart, then the WAR at "/". The remote container
 * then deploys each test class's probe archive through the admin port. On {@code stop}, after the
 * last test class, the domain is stopped; should the test JVM end first, the domain's shutdown
 * hook stops it, and Maven's post-integration-test phase checks that nothing was left running.
 *
 * <p>The service's settings that the script leaves to the operator come through the DAS's
 * environment, where MicroProfile Config reads them: {@code ADMIN_TOKEN}, {@code API_KEY} and
 * {@code CACHE_SECRET} (the DAS is clustered, if alone, so the response cache needs the secret).
 */
public class PayaraServerContainer implements DeployableContainer<PayaraRemoteContainerConfiguration> {

    private static PayaraServerDomain domain;

    private final PayaraRemoteDeployableContainer delegate = new PayaraRemoteDeployableContainer();
    private PayaraRemoteContainerConfiguration configuration;

    /** The running domain (between the container's start and stop). */
    static synchronized PayaraServerDomain domain() {
        if (domain == null) {
            throw new IllegalStateException("no Payara Server domain runs (the payara-server container starts it)");
        }
        return domain;
    }

    @Override
    public Class<PayaraRemoteContainerConfiguration> getConfigurationClass() {
        return delegate.getConfigurationClass();
    }

    @Override
    public void setup(PayaraRemoteContainerConfiguration configuration) {
        // the admin port is known once the domain exists: the delegate is set up in start()
        this.configuration = configuration;
    }

    @Override
    public void start() throws LifecycleException {
        synchronized (PayaraServerContainer.class) {
            domain = PayaraServerDomain.start("therapeia-it", ServerFiles.path("therapeia.it.dir").resolve("domain"),
                    Map.of("ADMIN_TOKEN", ServerFiles.adminToken(), "API_KEY", ServerFiles.apiKey(),
                            "CACHE_SECRET", "it-cache-secret-" + UUID.randomUUID()));
        }
        try {
            int dataGrid = domain.portBase + 49; // within the domain's block of free ports
            domain.runSetupScript(Map.ofEntries(
                    Map.entry("TARGET", "server"),
                    Map.entry("CONFIG", "server-config"),
                    // the DAS runs on this host: restart-domain must be told which domain folder it is
                    Map.entry("DOMAIN", domain.name),
                    Map.entry("DOMAIN_DIR", domain.domainDir().toString()),
                    Map.entry("SERVER_LIB", ServerFiles.path("therapeia.server.lib").toString()),
                    Map.entry("WAR", ServerFiles.path("therapeia.it.war").toString()),
                    Map.entry("NATIVE_LIBRARY", ServerFiles.path("therapeia.native.library").toString()),
                    Map.entry("CLUSTER_NAME", "therapeia-it-" + UUID.randomUUID().toString().substring(0, 8)),
                    Map.entry("CLUSTER_MEMBERS", "127.0.0.1:" + dataGrid),
                    Map.entry("CLUSTER_INTERFACES", "127.0.0.1"),
                    Map.entry("CLUSTER_PORT", Integer.toString(dataGrid)),
                    Map.entry("MODEL_PATH", ServerFiles.model().toString()),
                    Map.entry("DEVICE", "cpu")));
            configuration.setAdminHost("127.0.0.1");
            configuration.setAdminPort(domain.adminPort());
            configuration.setHttpHost("127.0.0.1");
            configuration.setHttpPort(domain.httpPort());
            delegate.setup(configuration);
            delegate.start();
        } catch (RuntimeException | AssertionError e) {
            stopDomain();
            throw new LifecycleException("the Payara Server domain could not be set up", e);
        }
    }

    @Override
    public ProtocolDescription getDefaultProtocol() {
        return delegate.getDefaultProtocol();
    }

    @Override
    public ProtocolMetaData deploy(Archive<?> archive) throws DeploymentException {
        return delegate.deploy(archive);
    }

    @Override
    public void undeploy(Archive<?> archive) throws DeploymentException {
        delegate.undeploy(archive);
    }

    @Override
    public void stop() throws LifecycleException {
        try {
            delegate.stop();
        } finally {
            stopDomain();
        }
    }

    private static synchronized void stopDomain() {
        if (domain != null) {
            domain.close();
            domain = null;
        }
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
