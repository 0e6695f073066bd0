package io.reprise.engine.node;

/**
 * Bugs the simulator can plant in a node, to prove that its invariant checker catches each one (docs/simulation.md).
 * Set only by the simulator; each is decided once when the node is assembled, so none costs anything when off.
 */
public enum PlantedBug
{
    NONE("none"),
    /** Respond before the journal's fsync: the journal's commit writes but never syncs. */
    ACK_BEFORE_SYNC("ack-before-sync"),
    /** The business logic runs past the commit point: it applies (and answers) what is only published. */
    APPLY_UNCOMMITTED("apply-uncommitted"),
    /** Start-up accepts a torn journal record instead of truncating the log before it. */
    SKIP_TORN_CHECK("skip-torn-check"),
    /** Cluster: the leader commits what it alone holds durably. */
    COMMIT_WITHOUT_MAJORITY("commit-without-majority"),
    /** Cluster: a member grants its vote to a second candidate of the same term. */
    DOUBLE_VOTE("double-vote"),
    /** Cluster: a follower feeds its ring every entry it holds, committed or not. */
    FOLLOWER_APPLIES_BEYOND_COMMIT("follower-applies-beyond-commit"),
    /** Cluster: a full install sends the snapshot and the log but not the saved-session sources. */
    INSTALL_WITHOUT_SOURCES("install-without-sources"),
    /** Cluster: a leader that steps down leaves its repeat process dispatching. */
    DISPATCH_AFTER_STEPDOWN("dispatch-after-stepdown"),
    /** Cluster: a new leader hands out the attempts begun by the entries of earlier leaders it applies late. */
    REDISPATCH_PREVIOUS_TERMS("redispatch-previous-terms");

    private final String flag;

    PlantedBug(final String flag)
    {
        this.flag = flag;
    }

    /** The name {@code reprise sim --plant} takes. */
    public String flag()
    {
        return flag;
    }

    public static PlantedBug ofFlag(final String flag)
    {
        for (final PlantedBug bug : values())
        {
            if (bug.flag.equals(flag))
            {
                return bug;
            }
        }
        throw new IllegalArgumentException("unknown planted bug: " + flag +
            " (ack-before-sync, apply-uncommitted, skip-torn-check, commit-without-majority, double-vote, " +
            "follower-applies-beyond-commit, install-without-sources, dispatch-after-stepdown, " +
            "redispatch-previous-terms)");
    }
}
