package org.therapeia.safety;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * The CPU time the calling thread has used, in nanoseconds: the clock of the detector's time
 * limit. A limit in wall time would also count the time the thread waits for a core, so that
 * under load (32 requests on 2 cores, measured) an ordinary message ran over 250 ms and was
 * graded level 2 for nothing; CPU time counts only the work the text itself causes.
 */
final class ThreadCpuClock {

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private ThreadCpuClock() {
    }

    /** The calling thread's CPU time so far (wall time where the JVM cannot measure it). */
    static long now() {
        return THREADS.isCurrentThreadCpuTimeSupported() ? THREADS.getCurrentThreadCpuTime() : System.nanoTime();
    }
}
