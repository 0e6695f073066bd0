package io.reprise.engine.disk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import io.reprise.engine.disk.SimulatedDisk.Fault;
import io.reprise.engine.disk.SimulatedDisk.Faults;
import io.reprise.engine.disk.SimulatedDisk.IoKind;
import io.reprise.engine.journal.Journal;
import io.reprise.engine.journal.JournalCorruptException;
import io.reprise.engine.journal.JournalFormat;
import io.reprise.engine.journal.JournalReader;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * The fault model of {@link SimulatedDisk} ({@link Faults}): each fault comes at its rate, the same way for the same
 * seed, and as a real disk would have it. Every randomized test takes its seed from {@code -Dreprise.test.seed}
 * (a new one otherwise), prints it, and names it in every failure.
 */
class SimulatedDiskFaultsTest
{
    private static final Path DIR = Path.of("/sim");
    private static final int SECTOR = Disk.SECTOR_BYTES;
    /** Records of the journal in the end-to-end test: some 6 MB, in two segments. */
    private static final int RECORDS = 6_000;

    private static long seed(final TestInfo test)
    {
        final long seed = Long.getLong("reprise.test.seed", System.nanoTime());
        System.out.println("SimulatedDiskFaultsTest." + test.getTestMethod().orElseThrow().getName() + " seed " +
            seed + " (rerun with -Dreprise.test.seed=" + seed + ")");
        return seed;
    }

    private static String at(final long seed)
    {
        return " [seed " + seed + ", rerun with -Dreprise.test.seed=" + seed + "]";
    }

    private static SimulatedDisk disk(final long seed) throws IOException
    {
        final SimulatedDisk disk = new SimulatedDisk(seed);
        disk.createDirectories(DIR);
        disk.syncDirectory(DIR);
        return disk;
    }

    private static byte[] random(final Random random, final int length)
    {
        final byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        return bytes;
    }

    /** A durable file of {@code content}. */
    private static DiskFile durableFile(final SimulatedDisk disk, final String name, final byte[] content)
        throws IOException
    {
        final DiskFile file = disk.open(DIR.resolve(name), true);
        file.write(ByteBuffer.wrap(content), 0);
        file.sync();
        disk.syncDirectory(DIR);
        return file;
    }

    private static byte[] read(final DiskFile file, final long position, final int length) throws IOException
    {
        final ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining() && file.read(buffer, position + buffer.position()) > 0)
        {
            // read fully
        }
        return buffer.array();
    }

    /** Reads the whole file in chunks of {@code chunk} bytes, as a reader of a journal or a snapshot would. */
    private static byte[] readAll(final DiskFile file, final int chunk) throws IOException
    {
        final int length = (int)file.length();
        final byte[] all = new byte[length];
        for (int at = 0; at < length; at += chunk)
        {
            System.arraycopy(read(file, at, Math.min(chunk, length - at)), 0, all, at, Math.min(chunk, length - at));
        }
        return all;
    }

    private static byte[] sector(final byte[] bytes, final int sector)
    {
        return Arrays.copyOfRange(bytes, sector * SECTOR, (sector + 1) * SECTOR);
    }

    private static void assertWithin(final long low, final long high, final long actual, final String what)
    {
        assertTrue(actual >= low && actual <= high, what + ": " + actual + " is not in [" + low + ", " + high + "]");
    }

    // ----------------------------------------------------------------------------------------------- faults off

    @Test
    void shouldDescribeTheRatesAndInjectNothingByDefault() throws IOException
    {
        assertEquals("faults none", Faults.none().describe());
        assertEquals("faults corrupt-sector-read=10ppm misdirected-write=10ppm failed-sync=100ppm " +
            "sync-latency=50000ns(min)/500000ns(mean) slow-sync=1000ppm+200000000ns", Faults.all().describe());
        assertFalse(Faults.none().any());
        assertTrue(Faults.all().any());
        final SimulatedDisk disk = disk(1);
        assertEquals(Faults.none(), disk.faults());
        assertEquals("faults=0 corrupt-sector=0 misdirected-write=0 failed-sync=0 interrupted-sync=0 no-space=0 " +
            "slow-sync=0 lost-writes=0", disk.describeFaultsInjected());
        assertThrows(IllegalArgumentException.class, () -> Faults.none().corruptReadPpm(SimulatedDisk.PPM + 1));
        assertThrows(IllegalArgumentException.class, () -> Faults.none().syncLatencyNanos(10, 5));
    }

    /** With faults off, reads, syncs and writes draw nothing: crashes tear exactly as without the fault model. */
    @Test
    void shouldTearTheSameWithFaultsOffWhateverIsReadOrSynced(final TestInfo test) throws IOException
    {
        final long seed = seed(test);
        final byte[] quiet = crashAfter(seed, false, Faults.none());
        assertArrayEquals(quiet, crashAfter(seed, true, Faults.none()), "reads and syncs changed the draws" + at(seed));
        assertFalse(Arrays.equals(quiet, crashAfter(seed, true, Faults.none().corruptReadPpm(1))),
            "a read fault, even one never injected, draws" + at(seed));
    }

    /**
     * Writes two files sector by sector and syncs them, overwrites them and crashes: what the two files kept. When
     * {@code busy}, a third file is read and synced between the writes.
     */
    private static byte[] crashAfter(final long seed, final boolean busy, final Faults faults) throws IOException
    {
        final SimulatedDisk disk = disk(seed).faults(faults);
        final Random content = new Random(42);
        final DiskFile other = durableFile(disk, "other", random(content, 64 * SECTOR));
        final DiskFile a = disk.open(DIR.resolve("a"), true);
        final DiskFile b = disk.open(DIR.resolve("b"), true);
        disk.syncDirectory(DIR);
        for (int i = 0; i < 64; i++)
        {
            a.write(ByteBuffer.wrap(random(content, SECTOR)), (long)i * SECTOR);
            b.write(ByteBuffer.wrap(random(content, SECTOR)), (long)i * SECTOR);
            if (busy)
            {
                read(other, 0, 64 * SECTOR);
                other.sync();
                disk.syncDirectory(DIR);
            }
        }
        a.sync();
        b.sync();
        b.write(ByteBuffer.wrap(random(content, 64 * SECTOR)), 0);
        a.write(ByteBuffer.wrap(random(content, 64 * SECTOR)), 0);
        if (busy)
        {
            read(other, 0, 64 * SECTOR);
        }
        disk.crash();
        final byte[] kept = new byte[128 * SECTOR];
        System.arraycopy(readAll(disk.open(DIR.resolve("a"), false), SECTOR), 0, kept, 0, 64 * SECTOR);
        System.arraycopy(read(disk.open(DIR.resolve("b"), false), 0, 64 * SECTOR), 0, kept, 64 * SECTOR, 64 * SECTOR);
        return kept;
    }

    // ------------------------------------------------------------------------------------------- corruption

    @Test
    void shouldCorruptDurableSectorsOnReadAtTheConfiguredRate(final TestInfo test) throws IOException
    {
        final long seed = seed(test);
        final int sectors = 20_000;
        final byte[] content = random(new Random(seed), sectors * SECTOR);
        final SimulatedDisk disk = disk(seed);
        final DiskFile file = durableFile(disk, "f", content);
        disk.faults(Faults.none().corruptReadPpm(10_000)); // 1%: 200 expected, standard deviation 14

        final byte[] first = readAll(file, 1 << 20);
        int corrupt = 0;
        for (int s = 0; s < sectors; s++)
        {
            final byte[] read = sector(first, s);
            final byte[] written = sector(content, s);
            if (!Arrays.equals(read, written))
            {
                corrupt++;
                int bits = 0;
                for (int i = 0; i < SECTOR; i++)
                {
                    bits += Integer.bitCount((read[i] ^ written[i]) & 0xFF);
                }
                assertEquals(1, bits, "sector " + s + ": one bit flips" + at(seed));
            }
        }
        assertWithin(130, 270, corrupt, "corrupt sectors of 20,000 read once at 1%" + at(seed));
        assertEquals(corrupt, disk.faultsInjected(Fault.CORRUPT_SECTOR), at(seed));
        assertEquals(corrupt, disk.faultsInjected(), at(seed));
    }

    @Test
    void shouldKeepACorruptSectorCorruptUntilItIsRewrittenWhole(final TestInfo test) throws IOException
    {
        final long seed = seed(test);
        final byte[] content = random(new Random(seed), 16 * SECTOR);
        final SimulatedDisk disk = disk(seed);
        DiskFile file = durableFile(disk, "f", content);
        final long flippedAt3 = disk.corruptSector(DIR.resolve("f"), 3 * SECTOR + 17);
        final long flippedAt9 = disk.corruptSector(DIR.resolve("f"), 9 * SECTOR);
        assertEquals(3, flippedAt3 / SECTOR, at(seed));
        assertEquals(flippedAt3, disk.corruptSector(DIR.resolve("f"), 3 * SECTOR), "already corrupt" + at(seed));
        assertEquals(2, disk.faultsInjected(Fault.CORRUPT_SECTOR), at(seed));

        final byte[] corrupt = readAll(file, 100); // chunks that cut through sectors
        assertNotEquals(content[(int)flippedAt3], corrupt[(int)flippedAt3], at(seed));
        assertNotEquals(content[(int)flippedAt9], corrupt[(int)flippedAt9], at(seed));
        corrupt[(int)flippedAt3] = content[(int)flippedAt3];
        corrupt[(int)flippedAt9] = content[(int)flippedAt9];
        assertArrayEquals(content, corrupt, "nothing else differs" + at(seed));

        // Sticky: every read, and a crash, show the same bit flipped.
        final byte[] again = readAll(file, 4096);
        assertArrayEquals(readAll(file, 7), again, at(seed));
        disk.crash();
        file = disk.open(DIR.resolve("f"), false);
        assertArrayEquals(again, readAll(file, SECTOR), "corruption is on the media" + at(seed));

        // A whole-sector rewrite clears it.
        file.write(ByteBuffer.wrap(sector(content, 3)), 3 * SECTOR);
        assertArrayEquals(sector(content, 3), read(file, 3 * SECTOR, SECTOR), at(seed));
        file.sync();
        disk.crash();
        file = disk.open(DIR.resolve("f"), false);
        assertArrayEquals(sector(content, 3), read(file, 3 * SECTOR, SECTOR), at(seed));

        // A partial rewrite reads the rest of the sector from the media first: the flip outside it becomes data.
        final int within = (int)(flippedAt9 - 9 * SECTOR);
        final int rewriteFrom = within < SECTOR / 2 ? 9 * SECTOR + SECTOR / 2 : 9 * SECTOR;
        file.write(ByteBuffer.wrap(Arrays.copyOfRange(content, rewriteFrom, rewriteFrom + SECTOR / 2)), rewriteFrom);
        file.sync();
        disk.crash();
        file = disk.open(DIR.resolve("f"), false);
        assertArrayEquals(sector(again, 9), read(file, 9 * SECTOR, SECTOR), "the flipped bit was written back" + at(seed));
        assertEquals(2, disk.faultsInjected(Fault.CORRUPT_SECTOR), at(seed));
    }

    @Test
    void shouldNeverCorruptUnsyncedDataOrHoles(final TestInfo test) throws IOException
    {
        final long seed = seed(test);
        final SimulatedDisk disk = disk(seed).faults(Faults.none().corruptReadPpm(SimulatedDisk.PPM));
        final DiskFile file = disk.open(DIR.resolve("f"), true);
        file.setLength(256 * SECTOR);
        file.sync();
        disk.syncDirectory(DIR);
        assertArrayEquals(new byte[256 * SECTOR], readAll(file, 4096), "a hole is not on the media" + at(seed));

        final byte[] content = random(new Random(seed), 10 * SECTOR);
        file.write(ByteBuffer.wrap(content), 0);
        assertArrayEquals(content, read(file, 0, content.length), "dirty data is read from the page cache" + at(seed));
        assertThrows(IllegalStateException.class, () -> disk.corruptSector(DIR.resolve("f"), 5 * SECTOR));
        assertEquals(0, disk.faultsInjected(), at(seed));

        file.sync();
        final byte[] read = read(file, 0, content.length);
        for (int s = 0; s < 10; s++)
        {
            assertFalse(Arrays.equals(sector(content, s), sector(read, s)), "sector " + s + " at 100%" + at(seed));
        }
        assertEquals(10, disk.faultsInjected(Fault.CORRUPT_SECTOR), at(seed));
        assertArrayEquals(new byte[246 * SECTOR], read(file, 10 * SECTOR, 246 * SECTOR), at(seed));
    }

    // ---------------------------------------------------------------------------------------- misdirection

    @Test
    void shouldMisdirectWritesAtTheConfiguredRateAndLeaveTheIntendedSectorOld(final TestInfo test) throws IOException
    {
        final long seed = seed(test);
        final int sectors = 1024;
        final Random random = new Random(seed);
        final SimulatedDisk disk = disk(seed);
        byte[] model = random(random, sectors * SECTOR); // what the file holds
        final DiskFile file = durableFile(disk, "f", model);
        disk.faults(Faults.none().misdirectedWritePpm(20_000)); // 2% of 5,000: 100 expected, deviation 10
        int misdirected = 0;
        for (int i = 0; i < 5_000; i++)
        {
            final int intended = random.nextInt(sectors);
            final byte[] bytes = random(random, SECTOR);
            file.write(ByteBuffer.wrap(bytes), (long)intended * SECTOR);
            if (disk.faultsInjected(Fault.MISDIRECTED_WRITE) == misdirected)
            {
                System.arraycopy(bytes, 0, model, intended * SECTOR, SECTOR);
                assertArrayEquals(bytes, read(file, (long)intended * SECTOR, SECTOR), "write " + i + at(seed));
                continue;
            }
            misdirected++;
            final byte[] after = readAll(file, sectors * SECTOR);
            assertArrayEquals(sector(model, intended), sector(after, intended), "write " + i + ": the intended " +
                "sector keeps its old content" + at(seed));
            final List<Integer> changed = new ArrayList<>();
            for (int s = 0; s < sectors; s++)
            {
                if (!Arrays.equals(sector(model, s), sector(after, s)))
                {
                    changed.add(s);
                }
            }
            assertEquals(1, changed.size(), "write " + i + " landed on one other sector" + at(seed));
            assertArrayEquals(bytes, sector(after, changed.get(0)), "write " + i + at(seed));
            model = after;
        }
        assertArrayEquals(model, readAll(file, 1 << 16), at(seed));
        assertWithin(60, 140, misdirected, "misdirected writes of 5,000 at 2%" + at(seed));
        assertEquals(sectors * SECTOR, file.length(), at(seed));
    }

    @Test
    void shouldMisdirectAWriteAsTheWholeSectorsItCovers(final TestInfo test) throws IOException
    {
        final long seed = seed(test);
        final byte[] content = random(new Random(seed), 8 * SECTOR);
        final SimulatedDisk disk = disk(seed);
        final DiskFile file = durableFile(disk, "f", content);
        disk.faults(Faults.none().misdirectedWritePpm(SimulatedDisk.PPM));

        final byte[] bytes = random(new Random(seed + 1), 100);
        file.write(ByteBuffer.wrap(bytes), 3 * SECTOR + 50);
        final byte[] after = readAll(file, SECTOR);
        assertArrayEquals(sector(content, 3), sector(after, 3), "the intended sector is old" + at(seed));
        final byte[] image = sector(content, 3);
        System.arraycopy(bytes, 0, image, 50, bytes.length);
        int landed = -1;
        for (int s = 0; s < 8; s++)
        {
            if (s != 3 && !Arrays.equals(sector(content, s), sector(after, s)))
            {
                assertEquals(-1, landed, "one sector changed" + at(seed));
                assertArrayEquals(image, sector(after, s), "the page cache's sector, old bytes around new" + at(seed));
                landed = s;
            }
        }
        assertTrue(landed >= 0, at(seed));

        // An append that extends the file: the length grows as asked, the new bytes are elsewhere, the end is zero.
        file.write(ByteBuffer.wrap(random(new Random(seed + 2), SECTOR)), 8 * SECTOR);
        assertEquals(9 * SECTOR, file.length(), at(seed));
        assertArrayEquals(new byte[SECTOR], read(file, 8 * SECTOR, SECTOR), at(seed));
        assertEquals(2, disk.faultsInjected(Fault.MISDIRECTED_WRITE), at(seed));

        // A file of one sector has nowhere else to put a write.
        final DiskFile small = durableFile(disk, "small", new byte[SECTOR]);
        small.write(ByteBuffer.wrap(bytes), 0);
        assertArrayEquals(bytes, read(small, 0, bytes.length), at(seed));
        assertEquals(2, disk.faultsInjected(Fault.MISDIRECTED_WRITE), at(seed));
    }

    // ---------------------------------------------------------------------------------- unsynced write order

    /** Unsynced writes reach the disk in any order: of two, either may survive a crash without the other. */
    @Test
    void shouldLetALaterUnsyncedWriteSurviveACrashThatLosesAnEarlierOne(final TestInfo test) throws IOException
    {
        final long seed = seed(test);
        final Random seeds = new Random(seed);
        final Set<String> outcomes = new HashSet<>();
        for (int round = 0; round < 64; round++)
        {
            final long diskSeed = seeds.nextLong();
            final String outcome = twoWritesThenCrash(diskSeed);
            assertEquals(outcome, twoWritesThenCrash(diskSeed), "the same seed, the same crash" + at(seed));
            outcomes.add(outcome);
        }
        assertTrue(outcomes.contains("earlier lost, later kept"), outcomes + at(seed));
        assertTrue(outcomes.contains("earlier kept, later lost"), outcomes + at(seed));
    }

    private static String twoWritesThenCrash(final long seed) throws IOException
    {
        final SimulatedDisk disk = disk(seed);
        final DiskFile file = durableFile(disk, "f", new byte[8 * SECTOR]);
        final byte[] ones = new byte[SECTOR];
        Arrays.fill(ones, (byte)1);
        file.write(ByteBuffer.wrap(ones), 5 * SECTOR);
        file.write(ByteBuffer.wrap(ones), 2 * SECTOR);
        disk.crash();
        final DiskFile after = disk.open(DIR.resolve("f"), false);
        final boolean earlier = Arrays.equals(ones, read(after, 5 * SECTOR, SECTOR));
        final boolean later = Arrays.equals(ones, read(after, 2 * SECTOR, SECTOR));
        return "earlier " + (earlier ? "kept" : "lost") + ", later " + (later ? "kept" : "lost");
    }

    // ------------------------------------------------------------------------------------ syncs and latency

    @Test
    void shouldFailAndDelaySyncsAtTheConfiguredRatesAndReportTheTime(final TestInfo test) throws IOException
    {
        final long seed = seed(test);
        final SimulatedDisk disk = disk(seed).faults(Faults.none()
            .syncFailurePpm(100_000) // 10% of 10,000: 1,000 expected, deviation 30
            .syncLatencyNanos(1_000, 11_000)
            .slowSync(50_000, 1_000_000)); // 5%: 500 expected, deviation 22
        final List<long[]> syncs = new ArrayList<>();
        disk.ioListener((kind, path, bytes, nanos) ->
        {
            if (kind == IoKind.SYNC)
            {
                assertEquals(DIR.resolve("f"), path);
                syncs.add(new long[] {bytes, nanos});
            }
        });
        final DiskFile file = disk.open(DIR.resolve("f"), true);
        int failed = 0;
        for (int i = 0; i < 10_000; i++)
        {
            file.write(ByteBuffer.allocate(SECTOR), (long)(i % 64) * SECTOR);
            try
            {
                file.sync();
            }
            catch (final IOException ex)
            {
                failed++;
            }
            assertEquals(syncs.get(syncs.size() - 1)[1], disk.lastSyncNanos(), at(seed));
        }
        assertWithin(850, 1_150, failed, "failed syncs of 10,000 at 10%" + at(seed));
        assertEquals(failed, disk.faultsInjected(Fault.FAILED_SYNC), at(seed));
        assertEquals(10_000, syncs.size(), at(seed));

        long slow = 0;
        long plainNanos = 0;
        for (final long[] sync : syncs)
        {
            assertEquals(SECTOR, sync[0], "a sync covers the sector written" + at(seed));
            assertTrue(sync[1] >= 1_000, "at least the minimum latency" + at(seed));
            if (sync[1] >= 1_000_000)
            {
                slow++;
            }
            else
            {
                plainNanos += sync[1];
            }
        }
        assertWithin(400, 600, slow, "slow syncs of 10,000 at 5%" + at(seed));
        assertEquals(slow, disk.faultsInjected(Fault.SLOW_SYNC), at(seed));
        assertWithin(10_500, 11_500, plainNanos / (syncs.size() - slow), "mean sync latency" + at(seed));

        final long[] directorySync = {-1};
        disk.ioListener((kind, path, bytes, nanos) -> directorySync[0] = kind == IoKind.SYNC_DIRECTORY ? nanos : -2);
        try
        {
            disk.syncDirectory(DIR);
        }
        catch (final IOException ex)
        {
            // failed at 10%: it took its time all the same
        }
        assertEquals(disk.lastSyncNanos(), directorySync[0], at(seed));
    }

    /** A sync that fails at random drops its dirty data from the to-do list, as {@link SimulatedDisk#failSyncs}. */
    @Test
    void shouldLeaveDataOfARandomlyFailedSyncVolatile() throws IOException
    {
        final SimulatedDisk disk = disk(5);
        final DiskFile file = durableFile(disk, "f", new byte[SECTOR]);
        final byte[] ones = new byte[SECTOR];
        Arrays.fill(ones, (byte)1);
        file.write(ByteBuffer.wrap(ones), 0);
        disk.faults(Faults.none().syncFailurePpm(SimulatedDisk.PPM));
        assertThrows(IOException.class, file::sync);
        disk.faults(Faults.none());
        file.sync();
        assertArrayEquals(ones, read(file, 0, SECTOR), "readable");
        disk.crash();
        assertArrayEquals(new byte[SECTOR], read(disk.open(DIR.resolve("f"), false), 0, SECTOR), "not durable");
        assertEquals(1, disk.faultsInjected(Fault.FAILED_SYNC));
    }

    // ---------------------------------------------------------------------------------------- determinism

    @Test
    void shouldInjectTheSameFaultsForTheSameSeed(final TestInfo test) throws IOException
    {
        final long seed = seed(test);
        final String first = everyFault(seed);
        assertEquals(first, everyFault(seed), "the same seed twice" + at(seed));
        assertNotEquals(first, everyFault(seed + 1), "another seed" + at(seed));
    }

    /** A history that meets every fault, with a crash in the middle: every byte read, every latency, the counts. */
    private static String everyFault(final long seed) throws IOException
    {
        final SimulatedDisk disk = disk(seed).faults(Faults.all()
            .corruptReadPpm(2_000).misdirectedWritePpm(50_000).syncFailurePpm(50_000).slowSync(50_000, 1_000_000));
        final StringBuilder trace = new StringBuilder();
        disk.ioListener((kind, path, bytes, nanos) -> trace.append(kind).append(' ').append(path.getFileName())
            .append(' ').append(bytes).append(' ').append(nanos).append('\n'));
        final Random random = new Random(7); // the same writes for every seed: only the disk's faults differ
        for (int round = 0; round < 2; round++)
        {
            for (int f = 0; f < 4; f++)
            {
                final DiskFile file = disk.open(DIR.resolve("f" + f), true);
                for (int i = 0; i < 50; i++)
                {
                    file.write(ByteBuffer.wrap(random(random, 1 + random.nextInt(3 * SECTOR))),
                        random.nextInt(64 * SECTOR));
                    if (random.nextInt(4) == 0)
                    {
                        try
                        {
                            file.sync();
                        }
                        catch (final IOException ex)
                        {
                            trace.append(ex.getMessage()).append('\n');
                        }
                    }
                    trace.append(Arrays.hashCode(readAll(file, 4096))).append('\n');
                }
            }
            try
            {
                disk.syncDirectory(DIR);
            }
            catch (final IOException ex)
            {
                trace.append(ex.getMessage()).append('\n');
            }
            disk.crash();
        }
        for (final String name : disk.list(DIR))
        {
            trace.append(name).append(' ').append(Arrays.toString(readAll(disk.open(DIR.resolve(name), false), 4096)));
        }
        return trace.append(disk.describeFaultsInjected()).toString();
    }

    // -------------------------------------------------------------------------------------------- end to end

    /**
     * A latent corruption of a durable record in the middle of the journal: {@link Journal#open} refuses with a
     * {@link JournalCorruptException} that names the record, and a reader gives every record before it right and
     * then says CORRUPT, never a wrong record. Only a flip in bytes that hold no record (the zeros after the last
     * record of a segment, past the frame length that ends it) goes unnoticed, and then every record reads right.
     */
    @Test
    void shouldMakeTheJournalReportALatentCorruptionInTheMiddleRatherThanReturnWrongData(final TestInfo test)
        throws IOException
    {
        final long seed = seed(test);
        final Path directory = DIR.resolve("journal");
        final long segmentLength = JournalFormat.SEGMENT_HEADER_LENGTH + 3L * JournalFormat.MAX_FRAME_LENGTH;
        final int writeBuffer = JournalFormat.MAX_FRAME_LENGTH + JournalFormat.ALIGNMENT;
        final Random random = new Random(seed);
        final SimulatedDisk disk = disk(seed);
        final List<byte[]> operators = new ArrayList<>();
        try (Journal journal = Journal.open(disk, directory, segmentLength, writeBuffer, 1))
        {
            for (long index = 1; index <= RECORDS; index++)
            {
                // A multiple of 8 bytes: no padding, every byte of the record is covered by its checksum.
                // A frame length that is no power of two: one flipped bit cannot make it 0, the end of a segment.
                int words = 20 + random.nextInt(200);
                words += Integer.bitCount(JournalFormat.RECORD_OVERHEAD + 8 * words) == 1 ? 1 : 0;
                final byte[] operator = random(random, 8 * words);
                operators.add(operator);
                journal.append(index, 1, index, new UnsafeBuffer(operator), 0, operator.length);
                if (random.nextInt(8) == 0)
                {
                    journal.commit();
                }
            }
            journal.commit();
        }

        // The target: a byte of a record in the middle: in an earlier segment, or in the last one with more than a
        // write buffer and a maximal record after it (a torn tail is no nearer the end than that).
        final List<Path> files = new ArrayList<>();
        final List<long[]> records = new ArrayList<>(); // file ordinal, offset, frame length
        try (JournalReader reader = new JournalReader(disk, directory))
        {
            while (reader.next() == JournalReader.Status.RECORD)
            {
                if (files.isEmpty() || !files.get(files.size() - 1).equals(reader.file()))
                {
                    files.add(reader.file());
                }
                records.add(new long[] {files.size() - 1, reader.recordOffset(),
                    JournalFormat.RECORD_OVERHEAD + reader.operatorLength()});
            }
        }
        assertEquals(RECORDS, records.size(), at(seed));
        final long[] last = records.get(RECORDS - 1);
        final List<long[]> middle = new ArrayList<>();
        for (final long[] record : records)
        {
            if (record[0] < last[0] || last[1] - record[1] > writeBuffer + JournalFormat.MAX_FRAME_LENGTH)
            {
                middle.add(record);
            }
        }
        assertTrue(middle.get(middle.size() - 1)[0] == last[0], "the last segment has a middle too" + at(seed));
        final long[] target = middle.get(random.nextInt(middle.size()));
        final Path file = files.get((int)target[0]);
        final long flipped = disk.corruptSector(file, target[1] + random.nextInt((int)target[2]));

        // Where the reader must stop: at the record holding the flipped byte (the sector may reach into a
        // neighbour), at the header, or at the frame length after the segment's last record (it must read 0).
        long badOffset = flipped < JournalFormat.SEGMENT_HEADER_LENGTH ? 0 : -1;
        long end = 0;
        for (final long[] record : records)
        {
            if (record[0] == target[0])
            {
                if (flipped >= record[1] && flipped < record[1] + record[2])
                {
                    badOffset = record[1];
                }
                end = record[1] + JournalFormat.align((int)record[2]);
            }
        }
        if (flipped >= end && flipped < end + Integer.BYTES)
        {
            badOffset = end;
        }

        if (badOffset < 0)
        {
            try (Journal journal = Journal.open(disk, directory, segmentLength, writeBuffer, 1))
            {
                assertEquals(RECORDS, journal.lastIndex(), "a flip in unused bytes" + at(seed));
            }
        }
        else
        {
            final JournalCorruptException ex = assertThrows(JournalCorruptException.class,
                () -> Journal.open(disk, directory, segmentLength, writeBuffer, 1), "flip at " + flipped + at(seed));
            assertTrue(ex.getMessage().contains(file + " at offset " + badOffset), ex.getMessage() + at(seed));
        }

        try (JournalReader reader = new JournalReader(disk, directory))
        {
            JournalReader.Status status;
            long index = 0;
            while ((status = reader.next()) == JournalReader.Status.RECORD)
            {
                index++;
                assertEquals(index, reader.index(), at(seed));
                final byte[] operator = new byte[reader.operatorLength()];
                reader.buffer().getBytes(reader.operatorOffset(), operator);
                assertArrayEquals(operators.get((int)index - 1), operator, "record " + index + at(seed));
            }
            if (badOffset < 0)
            {
                assertEquals(JournalReader.Status.END, status, at(seed));
                assertEquals(RECORDS, index, at(seed));
            }
            else
            {
                assertEquals(JournalReader.Status.CORRUPT, status, reader.describeProblem() + at(seed));
                assertEquals(file, reader.problemFile(), at(seed));
                assertEquals(badOffset, reader.problemOffset(), at(seed));
            }
        }
    }
}
