package io.reprise.engine.flow;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SnapshotWarmUpTest
{
    @Test
    void shouldWarmUpTheSnapshotPathCheckingItsViews()
    {
        final int checkedRounds = (130 + SnapshotWarmUp.CHECK_EVERY - 1) / SnapshotWarmUp.CHECK_EVERY;
        assertEquals(1 + SnapshotWarmUp.OPERATORS_WITHOUT_VIEW + checkedRounds * SnapshotWarmUp.OPERATORS_WITH_VIEW,
            SnapshotWarmUp.run(130));
    }
}
