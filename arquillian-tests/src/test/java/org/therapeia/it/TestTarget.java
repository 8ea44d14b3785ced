package org.therapeia.it;

/**
 * Which Payara the integration tests run against, chosen per failsafe execution by the system
 * property {@code therapeia.it.target} (the pom): the same test classes run on both.
 */
enum TestTarget {

    /** One managed Payara Micro (SharedPayaraMicroContainer); the default. */
    PAYARA_MICRO("payara-micro", "Payara Micro"),
    /** A Payara Server 6 domain set up by payara-config/cluster/payara-server-setup.sh (PayaraServerContainer). */
    PAYARA_SERVER("payara-server", "Payara Server");

    /** The property's value, also the container qualifier in arquillian.xml. */
    final String id;
    /** How the server names itself in its log. */
    final String product;

    TestTarget(String id, String product) {
        this.id = id;
        this.product = product;
    }

    static TestTarget current() {
        String id = System.getProperty("therapeia.it.target", PAYARA_MICRO.id);
        for (TestTarget t : values()) {
            if (t.id.equals(id)) {
                return t;
            }
        }
        throw new IllegalStateException("therapeia.it.target " + id + " is neither payara-micro nor payara-server");
    }
}
