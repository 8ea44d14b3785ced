package org.therapeia.it;

import java.net.URI;
import java.net.URL;
import java.time.Duration;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.container.test.api.RunAsClient;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.arquillian.test.api.ArquillianResource;
import org.jboss.shrinkwrap.api.ShrinkWrap;
import org.jboss.shrinkwrap.api.asset.StringAsset;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What every integration test class shares: the one running Payara Micro (see
 * {@link SharedPayaraMicroContainer}) with the service WAR at "/", reached over real HTTP.
 *
 * <p>The archive Arquillian deploys is a static probe page: Arquillian needs an archive to start
 * the server, while the service itself is deployed exploded from target/deployments/therapeia
 * (the pom's payara.extraMicroOptions), so that {@link RedeployIT} can redeploy it in place.
 * Tests run as clients ({@code testable = false}): nothing of the tests goes into the server.
 */
@ExtendWith(ArquillianExtension.class)
@RunAsClient
public abstract class RunningService {

    public static final String PROBE = "arquillian-probe.war";

    @Deployment(testable = false)
    public static WebArchive probe() {
        return ShrinkWrap.create(WebArchive.class, PROBE)
                .add(new StringAsset("<!doctype html><title>probe</title>Therapeia integration tests\n"), "index.html");
    }

    @ArquillianResource
    private URL deploymentUrl;

    protected Api api;

    @BeforeEach
    void connect() {
        // the server listens on every interface; the loopback address always reaches it
        api = new Api(URI.create("http://127.0.0.1:" + deploymentUrl.getPort() + "/"), ServerFiles.apiKey());
        api.awaitReady(Duration.ofMinutes(3));
    }
}
