package org.therapeia.it;

import fish.payara.arquillian.container.payara.managed.PayaraMicroDeployableContainer;
import fish.payara.arquillian.container.payara.remote.PayaraRemoteDeployableContainer;
import org.jboss.arquillian.container.spi.client.container.DeployableContainer;
import org.jboss.arquillian.core.spi.LoadableExtension;

/**
 * Replaces the Payara container of the run ({@link TestTarget}) with this project's own: on Payara
 * Micro {@link SharedPayaraMicroContainer} (one server for every test class), on Payara Server
 * {@link PayaraServerContainer} (a domain set up by payara-server-setup.sh). Each failsafe execution
 * has only its own container adapter on the class path (Arquillian refuses two), so only the
 * branch of the run is executed, and only its classes are loaded.
 */
public class SharedServerExtension implements LoadableExtension {

    @Override
    public void register(ExtensionBuilder builder) {
        if (TestTarget.current() == TestTarget.PAYARA_SERVER) {
            builder.override(DeployableContainer.class, PayaraRemoteDeployableContainer.class,
                    PayaraServerContainer.class);
        } else {
            builder.override(DeployableContainer.class, PayaraMicroDeployableContainer.class,
                    SharedPayaraMicroContainer.class);
        }
    }
}
