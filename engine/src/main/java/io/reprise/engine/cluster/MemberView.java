package io.reprise.engine.cluster;

/**
 * What threads other than a member's own see of it (the transport's ingress, counters, tools), and the requests they
 * make of it. The member's thread publishes each figure only when it changed, so a reader on another core costs its
 * duty cycle nothing; each figure is a moment's view, read alone.
 */
public final class MemberView
{
    /** No request, and no leader known. */
    public static final int NONE = -1;

    private final int memberId;
    private final int memberCount;
    private volatile int role = NONE;
    private volatile long term;
    private volatile int leaderId = NONE;
    private volatile boolean hearsLeader;
    private volatile boolean acceptsClients;
    private volatile long logIndex;
    private volatile long commitIndex;
    private volatile int catchingUp;
    private volatile int transferRequest = NONE;

    MemberView(final int memberId, final int memberCount)
    {
        this.memberId = memberId;
        this.memberCount = memberCount;
    }

    public int memberId()
    {
        return memberId;
    }

    public int memberCount()
    {
        return memberCount;
    }

    /** The ordinal of {@link Consensus.Role}, or {@link #NONE} before the member's first step. */
    public int role()
    {
        return role;
    }

    public long term()
    {
        return term;
    }

    /** The leader this member knows of in its term, or {@link #NONE} (an election is on). */
    public int leaderId()
    {
        return leaderId;
    }

    /** Whether it leads, or has heard its leader within two heartbeat intervals ({@link Consensus#hearsLeader()}). */
    public boolean hearsLeader()
    {
        return hearsLeader;
    }

    /** Whether clients' entries are taken here: it leads, its log is in its ring, and no transfer is under way. */
    public boolean acceptsClients()
    {
        return acceptsClients;
    }

    /** The last index of the member's log. */
    public long logIndex()
    {
        return logIndex;
    }

    public long commitIndex()
    {
        return commitIndex;
    }

    /**
     * Leading: followers being sent a full install or the log they lack. Following: 1 while this member receives an
     * install or holds live entries ahead of its log.
     */
    public int catchingUp()
    {
        return catchingUp;
    }

    /**
     * Asks the member to hand its leadership to {@code member} at its next step; a member that does not lead, or is
     * given itself, ignores it.
     *
     * @return false when {@code member} is not a member of this cluster.
     */
    public boolean requestTransfer(final int member)
    {
        if (member < 0 || member >= memberCount)
        {
            return false;
        }
        transferRequest = member;
        return true;
    }

    /** The transfer asked for since the last call, or {@link #NONE}; on the member's thread. */
    int takeTransferRequest()
    {
        final int request = transferRequest;
        if (request != NONE)
        {
            transferRequest = NONE;
        }
        return request;
    }

    /** On the member's thread: publishes what changed. */
    void publish(
        final Consensus.Role role, final long term, final int leaderId, final boolean hearsLeader,
        final boolean acceptsClients, final long logIndex, final long commitIndex, final int catchingUp)
    {
        // Only what changed is written: a volatile write costs a fence, a read on the writer's core does not.
        if (this.role != role.ordinal())
        {
            this.role = role.ordinal();
        }
        if (this.term != term)
        {
            this.term = term;
        }
        if (this.leaderId != leaderId)
        {
            this.leaderId = leaderId;
        }
        if (this.hearsLeader != hearsLeader)
        {
            this.hearsLeader = hearsLeader;
        }
        if (this.acceptsClients != acceptsClients)
        {
            this.acceptsClients = acceptsClients;
        }
        if (this.logIndex != logIndex)
        {
            this.logIndex = logIndex;
        }
        if (this.commitIndex != commitIndex)
        {
            this.commitIndex = commitIndex;
        }
        if (this.catchingUp != catchingUp)
        {
            this.catchingUp = catchingUp;
        }
    }
}
