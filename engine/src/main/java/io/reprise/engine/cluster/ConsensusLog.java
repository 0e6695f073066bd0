package io.reprise.engine.cluster;

import java.io.IOException;

import org.agrona.DirectBuffer;

/**
 * What consensus needs of a member's log: positions and terms for log matching and elections, appending and
 * truncating on a follower, syncing before an acknowledgement, and reading entries for the leader to send. The
 * log holds the entries after {@link #baseIndex()} (the newest snapshot's index); the entry at the base itself is
 * known only by its term.
 */
public interface ConsensusLog
{
    /** Takes one entry read from the log; the buffer is valid only during the call. */
    @FunctionalInterface
    interface EntryVisitor
    {
        void onEntry(long index, long term, long timestampMs, DirectBuffer operator, int offset, int length);
    }

    /** The index of the entry the log starts after (a snapshot's), 0 for a log that starts at 1. */
    long baseIndex();

    long lastIndex();

    long lastTerm();

    /** The term of the entry at {@code index}: the base's term at {@link #baseIndex()}, -1 outside the log. */
    long termAt(long index);

    /**
     * The first index of the run of entries that share the term of the entry at {@code index} (at least
     * {@link #baseIndex()} + 1): a follower that finds a conflict at {@code index} names the start of that term, so
     * the leader skips the whole conflicting term at once.
     */
    long termStart(long index);

    /**
     * Whether {@link #read} can give the entry at {@code index} (or it is the next one to come): after the base, and
     * not deleted by a rotation of the log. A follower that needs an entry the log does not hold needs a full install.
     */
    boolean holds(long index);

    /**
     * Whether a follower may write the log now. A member that stopped leading may still have its own entries on the
     * way to its journal; until they are written the journal is not consensus's to write.
     */
    default boolean writable()
    {
        return true;
    }

    /** The last index synced: a member acknowledges or counts nothing above it. */
    long durableIndex();

    /** A follower's append of the leader's entry at {@link #lastIndex()} + 1; durable only after {@link #sync}. */
    void append(long index, long term, long timestampMs, DirectBuffer operator, int offset, int length)
        throws IOException;

    /** Removes every entry after {@code index}: a conflicting suffix the leader overrides; never a committed one. */
    void truncateAfter(long index) throws IOException;

    /** Makes everything appended durable. */
    void sync() throws IOException;

    /**
     * Reads entries from {@code fromIndex} on, through {@code toIndex} at most, stopping before the operators would
     * pass {@code maxBytes} (one entry is always read when there is one).
     *
     * @return how many entries were read; 0 when {@code fromIndex} is above the last or at or below the base.
     */
    int read(long fromIndex, long toIndex, int maxBytes, EntryVisitor visitor) throws IOException;
}
