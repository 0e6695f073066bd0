package io.reprise.transport.client;

import io.reprise.schema.client.ResultCode;

/** The node refused the connection (for example a wrong token) or did not answer in time. */
public final class ConnectException extends RuntimeException
{
    private final ResultCode code;

    public ConnectException(final ResultCode code, final String message)
    {
        super(message);
        this.code = code;
    }

    /** The node's reason, or null when it did not answer. */
    public ResultCode code()
    {
        return code;
    }
}
