package io.reprise.tools.cluster;

import java.util.Locale;

import io.reprise.engine.cluster.Consensus;
import io.reprise.transport.NodeCounters;

/**
 * One member of a local cluster as seen from outside: whether its process is alive and, when its counters could be
 * read ({@code running}), its role, term, the leader it knows, its log, commit and applied indexes, whether a
 * catch-up is in progress, its snapshots taken since it started and its pending control request. Where the
 * counters could not be read, each figure is -1.
 */
public record MemberStatus(
    int member,
    long pid,
    boolean alive,
    boolean running,
    int role,
    long term,
    int leader,
    long logIndex,
    long commitIndex,
    long appliedIndex,
    boolean catchUp,
    long snapshotsTaken,
    long controlRequest)
{
    static MemberStatus notRunning(final int member, final long pid, final boolean alive)
    {
        return new MemberStatus(member, pid, alive, false, -1, -1, -1, -1, -1, -1, false, -1, -1);
    }

    static MemberStatus of(final int member, final long pid, final long[] counters)
    {
        return new MemberStatus(member, pid, true, true,
            (int)value(counters, NodeCounters.ROLE),
            value(counters, NodeCounters.TERM),
            (int)value(counters, NodeCounters.LEADER_ID),
            value(counters, NodeCounters.LOG_INDEX),
            value(counters, NodeCounters.COMMIT_INDEX),
            value(counters, NodeCounters.APPLIED_INDEX),
            value(counters, NodeCounters.CATCH_UP) > 0,
            value(counters, NodeCounters.SNAPSHOTS_TAKEN),
            value(counters, NodeCounters.CONTROL_REQUEST));
    }

    private static long value(final long[] counters, final int index)
    {
        return counters[index] == MemberCounters.ABSENT ? -1 : counters[index];
    }

    public boolean leads()
    {
        return running && role == Consensus.Role.LEADER.ordinal();
    }

    public String roleName()
    {
        return roleName(role);
    }

    /** The counter's value as the consensus role it is the ordinal of: "follower", "pre-candidate", ... */
    public static String roleName(final int role)
    {
        final Consensus.Role[] roles = Consensus.Role.values();
        if (role < 0)
        {
            return "standalone";
        }
        return role < roles.length ? roles[role].name().toLowerCase(Locale.ROOT).replace('_', '-') : "role " + role;
    }

    /** One line: {@code member 0  alive  pid 4711  leader         term 2  leader 0  log 12 ...}. */
    public String line()
    {
        final String head = "member " + member + "  " + (alive ? "alive" : "down") + (pid > 0 ? "  pid " + pid : "");
        if (!running)
        {
            return head + (alive ? "  counters not readable yet (starting or stopping)" : "");
        }
        return head + String.format("  %-13s  term %d  leader %s  log %d  commit %d  applied %d  catch-up %s",
            roleName(), term, leader < 0 ? "none" : Integer.toString(leader), logIndex, commitIndex, appliedIndex,
            catchUp ? "yes" : "no");
    }
}
