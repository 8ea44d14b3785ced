package org.therapeia.inference;

import com.hubspot.jinjava.objects.date.StrftimeFormatter;
import java.time.ZonedDateTime;

/**
 * The global functions that {@code transformers.apply_chat_template} gives chat templates,
 * registered with Jinjava as {@code raise_exception} and {@code strftime_now}.
 */
public final class TemplateFunctions {

    private TemplateFunctions() {
    }

    /** {@code raise_exception(message)}: the template refuses the conversation. */
    public static Object raiseException(Object message) {
        throw new TemplateRaisedException(message == null ? "the chat template raised an exception"
                : message.toString());
    }

    /** {@code strftime_now(format)}: the current local time in Python strftime format. */
    public static String strftimeNow(String format) {
        return StrftimeFormatter.format(ZonedDateTime.now(), format);
    }
}
