package io.reprise.transport;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.MappedByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.agrona.IoUtil;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The files a node keeps beside its counters, in its media driver's directory, named by the node's Aeron client id
 * (the owner of its counters) so that nodes sharing one driver stay apart:
 * <ul>
 *   <li>{@code reprise-node-ID-errors.dat}: its distinct error log (Agrona's {@code DistinctErrorLog}, as in
 *       Aeron's CnC file), {@value #ERROR_LOG_BYTES} bytes, read by {@code reprise stat --errors};</li>
 *   <li>{@code reprise-node-ID-settings.txt}: its effective settings, one {@code key<TAB>value<TAB>source} line
 *       each (secrets masked), read by {@code reprise stat}.</li>
 * </ul>
 * Both are made when the node's transport starts and deleted when it closes (an embedded driver deletes its whole
 * directory then anyway).
 */
public final class NodeFiles implements AutoCloseable
{
    /** The size of the error log file: room for hundreds of distinct traces. */
    public static final int ERROR_LOG_BYTES = 1024 * 1024;
    private static final String PREFIX = "reprise-node-";
    private static final String ERRORS_SUFFIX = "-errors.dat";
    private static final String SETTINGS_SUFFIX = "-settings.txt";
    private static final Pattern ERRORS_NAME = Pattern.compile(Pattern.quote(PREFIX) + "(-?\\d+)" +
        Pattern.quote(ERRORS_SUFFIX));

    private final File errorLog;
    private final File settings;
    private final MappedByteBuffer errorLogMap;
    private final AtomicBuffer errorLogBuffer;

    private NodeFiles(final File errorLog, final File settings)
    {
        this.errorLog = errorLog;
        this.settings = settings;
        this.errorLogMap = IoUtil.mapNewFile(errorLog, ERROR_LOG_BYTES, true);
        this.errorLogBuffer = new UnsafeBuffer(errorLogMap);
    }

    /** Makes a node's files in {@code aeronDirectory}, replacing any left by an earlier node with the same id. */
    static NodeFiles create(final String aeronDirectory, final long clientId)
    {
        return new NodeFiles(errorLogFile(aeronDirectory, clientId), settingsFile(aeronDirectory, clientId));
    }

    public static File errorLogFile(final String aeronDirectory, final long clientId)
    {
        return new File(aeronDirectory, PREFIX + clientId + ERRORS_SUFFIX);
    }

    public static File settingsFile(final String aeronDirectory, final long clientId)
    {
        return new File(aeronDirectory, PREFIX + clientId + SETTINGS_SUFFIX);
    }

    /** The Aeron client ids of the nodes whose error logs are in {@code aeronDirectory}, in increasing order. */
    public static List<Long> nodesWithErrorLogs(final String aeronDirectory)
    {
        final List<Long> ids = new ArrayList<>();
        final String[] names = new File(aeronDirectory).list();
        if (null != names)
        {
            for (final String name : names)
            {
                final Matcher matcher = ERRORS_NAME.matcher(name);
                if (matcher.matches())
                {
                    ids.add(Long.parseLong(matcher.group(1)));
                }
            }
        }
        ids.sort(null);
        return ids;
    }

    /**
     * Reads a settings file back: one {@code {key, value, source}} per line.
     *
     * @throws IOException when it cannot be read.
     */
    public static List<String[]> readSettings(final File file) throws IOException
    {
        final List<String[]> rows = new ArrayList<>();
        for (final String line : Files.readAllLines(file.toPath(), StandardCharsets.UTF_8))
        {
            if (!line.startsWith("#") && !line.isBlank())
            {
                rows.add(line.split("\t", 3));
            }
        }
        return rows;
    }

    AtomicBuffer errorLogBuffer()
    {
        return errorLogBuffer;
    }

    File errorLog()
    {
        return errorLog;
    }

    /** Writes the settings file (whole, then renamed into place, so that a reader never sees half of it). */
    void writeSettings(final String header, final List<String[]> rows)
    {
        final StringBuilder text = new StringBuilder();
        for (final String line : header.split("\n"))
        {
            text.append("# ").append(line).append('\n');
        }
        for (final String[] row : rows)
        {
            text.append(row[0]).append('\t').append(row[1]).append('\t').append(row[2]).append('\n');
        }
        final Path target = settings.toPath();
        final Path temporary = target.resolveSibling(target.getFileName() + ".tmp");
        try
        {
            Files.writeString(temporary, text, StandardCharsets.UTF_8);
            Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot write " + target, ex);
        }
    }

    public void close()
    {
        IoUtil.unmap(errorLogMap);
        IoUtil.deleteIfExists(errorLog);
        IoUtil.deleteIfExists(settings);
    }
}
