package org.therapeia.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.concurrent.ThreadLocalRandom;

/** Ports nobody listens on, so that a test's servers never clash with a developer's own (a Payara on 8080, 4848). */
final class FreePorts {

    private FreePorts() {
    }

    /** Distinct free ports on the loopback address (held together while picked, so no two are equal). */
    static int[] loopback(int count) {
        ServerSocket[] sockets = new ServerSocket[count];
        int[] ports = new int[count];
        try {
            for (int i = 0; i < count; i++) {
                sockets[i] = new ServerSocket();
                sockets[i].setReuseAddress(false);
                sockets[i].bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                ports[i] = sockets[i].getLocalPort();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            closeAll(sockets);
        }
        return ports;
    }

    /**
     * The first port of a block of 100 consecutive free ports (on every interface and on loopback),
     * starting at a multiple of 100: Payara Server's {@code --portbase} places each of a domain's or
     * an instance's listeners (admin +48, HTTP +80, HTTPS +81, IIOP, JMS, JMX, Data Grid +49/+59, ...)
     * at fixed offsets from it. Blocks are drawn at random between 20000 and 59900 so that two
     * domains picked one after the other rarely try the same block.
     */
    static int block() {
        for (int attempt = 0; attempt < 200; attempt++) {
            int base = 100 * ThreadLocalRandom.current().nextInt(200, 600);
            if (blockIsFree(base)) {
                return base;
            }
        }
        throw new IllegalStateException("no block of 100 free ports found between 20000 and 60000");
    }

    private static boolean blockIsFree(int base) {
        ServerSocket[] sockets = new ServerSocket[100];
        try {
            for (int i = 0; i < 100; i++) {
                sockets[i] = new ServerSocket();
                sockets[i].setReuseAddress(false);
                sockets[i].bind(new InetSocketAddress(base + i)); // the wildcard address: Payara binds it
            }
            return true;
        } catch (IOException taken) {
            return false;
        } finally {
            closeAll(sockets);
        }
    }

    private static void closeAll(ServerSocket[] sockets) {
        for (ServerSocket s : sockets) {
            if (s != null) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // closing a socket that was only bound
                }
            }
        }
    }
}
