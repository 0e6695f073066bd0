package io.reprise.engine.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import java.util.zip.CRC32C;

import io.reprise.engine.disk.Disk;
import io.reprise.engine.disk.DiskFile;
import io.reprise.schema.client.SessionStatus;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Saved-session storage of one node (ARCHITECTURE §6, docs/saved_sessions_storage.md): the {@link Container}, the
 * live {@link SourceFile}s and their {@link Manifest}, and the three operations the agents run on their own
 * threads: {@link #flush()} (container to a new source), {@link #merge} (sources to one, dropping dead records)
 * and {@link #deleteRetired()}. The business-logic thread only calls the {@code on*} methods, which append to the
 * container. Readers ({@link StorageReader}, one per thread) see the container and the current manifest.
 * <p>
 * Snapshots: {@link #coversThrough} tells the snapshot agent whether every record up to an index is in a source;
 * {@link #writeManifest} records the live sources for the snapshot at that index and pins them (a pinned source
 * is never deleted); {@link #retainSnapshots} unpins what no retained snapshot lists. {@link #open} restores the
 * manifest of the snapshot the node restored, deletes every file no retained snapshot lists (half-written flushes
 * and merges) and tells the node which journal records it must replay into the container.
 */
public final class SavedSessionStorage implements AutoCloseable
{
    public static final String MANIFEST_PREFIX = "manifest-";
    public static final String MANIFEST_SUFFIX = ".mf";
    private static final long MANIFEST_MAGIC = 0x314E414D50455252L;
    private static final int MANIFEST_VERSION = 1;

    /** What storage reports, for the lifecycle record and tests. */
    public interface Listener
    {
        void onEvent(String event);
    }

    private final Disk disk;
    private final Path directory;
    private final Container container;
    private final LongSupplier appliedIndex;
    private final Listener listener;
    private final AtomicReference<Manifest> current = new AtomicReference<>();
    private final Object swapLock = new Object();
    private final long replayAfter;
    private final Map<Long, long[]> snapshotManifests = new TreeMap<>();
    private volatile long[] pinned = new long[0];
    private volatile boolean flushRequested;
    private volatile boolean fullMergeRequested;
    private long nextSourceId;

    // Merger thread only.
    private final List<long[]> retiredIds = new ArrayList<>();
    private final Map<Long, SourceFile> retiredOpen = new HashMap<>();
    /** The last manifest {@link #plan} found nothing to merge in; planning scans every entry, so not again. */
    private Manifest plannedIdle;
    private long flushes;
    private long merges;
    private long bytesFlushed;
    private long bytesMerged;

    private SavedSessionStorage(
        final Disk disk, final Path directory, final Container container, final LongSupplier appliedIndex,
        final Listener listener, final Manifest manifest, final long nextSourceId)
    {
        this.disk = disk;
        this.directory = directory;
        this.container = container;
        this.appliedIndex = appliedIndex;
        this.listener = listener;
        this.current.set(manifest);
        this.replayAfter = manifest.coveredThrough;
        this.nextSourceId = nextSourceId;
        container.startAfter(manifest.coveredThrough);
    }

    public static String manifestNameFor(final long snapshotIndex)
    {
        return MANIFEST_PREFIX + String.format("%020d", snapshotIndex) + MANIFEST_SUFFIX;
    }

    /**
     * Opens storage in {@code directory} for a node whose state was restored from the snapshot at
     * {@code restoredIndex} (0: none), with {@code retainedSnapshots} the indices the catalog retains.
     *
     * @param appliedIndex the business logic's applied index, readable from any thread.
     */
    public static SavedSessionStorage open(
        final Disk disk, final Path directory, final Container container, final long[] retainedSnapshots,
        final long restoredIndex, final LongSupplier appliedIndex, final Listener listener) throws IOException
    {
        disk.createDirectories(directory);
        final List<String> names = disk.list(directory);
        final Map<Long, long[]> manifests = new TreeMap<>();
        long restoredCovered = 0;
        long maxId = 0;
        for (final String name : names)
        {
            maxId = Math.max(maxId, SourceFile.idOf(name));
        }
        for (final long snapshotIndex : retainedSnapshots)
        {
            final Path file = directory.resolve(manifestNameFor(snapshotIndex));
            if (!disk.exists(file))
            {
                if (snapshotIndex == restoredIndex)
                {
                    throw new StorageCorruptException(file, 0, "no source manifest for the restored snapshot");
                }
                continue;
            }
            final long[] covered = new long[1];
            manifests.put(snapshotIndex, readManifest(disk, file, snapshotIndex, covered));
            if (snapshotIndex == restoredIndex)
            {
                restoredCovered = covered[0];
            }
        }
        if (restoredIndex > 0 && !manifests.containsKey(restoredIndex))
        {
            throw new StorageCorruptException(directory.resolve(manifestNameFor(restoredIndex)), 0,
                "no source manifest for the restored snapshot");
        }
        final long[] restoredIds = restoredIndex > 0 ? manifests.get(restoredIndex) : new long[0];

        // Whatever no retained snapshot lists is a half-written or superseded flush or merge: delete it.
        boolean deleted = false;
        for (final String name : names)
        {
            final long id = SourceFile.idOf(name);
            boolean keep = false;
            if (id >= 0)
            {
                for (final long[] ids : manifests.values())
                {
                    keep |= contains(ids, id);
                }
            }
            else if (name.startsWith(MANIFEST_PREFIX) && name.endsWith(MANIFEST_SUFFIX))
            {
                final long index = parseIndex(name);
                keep = manifests.containsKey(index);
            }
            if (!keep)
            {
                disk.delete(directory.resolve(name));
                listener.onEvent("storage-orphan-deleted " + name);
                deleted = true;
            }
        }
        if (deleted)
        {
            disk.syncDirectory(directory);
        }

        final SourceFile[] sources = new SourceFile[restoredIds.length];
        try
        {
            for (int i = 0; i < sources.length; i++)
            {
                sources[i] = SourceFile.open(disk, directory.resolve(SourceFile.nameFor(restoredIds[i])));
            }
        }
        catch (final IOException | RuntimeException ex)
        {
            for (final SourceFile source : sources)
            {
                if (null != source)
                {
                    source.close();
                }
            }
            throw ex;
        }
        final Manifest manifest = new Manifest(sources, Math.max(restoredCovered, restoredIndex));
        for (final SourceFile source : sources)
        {
            source.release();
        }
        final SavedSessionStorage storage = new SavedSessionStorage(disk, directory, container, appliedIndex,
            listener, manifest, maxId + 1);
        storage.snapshotManifests.putAll(manifests);
        // Recovery replays into the container before any flush agent runs: if it fills, the replay flushes it.
        storage.flushOnAppendingThread();
        storage.recomputePinned();
        // Sources only older snapshots list stay on disk until those snapshots go.
        for (final long[] ids : manifests.values())
        {
            for (final long id : ids)
            {
                if (!contains(restoredIds, id))
                {
                    storage.retiredIds.add(new long[] {id});
                }
            }
        }
        listener.onEvent("storage-opened sources=" + sources.length + " covered-through=" + manifest.coveredThrough);
        return storage;
    }

    private static long parseIndex(final String name)
    {
        try
        {
            return Long.parseLong(name.substring(MANIFEST_PREFIX.length(), name.length() - MANIFEST_SUFFIX.length()));
        }
        catch (final NumberFormatException ex)
        {
            return -1;
        }
    }

    private static boolean contains(final long[] ids, final long id)
    {
        for (final long each : ids)
        {
            if (each == id)
            {
                return true;
            }
        }
        return false;
    }

    public Container container()
    {
        return container;
    }

    public Path directory()
    {
        return directory;
    }

    /** Journal records up to this index are in sources: replaying them must not append to the container. */
    public long replayAfter()
    {
        return replayAfter;
    }

    /**
     * From now on a full container waits for the flush agent (back-pressure), instead of being flushed by the
     * replaying thread as during recovery. Call before the business logic goes live and the flush agent starts.
     */
    public void handOverFlushToAgent()
    {
        container.inlineFlushWhenFull(null);
    }

    /** The container has no free page: asks for a flush, and the business logic should take no entry meanwhile. */
    public boolean containerFull()
    {
        if (!container.full())
        {
            return false;
        }
        requestFlush();
        return true;
    }

    /**
     * From now on a full container is flushed by the appending (business-logic) thread itself. For when no flush
     * agent runs: recovery, and shutdown once the agents have stopped, so an append waiting for a free page then
     * completes instead of waiting forever. A failed flush fails the append with the I/O error.
     */
    public void flushOnAppendingThread()
    {
        container.inlineFlushWhenFull(this::flushOrThrow);
    }

    private void flushOrThrow()
    {
        try
        {
            flush();
        }
        catch (final IOException ex)
        {
            throw new java.io.UncheckedIOException(ex);
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Business-logic thread: outputs of applied operators, live or replayed, with the operator's index.

    public void onSessionSaved(
        final long index, final int tenant, final long sessionId, final DirectBuffer payload, final int offset,
        final int length)
    {
        if (index > replayAfter)
        {
            container.append(tenant, sessionId, index, StorageRecord.PAYLOAD, payload, offset, length);
        }
    }

    /** COMPLETED and CANCELLED end a payload's use; DEAD does not, since a redrive brings the session back. */
    public void onSessionFinished(final long index, final int tenant, final long sessionId, final SessionStatus status)
    {
        if (index > replayAfter && (status == SessionStatus.COMPLETED || status == SessionStatus.CANCELLED))
        {
            container.append(tenant, sessionId, index, StorageRecord.TOMBSTONE, null, 0, 0);
        }
    }

    public void onSessionPurged(final long index, final int tenant, final long sessionId)
    {
        if (index > replayAfter)
        {
            container.append(tenant, sessionId, index, StorageRecord.TOMBSTONE, null, 0, 0);
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Readers.

    /** A reader for the calling thread. */
    public StorageReader newReader(final int maxPayloadBytes)
    {
        return new StorageReader(this, maxPayloadBytes);
    }

    Manifest acquireManifest()
    {
        while (true)
        {
            final Manifest manifest = current.get();
            if (manifest.tryAcquire())
            {
                return manifest;
            }
        }
    }

    /** Sources live now, for tools and tests. */
    public List<Path> liveSources()
    {
        final Manifest manifest = acquireManifest();
        try
        {
            final List<Path> paths = new ArrayList<>();
            for (final SourceFile source : manifest.sources)
            {
                paths.add(source.path());
            }
            return paths;
        }
        finally
        {
            manifest.release();
        }
    }

    public long coveredThrough()
    {
        return current.get().coveredThrough;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Flush: the container-flush agent's thread.

    public void requestFlush()
    {
        flushRequested = true;
    }

    boolean takeFlushRequest()
    {
        final boolean requested = flushRequested;
        flushRequested = false;
        return requested;
    }

    /**
     * Writes what the container holds now as a new source (dropping payloads whose tombstone is in the same cut and
     * tombstones that shadow nothing on disk), syncs it and its directory, publishes it, then releases the
     * container's pages. Returns the number of records written.
     */
    public int flush() throws IOException
    {
        final long applied = appliedIndex.getAsLong();
        final long bytes = container.cut();
        if (bytes == 0 && applied <= container.flushedThroughIndex())
        {
            return 0;
        }
        // Without a tombstone in the cut, every record of it is a payload that nothing makes dead: the pages' ranges
        // are written as they are.
        final boolean dropsPossible = container.cutMayHoldTombstones();
        final KeyMap tombstones = new KeyMap(1024);
        if (dropsPossible)
        {
            container.visitCut((buffer, offset, length) ->
            {
                if (buffer.getShort(offset + StorageRecord.TYPE_OFFSET) == StorageRecord.TOMBSTONE)
                {
                    tombstones.putMax(buffer.getInt(offset + StorageRecord.TENANT_OFFSET),
                        buffer.getLong(offset + StorageRecord.SESSION_ID_OFFSET),
                        buffer.getLong(offset + StorageRecord.INDEX_OFFSET));
                }
            });
        }
        final Manifest base = acquireManifest();
        SourceFile source = null;
        try
        {
            final long id;
            synchronized (swapLock)
            {
                id = nextSourceId++;
            }
            int written = 0;
            if (bytes > 0)
            {
                try (SourceFile.Writer writer = new SourceFile.Writer(disk, directory, id))
                {
                    if (dropsPossible)
                    {
                        container.visitCut((buffer, offset, length) ->
                        {
                            if (keep(buffer, offset, tombstones, base.sources, null))
                            {
                                writer.onRecord(buffer, offset, length);
                            }
                        });
                    }
                    else
                    {
                        container.visitCutRanges(writer::onRecords);
                    }
                    written = writer.count();
                    if (written > 0)
                    {
                        source = writer.finish();
                        bytesFlushed += writer.bytesWritten();
                    }
                }
            }
            synchronized (swapLock)
            {
                final Manifest old = current.get();
                final SourceFile[] sources = null == source ? old.sources :
                    Arrays.copyOf(old.sources, old.sources.length + 1);
                if (null != source)
                {
                    sources[sources.length - 1] = source;
                }
                current.set(new Manifest(sources, Math.max(old.coveredThrough, applied)));
                old.release();
            }
            if (null != source)
            {
                source.release();
            }
            container.commitCut(applied);
            flushes++;
            return written;
        }
        finally
        {
            base.release();
        }
    }

    /**
     * True when {@link #keep} would keep every record of {@code input}: it holds no tombstone, and no payload of it is
     * older than a tombstone of its key. Decided from the index in memory, without reading the file.
     */
    private static boolean keepsEveryRecord(final SourceFile input, final KeyMap tombstones)
    {
        if (input.tombstoneEntries().length > 0)
        {
            return false;
        }
        for (int e = 0; tombstones.size() > 0 && e < input.entries(); e++)
        {
            final long tombstone = tombstones.get(input.entryTenant(e), input.entrySessionId(e));
            if (tombstone != KeyMap.MISSING && tombstone >= input.entryIndex(e))
            {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether a record survives into a new source. A payload dies when a newer tombstone of its key is known; a
     * tombstone survives only while it shadows a payload in a source outside {@code inputs}.
     */
    private static boolean keep(
        final DirectBuffer buffer, final int offset, final KeyMap tombstones, final SourceFile[] sources,
        final SourceFile[] inputs)
    {
        final int tenant = buffer.getInt(offset + StorageRecord.TENANT_OFFSET);
        final long sessionId = buffer.getLong(offset + StorageRecord.SESSION_ID_OFFSET);
        final long index = buffer.getLong(offset + StorageRecord.INDEX_OFFSET);
        final long tombstone = tombstones.get(tenant, sessionId);
        if (buffer.getShort(offset + StorageRecord.TYPE_OFFSET) == StorageRecord.PAYLOAD)
        {
            return tombstone == KeyMap.MISSING || tombstone < index;
        }
        if (index < tombstone)
        {
            return false;
        }
        for (final SourceFile source : sources)
        {
            if (!isInput(source, inputs) && source.hasPayloadBefore(tenant, sessionId, index))
            {
                return true;
            }
        }
        return false;
    }

    private static boolean isInput(final SourceFile source, final SourceFile[] inputs)
    {
        if (null != inputs)
        {
            for (final SourceFile input : inputs)
            {
                if (input == source)
                {
                    return true;
                }
            }
        }
        return false;
    }

    /** Whether every record up to {@code index} is in a published source. */
    public boolean coversThrough(final long index)
    {
        return container.flushedThroughIndex() >= index;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Merge: the merger agent's thread.

    public void requestFullMerge()
    {
        fullMergeRequested = true;
    }

    boolean takeFullMergeRequest()
    {
        final boolean requested = fullMergeRequested;
        fullMergeRequested = false;
        return requested;
    }

    /**
     * Chooses the sources to merge now, or null: all of them when {@code full}; else, size-tiered, the sources
     * of the first tier (sizes within a factor of {@code fanIn} from {@code baseBytes} up) that holds
     * {@code fanIn} of them; else every source at least half of whose record bytes are known dead.
     */
    public SourceFile[] plan(final boolean full, final int fanIn, final long baseBytes)
    {
        final Manifest manifest = acquireManifest();
        try
        {
            final SourceFile[] sources = manifest.sources;
            // The choice depends on the sources alone: a set already found to need nothing needs nothing now.
            if (sources.length == 0 || (!full && manifest == plannedIdle))
            {
                return null;
            }
            if (full)
            {
                return sources.clone();
            }
            final int tiers = 40;
            final int[] counts = new int[tiers];
            for (final SourceFile source : sources)
            {
                counts[tierOf(source, fanIn, baseBytes)]++;
            }
            for (int tier = 0; tier < tiers; tier++)
            {
                if (counts[tier] >= fanIn)
                {
                    final List<SourceFile> inputs = new ArrayList<>();
                    for (final SourceFile source : sources)
                    {
                        if (tierOf(source, fanIn, baseBytes) == tier)
                        {
                            inputs.add(source);
                        }
                    }
                    return inputs.toArray(new SourceFile[0]);
                }
            }
            final long[] dead = deadBytes(sources);
            final List<SourceFile> garbage = new ArrayList<>();
            for (int i = 0; i < sources.length; i++)
            {
                if (dead[i] > 0 && dead[i] * 2 >= sources[i].recordsLength())
                {
                    garbage.add(sources[i]);
                }
            }
            if (garbage.isEmpty())
            {
                plannedIdle = manifest;
                return null;
            }
            return garbage.toArray(new SourceFile[0]);
        }
        finally
        {
            manifest.release();
        }
    }

    private static int tierOf(final SourceFile source, final int fanIn, final long baseBytes)
    {
        int tier = 0;
        long limit = baseBytes;
        while (source.fileLength() > limit && tier < 39)
        {
            limit *= fanIn;
            tier++;
        }
        return tier;
    }

    /** Bytes of payload records in each source that a newer tombstone anywhere makes dead. */
    static long[] deadBytes(final SourceFile[] sources)
    {
        final long[] dead = new long[sources.length];
        for (final SourceFile withTombstones : sources)
        {
            for (final int e : withTombstones.tombstoneEntries())
            {
                final int tenant = withTombstones.entryTenant(e);
                final long sessionId = withTombstones.entrySessionId(e);
                final long tombstone = withTombstones.entryIndex(e);
                for (int s = 0; s < sources.length; s++)
                {
                    int entry = sources[s].find(tenant, sessionId);
                    while (entry >= 0 && sources[s].entryTenant(entry) == tenant &&
                        sources[s].entrySessionId(entry) == sessionId)
                    {
                        final int length = sources[s].entryPayloadLength(entry);
                        if (length >= 0 && sources[s].entryIndex(entry) < tombstone)
                        {
                            dead[s] += StorageRecord.recordLength(length);
                        }
                        entry--;
                    }
                }
            }
        }
        return dead;
    }

    /**
     * Merges {@code inputs} into one new source: an input with nothing to drop is copied whole, file to file; from
     * the others, dead payloads and useless tombstones are dropped and the rest copied with checksums verified. The
     * output is synced, then swapped in atomically. The inputs are retired and deleted by
     * {@link #deleteRetired()} once no reader and no retained snapshot uses them. Returns the records written.
     */
    public int merge(final SourceFile[] inputs) throws IOException
    {
        final Manifest base = acquireManifest();
        try
        {
            for (final SourceFile input : inputs)
            {
                if (!isInput(input, base.sources))
                {
                    return 0;
                }
            }
            final KeyMap tombstones = new KeyMap(1024);
            for (final SourceFile source : base.sources)
            {
                for (final int e : source.tombstoneEntries())
                {
                    tombstones.putMax(source.entryTenant(e), source.entrySessionId(e), source.entryIndex(e));
                }
            }
            final long id;
            synchronized (swapLock)
            {
                id = nextSourceId++;
            }
            int written;
            int wholeInputs = 0;
            SourceFile output = null;
            try (SourceFile.Writer writer = new SourceFile.Writer(disk, directory, id))
            {
                for (final SourceFile input : inputs)
                {
                    if (keepsEveryRecord(input, tombstones))
                    {
                        writer.appendWhole(input);
                        wholeInputs++;
                        continue;
                    }
                    input.scan((buffer, offset, length) ->
                    {
                        if (keep(buffer, offset, tombstones, base.sources, inputs))
                        {
                            writer.onRecord(buffer, offset, length);
                        }
                    });
                }
                written = writer.count();
                if (written > 0)
                {
                    output = writer.finish();
                    bytesMerged += writer.bytesWritten();
                }
            }
            synchronized (swapLock)
            {
                final Manifest old = current.get();
                final List<SourceFile> next = new ArrayList<>();
                for (final SourceFile source : old.sources)
                {
                    if (!isInput(source, inputs))
                    {
                        next.add(source);
                    }
                }
                if (null != output)
                {
                    next.add(output);
                }
                current.set(new Manifest(next.toArray(new SourceFile[0]), old.coveredThrough));
                old.release();
            }
            if (null != output)
            {
                output.release();
            }
            for (final SourceFile input : inputs)
            {
                retiredOpen.put(input.id(), input);
            }
            merges++;
            listener.onEvent(
                "storage-merged inputs=" + inputs.length + " whole=" + wholeInputs + " records=" + written);
            return written;
        }
        finally
        {
            base.release();
        }
    }

    /** Deletes retired sources that no reader holds and no retained snapshot lists. Merger thread. */
    public int deleteRetired() throws IOException
    {
        int deleted = 0;
        final long[] pinnedNow;
        for (final var it = retiredOpen.values().iterator(); it.hasNext(); )
        {
            final SourceFile source = it.next();
            // References first, pins second: a snapshot pins only sources of a manifest it holds.
            if (source.references() == 0 && !contains(pinned, source.id()))
            {
                source.close();
                disk.delete(source.path());
                it.remove();
                deleted++;
            }
        }
        pinnedNow = pinned;
        for (final var it = retiredIds.iterator(); it.hasNext(); )
        {
            final long id = it.next()[0];
            if (!contains(pinnedNow, id))
            {
                final Path path = directory.resolve(SourceFile.nameFor(id));
                if (disk.exists(path))
                {
                    disk.delete(path);
                }
                it.remove();
                deleted++;
            }
        }
        if (deleted > 0)
        {
            disk.syncDirectory(directory);
        }
        return deleted;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Snapshots: the snapshot agent's thread.

    /**
     * Records, durably, the sources that hold every record up to {@code snapshotIndex}, for the snapshot about to
     * be written at that index, and pins them. Call only when {@link #coversThrough} the index.
     */
    public void writeManifest(final long snapshotIndex) throws IOException
    {
        final Manifest manifest = acquireManifest();
        try
        {
            if (manifest.coveredThrough < snapshotIndex)
            {
                throw new IllegalStateException("sources cover through " + manifest.coveredThrough +
                    ", not the snapshot index " + snapshotIndex);
            }
            final long[] ids = manifest.sourceIds();
            synchronized (swapLock)
            {
                snapshotManifests.put(snapshotIndex, ids);
                recomputePinned();
            }
            final String name = manifestNameFor(snapshotIndex);
            final Path temporary = directory.resolve(name + SourceFile.TEMPORARY_SUFFIX);
            final ByteBuffer bytes = ByteBuffer.allocateDirect(36 + 8 * ids.length).order(ByteOrder.LITTLE_ENDIAN);
            final UnsafeBuffer view = new UnsafeBuffer(bytes);
            view.putLong(0, MANIFEST_MAGIC);
            view.putInt(8, MANIFEST_VERSION);
            view.putInt(12, ids.length);
            view.putLong(16, snapshotIndex);
            view.putLong(24, manifest.coveredThrough);
            for (int i = 0; i < ids.length; i++)
            {
                view.putLong(32 + 8 * i, ids[i]);
            }
            view.putInt(32 + 8 * ids.length, SourceFile.crcOf(view, 0, 32 + 8 * ids.length, new CRC32C()));
            try (DiskFile file = disk.open(temporary, true))
            {
                file.setLength(0);
                file.write(bytes, 0);
                file.sync();
            }
            disk.rename(temporary, directory.resolve(name));
            disk.syncDirectory(directory);
        }
        finally
        {
            manifest.release();
        }
    }

    /**
     * The files that carry the saved sessions of the snapshot at {@code snapshotIndex}: its manifest, then every
     * source it lists (what a full install of that snapshot sends).
     */
    public static List<Path> filesOf(final Disk disk, final Path directory, final long snapshotIndex)
        throws IOException
    {
        final Path manifest = directory.resolve(manifestNameFor(snapshotIndex));
        final List<Path> files = new ArrayList<>();
        files.add(manifest);
        for (final long id : readManifest(disk, manifest, snapshotIndex, new long[1]))
        {
            files.add(directory.resolve(SourceFile.nameFor(id)));
        }
        return files;
    }

    /** The source ids the manifest of the snapshot at {@code snapshotIndex} lists (also for tests). */
    static long[] readManifest(final Disk disk, final Path file, final long snapshotIndex,
        final long[] coveredThrough) throws IOException
    {
        try (DiskFile f = disk.open(file, false))
        {
            final long length = f.length();
            if (length < 36 || length > 36 + 8L * (1 << 20))
            {
                throw new StorageCorruptException(file, 0, "manifest length " + length);
            }
            final ByteBuffer bytes = ByteBuffer.allocateDirect((int)length).order(ByteOrder.LITTLE_ENDIAN);
            while (bytes.hasRemaining())
            {
                if (f.read(bytes, bytes.position()) < 0)
                {
                    throw new StorageCorruptException(file, bytes.position(), "unexpected end of file");
                }
            }
            final UnsafeBuffer view = new UnsafeBuffer(bytes);
            final int count = view.getInt(12);
            if (view.getLong(0) != MANIFEST_MAGIC || view.getInt(8) != MANIFEST_VERSION || count < 0 ||
                36 + 8L * count != length || view.getLong(16) != snapshotIndex ||
                view.getInt(32 + 8 * count) != SourceFile.crcOf(view, 0, 32 + 8 * count, new CRC32C()))
            {
                throw new StorageCorruptException(file, 0, "bad source manifest");
            }
            coveredThrough[0] = view.getLong(24);
            final long[] ids = new long[count];
            for (int i = 0; i < count; i++)
            {
                ids[i] = view.getLong(32 + 8 * i);
            }
            return ids;
        }
    }

    /** The catalog now retains only snapshots at {@code indices}: drop the other manifests and their pins. */
    public void retainSnapshots(final long[] indices) throws IOException
    {
        final List<Long> dropped = new ArrayList<>();
        synchronized (swapLock)
        {
            for (final Long index : new ArrayList<>(snapshotManifests.keySet()))
            {
                boolean retained = false;
                for (final long each : indices)
                {
                    retained |= each == index;
                }
                if (!retained)
                {
                    snapshotManifests.remove(index);
                    dropped.add(index);
                }
            }
            recomputePinned();
        }
        for (final Long index : dropped)
        {
            final Path file = directory.resolve(manifestNameFor(index));
            if (disk.exists(file))
            {
                disk.delete(file);
            }
        }
        if (!dropped.isEmpty())
        {
            disk.syncDirectory(directory);
        }
    }

    private void recomputePinned()
    {
        pinned = snapshotManifests.values().stream().flatMapToLong(Arrays::stream).distinct().sorted().toArray();
    }

    // ------------------------------------------------------------------------------------------------------------

    public long flushes()
    {
        return flushes;
    }

    public long merges()
    {
        return merges;
    }

    public long bytesFlushed()
    {
        return bytesFlushed;
    }

    public long bytesMerged()
    {
        return bytesMerged;
    }

    /** Closes every open source; call after the agents stopped. */
    public void close() throws IOException
    {
        final Manifest manifest = current.get();
        for (final SourceFile source : manifest.sources)
        {
            source.close();
        }
        for (final SourceFile source : retiredOpen.values())
        {
            source.close();
        }
    }
}
