package io.reprise.engine.storage;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The set of sources live at one moment and the index through which they hold every record. Immutable; readers
 * take a reference while they use it, and the last release of a replaced manifest releases its sources.
 */
final class Manifest
{
    final SourceFile[] sources;
    final long coveredThrough;
    private final AtomicInteger references = new AtomicInteger(1);

    Manifest(final SourceFile[] sources, final long coveredThrough)
    {
        for (final SourceFile source : sources)
        {
            if (!source.tryAcquire())
            {
                throw new IllegalStateException("source " + source.id() + " retired before its manifest was built");
            }
        }
        this.sources = sources;
        this.coveredThrough = coveredThrough;
    }

    boolean tryAcquire()
    {
        int refs;
        do
        {
            refs = references.get();
            if (refs <= 0)
            {
                return false;
            }
        }
        while (!references.compareAndSet(refs, refs + 1));
        return true;
    }

    void release()
    {
        final int refs = references.decrementAndGet();
        if (refs == 0)
        {
            for (final SourceFile source : sources)
            {
                source.release();
            }
        }
        else if (refs < 0)
        {
            throw new IllegalStateException("manifest released more than acquired");
        }
    }

    long[] sourceIds()
    {
        final long[] ids = new long[sources.length];
        for (int i = 0; i < ids.length; i++)
        {
            ids[i] = sources[i].id();
        }
        return ids;
    }

    long bytes()
    {
        long bytes = 0;
        for (final SourceFile source : sources)
        {
            bytes += source.fileLength();
        }
        return bytes;
    }
}
