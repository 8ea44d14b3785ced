package org.therapeia.safety;

import java.util.List;

/**
 * What a guard model said about a conversation, in Therapeia's terms: a level and the crisis
 * categories it named. It carries no text: neither the conversation nor the guard's output.
 *
 * @param level      {@link Level#NONE} when the guard found nothing, or only hazards that are no
 *                   crisis signal (defamation, privacy, elections...)
 * @param categories the crisis categories behind the level, empty at {@link Level#NONE}
 */
public record GuardVerdict(Level level, List<Category> categories) {

    /** The guard found nothing. */
    public static final GuardVerdict SAFE = new GuardVerdict(Level.NONE, List.of());

    public GuardVerdict {
        categories = List.copyOf(categories);
    }
}
