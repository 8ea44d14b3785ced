package org.therapeia;

import io.smallrye.config.EnvConfigSource;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URL;
import java.util.Map;
import org.eclipse.microprofile.config.Config;
import org.therapeia.config.InferenceConfig;

/**
 * The service's real META-INF/microprofile-config.properties (ordinal 100) under given environment
 * variables (ordinal 300), resolved by a real MicroProfile Config implementation (SmallRye).
 */
public final class TestConfig {

    private TestConfig() {
    }

    public static Config config(Map<String, String> environment) {
        URL defaults = TestConfig.class.getClassLoader().getResource("META-INF/microprofile-config.properties");
        try {
            return new SmallRyeConfigBuilder()
                    .addDefaultInterceptors()
                    .withSources(new PropertiesConfigSource(defaults, 100),
                            new EnvConfigSource(environment, 300),
                            new PropertiesConfigSource(Map.of("user.home", System.getProperty("user.home")),
                                    "system", 400))
                    .build();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static InferenceConfig inference(Map<String, String> environment) {
        return new InferenceConfig(config(environment));
    }
}
