package io.reprise.engine.cluster;

import java.io.IOException;
import java.util.Arrays;
import java.util.Random;

import io.reprise.engine.journal.JournalFormat;
import io.reprise.engine.node.PlantedBug;
import io.reprise.schema.cluster.AppendEntriesDecoder;
import io.reprise.schema.cluster.AppendEntriesEncoder;
import io.reprise.schema.cluster.AppendResponseDecoder;
import io.reprise.schema.cluster.AppendResponseEncoder;
import io.reprise.schema.cluster.Flag;
import io.reprise.schema.cluster.MessageHeaderDecoder;
import io.reprise.schema.cluster.MessageHeaderEncoder;
import io.reprise.schema.cluster.RequestVoteDecoder;
import io.reprise.schema.cluster.RequestVoteEncoder;
import io.reprise.schema.cluster.TimeoutNowDecoder;
import io.reprise.schema.cluster.TimeoutNowEncoder;
import io.reprise.schema.cluster.VoteDecoder;
import io.reprise.schema.cluster.VoteEncoder;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * One member's side of the cluster protocol (docs/cluster.md), as a step: no thread, no clock and no network of its
 * own. Raft with pre-vote, leader stickiness, check-quorum and leadership transfer. Everything it learns comes from
 * its {@link ReplicaLink}, its {@link NanoClock} and its seeded {@link Random}; everything it keeps durable goes
 * through its {@link ElectionState} and {@link ConsensusLog}, each synced before the member acts on it.
 * <p>
 * The leader does not append here: its host puts entries into the log (the ring's journal stage) and this step
 * sends them, counts which are durable on a majority, and moves the commit index. A follower appends the leader's
 * entries here, syncs, and only then acknowledges. The host reads {@link #commitIndex()} to apply entries, and
 * learns of role changes through the {@link Listener}.
 */
public final class Consensus implements Agent
{
    public enum Role
    {
        FOLLOWER, PRE_CANDIDATE, CANDIDATE, LEADER
    }

    /** What the host does on a role change (start or stop the repeat process, lead), and what consensus leaves to it. */
    public interface Listener
    {
        void onRoleChange(Role role, long term, int leaderId);

        /**
         * Leading, follower {@code member} needs entries this log no longer holds: only a full install (the newest
         * snapshot, its saved-session sources, then the log after it) brings it back. Called at each try to send.
         */
        default void onInstallNeeded(final int member)
        {
        }

        /**
         * Following, whether a full install is coming in: the seed's follower then takes no entries and acknowledges
         * none, until it switches to what the install brings.
         */
        default boolean installing()
        {
            return false;
        }

        /** A message of the cluster schema that consensus does not handle (the install's). */
        default void onOtherMessage(final int templateId, final DirectBuffer buffer, final int offset, final int length)
        {
        }
    }

    /** Timeouts and sizes; the same on every member. */
    public record Settings(
        long electionTimeoutNs, long heartbeatIntervalNs, int maxMessageBytes, int maxEntriesInFlight)
    {
        public static Settings defaults()
        {
            return new Settings(300_000_000L, 50_000_000L, 64 * 1024, 8192);
        }
    }

    public static final int NO_LEADER = -1;
    private static final int POLL_LIMIT = 64;
    /** A follower catching up is sent this many messages of the log it lacks per duty cycle, after its live ones. */
    private static final int CATCH_UP_MESSAGES_PER_CYCLE = 2;

    private final int memberId;
    private final int memberCount;
    private final int majority;
    private final Settings settings;
    private final NanoClock clock;
    private final Random random;
    private final ReplicaLink link;
    private final ConsensusLog log;
    private final ElectionState election;
    private final Listener listener;
    private final PlantedBug planted;

    private final MessageHeaderDecoder headerDecoder = new MessageHeaderDecoder();
    private final MessageHeaderEncoder headerEncoder = new MessageHeaderEncoder();
    private final RequestVoteDecoder requestVoteDecoder = new RequestVoteDecoder();
    private final RequestVoteEncoder requestVoteEncoder = new RequestVoteEncoder();
    private final VoteDecoder voteDecoder = new VoteDecoder();
    private final VoteEncoder voteEncoder = new VoteEncoder();
    private final AppendEntriesDecoder appendDecoder = new AppendEntriesDecoder();
    private final AppendEntriesEncoder appendEncoder = new AppendEntriesEncoder();
    private final AppendResponseDecoder responseDecoder = new AppendResponseDecoder();
    private final AppendResponseEncoder responseEncoder = new AppendResponseEncoder();
    private final TimeoutNowDecoder timeoutNowDecoder = new TimeoutNowDecoder();
    private final TimeoutNowEncoder timeoutNowEncoder = new TimeoutNowEncoder();
    private final UnsafeBuffer sendBuffer;
    private final UnsafeBuffer operatorView = new UnsafeBuffer(0, 0);
    private final ReplicaLink.MessageHandler onMessage = this::onMessage;

    // Entries read for one AppendEntries, before it is encoded (the group's count comes first).
    private final EntryBuffer staged = new EntryBuffer(64 * 1024);
    private final ConsensusLog.EntryVisitor stage = this::stageEntry;

    private Role role = Role.FOLLOWER;
    private int leaderId = NO_LEADER;
    private long commitIndex;
    private long electionDeadlineNs;
    /** Standing for election: when the votes were last asked for, and the request, to ask again. */
    private long votesAskedNs;
    private long votesTerm;
    private boolean votesPreVote;
    private boolean votesTransfer;
    private long lastLeaderContactNs = Long.MIN_VALUE / 2;
    private final boolean[] votes;
    private int votesGranted;

    // A follower's acknowledgement waits for the sync of what it appended.
    private boolean ackPending;
    private long ackMatchIndex;
    private boolean synced = true;

    // A follower catching up holds the leader's live entries that arrive past a gap in its log: neither applied nor
    // acknowledged, until the entries before them arrive; then they join the log at once (docs/cluster.md).
    private final EntryBuffer ahead = new EntryBuffer(64 * 1024);
    private final int aheadMaxBytes;
    private long aheadPrevIndex;
    private long aheadPrevTerm;
    private long aheadTerm;
    private long aheadCommit;
    private long heldAhead;
    private long switches;
    private long acknowledgedAhead;

    // The leader's view of each follower.
    private final long[] nextIndex;
    private final long[] matchIndex;
    private final boolean[] probing;
    private final long[] lastSentNs;
    private final long[] lastHeardNs;
    private final long[] lastProgressNs;
    // A follower that holds entries ahead of its log: the first of them (0: none), and the next live entry to send it.
    private final long[] aheadFrom;
    private final long[] liveNext;
    private final long[] sortScratch;
    private long leaderSinceNs;
    private long quorumCheckAtNs;
    private int transferTarget = NO_LEADER;
    private long transferDeadlineNs;
    private boolean timeoutNowSent;

    private long acknowledgements;

    public Consensus(
        final int memberId,
        final int memberCount,
        final Settings settings,
        final NanoClock clock,
        final Random random,
        final ReplicaLink link,
        final ConsensusLog log,
        final ElectionState election,
        final Listener listener,
        final PlantedBug planted)
    {
        if (memberCount < 1 || memberId < 0 || memberId >= memberCount)
        {
            throw new IllegalArgumentException("member " + memberId + " of " + memberCount);
        }
        this.memberId = memberId;
        this.memberCount = memberCount;
        this.majority = memberCount / 2 + 1;
        this.settings = settings;
        this.clock = clock;
        this.random = random;
        this.link = link;
        this.log = log;
        this.election = election;
        this.listener = listener;
        this.planted = planted;
        sendBuffer = new UnsafeBuffer(new byte[Math.max(settings.maxMessageBytes(), JournalFormat.MAX_OPERATOR_LENGTH) + 1024]);
        votes = new boolean[memberCount];
        nextIndex = new long[memberCount];
        matchIndex = new long[memberCount];
        probing = new boolean[memberCount];
        lastSentNs = new long[memberCount];
        lastHeardNs = new long[memberCount];
        lastProgressNs = new long[memberCount];
        aheadFrom = new long[memberCount];
        liveNext = new long[memberCount];
        sortScratch = new long[memberCount];
        aheadMaxBytes = 64 * settings.maxMessageBytes();
        commitIndex = log.baseIndex();
        resetElectionDeadline();
    }

    public String roleName()
    {
        return "consensus-" + memberId;
    }

    public int doWork() throws IOException
    {
        int work = link.poll(onMessage, POLL_LIMIT);
        work += acknowledgeDurable();
        final long now = clock.nanoTime();
        if (role == Role.LEADER)
        {
            work += lead(now);
        }
        else if (now >= electionDeadlineNs)
        {
            if (memberCount == 1)
            {
                becomeCandidate(false);
            }
            else
            {
                becomePreCandidate();
            }
            work++;
        }
        else if (role != Role.FOLLOWER && now - votesAskedNs >= settings.heartbeatIntervalNs())
        {
            work += askForVotesAgain(now);
        }
        return work;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Elections

    /**
     * A follower stands after between T and 1.5T without a leader (T the election timeout). The range is narrow so that
     * the last of two members to time out is not much later than the first (a failover waits for the first member
     * that can win); wide enough that two rarely stand within a round trip of each other, and a split vote costs
     * little ({@link #resetCandidacyDeadline}).
     */
    private void resetElectionDeadline()
    {
        final long timeout = settings.electionTimeoutNs();
        electionDeadlineNs = clock.nanoTime() + timeout + (long)(random.nextDouble() * (timeout / 2));
    }

    /**
     * A candidate that has not won within T/4 to T/2 (votes split, or lost) stands again, with a pre-vote. No leader
     * can be unseated by it: while one leads, its followers refuse the pre-vote. A quarter of an election timeout is
     * many round trips and vote syncs; waiting a whole timeout would double a failover after a split vote.
     */
    private void resetCandidacyDeadline()
    {
        final long quarter = settings.electionTimeoutNs() / 4;
        electionDeadlineNs = clock.nanoTime() + quarter + (long)(random.nextDouble() * quarter);
    }

    private void becomePreCandidate()
    {
        role = Role.PRE_CANDIDATE;
        leaderId = NO_LEADER;
        resetElectionDeadline();
        clearVotes();
        sendRequestVotes(election.term() + 1, true, false);
    }

    private void becomeCandidate(final boolean transfer) throws IOException
    {
        final long term = election.term() + 1;
        election.store(term, memberId);
        role = Role.CANDIDATE;
        leaderId = NO_LEADER;
        resetCandidacyDeadline();
        clearVotes();
        listener.onRoleChange(role, term, NO_LEADER);
        if (memberCount == 1)
        {
            becomeLeader();
            return;
        }
        sendRequestVotes(term, false, transfer);
    }

    private void clearVotes()
    {
        Arrays.fill(votes, false);
        votes[memberId] = true;
        votesGranted = 1;
    }

    private void sendRequestVotes(final long term, final boolean preVote, final boolean transfer)
    {
        votesAskedNs = clock.nanoTime();
        votesTerm = term;
        votesPreVote = preVote;
        votesTransfer = transfer;
        encodeRequestVote(term, preVote, transfer);
        broadcast(MessageHeaderEncoder.ENCODED_LENGTH + requestVoteEncoder.encodedLength());
    }

    /**
     * Standing, it asks again each heartbeat interval those that have not granted their vote. A member that heard the
     * old leader a little later than this one ignores a request until a whole election timeout has passed since
     * (leader stickiness), often by only a few ms; without asking again, that would cost a whole new round, up to
     * one and a half election timeouts more. Asking again changes no term, and a vote already given is given again.
     */
    private int askForVotesAgain(final long now)
    {
        votesAskedNs = now;
        encodeRequestVote(votesTerm, votesPreVote, votesTransfer);
        final int length = MessageHeaderEncoder.ENCODED_LENGTH + requestVoteEncoder.encodedLength();
        int asked = 0;
        for (int m = 0; m < memberCount; m++)
        {
            if (m != memberId && !votes[m])
            {
                link.send(m, sendBuffer, 0, length);
                asked++;
            }
        }
        return asked;
    }

    private void encodeRequestVote(final long term, final boolean preVote, final boolean transfer)
    {
        requestVoteEncoder.wrapAndApplyHeader(sendBuffer, 0, headerEncoder)
            .term(term)
            .lastLogIndex(log.lastIndex())
            .lastLogTerm(log.lastTerm())
            .candidateId(memberId)
            .preVote(preVote ? Flag.TRUE : Flag.FALSE)
            .transfer(transfer ? Flag.TRUE : Flag.FALSE);
    }

    private void onRequestVote(final RequestVoteDecoder request) throws IOException
    {
        final long term = request.term();
        final int candidate = request.candidateId();
        final boolean preVote = request.preVote() == Flag.TRUE;
        if (candidate < 0 || candidate >= memberCount || candidate == memberId)
        {
            return;
        }
        // Leader stickiness: while a leader is heard, nobody unseats it, save on the leader's own request.
        final boolean leaderHeard = role == Role.LEADER ||
            clock.nanoTime() - lastLeaderContactNs < settings.electionTimeoutNs();
        if (leaderHeard && request.transfer() != Flag.TRUE && term > election.term())
        {
            return;
        }
        final boolean upToDate = request.lastLogTerm() > log.lastTerm() ||
            (request.lastLogTerm() == log.lastTerm() && request.lastLogIndex() >= log.lastIndex());
        if (preVote)
        {
            final boolean granted = term > election.term() && upToDate;
            sendVote(candidate, granted ? term : election.term(), granted, true);
            if (!upToDate && !leaderHeard && role == Role.FOLLOWER)
            {
                // The leader is gone for both, and the one asking cannot win against this log: stand now rather than
                // leave the election to this member's own timeout, up to another election timeout away.
                electionDeadlineNs = clock.nanoTime();
            }
            return;
        }
        if (term > election.term())
        {
            // A vote in a newer term is stored with the term: one write of the election state (two syncs), not two.
            stepDown(term, upToDate ? candidate : ElectionState.NO_VOTE);
        }
        final int votedFor = election.votedFor();
        final boolean mayVote = votedFor == ElectionState.NO_VOTE || votedFor == candidate ||
            planted == PlantedBug.DOUBLE_VOTE;
        final boolean granted = term == election.term() && mayVote && upToDate;
        if (granted)
        {
            if (votedFor != candidate && !(planted == PlantedBug.DOUBLE_VOTE && votedFor != ElectionState.NO_VOTE))
            {
                election.store(term, candidate);
            }
            resetElectionDeadline();
        }
        sendVote(candidate, election.term(), granted, false);
    }

    private void sendVote(final int candidate, final long term, final boolean granted, final boolean preVote)
    {
        voteEncoder.wrapAndApplyHeader(sendBuffer, 0, headerEncoder)
            .term(term)
            .voterId(memberId)
            .granted(granted ? Flag.TRUE : Flag.FALSE)
            .preVote(preVote ? Flag.TRUE : Flag.FALSE);
        link.send(candidate, sendBuffer, 0, MessageHeaderEncoder.ENCODED_LENGTH + voteEncoder.encodedLength());
    }

    private void onVote(final VoteDecoder vote) throws IOException
    {
        final int voter = vote.voterId();
        if (voter < 0 || voter >= memberCount || voter == memberId)
        {
            return;
        }
        final boolean preVote = vote.preVote() == Flag.TRUE;
        final boolean granted = vote.granted() == Flag.TRUE;
        if (preVote)
        {
            if (role == Role.PRE_CANDIDATE && granted && vote.term() == election.term() + 1 && !votes[voter])
            {
                votes[voter] = true;
                if (++votesGranted >= majority)
                {
                    becomeCandidate(false);
                }
            }
            else if (!granted && vote.term() > election.term())
            {
                stepDown(vote.term());
            }
            return;
        }
        if (vote.term() > election.term())
        {
            stepDown(vote.term());
            return;
        }
        if (role == Role.CANDIDATE && granted && vote.term() == election.term() && !votes[voter])
        {
            votes[voter] = true;
            if (++votesGranted >= majority)
            {
                becomeLeader();
            }
        }
    }

    private void onTimeoutNow(final TimeoutNowDecoder timeoutNow) throws IOException
    {
        if (timeoutNow.term() == election.term() && timeoutNow.leaderId() == leaderId && role == Role.FOLLOWER)
        {
            becomeCandidate(true);
        }
    }

    /** Adopts a newer term (durably, with no vote in it) and follows whoever leads it. */
    private void stepDown(final long term) throws IOException
    {
        stepDown(term, ElectionState.NO_VOTE);
    }

    /** Follows from now on, in {@code term} if newer, having given its vote in it to {@code vote} (or none). */
    private void stepDown(final long term, final int vote) throws IOException
    {
        if (term > election.term())
        {
            election.store(term, vote);
        }
        final boolean changed = role != Role.FOLLOWER;
        role = Role.FOLLOWER;
        leaderId = NO_LEADER;
        ahead.clear();
        transferTarget = NO_LEADER;
        resetElectionDeadline();
        if (changed)
        {
            listener.onRoleChange(Role.FOLLOWER, election.term(), NO_LEADER);
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Leading

    private void becomeLeader()
    {
        role = Role.LEADER;
        leaderId = memberId;
        final long now = clock.nanoTime();
        leaderSinceNs = now;
        quorumCheckAtNs = now + settings.electionTimeoutNs();
        transferTarget = NO_LEADER;
        for (int m = 0; m < memberCount; m++)
        {
            nextIndex[m] = log.lastIndex() + 1;
            // Unknown until the follower says: it may hold less than this log's base (then it needs an install).
            matchIndex[m] = 0;
            probing[m] = true;
            lastSentNs[m] = Long.MIN_VALUE / 2;
            lastHeardNs[m] = now;
            lastProgressNs[m] = now;
            aheadFrom[m] = 0;
            liveNext[m] = 0;
        }
        // The host puts its NewLeaderTerm entry in the log now: the leader commits only through an entry of its term.
        listener.onRoleChange(Role.LEADER, election.term(), memberId);
    }

    private int lead(final long now) throws IOException
    {
        int work = 0;
        if (now >= quorumCheckAtNs)
        {
            if (!quorumHeard(now))
            {
                stepDown(election.term());
                return 1;
            }
            quorumCheckAtNs = now + settings.electionTimeoutNs();
        }
        if (transferTarget != NO_LEADER && now >= transferDeadlineNs)
        {
            transferTarget = NO_LEADER;
        }
        for (int m = 0; m < memberCount; m++)
        {
            if (m != memberId)
            {
                work += replicateTo(m, now);
            }
        }
        work += advanceCommit();
        if (transferTarget != NO_LEADER && !timeoutNowSent && matchIndex[transferTarget] == log.lastIndex())
        {
            timeoutNowEncoder.wrapAndApplyHeader(sendBuffer, 0, headerEncoder)
                .term(election.term())
                .leaderId(memberId);
            timeoutNowSent = link.send(transferTarget, sendBuffer, 0,
                MessageHeaderEncoder.ENCODED_LENGTH + timeoutNowEncoder.encodedLength());
            work++;
        }
        return work;
    }

    /** Check-quorum: a leader that has not heard a majority within an election timeout steps down. */
    private boolean quorumHeard(final long now)
    {
        int heard = 1;
        for (int m = 0; m < memberCount; m++)
        {
            if (m != memberId && now - lastHeardNs[m] < settings.electionTimeoutNs())
            {
                heard++;
            }
        }
        return heard >= majority;
    }

    /**
     * Sends what follower {@code m} lacks. Replicating, it pipelines batches up to the in-flight bound; probing (just
     * elected, or after a refusal or a silence), one message at a time until an answer says where the logs match.
     * With nothing to send, a heartbeat every heartbeat interval.
     */
    private int replicateTo(final int m, final long now) throws IOException
    {
        if (!probing[m] && nextIndex[m] > matchIndex[m] + 1 &&
            now - lastProgressNs[m] >= settings.electionTimeoutNs())
        {
            // Sent but unanswered for an election timeout: lost somewhere; start again from what is known to match.
            // Not sooner: a follower that writes a long catch-up to a slow disk acknowledges late, and a loss shows
            // sooner anyway, as the gap the next message or heartbeat finds.
            probing[m] = true;
            nextIndex[m] = matchIndex[m] + 1;
        }
        int work = 0;
        // Catching up, it is sent the log up to the entries it holds ahead, and new entries keep going to it live.
        final long through = aheadFrom[m] > 0 ? aheadFrom[m] - 1 : log.lastIndex();
        if (aheadFrom[m] > 0 && log.holds(nextIndex[m]))
        {
            work += sendLive(m, now);
        }
        if (probing[m])
        {
            if (now - lastSentNs[m] >= settings.heartbeatIntervalNs())
            {
                sendAppend(m, nextIndex[m], through, false, now);
                work++;
            }
            return work;
        }
        int sentBatches = 0;
        final int batches = aheadFrom[m] > 0 ? CATCH_UP_MESSAGES_PER_CYCLE : Integer.MAX_VALUE;
        while (sentBatches < batches && nextIndex[m] <= through &&
            nextIndex[m] - matchIndex[m] <= settings.maxEntriesInFlight())
        {
            final int sent = sendAppend(m, nextIndex[m], through, false, now);
            if (sent <= 0)
            {
                break;
            }
            nextIndex[m] += sent;
            sentBatches++;
        }
        if (sentBatches == 0 && now - lastSentNs[m] >= settings.heartbeatIntervalNs())
        {
            sendAppend(m, nextIndex[m], through, false, now);
            sentBatches++;
        }
        return work + sentBatches;
    }

    /** New entries for a follower that is catching up: it holds them ahead of its log until the rest arrives. */
    private int sendLive(final int m, final long now) throws IOException
    {
        int work = 0;
        while (liveNext[m] <= log.lastIndex() && liveNext[m] - matchIndex[m] <= settings.maxEntriesInFlight())
        {
            final int sent = sendAppend(m, liveNext[m], log.lastIndex(), true, now);
            if (sent <= 0)
            {
                break;
            }
            liveNext[m] += sent;
            work++;
        }
        return work;
    }

    /**
     * Sends follower {@code m} the entries from {@code from} through at most {@code through} (none when it has them
     * all) after the entry before it; {@code live} when they are new entries for a follower that is catching up.
     *
     * @return how many entries were sent; -1 when the link pushed back.
     */
    private int sendAppend(final int m, final long from, final long through, final boolean live, final long now)
        throws IOException
    {
        long prevIndex = from - 1;
        long prevTerm = log.termAt(prevIndex);
        final boolean installNeeded = prevTerm < 0 || !log.holds(from);
        if (installNeeded)
        {
            // The follower needs entries this log no longer holds: only a full install brings it back. A heartbeat
            // still goes, so that it knows its leader (and takes the install from it) and does not stand. It names
            // the commit index, which a follower matches only if it holds all the log it needs after all. Not the
            // base: a rotation since the log opened took entries after it, and a follower that matched the base
            // would acknowledge, and so give up its install, while still lacking them.
            listener.onInstallNeeded(m);
            prevIndex = commitIndex;
            prevTerm = log.termAt(prevIndex);
        }
        staged.clear();
        final int count = installNeeded ? 0 : log.read(from, through, settings.maxMessageBytes(), stage);
        appendEncoder.wrapAndApplyHeader(sendBuffer, 0, headerEncoder)
            .term(election.term())
            .prevIndex(prevIndex)
            .prevTerm(prevTerm)
            .commitIndex(commitIndex)
            .leaderId(memberId)
            .live(live ? Flag.TRUE : Flag.FALSE);
        final AppendEntriesEncoder.EntriesEncoder entries = appendEncoder.entriesCount(count);
        for (int i = 0; i < count; i++)
        {
            entries.next()
                .term(staged.term(i))
                .timestampMs(staged.timestampMs(i))
                .putEntryOperator(staged.operators(), staged.offset(i), staged.length(i));
        }
        if (!link.send(m, sendBuffer, 0, MessageHeaderEncoder.ENCODED_LENGTH + appendEncoder.encodedLength()))
        {
            return -1;
        }
        lastSentNs[m] = now;
        return count;
    }

    private void stageEntry(
        final long index, final long term, final long timestampMs, final DirectBuffer operator, final int offset,
        final int length)
    {
        staged.add(term, timestampMs, operator, offset, length);
    }

    private void onAppendResponse(final AppendResponseDecoder response) throws IOException
    {
        final int m = response.followerId();
        if (m < 0 || m >= memberCount || m == memberId)
        {
            return;
        }
        if (response.term() > election.term())
        {
            stepDown(response.term());
            return;
        }
        if (role != Role.LEADER || response.term() != election.term())
        {
            return;
        }
        final long now = clock.nanoTime();
        lastHeardNs[m] = now;
        if (response.success() == Flag.TRUE)
        {
            final long match = response.matchIndex();
            if (match > matchIndex[m])
            {
                matchIndex[m] = match;
                lastProgressNs[m] = now;
            }
            final boolean probed = probing[m];
            if (probing[m])
            {
                probing[m] = false;
                nextIndex[m] = matchIndex[m] + 1;
            }
            nextIndex[m] = Math.max(nextIndex[m], matchIndex[m] + 1);
            noteHeldAhead(m, response.aheadFrom());
            if (probed && aheadFrom[m] == 0 && nextIndex[m] <= log.lastIndex())
            {
                // Found where it stands, and it lacks more than the probe brought: it catches up. The log it lacks
                // up to now goes as catch-up; newer entries go to it live, and it holds them ahead of its log.
                liveNext[m] = log.lastIndex() + 1;
                aheadFrom[m] = liveNext[m];
            }
        }
        else if (response.aheadFrom() > 0 && response.aheadFrom() == aheadFrom[m])
        {
            // It holds the live entries from where they were meant to begin: catch-up goes on (if part of it was
            // lost, the silence that follows starts it again from what it acknowledged).
            return;
        }
        else
        {
            noteHeldAhead(m, response.aheadFrom());
            probing[m] = true;
            if (response.lastIndex() < matchIndex[m])
            {
                // It holds less than it acknowledged: its disk was lost or replaced. What it held no longer counts.
                matchIndex[m] = Math.max(0, response.lastIndex());
            }
            final long retryFrom = response.lastIndex() + 1;
            nextIndex[m] = Math.max(matchIndex[m] + 1, Math.min(nextIndex[m], retryFrom));
            if (!log.holds(nextIndex[m]) && log.holds(retryFrom))
            {
                // Its log ends where this one is held again: it restarted on a full install. It goes on from there.
                nextIndex[m] = Math.max(matchIndex[m] + 1, retryFrom);
            }
            if (log.holds(nextIndex[m]))
            {
                // Try again at once. One that needs an install hears a heartbeat each interval instead: an answer to
                // each at once would only say again that it needs one, as fast as the network carries it.
                lastSentNs[m] = Long.MIN_VALUE / 2;
            }
            lastProgressNs[m] = now;
        }
    }

    /**
     * What follower {@code m} says it holds ahead of its log: from {@code heldFrom} on (0: nothing). Then the log
     * before those entries goes to it as catch-up, and new entries keep going to it live; once its log reaches where
     * they begin, replication goes on as usual (after the live entries, when it switched to them).
     */
    private void noteHeldAhead(final int m, final long heldFrom)
    {
        final long sentUpTo = Math.max(nextIndex[m], liveNext[m]);
        if (heldFrom > matchIndex[m] && heldFrom <= sentUpTo)
        {
            aheadFrom[m] = heldFrom;
            liveNext[m] = sentUpTo;
        }
        else if (aheadFrom[m] > 0 && matchIndex[m] + 1 >= aheadFrom[m])
        {
            // Caught up to where the live entries begin: it switched to them, or holds none and takes them as usual.
            if (matchIndex[m] >= aheadFrom[m])
            {
                nextIndex[m] = Math.max(nextIndex[m], liveNext[m]);
            }
            aheadFrom[m] = 0;
            liveNext[m] = 0;
        }
    }

    /** The commit index: the highest index durable on a majority, once one entry of this term is among them. */
    private int advanceCommit()
    {
        final long candidate;
        if (planted == PlantedBug.COMMIT_WITHOUT_MAJORITY)
        {
            candidate = log.durableIndex();
        }
        else
        {
            for (int m = 0; m < memberCount; m++)
            {
                sortScratch[m] = m == memberId ? log.durableIndex() : matchIndex[m];
            }
            Arrays.sort(sortScratch);
            candidate = sortScratch[memberCount - majority];
        }
        if (candidate > commitIndex && log.termAt(candidate) == election.term())
        {
            commitIndex = candidate;
            return 1;
        }
        return 0;
    }

    /**
     * Hands leadership to {@code member}: new entries should wait (the host checks {@link #transferring()}), the
     * target is brought up to date, then told to stand at once. Gives up after an election timeout.
     *
     * @return false when this member is not the leader or {@code member} is not another member.
     */
    public boolean transferLeadership(final int member)
    {
        if (role != Role.LEADER || member < 0 || member >= memberCount || member == memberId)
        {
            return false;
        }
        transferTarget = member;
        transferDeadlineNs = clock.nanoTime() + settings.electionTimeoutNs();
        timeoutNowSent = false;
        return true;
    }

    /** Whether a leadership transfer is under way: the host holds new entries back meanwhile. */
    public boolean transferring()
    {
        return transferTarget != NO_LEADER;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Following

    private void onAppendEntries(final AppendEntriesDecoder append) throws IOException
    {
        final long term = append.term();
        final int leader = append.leaderId();
        if (leader < 0 || leader >= memberCount || leader == memberId)
        {
            return;
        }
        if (term < election.term())
        {
            // A stale leader: the answer tells it the newer term.
            sendResponse(leader, false, 0, log.lastIndex(), 0);
            return;
        }
        if (term > election.term() || role != Role.FOLLOWER)
        {
            stepDown(term);
        }
        if (leaderId != leader)
        {
            // An acknowledgement still pending, and entries held ahead, were another leader's.
            ackPending = false;
            ahead.clear();
            leaderId = leader;
            listener.onRoleChange(Role.FOLLOWER, term, leader);
        }
        lastLeaderContactNs = clock.nanoTime();
        resetElectionDeadline();
        if (!log.writable())
        {
            // Its own entries as a leader are still on the way to its journal: the leader sends these again.
            return;
        }
        if (listener.installing())
        {
            // The answer only says where this log ends (the leader goes on with the install) and that it is alive.
            sendResponse(leader, false, 0, log.lastIndex(), 0);
            return;
        }

        final long prevIndex = append.prevIndex();
        final long prevTerm = append.prevTerm();
        final long leaderCommit = append.commitIndex();
        // What is committed here matches the leader's log by Raft's guarantee: below the base it cannot be checked.
        final boolean prevCommitted = prevIndex <= Math.max(commitIndex, log.baseIndex());
        if (!prevCommitted && (prevIndex > log.lastIndex() || log.termAt(prevIndex) != prevTerm))
        {
            if (prevIndex > log.lastIndex() && append.live() == Flag.TRUE &&
                holdAhead(term, prevIndex, prevTerm, leaderCommit, append.entries()))
            {
                // Held with those before them: the leader knows where they start, and nothing is acknowledged.
                return;
            }
            // A gap says what is held ahead of it; a conflict only where to try next.
            final boolean gap = prevIndex > log.lastIndex();
            final long retryFrom = gap ? log.lastIndex() : Math.max(commitIndex, log.termStart(prevIndex) - 1);
            sendResponse(leader, false, 0, retryFrom, gap && ahead.count() > 0 ? aheadPrevIndex + 1 : 0);
            return;
        }
        long index = prevIndex;
        final AppendEntriesDecoder.EntriesDecoder entries = append.entries();
        while (entries.hasNext())
        {
            entries.next();
            entries.wrapEntryOperator(operatorView);
            appendEntry(++index, entries.term(), entries.timestampMs(), operatorView, 0, operatorView.capacity());
        }
        // Entries after `index` may be another leader's, not yet overridden: only up to `index` is known to match.
        matched(index, leaderCommit);
        switchToEntriesHeldAhead();
    }

    /** Appends the leader's entry at {@code index}, truncating a conflicting suffix; skips one it holds already. */
    private void appendEntry(
        final long index, final long entryTerm, final long timestampMs, final DirectBuffer operator, final int offset,
        final int length) throws IOException
    {
        if (index <= Math.max(commitIndex, log.baseIndex()))
        {
            return;
        }
        if (index <= log.lastIndex())
        {
            if (log.termAt(index) == entryTerm)
            {
                return;
            }
            log.truncateAfter(index - 1);
        }
        log.append(index, entryTerm, timestampMs, operator, offset, length);
        synced = false;
    }

    /** This log matches the leader's through {@code index}: commit what the leader did there, acknowledge once synced. */
    private void matched(final long index, final long leaderCommit)
    {
        commitIndex = Math.max(commitIndex, Math.min(leaderCommit, index));
        if (!ackPending || index > ackMatchIndex)
        {
            ackMatchIndex = index;
        }
        ackPending = true;
    }

    /**
     * Keeps the live entries of an AppendEntries that follows a gap in this log, after those held already; a later
     * run replaces the one held (what lies between comes as catch-up), an earlier one is passed over.
     *
     * @return true when they continue, repeat or precede what is held; false when they start a new run, or there are
     * none, and the leader must be told where this log ends and what it holds.
     */
    private boolean holdAhead(
        final long term, final long prevIndex, final long prevTerm, final long leaderCommit,
        final AppendEntriesDecoder.EntriesDecoder entries)
    {
        if (entries.count() == 0)
        {
            return false;
        }
        final int held = ahead.count();
        final long heldLast = aheadPrevIndex + held;
        final boolean sameRun = held > 0 && aheadTerm == term;
        if (sameRun && prevIndex + entries.count() <= heldLast)
        {
            return true;
        }
        final boolean continues = sameRun && prevIndex == heldLast && prevTerm == ahead.term(held - 1);
        if (!continues)
        {
            ahead.clear();
            aheadPrevIndex = prevIndex;
            aheadPrevTerm = prevTerm;
            aheadTerm = term;
            aheadCommit = 0;
        }
        while (entries.hasNext())
        {
            entries.next();
            entries.wrapEntryOperator(operatorView);
            if (ahead.count() >= settings.maxEntriesInFlight() || ahead.bytes() + operatorView.capacity() > aheadMaxBytes)
            {
                break;
            }
            ahead.add(entries.term(), entries.timestampMs(), operatorView, 0, operatorView.capacity());
            heldAhead++;
        }
        aheadCommit = Math.max(aheadCommit, leaderCommit);
        return continues;
    }

    /** The seed's switch: once the log reaches the entries held ahead, they join it at once and are acknowledged. */
    private void switchToEntriesHeldAhead() throws IOException
    {
        if (ahead.count() == 0 || log.lastIndex() < aheadPrevIndex)
        {
            return;
        }
        if (aheadTerm != election.term() ||
            (aheadPrevIndex > Math.max(commitIndex, log.baseIndex()) && log.termAt(aheadPrevIndex) != aheadPrevTerm))
        {
            // The log before them is not what their leader's was: they cannot follow it.
            ahead.clear();
            return;
        }
        long index = aheadPrevIndex;
        for (int i = 0; i < ahead.count(); i++)
        {
            appendEntry(++index, ahead.term(i), ahead.timestampMs(i), ahead.operators(), ahead.offset(i),
                ahead.length(i));
        }
        matched(index, aheadCommit);
        ahead.clear();
        switches++;
    }

    /** A follower acknowledges only what it has synced: one sync for all the messages of a duty cycle. */
    private int acknowledgeDurable() throws IOException
    {
        if (!ackPending)
        {
            return 0;
        }
        if (!synced)
        {
            log.sync();
            synced = true;
        }
        ackPending = false;
        if (role == Role.FOLLOWER && leaderId != NO_LEADER)
        {
            final long match = Math.min(ackMatchIndex, log.durableIndex());
            if (ahead.count() > 0 && match > aheadPrevIndex)
            {
                acknowledgedAhead++;
            }
            sendResponse(leaderId, true, match, log.lastIndex(), ahead.count() > 0 ? aheadPrevIndex + 1 : 0);
            acknowledgements++;
        }
        return 1;
    }

    private void sendResponse(
        final int leader, final boolean success, final long match, final long lastIndex, final long aheadFrom)
    {
        responseEncoder.wrapAndApplyHeader(sendBuffer, 0, headerEncoder)
            .term(election.term())
            .matchIndex(match)
            .lastIndex(lastIndex)
            .followerId(memberId)
            .success(success ? Flag.TRUE : Flag.FALSE)
            .aheadFrom(aheadFrom);
        link.send(leader, sendBuffer, 0, MessageHeaderEncoder.ENCODED_LENGTH + responseEncoder.encodedLength());
    }

    // ---------------------------------------------------------------------------------------------------------------

    private void onMessage(final DirectBuffer buffer, final int offset, final int length)
    {
        if (length < MessageHeaderDecoder.ENCODED_LENGTH)
        {
            return;
        }
        headerDecoder.wrap(buffer, offset);
        if (headerDecoder.schemaId() != MessageHeaderDecoder.SCHEMA_ID)
        {
            return;
        }
        final int body = offset + MessageHeaderDecoder.ENCODED_LENGTH;
        final int blockLength = headerDecoder.blockLength();
        final int version = headerDecoder.version();
        try
        {
            switch (headerDecoder.templateId())
            {
                case RequestVoteDecoder.TEMPLATE_ID:
                    onRequestVote(requestVoteDecoder.wrap(buffer, body, blockLength, version));
                    break;
                case VoteDecoder.TEMPLATE_ID:
                    onVote(voteDecoder.wrap(buffer, body, blockLength, version));
                    break;
                case AppendEntriesDecoder.TEMPLATE_ID:
                    onAppendEntries(appendDecoder.wrap(buffer, body, blockLength, version));
                    break;
                case AppendResponseDecoder.TEMPLATE_ID:
                    onAppendResponse(responseDecoder.wrap(buffer, body, blockLength, version));
                    break;
                case TimeoutNowDecoder.TEMPLATE_ID:
                    onTimeoutNow(timeoutNowDecoder.wrap(buffer, body, blockLength, version));
                    break;
                default:
                    listener.onOtherMessage(headerDecoder.templateId(), buffer, offset, length);
                    break;
            }
        }
        catch (final IOException ex)
        {
            throw new ConsensusIoException(ex);
        }
    }

    private void broadcast(final int length)
    {
        for (int m = 0; m < memberCount; m++)
        {
            if (m != memberId)
            {
                link.send(m, sendBuffer, 0, length);
            }
        }
    }

    public Role role()
    {
        return role;
    }

    public long term()
    {
        return election.term();
    }

    /** The member this one follows, itself when it leads, or {@link #NO_LEADER}. */
    public int leaderId()
    {
        return leaderId;
    }

    /**
     * Whether this member leads, or follows a leader heard from within two heartbeat intervals: a leader silent for
     * longer may be dead, and clients are better held than sent to it.
     */
    public boolean hearsLeader()
    {
        return role == Role.LEADER ||
            (leaderId != NO_LEADER && clock.nanoTime() - lastLeaderContactNs < 2 * settings.heartbeatIntervalNs());
    }

    /** The highest index known committed: a follower may apply entries up to it that it holds durably. */
    public long commitIndex()
    {
        return commitIndex;
    }

    /** Leading: the last index {@code follower} has acknowledged holding durably, as this leader knows it. */
    public long matchIndex(final int follower)
    {
        return matchIndex[follower];
    }

    /** Entries acknowledged to a leader (successful AppendResponses sent). */
    public long acknowledgements()
    {
        return acknowledgements;
    }

    public int memberId()
    {
        return memberId;
    }

    /**
     * One line for people: role, term, leader, log and commit; a leader adds each follower's next, match, how long
     * ago it was heard, and catch-up (the first entry it holds ahead and the next live one); a follower what it holds
     * ahead.
     */
    public String describe()
    {
        final StringBuilder line = new StringBuilder()
            .append("member ").append(memberId).append(' ').append(role).append(" term=").append(election.term())
            .append(" leader=").append(leaderId).append(" last=").append(log.lastIndex())
            .append(" durable=").append(log.durableIndex()).append(" commit=").append(commitIndex);
        if (role == Role.LEADER)
        {
            for (int m = 0; m < memberCount; m++)
            {
                if (m != memberId)
                {
                    line.append(" [").append(m).append(" next=").append(nextIndex[m]).append(" match=")
                        .append(matchIndex[m]).append(probing[m] ? " probing" : "").append(" heard=")
                        .append((clock.nanoTime() - lastHeardNs[m]) / 1_000_000).append("ms");
                    if (aheadFrom[m] > 0)
                    {
                        line.append(" aheadFrom=").append(aheadFrom[m]).append(" liveNext=").append(liveNext[m]);
                    }
                    line.append(']');
                }
            }
        }
        else if (ahead.count() > 0)
        {
            line.append(" ahead=").append(aheadPrevIndex + 1).append("..").append(aheadPrevIndex + ahead.count());
        }
        return line.toString();
    }

    /**
     * Leading: followers being sent the log they lack, with live entries going to them ahead of it. Following: 1
     * while it holds live entries ahead of its log.
     */
    public int catchingUp()
    {
        if (role != Role.LEADER)
        {
            return ahead.count() > 0 ? 1 : 0;
        }
        int followers = 0;
        for (int m = 0; m < memberCount; m++)
        {
            followers += m != memberId && aheadFrom[m] > 0 ? 1 : 0;
        }
        return followers;
    }

    /** Entries this follower held ahead of its log while catching up (all so far). */
    public long entriesHeldAhead()
    {
        return heldAhead;
    }

    /** Times this follower's log reached the entries it held ahead, and they joined it. */
    public long switches()
    {
        return switches;
    }

    /** Acknowledgements that covered an entry while it was held ahead: the seed says none (a check, always 0). */
    public long acknowledgedAhead()
    {
        return acknowledgedAhead;
    }

    /** Thrown through the link's handler when the disk fails under an election or follower step. */
    public static final class ConsensusIoException extends RuntimeException
    {
        public ConsensusIoException(final IOException cause)
        {
            super(cause.getMessage(), cause);
        }
    }
}
