package io.reprise.engine.node;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class NodeContextTest
{
    @Test
    void shouldRefuseAContainerThatSmallRecordsCouldFillBeforeAFlushIsDue()
    {
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> new NodeContext()
            .storageContainerMaxBytes(64L * 1024 * 1024).storageFlushBytes(8L * 1024 * 1024).conclude());
        assertTrue(ex.getMessage().contains("16 x the flush threshold"), ex.getMessage());
        new NodeContext().storageContainerMaxBytes(128L * 1024 * 1024).storageFlushBytes(8L * 1024 * 1024).conclude();
    }

    @Test
    void shouldRefuseARingThatIsNotAPowerOfTwo()
    {
        assertThrows(IllegalArgumentException.class, () -> new NodeContext().ringSize(1000).conclude());
    }

    @Test
    void shouldRefuseRingCellsTooSmallOrASlabOverOneGibibyte()
    {
        final IllegalArgumentException small =
            assertThrows(IllegalArgumentException.class, () -> new NodeContext().ringCellBytes(32).conclude());
        assertTrue(small.getMessage().startsWith("ring cell bytes must be >= 64"), small.getMessage());
        assertThrows(IllegalArgumentException.class,
            () -> new NodeContext().ringSize(1 << 20).ringCellBytes(2048).conclude());
        new NodeContext().ringSize(1 << 19).ringCellBytes(2048).conclude();
    }
}
