package io.reprise.tools.log;

import java.io.IOException;
import java.io.PrintStream;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import io.reprise.engine.journal.JournalReader;
import io.reprise.tools.cli.Args;
import io.reprise.tools.cli.ExitCode;
import io.reprise.tools.cli.Format;
import io.reprise.tools.cli.UsageException;
import io.reprise.tools.data.DataDirectory;
import io.reprise.tools.data.OperatorText;
import io.reprise.tools.data.ReadOnlyDisk;

/**
 * {@code reprise log dump DIR [--from N] [--to N] [--type NAME[,NAME]] [--tenant T] [--session ID]}: one line per
 * journal record: index, term, timestamp, the operator's name and every field (payload and error text as their
 * length), filtered by index range, operator type, tenant and session. Records are validated as they are read;
 * a torn or corrupt one ends the dump with where and what.
 */
public final class LogDump
{
    public static final String USAGE =
        "log dump DIR [--from N] [--to N] [--type NAME[,NAME...]] [--tenant T] [--session ID]";
    public static final String DESCRIPTION =
        "Prints journal records (index, term, timestamp, operator and every field) in index order,\n" +
        "filtered by index range (inclusive), operator type, tenant and session id. Types:\n" +
        String.join(", ", OperatorText.NAMES) + ".\n" +
        "Last line: dump: shown=N read=N. Exit 3 if the journal ends torn, 1 if it is corrupt.";

    private LogDump()
    {
    }

    public static int run(final List<String> tokens, final PrintStream out, final PrintStream err)
        throws UsageException, IOException
    {
        final Args args = Args.parse("log dump", tokens,
            Set.of("--from", "--to", "--type", "--tenant", "--session"), "DIR");
        final DataDirectory dir = DataDirectory.of(args.positional(0));
        final long from = args.longOption("--from", 1, 1, Long.MAX_VALUE);
        final long to = args.longOption("--to", Long.MAX_VALUE, 1, Long.MAX_VALUE);
        if (to < from)
        {
            throw new UsageException("--to " + to + " is before --from " + from);
        }
        final Set<Integer> types = new HashSet<>();
        if (args.has("--type"))
        {
            for (final String name : args.option("--type").split(","))
            {
                final int templateId = OperatorText.templateOf(name.trim());
                if (templateId < 0)
                {
                    throw new UsageException("--type: unknown operator '" + name.trim() + "' (known: " +
                        String.join(", ", OperatorText.NAMES) + ")");
                }
                types.add(templateId);
            }
        }
        final boolean byTenant = args.has("--tenant");
        final int tenant = (int)args.longOption("--tenant", 0, 1, Integer.MAX_VALUE);
        final boolean bySession = args.has("--session");
        final long sessionId = args.longOption("--session", 0, Long.MIN_VALUE, Long.MAX_VALUE);

        final OperatorText operator = new OperatorText();
        long read = 0;
        long shown = 0;
        final JournalReader.Status status;
        final String problem;
        try (JournalReader reader = DataDirectory.journalReader(new ReadOnlyDisk(), dir.journal()).from(from))
        {
            JournalReader.Status next;
            while ((next = reader.next()) == JournalReader.Status.RECORD && reader.index() <= to)
            {
                read++;
                operator.decode(reader.buffer(), reader.operatorOffset(), reader.operatorLength());
                if ((!types.isEmpty() && !types.contains(operator.templateId())) ||
                    (byTenant && (!operator.hasTenant() || operator.tenant() != tenant)) ||
                    (bySession && (!operator.hasSession() || operator.sessionId() != sessionId)))
                {
                    continue;
                }
                shown++;
                out.println("index=" + reader.index() + " term=" + reader.term() + " ts=" +
                    Format.time(reader.timestampMs()) + " " + operator.describe());
            }
            status = next;
            problem = next == JournalReader.Status.TORN || next == JournalReader.Status.CORRUPT ?
                reader.describeProblem() : null;
        }
        if (null != problem)
        {
            out.println("dump: stopped at a " + status + " record: " + problem);
        }
        out.println("dump: shown=" + shown + " read=" + read);
        if (status == JournalReader.Status.CORRUPT)
        {
            return ExitCode.FAILED;
        }
        return status == JournalReader.Status.TORN ? ExitCode.TORN_TAIL : ExitCode.OK;
    }
}
