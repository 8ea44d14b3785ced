package org.therapeia.engine;

/**
 * The one exception the engine binding throws: a bad model folder, a truncated weights file, an
 * unsupported architecture, a token id outside the vocabulary, a prompt longer than the context,
 * a native library that cannot be loaded, or a call on a closed engine. The message names the
 * file, tensor or limit at fault (C++ backtraces are left out).
 */
public class EngineException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Also called from native code (JNI ThrowNew), which needs exactly this constructor. */
    public EngineException(String message) {
        super(message);
    }

    public EngineException(String message, Throwable cause) {
        super(message, cause);
    }
}
