package io.reprise.tools.cli;

import java.io.PrintStream;

import io.reprise.transport.Settings;

/**
 * Progress of a long pass over the journal, on stderr so that stdout stays the result: one line every
 * {@link #everyRecords()} records (system property {@value #EVERY_PROP_NAME}, default one million).
 */
public final class Progress
{
    public static final String EVERY_PROP_NAME = "reprise.tools.progress.records";
    /** From the table of every key, docs/configuration.md. */
    public static final long EVERY_DEFAULT = Long.parseLong(Settings.get(EVERY_PROP_NAME).defaultValue());

    private final PrintStream err;
    private final String verb;
    private final long every;
    private final long startNs = System.nanoTime();
    private long records;

    public Progress(final PrintStream err, final String verb)
    {
        this.err = err;
        this.verb = verb;
        this.every = Math.max(1, Long.getLong(EVERY_PROP_NAME, EVERY_DEFAULT));
    }

    public long everyRecords()
    {
        return every;
    }

    /** Counts one record; prints a line when a multiple of the period is reached. */
    public void record(final long index, final String where)
    {
        if (++records % every == 0)
        {
            final long ms = Math.max(1, (System.nanoTime() - startNs) / 1_000_000);
            err.println(verb + ": " + records + " records, at index " + index + " (" + where + "), " +
                records * 1000 / ms + " records/s");
        }
    }

    public long records()
    {
        return records;
    }
}
