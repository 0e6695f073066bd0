package io.reprise.engine.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

/**
 * An in-memory {@link Disk} that behaves like a real one under failure, for tests and the simulation runtime.
 * <p>
 * Always modelled:
 * <ul>
 *   <li>Writes land in a "page cache"; only {@link DiskFile#sync()} makes them durable.</li>
 *   <li>{@link #crash()} keeps durable data and, of each sector written since the file's last sync, a random
 *       (seeded) subset: torn writes. Each sector is drawn on its own, so unsynced writes reach the disk in no
 *       particular order: a later write may survive while an earlier one to another sector is lost. Of a sector
 *       written several times since the sync, the crash keeps the last content or the durable one, never one in
 *       between. Data past the durable length is lost, and creates, renames and deletes not followed by
 *       {@link #syncDirectory} may be undone.</li>
 *   <li>{@link #interruptNextSync()}: a sync that never completes, for torn tails after {@link #crash()}.</li>
 *   <li>{@link #failSyncs(int)}: the next syncs fail, and as on Linux the dirty data they covered is dropped from
 *       the page cache's to-do list: it stays readable but is not durable unless written again.</li>
 *   <li>{@link #capacityBytes(long)}: writes or extensions past it fail with "No space left on device".</li>
 * </ul>
 * Injected at the rates of {@link #faults(Faults)}, all off by default ({@link Faults#none()}):
 * <ul>
 *   <li><b>Latent sector corruption, found on read</b> ({@link Faults#corruptReadPpm}): each read of a sector
 *       that holds durable written data (synced, not dirty again; never a hole a {@link DiskFile#setLength}
 *       made) may find one of its bits flipped. {@link #corruptSector} does it on purpose. Corruption is on the
 *       media: sticky, the same bit on every read and after a crash, until a write covers the whole sector. A
 *       write of part of the sector reads the rest from the media first, so the flipped bit becomes data.</li>
 *   <li><b>Misdirected writes</b> ({@link Faults#misdirectedWritePpm}): a whole write lands, as whole sectors,
 *       at another sector-aligned place of the same file (inside its length). The intended sectors keep their
 *       old contents, the file length changes as intended. Visible to reads at once, as with direct I/O.</li>
 *   <li><b>Failed syncs</b> ({@link Faults#syncFailurePpm}): as {@link #failSyncs}, at random, for file and
 *       directory syncs.</li>
 *   <li><b>Sync latency</b> ({@link Faults#syncLatencyNanos(long, long)}, {@link Faults#slowSync(int, long)}):
 *       every sync is given a duration of virtual time, {@code min} plus an exponential draw of mean
 *       {@code mean - min}, plus {@code slowSyncNanos} for the rare slow one. Nothing waits: a simulator that
 *       owns time reads it from {@link #ioListener(IoListener)} or {@link #lastSyncNanos()} and advances its
 *       clock.</li>
 * </ul>
 * {@link #faultsInjected()} counts what was injected, by {@link Fault} kind. A simulator with every fault on uses
 * {@code faults(Faults.all())}: the recommended rates are listed there.
 * <p>
 * Deterministic for a given seed and call sequence: every choice comes from the one seeded {@link Random}, files
 * are visited in path order and sectors in ascending order; a rate of zero draws nothing, so with
 * {@link Faults#none()} the draws (and thus every crash) are the same as without the fault model. Thread safe
 * through one lock: a node's threads may share it (then the order of their calls, not the disk, decides).
 */
public final class SimulatedDisk implements Disk
{
    /** Probabilities are in parts per million. */
    public static final int PPM = 1_000_000;

    /** What {@link #faultsInjected(Fault)} counts. */
    public enum Fault
    {
        /** A durable sector became corrupt (at random on a read, or by {@link #corruptSector}). */
        CORRUPT_SECTOR("corrupt-sector"),
        /** A write landed elsewhere in its file. */
        MISDIRECTED_WRITE("misdirected-write"),
        /** A file or directory sync failed (at random or by {@link #failSyncs}). */
        FAILED_SYNC("failed-sync"),
        /** A sync was cut off by {@link #interruptNextSync()}. */
        INTERRUPTED_SYNC("interrupted-sync"),
        /** A write or extension failed for want of space. */
        NO_SPACE("no-space"),
        /** A sync was given the extra latency of a slow one. */
        SLOW_SYNC("slow-sync"),
        /** A crash lost some of the unsynced sectors of a file (counted once per file and crash). */
        LOST_WRITES("lost-writes");

        private final String label;

        Fault(final String label)
        {
            this.label = label;
        }

        public String label()
        {
            return label;
        }
    }

    /** The kinds of I/O {@link IoListener} hears of. */
    public enum IoKind
    {
        READ,
        WRITE,
        SYNC,
        SYNC_DIRECTORY
    }

    /** Hears of every read, write and sync once it is done (or has failed), outside the disk's lock. */
    @FunctionalInterface
    public interface IoListener
    {
        /**
         * @param path  the file (the name it has now, or had when deleted), or the directory synced.
         * @param bytes read or written; for a file sync, the bytes of the dirty sectors it covered.
         * @param nanos the virtual time the operation took: the sync latency for syncs, 0 otherwise.
         */
        void onIo(IoKind kind, Path path, long bytes, long nanos);
    }

    /**
     * Rates of injected faults: immutable, each setter returns a copy. Probabilities in parts per million
     * ({@link #PPM}), each drawn per event: a sector read, a write, a sync.
     */
    public static final class Faults
    {
        private static final Faults NONE = new Faults(0, 0, 0, 0, 0, 0, 0);

        private final int corruptReadPpm;
        private final int misdirectedWritePpm;
        private final int syncFailurePpm;
        private final long syncLatencyMinNanos;
        private final long syncLatencyMeanNanos;
        private final int slowSyncPpm;
        private final long slowSyncNanos;

        private Faults(
            final int corruptReadPpm,
            final int misdirectedWritePpm,
            final int syncFailurePpm,
            final long syncLatencyMinNanos,
            final long syncLatencyMeanNanos,
            final int slowSyncPpm,
            final long slowSyncNanos)
        {
            this.corruptReadPpm = checkPpm(corruptReadPpm);
            this.misdirectedWritePpm = checkPpm(misdirectedWritePpm);
            this.syncFailurePpm = checkPpm(syncFailurePpm);
            if (syncLatencyMinNanos < 0 || syncLatencyMeanNanos < syncLatencyMinNanos)
            {
                throw new IllegalArgumentException("sync latency needs 0 <= min <= mean: " + syncLatencyMinNanos +
                    ", " + syncLatencyMeanNanos);
            }
            this.syncLatencyMinNanos = syncLatencyMinNanos;
            this.syncLatencyMeanNanos = syncLatencyMeanNanos;
            this.slowSyncPpm = checkPpm(slowSyncPpm);
            if (slowSyncNanos < 0)
            {
                throw new IllegalArgumentException("slowSyncNanos < 0: " + slowSyncNanos);
            }
            this.slowSyncNanos = slowSyncNanos;
        }

        private static int checkPpm(final int ppm)
        {
            if (ppm < 0 || ppm > PPM)
            {
                throw new IllegalArgumentException("not a probability in parts per million: " + ppm);
            }
            return ppm;
        }

        /** No injected faults and syncs that take no time: the disk behaves as without a fault model. */
        public static Faults none()
        {
            return NONE;
        }

        /**
         * Every fault on, at the rates recommended for a simulator: rare enough that a node restarts (and rereads
         * its journal) many times before it meets a corruption, yet a long run meets some of each:
         * <ul>
         *   <li>corrupt sector on read: 10 ppm of durable sector reads (one per ~50 MB read from the media);</li>
         *   <li>misdirected write: 10 ppm of writes (one per 100,000 writes);</li>
         *   <li>failed sync: 100 ppm of file and directory syncs (one per 10,000);</li>
         *   <li>sync latency: 50 µs at least, 500 µs on average (exponential above the minimum);</li>
         *   <li>slow sync: 1,000 ppm of syncs (one per 1,000) take 200 ms more.</li>
         * </ul>
         */
        public static Faults all()
        {
            return new Faults(10, 10, 100, 50_000, 500_000, 1_000, 200_000_000);
        }

        /** Chance, per read of a durable written sector, that the sector turns out corrupt. */
        public Faults corruptReadPpm(final int ppm)
        {
            return new Faults(ppm, misdirectedWritePpm, syncFailurePpm, syncLatencyMinNanos, syncLatencyMeanNanos,
                slowSyncPpm, slowSyncNanos);
        }

        public int corruptReadPpm()
        {
            return corruptReadPpm;
        }

        /** Chance, per write, that it lands elsewhere in its file. */
        public Faults misdirectedWritePpm(final int ppm)
        {
            return new Faults(corruptReadPpm, ppm, syncFailurePpm, syncLatencyMinNanos, syncLatencyMeanNanos,
                slowSyncPpm, slowSyncNanos);
        }

        public int misdirectedWritePpm()
        {
            return misdirectedWritePpm;
        }

        /** Chance, per file or directory sync, that it fails (EIO, Linux semantics as {@link #failSyncs}). */
        public Faults syncFailurePpm(final int ppm)
        {
            return new Faults(corruptReadPpm, misdirectedWritePpm, ppm, syncLatencyMinNanos, syncLatencyMeanNanos,
                slowSyncPpm, slowSyncNanos);
        }

        public int syncFailurePpm()
        {
            return syncFailurePpm;
        }

        /** Each sync takes {@code minNanos} plus an exponential draw of mean {@code meanNanos - minNanos}. */
        public Faults syncLatencyNanos(final long minNanos, final long meanNanos)
        {
            return new Faults(corruptReadPpm, misdirectedWritePpm, syncFailurePpm, minNanos, meanNanos,
                slowSyncPpm, slowSyncNanos);
        }

        public long syncLatencyMinNanos()
        {
            return syncLatencyMinNanos;
        }

        public long syncLatencyMeanNanos()
        {
            return syncLatencyMeanNanos;
        }

        /** With chance {@code ppm} per sync, the sync takes {@code extraNanos} more (a stalled device). */
        public Faults slowSync(final int ppm, final long extraNanos)
        {
            return new Faults(corruptReadPpm, misdirectedWritePpm, syncFailurePpm, syncLatencyMinNanos,
                syncLatencyMeanNanos, ppm, extraNanos);
        }

        public int slowSyncPpm()
        {
            return slowSyncPpm;
        }

        public long slowSyncNanos()
        {
            return slowSyncNanos;
        }

        /** Whether anything is injected at all, latency included. */
        public boolean any()
        {
            return corruptReadPpm > 0 || misdirectedWritePpm > 0 || syncFailurePpm > 0 || syncLatencyMeanNanos > 0 ||
                (slowSyncPpm > 0 && slowSyncNanos > 0);
        }

        /** The rates, for documentation and a simulator's output. */
        public String describe()
        {
            if (!any())
            {
                return "faults none";
            }
            return "faults corrupt-sector-read=" + corruptReadPpm + "ppm misdirected-write=" + misdirectedWritePpm +
                "ppm failed-sync=" + syncFailurePpm + "ppm sync-latency=" + syncLatencyMinNanos + "ns(min)/" +
                syncLatencyMeanNanos + "ns(mean) slow-sync=" + slowSyncPpm + "ppm+" + slowSyncNanos + "ns";
        }

        public String toString()
        {
            return describe();
        }
    }

    private final Random random;
    // Sorted maps: whatever iterates them does so in path order, the same in every run.
    private final TreeMap<Path, Node> current = new TreeMap<>();
    private final TreeMap<Path, Node> durable = new TreeMap<>();
    private final Set<Path> directories = new HashSet<>();
    private final long[] injected = new long[Fault.values().length];
    private long capacityBytes = Long.MAX_VALUE;
    private int failingSyncs;
    private boolean interruptNextSync;
    private Faults faults = Faults.none();
    private volatile IoListener ioListener;
    private long lastSyncNanos;

    public SimulatedDisk(final long seed)
    {
        random = new Random(seed);
    }

    public synchronized SimulatedDisk capacityBytes(final long capacityBytes)
    {
        this.capacityBytes = capacityBytes;
        return this;
    }

    /** The next {@code count} file or directory syncs fail. */
    public synchronized SimulatedDisk failSyncs(final int count)
    {
        failingSyncs = count;
        return this;
    }

    /**
     * The next file sync throws and leaves its data dirty, as when power fails during it: call {@link #crash()}
     * next to get a torn tail.
     */
    public synchronized SimulatedDisk interruptNextSync()
    {
        interruptNextSync = true;
        return this;
    }

    /** Injects faults at these rates from now on; {@link Faults#none()} turns them off. */
    public synchronized SimulatedDisk faults(final Faults faults)
    {
        if (null == faults)
        {
            throw new NullPointerException("faults");
        }
        this.faults = faults;
        return this;
    }

    public synchronized Faults faults()
    {
        return faults;
    }

    /** Hears of every read, write and sync, for a simulator that advances virtual time; null for none. */
    public SimulatedDisk ioListener(final IoListener listener)
    {
        ioListener = listener;
        return this;
    }

    /** The virtual time the last file or directory sync took (0 without a latency model). */
    public synchronized long lastSyncNanos()
    {
        return lastSyncNanos;
    }

    /** Faults injected so far, of every kind. */
    public synchronized long faultsInjected()
    {
        long total = 0;
        for (final long count : injected)
        {
            total += count;
        }
        return total;
    }

    public synchronized long faultsInjected(final Fault kind)
    {
        return injected[kind.ordinal()];
    }

    /** "faults=N" and the count of each kind, for a simulator's output. */
    public synchronized String describeFaultsInjected()
    {
        final StringBuilder text = new StringBuilder("faults=").append(faultsInjected());
        for (final Fault kind : Fault.values())
        {
            text.append(' ').append(kind.label()).append('=').append(injected[kind.ordinal()]);
        }
        return text.toString();
    }

    private void count(final Fault kind)
    {
        injected[kind.ordinal()]++;
    }

    /** A draw of chance {@code ppm}: none at all when it is 0, so that a fault turned off changes no draw. */
    private boolean chance(final int ppm)
    {
        return ppm > 0 && random.nextInt(PPM) < ppm;
    }

    /**
     * Makes the sector of {@code file} holding {@code offset} corrupt now, as a latent sector error would: a
     * seeded bit of it reads flipped until the sector is rewritten. The sector must be durable (synced since it
     * was last written).
     *
     * @return the offset in the file of the byte whose bit flipped (the one already flipped if it was corrupt).
     */
    public synchronized long corruptSector(final Path file, final long offset) throws IOException
    {
        final Node node = current.get(file);
        if (null == node)
        {
            throw new NoSuchFileException(file.toString());
        }
        if (offset < 0 || offset >= Math.min(node.length, node.durableLength))
        {
            throw new IllegalArgumentException("offset " + offset + " is not in the durable data of " + file +
                " (length " + node.length + ", durable length " + node.durableLength + ")");
        }
        final int sector = sectorOf(offset);
        if (node.dirty.get(sector))
        {
            throw new IllegalStateException("sector at " + offset + " of " + file + " was written since the last " +
                "sync: its content is in the page cache, not on the media");
        }
        final Flip existing = node.corrupt.get(sector);
        return null != existing ? existing.position : corrupt(node, sector);
    }

    private long corrupt(final Node node, final int sector)
    {
        final long from = (long)sector * SECTOR_BYTES;
        final int bytes = (int)Math.min(SECTOR_BYTES, node.length - from);
        final long position = from + random.nextInt(bytes);
        node.corrupt.put(sector, new Flip(position, (byte)(1 << random.nextInt(8))));
        count(Fault.CORRUPT_SECTOR);
        return position;
    }

    public synchronized long usedBytes()
    {
        long used = 0;
        for (final Node node : current.values())
        {
            used += node.length;
        }
        return used;
    }

    /**
     * Loses power: every file keeps its durable content plus a random subset of the sectors written since its
     * last sync; the directory structure reverts to its last synced form. Open files become unusable.
     */
    public synchronized void crash()
    {
        // In path order, each file once, the ones still named first: the seeded draws then fall on the same
        // sectors in every run. A file deleted or replaced since the last directory sync may come back: it
        // crashes too.
        final Set<Node> crashed = Collections.newSetFromMap(new IdentityHashMap<>());
        for (final Map<Path, Node> files : List.of(current, durable))
        {
            for (final Node node : files.values())
            {
                if (crashed.add(node))
                {
                    if (node.crash(random))
                    {
                        count(Fault.LOST_WRITES);
                    }
                    node.generation++;
                }
            }
        }
        current.clear();
        current.putAll(durable);
    }

    public synchronized DiskFile open(final Path file, final boolean create) throws IOException
    {
        Node node = current.get(file);
        if (null == node)
        {
            if (!create)
            {
                throw new NoSuchFileException(file.toString());
            }
            if (!directories.contains(file.getParent()))
            {
                throw new NoSuchFileException(file.getParent().toString());
            }
            node = new Node(file);
            current.put(file, node);
        }
        return new SimulatedFile(node, node.generation);
    }

    public synchronized boolean exists(final Path path)
    {
        return current.containsKey(path) || directories.contains(path);
    }

    public synchronized List<String> list(final Path directory)
    {
        final List<String> names = new ArrayList<>();
        for (final Path path : current.keySet())
        {
            if (directory.equals(path.getParent()))
            {
                names.add(path.getFileName().toString());
            }
        }
        Collections.sort(names);
        return names;
    }

    public synchronized void createDirectories(final Path directory)
    {
        for (Path p = directory; p != null; p = p.getParent())
        {
            directories.add(p);
        }
    }

    public synchronized void delete(final Path file)
    {
        current.remove(file);
    }

    public synchronized void rename(final Path source, final Path target) throws IOException
    {
        final Node node = current.remove(source);
        if (null == node)
        {
            throw new NoSuchFileException(source.toString());
        }
        node.path = target;
        current.put(target, node);
    }

    public void syncDirectory(final Path directory) throws IOException
    {
        long nanos = 0;
        try
        {
            synchronized (this)
            {
                nanos = syncLatency();
                failIfSyncFails();
                durable.keySet().removeIf((path) -> directory.equals(path.getParent()));
                for (final Map.Entry<Path, Node> entry : current.entrySet())
                {
                    if (directory.equals(entry.getKey().getParent()))
                    {
                        durable.put(entry.getKey(), entry.getValue());
                    }
                }
            }
        }
        finally
        {
            report(IoKind.SYNC_DIRECTORY, directory, 0, nanos);
        }
    }

    /** Draws how long the sync starting now takes, and remembers it. */
    private long syncLatency()
    {
        final Faults f = faults;
        long nanos = f.syncLatencyMinNanos;
        final long spread = f.syncLatencyMeanNanos - f.syncLatencyMinNanos;
        if (spread > 0)
        {
            // StrictMath: the same draw gives the same latency on every JVM.
            nanos += Math.round(-StrictMath.log(1.0 - random.nextDouble()) * spread);
        }
        if (f.slowSyncNanos > 0 && chance(f.slowSyncPpm))
        {
            nanos += f.slowSyncNanos;
            count(Fault.SLOW_SYNC);
        }
        lastSyncNanos = nanos;
        return nanos;
    }

    /** A sync fails when {@link #failSyncs} asked for it, or at random. */
    private boolean syncFails()
    {
        if (failingSyncs > 0)
        {
            failingSyncs--;
            count(Fault.FAILED_SYNC);
            return true;
        }
        if (chance(faults.syncFailurePpm))
        {
            count(Fault.FAILED_SYNC);
            return true;
        }
        return false;
    }

    private void failIfSyncFails() throws IOException
    {
        if (syncFails())
        {
            throw new IOException("simulated sync failure (EIO)");
        }
    }

    private void reserve(final long extraBytes) throws IOException
    {
        if (extraBytes > 0 && usedBytes() + extraBytes > capacityBytes)
        {
            count(Fault.NO_SPACE);
            throw new IOException("No space left on device (simulated)");
        }
    }

    private void report(final IoKind kind, final Path path, final long bytes, final long nanos)
    {
        final IoListener listener = ioListener;
        if (null != listener)
        {
            listener.onIo(kind, path, bytes, nanos);
        }
    }

    private static int sectorOf(final long offset)
    {
        return (int)(offset / SECTOR_BYTES);
    }

    /** Sectors wholly or partly below {@code length}. */
    private static int sectorsIn(final long length)
    {
        return (int)((length + SECTOR_BYTES - 1) / SECTOR_BYTES);
    }

    /** The corruption of one sector: the bits of {@code mask} of the byte at {@code position} read flipped. */
    private static final class Flip
    {
        final long position;
        final byte mask;

        Flip(final long position, final byte mask)
        {
            this.position = position;
            this.mask = mask;
        }
    }

    /** A file's content: what reads see, what a crash keeps, which sectors are dirty, and which are corrupt. */
    private static final class Node
    {
        Path path;
        /** The page cache: the file as reads see it. Zero past {@code length}. */
        byte[] data = new byte[0];
        long length;
        /** What is on the media: exactly {@code durableLength} bytes. */
        byte[] durableData = new byte[0];
        long durableLength;
        /** The shortest length since the last sync: durable bytes past it were cut off, so they are not data. */
        long shortestSinceSync = Long.MAX_VALUE;
        /** Sectors written since the last sync. */
        final BitSet dirty = new BitSet();
        /** Sectors the media holds written data for (a hole a setLength made is not on the media). */
        final BitSet written = new BitSet();
        /** Corrupt sectors, never dirty ones: a write of a sector takes it off this map. */
        final TreeMap<Integer, Flip> corrupt = new TreeMap<>();
        int generation;

        Node(final Path path)
        {
            this.path = path;
        }

        void ensureCapacity(final long length)
        {
            if (length > data.length)
            {
                data = Arrays.copyOf(data, (int)Math.max(length, Math.min(Integer.MAX_VALUE - 8, data.length * 2L)));
            }
        }

        /** Forgets corruption at or past {@code length}: those bytes are no longer part of the file. */
        void dropCorruptionPast(final long length)
        {
            corrupt.tailMap(sectorOf(length)).values().removeIf((flip) -> flip.position >= length);
        }

        /** @return whether some unsynced sector was lost. */
        boolean crash(final Random random)
        {
            boolean lost = false;
            final byte[] kept = Arrays.copyOf(durableData, (int)Math.max(durableData.length, length));
            for (int sector = dirty.nextSetBit(0); sector >= 0; sector = dirty.nextSetBit(sector + 1))
            {
                if (random.nextBoolean())
                {
                    final int from = sector * SECTOR_BYTES;
                    final int to = (int)Math.min(length, from + SECTOR_BYTES);
                    if (from < to)
                    {
                        System.arraycopy(data, from, kept, from, to - from);
                        written.set(sector);
                    }
                }
                else
                {
                    lost = true;
                }
            }
            // Bytes past the durable length were never made part of the file: an extension reads zeros.
            durableData = kept.length == durableLength ? kept : Arrays.copyOf(kept, (int)durableLength);
            data = durableData.clone();
            length = durableLength;
            shortestSinceSync = Long.MAX_VALUE;
            dirty.clear();
            written.clear(sectorsIn(durableLength), Integer.MAX_VALUE);
            dropCorruptionPast(durableLength);
            return lost;
        }
    }

    private final class SimulatedFile implements DiskFile
    {
        private final Node node;
        private final int generation;

        SimulatedFile(final Node node, final int generation)
        {
            this.node = node;
            this.generation = generation;
        }

        private void checkOpen() throws IOException
        {
            if (generation != node.generation)
            {
                throw new IOException("file handle from before a crash");
            }
        }

        public int read(final ByteBuffer destination, final long position) throws IOException
        {
            int count = 0;
            Path path = null;
            try
            {
                synchronized (SimulatedDisk.this)
                {
                    path = node.path;
                    checkOpen();
                    if (position >= node.length)
                    {
                        return -1;
                    }
                    count = (int)Math.min(destination.remaining(), node.length - position);
                    final int at = destination.position();
                    destination.put(node.data, (int)position, count);
                    if (count > 0)
                    {
                        applyCorruption(destination, at, position, count);
                    }
                    return count;
                }
            }
            finally
            {
                report(IoKind.READ, path, count, 0);
            }
        }

        /** Finds latent errors among the durable sectors read, and shows every corrupt one in the bytes read. */
        private void applyCorruption(final ByteBuffer destination, final int at, final long position, final int count)
        {
            final int first = sectorOf(position);
            final int last = sectorOf(position + count - 1);
            final int ppm = faults.corruptReadPpm;
            if (ppm > 0)
            {
                for (int sector = node.written.nextSetBit(first); sector >= 0 && sector <= last;
                    sector = node.written.nextSetBit(sector + 1))
                {
                    if (!node.dirty.get(sector) && !node.corrupt.containsKey(sector) && chance(ppm))
                    {
                        corrupt(node, sector);
                    }
                }
            }
            for (final Flip flip : node.corrupt.subMap(first, true, last, true).values())
            {
                if (flip.position >= position && flip.position < position + count)
                {
                    final int i = at + (int)(flip.position - position);
                    destination.put(i, (byte)(node.data[(int)flip.position] ^ flip.mask));
                }
            }
        }

        public void write(final ByteBuffer source, final long position) throws IOException
        {
            final int count = source.remaining();
            Path path = null;
            try
            {
                synchronized (SimulatedDisk.this)
                {
                    path = node.path;
                    checkOpen();
                    final long end = position + count;
                    reserve(end - node.length);
                    final int shift = count > 0 && chance(faults.misdirectedWritePpm) ? misdirection(position, end) : 0;
                    node.ensureCapacity(end);
                    if (shift == 0)
                    {
                        for (long sector = position / SECTOR_BYTES; sector * SECTOR_BYTES < end; sector++)
                        {
                            readModifyWrite((int)sector, position, end);
                            node.dirty.set((int)sector);
                        }
                        source.get(node.data, (int)position, count);
                    }
                    else
                    {
                        writeMisdirected(source, position, end, shift);
                    }
                    if (end > node.length)
                    {
                        node.length = end;
                    }
                }
            }
            finally
            {
                report(IoKind.WRITE, path, count, 0);
            }
        }

        /**
         * A write of part of a corrupt sector reads the sector from the media first: the flipped bit becomes data
         * unless the write covers it. Either way the sector is no longer corrupt media, it is dirty data.
         */
        private void readModifyWrite(final int sector, final long position, final long end)
        {
            final Flip flip = node.corrupt.remove(sector);
            if (null != flip && (flip.position < position || flip.position >= end) && flip.position < node.length)
            {
                node.data[(int)flip.position] ^= flip.mask;
            }
        }

        /**
         * Where a misdirected write of {@code [position, end)} goes: a shift in sectors, to whole sectors inside the
         * file (as long as it is after the write), other than the intended ones; 0 if there is no such place.
         */
        private int misdirection(final long position, final long end)
        {
            final int first = sectorOf(position);
            final int sectors = sectorOf(end - 1) - first + 1;
            final int wholeSectors = (int)(Math.max(node.length, end) / SECTOR_BYTES);
            final int starts = wholeSectors - sectors + 1;
            final boolean intendedIsAStart = first < starts;
            final int candidates = starts - (intendedIsAStart ? 1 : 0);
            if (candidates <= 0)
            {
                return 0;
            }
            int start = random.nextInt(candidates);
            if (intendedIsAStart && start >= first)
            {
                start++;
            }
            return start - first;
        }

        /**
         * The write's sectors, as the page cache would hand them to the device (old bytes around the new ones),
         * land {@code shift} sectors away: those sectors are overwritten whole, the intended ones keep their data.
         */
        private void writeMisdirected(final ByteBuffer source, final long position, final long end, final int shift)
        {
            final int first = sectorOf(position);
            final int last = sectorOf(end - 1);
            final int from = first * SECTOR_BYTES;
            final byte[] image = new byte[(last - first + 1) * SECTOR_BYTES];
            System.arraycopy(node.data, from, image, 0, (int)Math.min(image.length, node.data.length - from));
            for (final Flip flip : node.corrupt.subMap(first, true, last, true).values())
            {
                if (flip.position < node.length)
                {
                    image[(int)(flip.position - from)] ^= flip.mask;
                }
            }
            source.get(image, (int)(position - from), (int)(end - position));
            final int target = (first + shift) * SECTOR_BYTES;
            System.arraycopy(image, 0, node.data, target, image.length);
            for (int sector = first + shift; sector <= last + shift; sector++)
            {
                node.corrupt.remove(sector);
                node.dirty.set(sector);
            }
            count(Fault.MISDIRECTED_WRITE);
        }

        public void sync() throws IOException
        {
            long nanos = 0;
            long bytes = 0;
            Path path = null;
            try
            {
                synchronized (SimulatedDisk.this)
                {
                    path = node.path;
                    checkOpen();
                    nanos = syncLatency();
                    bytes = (long)node.dirty.cardinality() * SECTOR_BYTES;
                    if (interruptNextSync)
                    {
                        interruptNextSync = false;
                        count(Fault.INTERRUPTED_SYNC);
                        throw new IOException("simulated power failure during sync");
                    }
                    if (syncFails())
                    {
                        node.dirty.clear();
                        throw new IOException("simulated sync failure (EIO)");
                    }
                    // Only what is dirty now becomes durable: data dropped by an earlier failed sync stays volatile.
                    // In place, so a sync costs what is dirty and not the whole file. Durable bytes past the durable
                    // length are always zero; those a shorter length cut off since the last sync become zero too.
                    final int kept = (int)Math.min(Math.min(node.durableLength, node.shortestSinceSync), node.length);
                    if (node.length > node.durableData.length)
                    {
                        node.durableData = Arrays.copyOf(node.durableData,
                            (int)Math.max(node.length, Math.min(Integer.MAX_VALUE - 8, node.durableData.length * 2L)));
                    }
                    if (kept < node.durableLength)
                    {
                        Arrays.fill(node.durableData, kept, (int)node.durableLength, (byte)0);
                    }
                    for (int sector = node.dirty.nextSetBit(0); sector >= 0; sector = node.dirty.nextSetBit(sector + 1))
                    {
                        final int from = sector * SECTOR_BYTES;
                        final int to = (int)Math.min(node.length, from + SECTOR_BYTES);
                        if (from < to)
                        {
                            System.arraycopy(node.data, from, node.durableData, from, to - from);
                            node.written.set(sector);
                        }
                    }
                    node.durableLength = node.length;
                    node.shortestSinceSync = Long.MAX_VALUE;
                    node.dirty.clear();
                }
            }
            finally
            {
                report(IoKind.SYNC, path, bytes, nanos);
            }
        }

        public long length() throws IOException
        {
            synchronized (SimulatedDisk.this)
            {
                checkOpen();
                return node.length;
            }
        }

        public void setLength(final long length) throws IOException
        {
            synchronized (SimulatedDisk.this)
            {
                checkOpen();
                reserve(length - node.length);
                node.ensureCapacity(length);
                if (length < node.length)
                {
                    Arrays.fill(node.data, (int)length, (int)node.length, (byte)0);
                    node.shortestSinceSync = Math.min(node.shortestSinceSync, length);
                    node.written.clear(sectorsIn(length), Integer.MAX_VALUE);
                    node.dropCorruptionPast(length);
                }
                node.length = length;
            }
        }

        public void close()
        {
        }
    }
}
