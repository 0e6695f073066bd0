package io.reprise.engine.cluster;

import java.io.IOException;
import java.time.Instant;
import java.util.Random;

import com.lmax.disruptor.Sequence;
import io.reprise.engine.flow.OperationPublisher;
import io.reprise.engine.flow.OperationSlot;
import io.reprise.engine.flow.StageAgent;
import io.reprise.engine.node.PlantedBug;
import io.reprise.engine.repeat.RepeatProcess;
import io.reprise.schema.cluster.InstallAckDecoder;
import io.reprise.schema.cluster.InstallSnapshotDecoder;
import io.reprise.schema.cluster.MessageHeaderDecoder;
import io.reprise.schema.log.OperatorEncoder;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * What makes a node a member of a cluster (docs/cluster.md): its {@link Consensus}, the ring's replication stage,
 * the feed of committed entries into a follower's ring, the commit point the business logic follows, and the role
 * changes of the seed.
 * <ul>
 * <li>Leading, clients' entries go into the ring; the journal stage writes them and, beside it, the replication
 * stage ({@link #replicationHandler}, run by this agent's own step) hands them to the consensus log, from which
 * consensus sends them. The business logic follows the commit point: what a majority holds durably.</li>
 * <li>Following, consensus appends the leader's entries to the journal itself, syncs and acknowledges; this step
 * puts into the ring only the entries at or below the commit index it knows, which the journal stage passes (they
 * are written) and the business logic applies.</li>
 * <li>Becoming leader, the member first puts into its ring the entries of its log not yet there, then its term's
 * first entry (NewLeaderTerm), and only then starts the repeat process and takes clients' entries. Stopping leading,
 * it stops the repeat process at once and takes no more.</li>
 * </ul>
 * A leader that stepped down may hold entries in its ring that a new leader overrides; the ring cannot take them
 * back, so the node fails and restarts from its disk (the log then truncates before anything reaches the ring).
 */
public final class ClusterMember implements Agent
{
    private enum State
    {
        FOLLOWING, PREPARING_TO_LEAD, LEADING
    }

    /**
     * A follower that took a whole install restarts on it, which takes seconds for a large snapshot; until its answers
     * show the log it now holds, it still looks as if it needed one. The same install is not sent again for this
     * long: one that lacks the log after it lost the install (a crash while switching) or needs a newer snapshot.
     */
    private static final long RESEND_FINISHED_INSTALL_AFTER_NS = 10_000_000_000L;
    /** While a follower catches up, the leader says where each stands this often: for people reading its log. */
    private static final long CATCH_UP_REPORT_EVERY_NS = 5_000_000_000L;

    private final Consensus consensus;
    private final JournalConsensusLog log;
    private final OperationPublisher publisher;
    private final RepeatProcess repeatProcess;
    private final PlantedBug planted;
    private final EpochClock epochClock;
    private final NanoClock clock;
    private final Sequence commitGate = new Sequence(-1);
    private final OperatorEncoder encoder = new OperatorEncoder();
    private final UnsafeBuffer newLeaderTerm = new UnsafeBuffer(new byte[64]);
    private final ConsensusLog.EntryVisitor feedEntry = this::feedEntry;
    private final StageAgent.Handler replicationHandler = new ReplicationHandler();
    private final InstallReceiver receiver;
    private final InstallSender sender;
    private final InstallFiles installFiles;
    private final boolean[] installing;
    /** Per follower being sent an install: its snapshot's index, and whether and when the follower had it all. */
    private final long[] installIndex;
    private final boolean[] installFinished;
    private final long[] installFinishedNs;
    private final InstallSnapshotDecoder chunkDecoder = new InstallSnapshotDecoder();
    private final InstallAckDecoder ackDecoder = new InstallAckDecoder();
    private final MessageHeaderDecoder headerDecoder = new MessageHeaderDecoder();
    private final MemberView view;
    private final java.util.function.Consumer<String> steps;
    /** Per follower, why its install could not start last time: said once, not at every heartbeat. */
    private final String[] installProblems;
    private long transferId;
    private long installsSent;
    private long acknowledgedWhileInstalling;
    private long acknowledgementsAtInstallStart;
    private long catchUpReportedNs = Long.MIN_VALUE / 2;
    private volatile boolean halted;
    private State state = State.FOLLOWING;
    private boolean feedRefused;
    private long leaderTerm;
    private StageAgent replicationStage;
    /** The ring sequence of the last entry put into the ring while leading: the journal must pass it first. */
    private long leaderEntriesEnd = -1;

    public ClusterMember(
        final Consensus.Settings settings,
        final int memberId,
        final int memberCount,
        final ConsensusContext context,
        final JournalConsensusLog log,
        final OperationPublisher publisher,
        final RepeatProcess repeatProcess,
        final PlantedBug planted,
        final InstallReceiver receiver,
        final InstallSender sender,
        final InstallFiles installFiles) throws IOException
    {
        this.receiver = receiver;
        this.sender = sender;
        this.installFiles = installFiles;
        this.log = log;
        this.publisher = publisher;
        this.repeatProcess = repeatProcess;
        this.planted = planted;
        this.epochClock = context.epochClock();
        this.clock = context.clock();
        log.inRingThrough(publisher::publishedIndex);
        publisher.follow();
        repeatProcess.leader(false);
        this.installing = new boolean[memberCount];
        this.installIndex = new long[memberCount];
        this.installFinished = new boolean[memberCount];
        this.installFinishedNs = new long[memberCount];
        this.view = new MemberView(memberId, memberCount);
        this.installProblems = new String[memberCount];
        this.steps = context.steps();
        consensus = new Consensus(memberId, memberCount, settings, context.clock(), context.random(), context.link(),
            log, context.election(), new ConsensusEvents(), planted);
    }

    /**
     * The ring's stages this member works with: the replication stage, which it runs itself (on its own thread, as
     * it writes the consensus log's window), and the journal stage, which writes the journal while it leads. The
     * journal has one writer at a time: after a step-down, consensus writes it only once the journal stage has
     * passed every entry this member put into the ring as leader.
     */
    public void stages(final StageAgent replicationStage, final Sequence journalStage)
    {
        this.replicationStage = replicationStage;
        log.writableWhen(() -> journalStage.get() >= leaderEntriesEnd);
    }

    /**
     * What a member's consensus needs from its node: time, chance, the network and its election state.
     *
     * @param steps told of role changes and installs, on the member's thread: for people reading a member's log.
     */
    public record ConsensusContext(
        NanoClock clock, EpochClock epochClock, Random random, ReplicaLink link, ElectionState election,
        java.util.function.Consumer<String> steps)
    {
    }

    /** What consensus tells the member: role changes, followers that need an install, the install's messages. */
    private final class ConsensusEvents implements Consensus.Listener
    {
        public void onRoleChange(final Consensus.Role role, final long term, final int leaderId)
        {
            steps.accept("role " + role + " term=" + term + " leader=" + leaderId + " log=" + log.lastIndex() + " at " +
                Instant.ofEpochMilli(epochClock.time()));
            ClusterMember.this.onRoleChange(role, term);
        }

        public void onInstallNeeded(final int member)
        {
            startInstall(member);
        }

        public boolean installing()
        {
            // Only this term's leader's install: one resumed after a restart, or an older leader's, waits for its
            // chunks, and meanwhile the log may still reach this member.
            return ClusterMember.this.installing() && receiver.transferTerm() == consensus.term();
        }

        public void onOtherMessage(final int templateId, final DirectBuffer buffer, final int offset, final int length)
        {
            onInstallMessage(templateId, buffer, offset, length);
        }
    }

    private void onRoleChange(final Consensus.Role role, final long term)
    {
        if (role == Consensus.Role.LEADER)
        {
            state = State.PREPARING_TO_LEAD;
            leaderTerm = term;
            return;
        }
        cancelInstalls();
        if (state != State.FOLLOWING)
        {
            // The seed: the leader that becomes a follower stops the repeat search at once.
            publisher.follow();
            leaderEntriesEnd = publisher.lastSequence();
            if (planted != PlantedBug.DISPATCH_AFTER_STEPDOWN)
            {
                repeatProcess.leader(false);
            }
            state = State.FOLLOWING;
        }
    }

    /** Stops the member for good: from now on {@link #doWork()} does nothing. Any thread may call it. */
    public void halt()
    {
        halted = true;
    }

    public int doWork() throws IOException
    {
        if (halted)
        {
            return 0;
        }
        int work = replicationStage.doWork();
        work += consensus.doWork();
        if (state == State.LEADING || state == State.PREPARING_TO_LEAD)
        {
            // Installs take what is left of the duty cycle's budget after consensus has sent live entries.
            try
            {
                final long now = clock.nanoTime();
                work += sender.doWork(now);
                work += endInstallsNoLongerNeeded(now);
                reportCatchUp(now);
            }
            catch (final IOException ex)
            {
                // A file of the install could not be read (a snapshot rotated away): the next try sends a newer one.
                steps.accept("install-cancelled: " + ex);
                cancelInstalls();
            }
        }
        else
        {
            work += receiver.doWork();
            if (installing() && consensus.commitIndex() >= receiver.snapshotIndex())
            {
                // The leader's log reached the snapshot after all (a new leader held it): the install brings nothing
                // more. (Not this log's last index: entries of an older term past it may not be the leader's.)
                steps.accept("install-discarded snapshot=" + receiver.snapshotIndex() + ": the log reaches it");
                receiver.discard();
                work++;
            }
            if (receiver.complete())
            {
                finishInstall();
            }
        }
        if (state == State.PREPARING_TO_LEAD)
        {
            work += prepareToLead();
        }
        else if (state == State.FOLLOWING)
        {
            final long through = planted == PlantedBug.FOLLOWER_APPLIES_BEYOND_COMMIT ? log.durableIndex() :
                Math.min(consensus.commitIndex(), log.durableIndex());
            work += feed(through);
        }
        // The business logic applies what is committed and in the ring.
        final long applicable = planted == PlantedBug.FOLLOWER_APPLIES_BEYOND_COMMIT && state == State.FOLLOWING ?
            publisher.publishedIndex() : Math.min(consensus.commitIndex(), publisher.publishedIndex());
        final long gate = publisher.sequenceOf(applicable);
        if (gate > commitGate.get())
        {
            commitGate.set(gate);
            work++;
        }
        final int transferTo = view.takeTransferRequest();
        if (transferTo != MemberView.NONE && consensus.transferLeadership(transferTo))
        {
            work++;
        }
        view.publish(consensus.role(), consensus.term(), consensus.leaderId(), consensus.hearsLeader(), acceptsClients(),
            log.lastIndex(), consensus.commitIndex(), catchingUp());
        return work;
    }

    /** Leading: followers being sent an install or the log they lack; following: 1 while catching up. */
    private int catchingUp()
    {
        if (state == State.FOLLOWING)
        {
            return installing() || consensus.catchingUp() > 0 ? 1 : 0;
        }
        int followers = consensus.catchingUp();
        for (int m = 0; m < installing.length; m++)
        {
            followers += installing[m] ? 1 : 0;
        }
        return followers;
    }

    /**
     * A new leader first appends its term's first entry (NewLeaderTerm) to its log, as a follower appends (its journal
     * is still consensus's to write): that entry, once on a majority, commits everything before it. Then it puts its
     * log into the ring as room allows (the business logic takes each entry once committed), and only when the ring
     * holds its whole log does it lead: assign positions to clients' entries and start the repeat process.
     */
    private int prepareToLead() throws IOException
    {
        int work = 0;
        if (!log.writable())
        {
            return 0;
        }
        if (log.lastTerm() != leaderTerm)
        {
            final int length = encoder.newLeaderTerm(newLeaderTerm, 0, leaderTerm, consensus.memberId());
            log.append(log.lastIndex() + 1, leaderTerm, epochClock.time(), newLeaderTerm, 0, length);
            log.sync();
            work++;
        }
        work += feed(log.lastIndex());
        if (publisher.publishedIndex() == log.lastIndex())
        {
            publisher.lead(leaderTerm, log.lastIndex() + 1);
            state = State.LEADING;
            // The log's last entry is this term's first (NewLeaderTerm): the attempts begun before it are not ours.
            repeatProcess.leader(true, planted == PlantedBug.REDISPATCH_PREVIOUS_TERMS ? 0 : log.lastIndex());
            steps.accept("leading term=" + leaderTerm + " log=" + log.lastIndex() + " at " +
                Instant.ofEpochMilli(epochClock.time()));
            work++;
        }
        return work;
    }

    /** Puts the log's entries after the ring's last into the ring, through {@code through}, as room allows. */
    private int feed(final long through) throws IOException
    {
        final long from = publisher.publishedIndex() + 1;
        final long to = Math.min(through, publisher.publishedIndex() + publisher.remainingCapacity());
        if (from > to)
        {
            return 0;
        }
        feedRefused = false;
        return log.read(from, to, Integer.MAX_VALUE, feedEntry);
    }

    private void feedEntry(
        final long index, final long term, final long timestampMs, final DirectBuffer operator, final int offset,
        final int length)
    {
        if (!feedRefused && !publisher.tryPublishEntry(index, term, timestampMs, operator, offset, length))
        {
            feedRefused = true;
        }
    }

    /**
     * Leading, a follower needs what the log no longer holds: it gets the newest snapshot, its sources, then (by
     * replication) the log after it. One transfer at a time per follower; a finished one is sent again (the newest
     * snapshot then) only if the follower still lacks the log {@link #RESEND_FINISHED_INSTALL_AFTER_NS} later, or
     * once the log after it is rotated away.
     */
    private void startInstall(final int member)
    {
        // A transfer goes on while the log after its snapshot is held; once rotated away, it would only bring the
        // follower to where it needs another, and the newest snapshot goes instead.
        if (installing[member] && log.holds(installIndex[member] + 1) && (!noteFinished(member, clock.nanoTime()) ||
            clock.nanoTime() - installFinishedNs[member] < RESEND_FINISHED_INSTALL_AFTER_NS))
        {
            return;
        }
        try
        {
            final InstallFiles.Snapshot snapshot = installFiles.newest();
            if (null == snapshot)
            {
                return;
            }
            sender.start(member, ++transferId, snapshot.index(), snapshot.term(), snapshot.files());
            installing[member] = true;
            installIndex[member] = snapshot.index();
            installFinished[member] = false;
            installsSent++;
            installProblems[member] = null;
            steps.accept("install-sending follower=" + member + " snapshot=" + snapshot.index() + " files=" +
                snapshot.files().size());
        }
        catch (final IOException ex)
        {
            // A snapshot rotated away while it was being opened: the next try takes the newer one.
            installing[member] = false;
            final String problem = ex.toString();
            if (!problem.equals(installProblems[member]))
            {
                installProblems[member] = problem;
                steps.accept("install-not-started follower=" + member + ": " + problem);
            }
        }
    }

    /**
     * A transfer ends when the follower acknowledges log at or past its snapshot: it restarted on the install, or
     * the log reached it after all. Until then a finished one is kept, and not sent again at once (see
     * {@link #RESEND_FINISHED_INSTALL_AFTER_NS}).
     */
    private int endInstallsNoLongerNeeded(final long now)
    {
        int work = 0;
        for (int m = 0; m < installing.length; m++)
        {
            if (!installing[m])
            {
                continue;
            }
            if (consensus.matchIndex(m) >= installIndex[m])
            {
                sender.cancel(m);
                installing[m] = false;
                steps.accept("install-ended follower=" + m + " snapshot=" + installIndex[m] + ": it holds the log " +
                    "from there on");
                work++;
            }
            else if (!installFinished[m] && noteFinished(m, now))
            {
                work++;
            }
        }
        return work;
    }

    private void reportCatchUp(final long now)
    {
        if (catchingUp() == 0 || now - catchUpReportedNs < CATCH_UP_REPORT_EVERY_NS)
        {
            return;
        }
        catchUpReportedNs = now;
        final StringBuilder line = new StringBuilder("catching-up: ").append(consensus.describe());
        for (int m = 0; m < installing.length; m++)
        {
            if (installing[m])
            {
                line.append(" install[").append(m).append(" snapshot=").append(installIndex[m])
                    .append(installFinished[m] ? " sent]" : " sending]");
            }
        }
        steps.accept(line.toString());
    }

    /** Whether the follower has the whole install being sent to it; notes when it first had it. */
    private boolean noteFinished(final int follower, final long now)
    {
        if (!installFinished[follower] && sender.isComplete(follower))
        {
            installFinished[follower] = true;
            installFinishedNs[follower] = now;
            steps.accept("install-sent follower=" + follower + " snapshot=" + installIndex[follower]);
        }
        return installFinished[follower];
    }

    private void cancelInstalls()
    {
        for (int m = 0; m < installing.length; m++)
        {
            if (installing[m])
            {
                sender.cancel(m);
                installing[m] = false;
            }
        }
    }

    private void onInstallMessage(final int templateId, final DirectBuffer buffer, final int offset, final int length)
    {
        headerDecoder.wrap(buffer, offset);
        final int body = offset + MessageHeaderDecoder.ENCODED_LENGTH;
        try
        {
            if (templateId == InstallSnapshotDecoder.TEMPLATE_ID)
            {
                chunkDecoder.wrap(buffer, body, headerDecoder.blockLength(), headerDecoder.version());
                // Only the leader this member follows installs here, never into a leader, and only what this member
                // lacks: not a snapshot its committed log already passed (one it restarted on, sent again).
                if (state == State.FOLLOWING && chunkDecoder.leaderId() == consensus.leaderId() &&
                    chunkDecoder.term() == consensus.term() &&
                    chunkDecoder.snapshotIndex() > Math.max(consensus.commitIndex(), log.baseIndex()))
                {
                    final boolean started = !installing();
                    if (started)
                    {
                        acknowledgementsAtInstallStart = consensus.acknowledgements();
                    }
                    receiver.onChunk(chunkDecoder);
                    if (started && installing())
                    {
                        steps.accept("install-receiving snapshot=" + receiver.snapshotIndex() + " from leader=" +
                            chunkDecoder.leaderId());
                    }
                }
            }
            else if (templateId == InstallAckDecoder.TEMPLATE_ID)
            {
                ackDecoder.wrap(buffer, body, headerDecoder.blockLength(), headerDecoder.version());
                if (state != State.FOLLOWING)
                {
                    sender.onAck(ackDecoder);
                }
            }
        }
        catch (final IOException ex)
        {
            throw new Consensus.ConsensusIoException(ex);
        }
    }

    /**
     * The seed's switch: the installed snapshot and sources replace this member's state and log, and the node
     * restarts on them; the log after the snapshot then comes by replication.
     */
    private void finishInstall() throws IOException
    {
        final long index = receiver.snapshotIndex();
        if (consensus.acknowledgements() > acknowledgementsAtInstallStart)
        {
            acknowledgedWhileInstalling += consensus.acknowledgements() - acknowledgementsAtInstallStart;
        }
        installFiles.install(index, receiver.snapshotTerm(), receiver.files());
        receiver.discard();
        throw new RestartRequired("installed the snapshot at index " + index + ": the node restarts on it", true);
    }

    /** Full installs this member started sending as leader. */
    public long installsSent()
    {
        return installsSent;
    }

    /**
     * Entries acknowledged to a leader during the install this member last switched to: the seed says none (a
     * member catching up acknowledges nothing until it switches). An acknowledgement ends an install instead.
     */
    public long acknowledgedWhileInstalling()
    {
        return acknowledgedWhileInstalling;
    }

    /** Whether an install is under way here (files being received, or held and not yet switched to). */
    public boolean installing()
    {
        return receiver.snapshotIndex() != InstallReceiver.NO_SNAPSHOT;
    }

    /** Whether clients' entries are taken here: leading, with no leadership transfer under way. */
    public boolean acceptsClients()
    {
        return state == State.LEADING && !consensus.transferring();
    }

    /** The sequence the business-logic stage follows (with the journal stage's): committed and in the ring. */
    public Sequence commitGate()
    {
        return commitGate;
    }

    /** The ring stage beside the journal's: the leader's entries go to the consensus log, which sends them. */
    public StageAgent.Handler replicationHandler()
    {
        return replicationHandler;
    }

    /** What other threads see of this member, and the requests they make of it. */
    public MemberView view()
    {
        return view;
    }

    public Consensus consensus()
    {
        return consensus;
    }

    public JournalConsensusLog log()
    {
        return log;
    }

    public String roleName()
    {
        return "reprise-consensus";
    }

    private final class ReplicationHandler implements StageAgent.Handler
    {
        public long onBatchStart(final long ready)
        {
            return ready;
        }

        public boolean onEntry(final OperationSlot slot, final long sequence, final boolean endOfBatch)
        {
            // Entries fed from the log are in it already; only the leader's new ones are noted.
            if (slot.index() > log.lastIndex())
            {
                log.noteEntry(slot.index(), slot.term(), slot.timestampMs(), slot.buffer(), slot.offset(),
                    slot.length());
            }
            return true;
        }
    }
}
