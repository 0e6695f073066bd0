package io.reprise.transport;

import io.aeron.Aeron;
import io.aeron.Counter;
import io.reprise.engine.agents.SnapshotAgent;
import io.reprise.engine.cluster.MemberView;
import io.reprise.engine.node.Engine;
import io.reprise.transport.cluster.AeronReplicaLink;
import io.reprise.engine.state.DestinationFigures;
import org.agrona.CloseHelper;

/**
 * The node's live counters, kept in the media driver's counters file so that {@code reprise stat} (or Aeron's
 * own AeronStat) can read them from another process while the node runs. The transport's own counters are
 * written where things happen; the engine's figures are copied in by {@link #refresh} a few times a second.
 */
public final class NodeCounters implements AutoCloseable
{
    /** Type ids of Reprise counters, clear of Aeron's own: counter {@code i} has type id TYPE_ID_BASE + i. */
    public static final int TYPE_ID_BASE = 5200;
    /** Every counter's label starts with this. */
    public static final String LABEL_PREFIX = "reprise: ";
    static final String[] LABELS = {
        "ingress frames",
        "ingress frames refused with an error",
        "ingress frames dropped (no connection to answer)",
        "connections",
        "responses dropped (client too slow or gone)",
        "repeats dispatched",
        "repeats undeliverable",
        "published index",
        "durable (commit) index",
        "applied index",
        "ring depth",
        "last commit (write+fsync) ns",
        "max commit (write+fsync) ns",
        "sessions pending",
        "sessions ready",
        "sessions in flight",
        "sessions dead",
        "errors",
        "workers dropped for silence",
        "clients disconnected: too slow for their backlog",
        "cluster member id",
        "cluster role",
        "cluster term",
        "cluster leader member id",
        "cluster log index",
        "cluster commit index",
        "cluster catch-up in progress",
        "cluster control request",
        "snapshots taken",
        "cluster member cut off",
        "sessions figures exact at applied index",
    };
    public static final int INGRESS_FRAMES = 0;
    public static final int INGRESS_REFUSED = 1;
    static final int INGRESS_DROPPED = 2;
    static final int CONNECTIONS = 3;
    static final int RESPONSES_DROPPED = 4;
    static final int DISPATCHED = 5;
    static final int UNDELIVERABLE = 6;
    static final int PUBLISHED_INDEX = 7;
    static final int DURABLE_INDEX = 8;
    public static final int APPLIED_INDEX = 9;
    static final int RING_DEPTH = 10;
    static final int LAST_COMMIT_NS = 11;
    static final int MAX_COMMIT_NS = 12;
    public static final int PENDING = 13;
    public static final int READY = 14;
    public static final int IN_FLIGHT = 15;
    public static final int DEAD = 16;
    static final int ERRORS = 17;
    static final int WORKERS_SILENT = 18;
    static final int CLIENTS_TOO_SLOW = 19;
    /** -1 standalone. */
    public static final int MEMBER_ID = 20;
    /** -1 standalone; else the ordinal of the consensus role: 0 follower, 1 pre-candidate, 2 candidate, 3 leader. */
    public static final int ROLE = 21;
    public static final int TERM = 22;
    /** -1 when none is known. */
    public static final int LEADER_ID = 23;
    public static final int LOG_INDEX = 24;
    public static final int COMMIT_INDEX = 25;
    /** Leading: followers being sent an install or the log they lack; following: 1 while catching up. */
    public static final int CATCH_UP = 26;
    /**
     * Written by tools, from 0 with compare-and-set: {@link #CONTROL_SNAPSHOT} or {@link #CONTROL_TRANSFER_BASE} + M.
     * The node takes it at its next refresh (every 10 ms) and sets it back to 0.
     */
    public static final int CONTROL_REQUEST = 27;
    public static final int SNAPSHOTS_TAKEN = 28;
    /** 1 while the member is cut off from the others by a control request. */
    public static final int CUT_OFF = 29;
    /**
     * The applied index the four session counts describe exactly (nothing was applied while they were summed); -1
     * when the last sum overlapped entries being applied. Equal to {@link #APPLIED_INDEX}: the counts are the state's.
     */
    public static final int FIGURES_INDEX = 30;
    /** Control request: take a snapshot now. */
    public static final long CONTROL_SNAPSHOT = 1;
    /** Control request: cut this member off from the others, as a network partition would (a fault drill). */
    public static final long CONTROL_CUT_OFF = 2;
    /** Control request: end a cut-off. */
    public static final long CONTROL_HEAL = 3;
    /** Control request {@code CONTROL_TRANSFER_BASE + M}: the leader hands its leadership to member M. */
    public static final long CONTROL_TRANSFER_BASE = 100;

    private static final long FIGURES_EVERY_NS = 500_000_000L;

    private final Counter[] counters = new Counter[LABELS.length];
    private final MemberView member;
    private final SnapshotAgent snapshots;
    private final AeronReplicaLink link;
    private long figuresAtNs;

    /** @param member the node's membership of a cluster and its link, or nulls standalone. */
    NodeCounters(final Aeron aeron, final MemberView member, final AeronReplicaLink link, final SnapshotAgent snapshots)
    {
        this.member = member;
        this.link = link;
        this.snapshots = snapshots;
        for (int i = 0; i < LABELS.length; i++)
        {
            counters[i] = aeron.addCounter(TYPE_ID_BASE + i, LABEL_PREFIX + LABELS[i]);
        }
        counters[MEMBER_ID].setOrdered(null == member ? -1 : member.memberId());
        counters[ROLE].setOrdered(-1);
        counters[LEADER_ID].setOrdered(-1);
        counters[FIGURES_INDEX].setOrdered(-1);
    }

    /** How many Reprise counters there are: type ids TYPE_ID_BASE .. TYPE_ID_BASE + count() - 1. */
    public static int count()
    {
        return LABELS.length;
    }

    /** The label of counter {@code i} (without {@link #LABEL_PREFIX}), for readers such as {@code reprise stat}. */
    public static String label(final int i)
    {
        return LABELS[i];
    }

    Counter get(final int counter)
    {
        return counters[counter];
    }

    /** Copies the engine's figures in; the per-destination sums at most twice a second. */
    void refresh(final Engine node, final long nowNs)
    {
        final long applied = node.appliedIndex();
        final long published = node.publishedIndex();
        counters[PUBLISHED_INDEX].setOrdered(published);
        counters[DURABLE_INDEX].setOrdered(node.durableIndex());
        counters[APPLIED_INDEX].setOrdered(applied);
        counters[RING_DEPTH].setOrdered(published - applied);
        counters[LAST_COMMIT_NS].setOrdered(node.lastCommitNs());
        counters[MAX_COMMIT_NS].setOrdered(node.maxCommitNs());
        counters[DISPATCHED].setOrdered(node.dispatched());
        counters[UNDELIVERABLE].setOrdered(node.undeliverable());
        counters[SNAPSHOTS_TAKEN].setOrdered(snapshots.taken());
        if (null != member)
        {
            counters[ROLE].setOrdered(member.role());
            counters[TERM].setOrdered(member.term());
            counters[LEADER_ID].setOrdered(member.leaderId());
            counters[LOG_INDEX].setOrdered(member.logIndex());
            counters[COMMIT_INDEX].setOrdered(member.commitIndex());
            counters[CATCH_UP].setOrdered(member.catchingUp());
        }
        takeControlRequest();
        if (nowNs - figuresAtNs >= FIGURES_EVERY_NS)
        {
            figuresAtNs = nowNs;
            refreshSessionCounts(node, applied);
        }
    }

    /**
     * Sums the session counts, one destination and status at a time while the business logic moves sessions between
     * them: exact only if nothing was applied meanwhile (the index is still {@code applied}), which
     * {@link #FIGURES_INDEX} says.
     */
    void refreshSessionCounts(final Engine node, final long applied)
    {
        final DestinationFigures figures = node.destinationFigures();
        counters[PENDING].setOrdered(figures.total(DestinationFigures.PENDING));
        counters[READY].setOrdered(figures.total(DestinationFigures.READY));
        counters[IN_FLIGHT].setOrdered(figures.total(DestinationFigures.IN_FLIGHT));
        counters[DEAD].setOrdered(figures.total(DestinationFigures.DEAD));
        counters[FIGURES_INDEX].setOrdered(node.appliedIndex() == applied ? applied : -1);
    }

    /**
     * Acts on a tool's request and clears it: a snapshot, a cut-off or its end, or a leadership transfer (which a
     * member that does not lead ignores). A request the node does not know is cleared too; the tool sees nothing happen.
     */
    private void takeControlRequest()
    {
        final long request = counters[CONTROL_REQUEST].get();
        if (request == 0)
        {
            return;
        }
        if (request == CONTROL_SNAPSHOT)
        {
            snapshots.requestSnapshot();
        }
        else if ((request == CONTROL_CUT_OFF || request == CONTROL_HEAL) && null != link)
        {
            link.cutOff(request == CONTROL_CUT_OFF);
            counters[CUT_OFF].setOrdered(request == CONTROL_CUT_OFF ? 1 : 0);
        }
        else if (request >= CONTROL_TRANSFER_BASE && null != member)
        {
            member.requestTransfer((int)Math.min(request - CONTROL_TRANSFER_BASE, Integer.MAX_VALUE));
        }
        counters[CONTROL_REQUEST].compareAndSet(request, 0);
    }

    public void close()
    {
        CloseHelper.closeAll(counters);
    }
}
