package io.reprise.client;

import io.reprise.schema.client.ResultCode;

/**
 * No connection to the node: it refused (for example a wrong token), did not answer in time, or could not be reached
 * (no media driver, a closed shared Aeron client).
 */
public final class ConnectException extends RuntimeException
{
    private final ResultCode code;

    public ConnectException(final ResultCode code, final String message)
    {
        super(message);
        this.code = code;
    }

    /** As {@link #ConnectException(ResultCode, String)}, with what Aeron threw. */
    public ConnectException(final ResultCode code, final String message, final Throwable cause)
    {
        super(message, cause);
        this.code = code;
    }

    /** The node's reason, or null when it did not answer. */
    public ResultCode code()
    {
        return code;
    }
}
