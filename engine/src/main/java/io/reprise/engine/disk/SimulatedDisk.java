package io.reprise.engine.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

/**
 * An in-memory {@link Disk} that behaves like a real one under failure, for tests and the simulation runtime.
 * <ul>
 *   <li>Writes land in a "page cache"; only {@link DiskFile#sync()} makes them durable.</li>
 *   <li>{@link #crash()} keeps durable data and, of each unsynced sector, a random (seeded) subset: torn writes.
 *       Creates, renames and deletes not followed by {@link #syncDirectory} may be undone.</li>
 *   <li>{@link #interruptNextSync()}: a sync that never completes, for torn tails after {@link #crash()}.</li>
 *   <li>{@link #failSyncs(int)}: the next syncs fail, and as on Linux the dirty data they covered is dropped from
 *       the page cache's to-do list: it stays readable but is not durable unless written again.</li>
 *   <li>{@link #capacityBytes(long)}: writes or extensions past it fail with "No space left on device".</li>
 * </ul>
 * Deterministic for a given seed and call sequence. Thread safe through one lock: a node's threads may share it.
 */
public final class SimulatedDisk implements Disk
{

    private final Random random;
    private final Map<Path, Node> current = new HashMap<>();
    private final Map<Path, Node> durable = new HashMap<>();
    private final Set<Path> directories = new HashSet<>();
    private long capacityBytes = Long.MAX_VALUE;
    private int failingSyncs;
    private boolean interruptNextSync;

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
        // In path order, each file once: the seeded draws then fall on the same sectors in every run.
        final Set<Node> crashed = Collections.newSetFromMap(new IdentityHashMap<>());
        for (final Node node : new TreeMap<>(current).values())
        {
            if (crashed.add(node))
            {
                node.crash(random);
            }
        }
        current.clear();
        current.putAll(durable);
        for (final Node node : current.values())
        {
            node.generation++;
        }
    }

    public synchronized DiskFile open(final Path file, final boolean create) throws IOException
    {
        Node node = current.get(file);
        if (null == node)
        {
            if (!create)
            {
                throw new java.nio.file.NoSuchFileException(file.toString());
            }
            if (!directories.contains(file.getParent()))
            {
                throw new java.nio.file.NoSuchFileException(file.getParent().toString());
            }
            node = new Node();
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
            throw new java.nio.file.NoSuchFileException(source.toString());
        }
        current.put(target, node);
    }

    public synchronized void syncDirectory(final Path directory) throws IOException
    {
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

    private void failIfSyncFails() throws IOException
    {
        if (failingSyncs > 0)
        {
            failingSyncs--;
            throw new IOException("simulated sync failure (EIO)");
        }
    }

    private void reserve(final long extraBytes) throws IOException
    {
        if (extraBytes > 0 && usedBytes() + extraBytes > capacityBytes)
        {
            throw new IOException("No space left on device (simulated)");
        }
    }

    /** A file's content: what reads see, what a crash keeps, and which sectors are dirty. */
    private static final class Node
    {
        byte[] data = new byte[0];
        long length;
        byte[] durableData = new byte[0];
        long durableLength;
        final Set<Long> dirtySectors = new HashSet<>();
        int generation;

        void ensureCapacity(final long length)
        {
            if (length > data.length)
            {
                data = Arrays.copyOf(data, (int)Math.max(length, Math.min(Integer.MAX_VALUE - 8, data.length * 2L)));
            }
        }

        void crash(final Random random)
        {
            final byte[] kept = Arrays.copyOf(durableData, (int)Math.max(durableData.length, length));
            final Long[] sectors = dirtySectors.toArray(new Long[0]);
            Arrays.sort(sectors);
            for (final long sector : sectors)
            {
                if (random.nextBoolean())
                {
                    final int from = (int)(sector * SECTOR_BYTES);
                    // A sector written and then cut off by a shorter setLength may lie past what is kept.
                    final int to = (int)Math.min(Math.min(data.length, kept.length), from + SECTOR_BYTES);
                    if (from < to)
                    {
                        System.arraycopy(data, from, kept, from, to - from);
                    }
                }
            }
            data = kept;
            length = durableLength;
            durableData = Arrays.copyOf(kept, (int)durableLength);
            dirtySectors.clear();
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
            synchronized (SimulatedDisk.this)
            {
                checkOpen();
                if (position >= node.length)
                {
                    return -1;
                }
                final int count = (int)Math.min(destination.remaining(), node.length - position);
                destination.put(node.data, (int)position, count);
                return count;
            }
        }

        public void write(final ByteBuffer source, final long position) throws IOException
        {
            synchronized (SimulatedDisk.this)
            {
                checkOpen();
                final int count = source.remaining();
                final long end = position + count;
                reserve(end - node.length);
                node.ensureCapacity(end);
                source.get(node.data, (int)position, count);
                if (end > node.length)
                {
                    node.length = end;
                }
                for (long sector = position / SECTOR_BYTES; sector * SECTOR_BYTES < end; sector++)
                {
                    node.dirtySectors.add(sector);
                }
            }
        }

        public void sync() throws IOException
        {
            synchronized (SimulatedDisk.this)
            {
                checkOpen();
                if (interruptNextSync)
                {
                    interruptNextSync = false;
                    throw new IOException("simulated power failure during sync");
                }
                if (failingSyncs > 0)
                {
                    failingSyncs--;
                    node.dirtySectors.clear();
                    throw new IOException("simulated sync failure (EIO)");
                }
                // Only what is dirty now becomes durable: data dropped by an earlier failed sync stays volatile.
                // In place: a sync costs what is dirty, not the file. Past durableLength the durable bytes stay zero,
                // so a file that grows again reads zeros there, as an extension does.
                if (node.length > node.durableData.length)
                {
                    node.durableData = Arrays.copyOf(node.durableData,
                        (int)Math.max(node.length, Math.min(Integer.MAX_VALUE - 8, node.durableData.length * 2L)));
                }
                else if (node.length < node.durableLength)
                {
                    Arrays.fill(node.durableData, (int)node.length, (int)node.durableLength, (byte)0);
                }
                for (final long sector : node.dirtySectors)
                {
                    final int from = (int)(sector * SECTOR_BYTES);
                    final int to = (int)Math.min(node.length, from + SECTOR_BYTES);
                    if (from < to)
                    {
                        System.arraycopy(node.data, from, node.durableData, from, to - from);
                    }
                }
                node.durableLength = node.length;
                node.dirtySectors.clear();
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
                }
                node.length = length;
            }
        }

        public void close()
        {
        }
    }
}
