package org.therapeia.benchmark;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Progress on stderr while requests complete: one line rewritten in place on a terminal, else a
 * line every 10% (logs stay short).
 */
final class Progress {

    private final PrintStream out;
    private final int total;
    private final boolean interactive;
    private final int step;
    private final long start = System.nanoTime();
    private int done;
    private int errors;

    Progress(PrintStream out, int total, boolean interactive) {
        this.out = out;
        this.total = total;
        this.interactive = interactive;
        this.step = Math.max(1, total / 10);
    }

    synchronized void completed(RequestOutcome outcome) {
        advance(1, outcome.success() ? 0 : 1);
    }

    /** {@code count} requests that will not be sent (a conversation ended by a failed turn): counted as done. */
    synchronized void notSent(int count) {
        if (count > 0) {
            advance(count, 0);
        }
    }

    private void advance(int count, int failed) {
        int before = done;
        done += count;
        errors += failed;
        if (interactive) {
            out.print("\r" + line());
            if (done == total) {
                out.println();
            }
        } else if (done / step != before / step || done == total) {
            out.println(line());
        }
        out.flush();
    }

    private String line() {
        double elapsed = (System.nanoTime() - start) / 1e9;
        int width = Integer.toString(total).length();
        return String.format(Locale.ROOT, "[%" + width + "d/%d] %3d%%  %6.1f s  errors %d", done, total,
                100L * done / total, elapsed, errors);
    }
}
