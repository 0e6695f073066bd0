package io.reprise.tools.stat;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

import io.aeron.CncFileDescriptor;
import io.reprise.tools.cluster.MemberCounters;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * A CnC file caught while a restarting member's driver makes it, empty or shorter than its metadata says, is a driver
 * still starting: whoever polls the member (the demo, {@code reprise cluster status}) finds no node there, as for a
 * missing file, and does not fail.
 */
class DriverCncTest
{
    @TempDir
    Path dir;

    @Test
    void shouldFindNoDriverWithoutACncFile()
    {
        assertState(DriverCnc.State.ABSENT);
        assertNull(MemberCounters.read(dir.toString()));
        assertEquals(MemberCounters.ABSENT, MemberCounters.compareAndSetControl(dir.toString(), 0, 1));
    }

    @Test
    void shouldFindADriverStartingInAnEmptyCncFile() throws Exception
    {
        Files.createFile(dir.resolve(CncFileDescriptor.CNC_FILE));

        assertState(DriverCnc.State.STARTING);
        assertNull(MemberCounters.read(dir.toString()));
    }

    @Test
    void shouldFindADriverStartingInACncFileShorterThanItsMetadataSays() throws Exception
    {
        final UnsafeBuffer meta = new UnsafeBuffer(ByteBuffer.allocate(CncFileDescriptor.META_DATA_LENGTH * 4));
        CncFileDescriptor.fillMetaData(meta, 1 << 20, 1 << 20, 1 << 20, 1 << 20, 10_000_000_000L, 1 << 16, 0, 1, 4096);
        CncFileDescriptor.signalCncReady(meta);
        Files.write(dir.resolve(CncFileDescriptor.CNC_FILE), meta.byteArray());

        assertState(DriverCnc.State.STARTING);
        assertNull(MemberCounters.read(dir.toString()));
        assertEquals(MemberCounters.ABSENT, MemberCounters.compareAndSetControl(dir.toString(), 0, 1));
    }

    private void assertState(final DriverCnc.State expected)
    {
        try (DriverCnc cnc = DriverCnc.map(dir.toString()))
        {
            assertEquals(expected, cnc.state());
        }
    }
}
