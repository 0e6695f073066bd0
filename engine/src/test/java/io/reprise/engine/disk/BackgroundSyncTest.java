package io.reprise.engine.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class BackgroundSyncTest
{
    /** A clock that moves only when waited on, recording each wait. */
    private static final class FakePace implements Pace
    {
        long nowNs = 1_000;
        final List<Long> waits = new ArrayList<>();

        public long nanoTime()
        {
            return nowNs;
        }

        public void waitNanos(final long nanos)
        {
            waits.add(nanos);
            nowNs += nanos;
        }
    }

    /** Counts the syncs of a file of the simulated disk. */
    private static final class CountingFile extends ForwardingDiskFile
    {
        int syncs;

        CountingFile(final DiskFile file)
        {
            super(file);
        }

        public void sync() throws IOException
        {
            syncs++;
            super.sync();
        }
    }

    private static CountingFile file() throws IOException
    {
        final SimulatedDisk disk = new SimulatedDisk(3);
        disk.createDirectories(Path.of("/d"));
        return new CountingFile(disk.open(Path.of("/d/f"), true));
    }

    @Test
    void shouldSyncOncePerStepAndWaitOutThePace() throws IOException
    {
        final CountingFile file = file();
        final FakePace pace = new FakePace();
        // 1,000 bytes per second, a sync every 100 bytes: each step is due 0.1 s after the one before.
        final BackgroundSync sync = new BackgroundSync(file, 100, 1_000, pace);
        for (int i = 0; i < 25; i++)
        {
            file.write(ByteBuffer.allocate(20), i * 20L);
            sync.written(20);
        }
        assertEquals(5, file.syncs, "500 bytes, a step of 100");
        assertEquals(List.of(100_000_000L, 100_000_000L, 100_000_000L, 100_000_000L, 100_000_000L), pace.waits);

        // Time spent elsewhere counts toward the pace: a step already due waits for nothing.
        pace.nowNs += 1_000_000_000L;
        file.write(ByteBuffer.allocate(100), 500);
        sync.written(100);
        assertEquals(6, file.syncs);
        assertEquals(5, pace.waits.size());
    }

    @Test
    void shouldNotWaitWithoutAPace() throws IOException
    {
        final CountingFile file = file();
        final FakePace pace = new FakePace();
        final BackgroundSync sync = new BackgroundSync(file, 100, 0, pace);
        for (int i = 0; i < 10; i++)
        {
            sync.written(50);
        }
        assertEquals(5, file.syncs);
        assertEquals(List.of(), pace.waits);
    }
}
