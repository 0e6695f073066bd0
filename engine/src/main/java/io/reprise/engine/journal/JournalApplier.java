package io.reprise.engine.journal;

import io.reprise.engine.flow.BusinessLogicHandler;
import io.reprise.engine.logic.BusinessLogic;
import io.reprise.engine.state.SessionTable;

/**
 * Applies journal records to a business logic with the look-ahead of the business-logic stage
 * ({@link BusinessLogicHandler}): at the start of each window it loads the index slots that the current record and
 * the next ones in the reader's buffer name, then their records, so that the cache misses of the window overlap.
 * Used by recovery. Only reads ahead; what is applied, and in what order, does not change.
 */
public final class JournalApplier
{
    private final BusinessLogic logic;
    private final SessionTable sessions;
    private final int[] homeEntries;
    private final JournalReader.OperatorVisitor prefetcher;
    private int prefetched;
    private int windowLeft;
    /** Sum of what look-ahead read, kept only so that the reads cannot be optimised away. */
    private long touched;

    public JournalApplier(final BusinessLogic logic)
    {
        this.logic = logic;
        this.sessions = logic.sessions();
        this.homeEntries = new int[BusinessLogicHandler.DEFAULT_LOOK_AHEAD];
        this.prefetcher = (buffer, offset, length) -> homeEntries[prefetched++] = logic.prefetch(buffer, offset, length);
    }

    /** Applies the record {@code reader} stands on. */
    public void applyCurrent(final JournalReader reader)
    {
        if (windowLeft == 0)
        {
            prefetched = 0;
            prefetcher.onOperator(reader.buffer(), reader.operatorOffset(), reader.operatorLength());
            reader.peekAhead(homeEntries.length - 1, prefetcher);
            long sum = 0;
            for (int i = 0; i < prefetched; i++)
            {
                sum += sessions.touchHomeEntry(homeEntries[i]);
            }
            touched += sum;
            windowLeft = prefetched;
        }
        logic.apply(reader.index(), reader.term(), reader.entryTimeMs(), reader.buffer(), reader.operatorOffset(),
            reader.operatorLength());
        windowLeft--;
    }
}
