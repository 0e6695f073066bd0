package io.reprise.engine.cluster;

/**
 * The node must restart from its disk to go on: a new leader overrides entries its ring carries already (it led
 * and stepped down before they were committed), and a ring cannot take entries back. Not a fault of the node: its
 * start-up reads only what is committed into its state, and the log is truncated before anything reaches the ring.
 */
public final class RestartRequired extends IllegalStateException
{
    public RestartRequired(final String message)
    {
        super(message);
    }
}
