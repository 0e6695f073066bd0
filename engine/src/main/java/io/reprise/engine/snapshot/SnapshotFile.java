package io.reprise.engine.snapshot;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

import io.reprise.engine.disk.Disk;
import io.reprise.engine.disk.DiskFile;
import io.reprise.engine.logic.BusinessLogic;
import io.reprise.schema.files.MessageHeaderDecoder;
import io.reprise.schema.files.MessageHeaderEncoder;
import io.reprise.schema.files.SnapshotFooterDecoder;
import io.reprise.schema.files.SnapshotFooterEncoder;
import io.reprise.schema.files.SnapshotHeaderDecoder;
import io.reprise.schema.files.SnapshotHeaderEncoder;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A snapshot file (docs/snapshots.md):
 * <pre>
 *   SnapshotHeader (SBE, header + block)   index, term, system time, state digest, rules digest, ...
 *   state body                             BusinessLogic#writeState image, little-endian
 *   SnapshotFooter (SBE, header + block)   body length, CRC32C of the body
 * </pre>
 * Written to a temporary name, synced, renamed, and the directory synced, so a visible snapshot file is whole.
 * Loading checks header, body checksum, footer, and that the restored state's digest equals the header's.
 */
public final class SnapshotFile
{
    public static final String SUFFIX = ".snapshot";
    static final String TEMPORARY_SUFFIX = ".tmp";
    private static final int HEADER_LENGTH = MessageHeaderEncoder.ENCODED_LENGTH + SnapshotHeaderEncoder.BLOCK_LENGTH;
    private static final int FOOTER_LENGTH = MessageHeaderEncoder.ENCODED_LENGTH + SnapshotFooterEncoder.BLOCK_LENGTH;

    private SnapshotFile()
    {
    }

    public static String nameFor(final long index)
    {
        return String.format("%020d", index) + SUFFIX;
    }

    /** Writes the state of {@code logic} durably into {@code directory}; returns what the catalog records. */
    public static SnapshotInfo write(
        final Disk disk, final Path directory, final BusinessLogic logic, final long createdAtMs) throws IOException
    {
        final String name = nameFor(logic.appliedIndex());
        final Path temporary = directory.resolve(name + TEMPORARY_SUFFIX);
        final long stateDigest = logic.digest();
        final long fileLength;
        try (DiskFile file = disk.open(temporary, true))
        {
            file.setLength(0);
            final ByteBuffer header = ByteBuffer.allocateDirect(HEADER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
            new SnapshotHeaderEncoder()
                .wrapAndApplyHeader(new UnsafeBuffer(header), 0, new MessageHeaderEncoder())
                .index(logic.appliedIndex())
                .term(logic.appliedTerm())
                .systemTimeMs(logic.systemTimeMs())
                .stateDigest(stateDigest)
                .rulesDigest(logic.rules().digest())
                .createdAtMs(createdAtMs)
                .sessions(logic.sessions().size())
                .stateFormatVersion(BusinessLogic.STATE_FORMAT_VERSION);
            file.write(header, 0);

            final FileStateOutput body = new FileStateOutput(file, HEADER_LENGTH, disk.backgroundWrites());
            logic.writeState(body);
            body.flush();

            final ByteBuffer footer = ByteBuffer.allocateDirect(FOOTER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
            new SnapshotFooterEncoder()
                .wrapAndApplyHeader(new UnsafeBuffer(footer), 0, new MessageHeaderEncoder())
                .bodyLength(body.bytesWritten())
                .bodyChecksum(body.checksum());
            file.write(footer, body.filePosition());
            fileLength = body.filePosition() + FOOTER_LENGTH;
            file.sync();
        }
        final Path target = directory.resolve(name);
        disk.rename(temporary, target);
        disk.syncDirectory(directory);
        return new SnapshotInfo(name, logic.appliedIndex(), logic.appliedTerm(), logic.systemTimeMs(), stateDigest,
            createdAtMs, fileLength);
    }

    /** The header of a snapshot file, for tools. */
    public static SnapshotInfo readHeader(final Disk disk, final Path file) throws IOException
    {
        try (DiskFile f = disk.open(file, false))
        {
            final SnapshotHeaderDecoder header = decodeHeader(f, file);
            return new SnapshotInfo(file.getFileName().toString(), header.index(), header.term(),
                header.systemTimeMs(), header.stateDigest(), header.createdAtMs(), f.length());
        }
    }

    /**
     * Restores the snapshot into {@code logic} (freshly built with the same rules).
     *
     * @throws SnapshotCorruptException naming the file and what failed; {@code logic} must then be discarded.
     */
    public static SnapshotInfo load(final Disk disk, final Path file, final BusinessLogic logic) throws IOException
    {
        try (DiskFile f = disk.open(file, false))
        {
            final long length = f.length();
            final SnapshotHeaderDecoder header = decodeHeader(f, file);
            if (header.stateFormatVersion() != BusinessLogic.STATE_FORMAT_VERSION)
            {
                throw new SnapshotCorruptException(file, 0, "state format " + header.stateFormatVersion() +
                    " is not " + BusinessLogic.STATE_FORMAT_VERSION);
            }
            if (header.rulesDigest() != logic.rules().digest())
            {
                throw new SnapshotCorruptException(file, 0, "taken under other business rules (rules digest " +
                    Long.toHexString(header.rulesDigest()) + ", now " + Long.toHexString(logic.rules().digest()) + ")");
            }
            if (length < HEADER_LENGTH + FOOTER_LENGTH)
            {
                throw new SnapshotCorruptException(file, length, "file too short");
            }
            final ByteBuffer footerBytes = ByteBuffer.allocateDirect(FOOTER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
            f.read(footerBytes, length - FOOTER_LENGTH);
            final UnsafeBuffer footerView = new UnsafeBuffer(footerBytes);
            final MessageHeaderDecoder messageHeader = new MessageHeaderDecoder().wrap(footerView, 0);
            if (messageHeader.templateId() != SnapshotFooterDecoder.TEMPLATE_ID ||
                messageHeader.schemaId() != SnapshotFooterDecoder.SCHEMA_ID)
            {
                throw new SnapshotCorruptException(file, length - FOOTER_LENGTH, "no footer: file incomplete");
            }
            final SnapshotFooterDecoder footer = new SnapshotFooterDecoder().wrap(footerView,
                MessageHeaderDecoder.ENCODED_LENGTH, messageHeader.blockLength(), messageHeader.version());
            final long bodyLength = footer.bodyLength();
            if (bodyLength != length - HEADER_LENGTH - FOOTER_LENGTH)
            {
                throw new SnapshotCorruptException(file, length - FOOTER_LENGTH, "body length " + bodyLength +
                    " does not fit the file length " + length);
            }

            final FileStateInput body = new FileStateInput(f, HEADER_LENGTH, HEADER_LENGTH + bodyLength);
            try
            {
                logic.readState(body);
            }
            catch (final IOException | RuntimeException ex)
            {
                throw new SnapshotCorruptException(file, HEADER_LENGTH + body.consumed(),
                    "state image unreadable: " + ex.getMessage());
            }
            if (body.consumed() != bodyLength || body.bytesRead() != bodyLength)
            {
                throw new SnapshotCorruptException(file, HEADER_LENGTH + body.consumed(),
                    "state image is " + body.consumed() + " bytes, body is " + bodyLength);
            }
            if (body.checksum() != footer.bodyChecksum())
            {
                throw new SnapshotCorruptException(file, HEADER_LENGTH, "body checksum mismatch (stored " +
                    Integer.toHexString(footer.bodyChecksum()) + ", computed " +
                    Integer.toHexString(body.checksum()) + ")");
            }
            if (logic.appliedIndex() != header.index() || logic.digest() != header.stateDigest())
            {
                throw new SnapshotCorruptException(file, 0, "restored state does not match the header's digest");
            }
            return new SnapshotInfo(file.getFileName().toString(), header.index(), header.term(),
                header.systemTimeMs(), header.stateDigest(), header.createdAtMs(), length);
        }
    }

    private static SnapshotHeaderDecoder decodeHeader(final DiskFile f, final Path file) throws IOException
    {
        final ByteBuffer bytes = ByteBuffer.allocateDirect(HEADER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        f.read(bytes, 0);
        if (bytes.position() < HEADER_LENGTH)
        {
            throw new SnapshotCorruptException(file, 0, "file too short for a header");
        }
        final UnsafeBuffer view = new UnsafeBuffer(bytes);
        final MessageHeaderDecoder messageHeader = new MessageHeaderDecoder().wrap(view, 0);
        if (messageHeader.templateId() != SnapshotHeaderDecoder.TEMPLATE_ID ||
            messageHeader.schemaId() != SnapshotHeaderDecoder.SCHEMA_ID ||
            messageHeader.blockLength() != SnapshotHeaderDecoder.BLOCK_LENGTH ||
            messageHeader.version() > SnapshotHeaderDecoder.SCHEMA_VERSION)
        {
            throw new SnapshotCorruptException(file, 0, "not a snapshot header");
        }
        return new SnapshotHeaderDecoder().wrap(view, MessageHeaderDecoder.ENCODED_LENGTH,
            messageHeader.blockLength(), messageHeader.version());
    }
}
