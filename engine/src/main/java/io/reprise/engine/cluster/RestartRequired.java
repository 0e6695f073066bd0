package io.reprise.engine.cluster;

/**
 * The node must restart from its disk to go on. Either a new leader overrides entries its ring carries already (it
 * led and stepped down before they were committed, and a ring cannot take entries back), or a full install put a
 * snapshot in place of its state. Not a fault of the node: its start-up reads only what is committed into its
 * state.
 */
public final class RestartRequired extends IllegalStateException
{
    private final boolean afterInstall;

    public RestartRequired(final String message)
    {
        this(message, false);
    }

    public RestartRequired(final String message, final boolean afterInstall)
    {
        super(message);
        this.afterInstall = afterInstall;
    }

    /** Whether a full install is why: the node restarts on the snapshot it took. */
    public boolean afterInstall()
    {
        return afterInstall;
    }
}
