package io.reprise.tools.snapshot;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.zip.CRC32C;

import io.reprise.engine.disk.DiskFile;
import io.reprise.engine.logic.BusinessLogic;
import io.reprise.engine.logic.BusinessRules;
import io.reprise.engine.logic.OutputSink;
import io.reprise.engine.snapshot.SnapshotFile;
import io.reprise.engine.state.Destinations;
import io.reprise.schema.files.MessageHeaderDecoder;
import io.reprise.schema.files.SnapshotFooterDecoder;
import io.reprise.schema.files.SnapshotHeaderDecoder;
import io.reprise.tools.cli.Args;
import io.reprise.tools.cli.ExitCode;
import io.reprise.tools.cli.Format;
import io.reprise.tools.cli.UsageException;
import io.reprise.tools.data.ReadOnlyDisk;
import io.reprise.tools.data.SessionStates;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * {@code reprise snapshot inspect FILE}: the header and footer of a snapshot file (files schema, docs/snapshots
 * .md), whether the body's CRC32C matches the footer (computed here, independently of loading), and then the
 * real test: loading it with {@link SnapshotFile#load} into a fresh business logic under the default business
 * rules, which checks everything the node checks, and counting its sessions by status. A snapshot taken under
 * other rules is not loaded, and the tool says so.
 */
public final class SnapshotInspect
{
    public static final String USAGE = "snapshot inspect FILE";
    public static final String DESCRIPTION =
        "Prints a snapshot's header and footer, checks the body checksum, loads it under the default business\n" +
        "rules (saying so if it was taken under others) and counts its sessions by status.\n" +
        "Last line: snapshot: ok, or what failed (exit 1).";

    private static final int HEADER_LENGTH = MessageHeaderDecoder.ENCODED_LENGTH + SnapshotHeaderDecoder.BLOCK_LENGTH;
    private static final int FOOTER_LENGTH = MessageHeaderDecoder.ENCODED_LENGTH + SnapshotFooterDecoder.BLOCK_LENGTH;

    private SnapshotInspect()
    {
    }

    public static int run(final List<String> tokens, final PrintStream out, final PrintStream err)
        throws UsageException, IOException
    {
        final Args args = Args.parse("snapshot inspect", tokens, Set.of(), "FILE");
        final Path file = Path.of(args.positional(0));
        if (!Files.isRegularFile(file))
        {
            throw new UsageException("FILE '" + file + "' is not a file");
        }
        final ReadOnlyDisk disk = new ReadOnlyDisk();
        final SnapshotHeaderDecoder header = new SnapshotHeaderDecoder();
        final SnapshotFooterDecoder footer = new SnapshotFooterDecoder();
        final long length;
        final int computedChecksum;
        try (DiskFile f = disk.open(file, false))
        {
            length = f.length();
            out.println("snapshot: " + file + " (" + length + " bytes)");
            final String headerProblem = decode(f, 0, HEADER_LENGTH, SnapshotHeaderDecoder.TEMPLATE_ID, header, null);
            if (null != headerProblem)
            {
                out.println("snapshot: FAILED: " + headerProblem + " at offset 0");
                return ExitCode.FAILED;
            }
            out.println("  header: index=" + header.index() + " term=" + header.term() + " system-time=" +
                Format.time(header.systemTimeMs()) + " state-digest=" + Format.hex64(header.stateDigest()));
            out.println("          rules-digest=" + Format.hex64(header.rulesDigest()) + " created-at=" +
                Format.time(header.createdAtMs()) + " sessions=" + header.sessions() + " state-format=" +
                header.stateFormatVersion() + " (schema " + header.sbeSchemaId() + " v" + header.actingVersion() + ")");
            if (length < HEADER_LENGTH + FOOTER_LENGTH)
            {
                out.println("snapshot: FAILED: file too short for a footer: incomplete");
                return ExitCode.FAILED;
            }
            final String footerProblem = decode(f, length - FOOTER_LENGTH, FOOTER_LENGTH,
                SnapshotFooterDecoder.TEMPLATE_ID, null, footer);
            if (null != footerProblem)
            {
                out.println("snapshot: FAILED: " + footerProblem + " at offset " + (length - FOOTER_LENGTH) +
                    ": file incomplete");
                return ExitCode.FAILED;
            }
            final long bodyLength = footer.bodyLength();
            out.println("  footer: body-length=" + bodyLength + " body-checksum=" +
                Format.hex32(footer.bodyChecksum()));
            if (bodyLength != length - HEADER_LENGTH - FOOTER_LENGTH)
            {
                out.println("snapshot: FAILED: body length " + bodyLength + " does not fit the file length " + length);
                return ExitCode.FAILED;
            }
            computedChecksum = bodyChecksum(f, HEADER_LENGTH, bodyLength);
        }

        final boolean checksumValid = computedChecksum == footer.bodyChecksum();
        out.println("  body: checksum " + (checksumValid ? "valid" : "MISMATCH: computed " +
            Format.hex32(computedChecksum) + ", footer says " + Format.hex32(footer.bodyChecksum())));

        final BusinessRules rules = new BusinessRules().conclude();
        if (header.rulesDigest() != rules.digest())
        {
            out.println("  rules: the snapshot was taken under other business rules (digest " +
                Format.hex64(header.rulesDigest()) + "); the default rules (reprise.rules.* properties) give " +
                Format.hex64(rules.digest()) + ", so it is not loaded");
            out.println(checksumValid ? "snapshot: checksum ok, not loaded (other rules)" :
                "snapshot: FAILED: body checksum mismatch");
            return checksumValid ? ExitCode.OK : ExitCode.FAILED;
        }
        out.println("  rules: taken under the default business rules (digest " + Format.hex64(rules.digest()) + ")");

        final BusinessLogic logic = new BusinessLogic(rules, OutputSink.NONE);
        try
        {
            SnapshotFile.load(disk, file, logic);
        }
        catch (final IOException | RuntimeException ex)
        {
            out.println("snapshot: FAILED to load: " + ex.getMessage());
            return ExitCode.FAILED;
        }
        out.println("  state: loaded; its digest equals the header's; applied index " + logic.appliedIndex() +
            ", system time " + Format.time(logic.systemTimeMs()) + ", leader term " + logic.leaderTerm());
        out.println("  sessions: " + logic.sessions().size() + " (" +
            SessionStates.describeCounts(SessionStates.countByStatus(logic.sessions())) + ")");
        final Destinations destinations = logic.destinations();
        int used = 0;
        for (int d = 0; d < destinations.count(); d++)
        {
            if (destinations.owner(d) != Destinations.NO_OWNER)
            {
                used++;
            }
        }
        out.println("  destinations: " + used + " owned");
        out.println("snapshot: ok");
        return ExitCode.OK;
    }

    /** Reads and checks one SBE message of the files schema; returns what is wrong with it, or null. */
    private static String decode(
        final DiskFile f, final long position, final int length, final int templateId,
        final SnapshotHeaderDecoder header, final SnapshotFooterDecoder footer) throws IOException
    {
        final ByteBuffer bytes = ByteBuffer.allocateDirect(length).order(ByteOrder.LITTLE_ENDIAN);
        while (bytes.hasRemaining() && f.read(bytes, position + bytes.position()) > 0)
        {
            // read fully
        }
        if (bytes.hasRemaining())
        {
            return "file ends inside the " + (null != header ? "header" : "footer");
        }
        final UnsafeBuffer view = new UnsafeBuffer(bytes);
        final MessageHeaderDecoder messageHeader = new MessageHeaderDecoder().wrap(view, 0);
        if (messageHeader.schemaId() != MessageHeaderDecoder.SCHEMA_ID || messageHeader.templateId() != templateId ||
            messageHeader.blockLength() != length - MessageHeaderDecoder.ENCODED_LENGTH)
        {
            return "no snapshot " + (null != header ? "header" : "footer") + " (schema " + messageHeader.schemaId() +
                ", template " + messageHeader.templateId() + ", block length " + messageHeader.blockLength() + ")";
        }
        final int blockLength = messageHeader.blockLength();
        final int version = messageHeader.version();
        if (null != header)
        {
            header.wrap(view, MessageHeaderDecoder.ENCODED_LENGTH, blockLength, version);
        }
        else
        {
            footer.wrap(view, MessageHeaderDecoder.ENCODED_LENGTH, blockLength, version);
        }
        return null;
    }

    private static int bodyChecksum(final DiskFile f, final long start, final long length) throws IOException
    {
        final CRC32C crc = new CRC32C();
        final ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 20);
        long at = start;
        final long end = start + length;
        while (at < end)
        {
            chunk.clear().limit((int)Math.min(chunk.capacity(), end - at));
            final int read = f.read(chunk, at);
            if (read <= 0)
            {
                break;
            }
            chunk.flip();
            crc.update(chunk);
            at += read;
        }
        return (int)crc.getValue();
    }
}
