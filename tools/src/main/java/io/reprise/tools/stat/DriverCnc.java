package io.reprise.tools.stat;

import java.io.File;
import java.nio.MappedByteBuffer;
import java.nio.charset.StandardCharsets;

import io.aeron.CncFileDescriptor;
import io.aeron.CommonContext;
import org.agrona.IoUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.status.CountersReader;

/**
 * A media driver's CnC file mapped from another process, the one place the tools read it ({@code reprise stat}, its
 * metrics endpoint, the cluster's view of its members). The file is checked as mapped, not before: a restarting
 * member's driver recreates it, so it can be empty, or not yet as long as its metadata says, by the time it is
 * mapped; such a file is {@link State#STARTING}, never a failure of whoever reads it. Close to unmap.
 */
public final class DriverCnc implements AutoCloseable
{
    /** What the Aeron directory holds. */
    public enum State
    {
        /** No CnC file. */
        ABSENT,
        /** A CnC file its driver has not finished making. */
        STARTING,
        /** A CnC file ready to read; its driver may still have died since ({@link #heartbeatAgeMs()}). */
        READY
    }

    private final File file;
    private final MappedByteBuffer cnc;
    private final State state;
    private final UnsafeBuffer meta;

    private DriverCnc(final File file, final MappedByteBuffer cnc, final State state, final UnsafeBuffer meta)
    {
        this.file = file;
        this.cnc = cnc;
        this.state = state;
        this.meta = meta;
    }

    /**
     * Maps the CnC file of the driver on {@code aeronDir}.
     *
     * @throws io.aeron.exceptions.AeronException when the file is of an Aeron version this one cannot read.
     */
    public static DriverCnc map(final String aeronDir)
    {
        final File file = new File(aeronDir, CncFileDescriptor.CNC_FILE);
        if (!file.isFile())
        {
            return new DriverCnc(file, null, State.ABSENT, null);
        }
        final MappedByteBuffer cnc;
        try
        {
            cnc = IoUtil.mapExistingFile(file, CncFileDescriptor.CNC_FILE);
        }
        catch (final RuntimeException ex)
        {
            // deleted between the check and the map: its driver is stopping or restarting
            return new DriverCnc(file, null, State.ABSENT, null);
        }
        if (cnc.capacity() <= CncFileDescriptor.META_DATA_LENGTH)
        {
            return new DriverCnc(file, cnc, State.STARTING, null);
        }
        final UnsafeBuffer meta = CncFileDescriptor.createMetaDataBuffer(cnc);
        final int version = meta.getIntVolatile(CncFileDescriptor.cncVersionOffset(0));
        if (0 == version)
        {
            return new DriverCnc(file, cnc, State.STARTING, meta);
        }
        try
        {
            CncFileDescriptor.checkVersion(version);
        }
        catch (final RuntimeException ex)
        {
            IoUtil.unmap(cnc);
            throw ex;
        }
        return new DriverCnc(file, cnc, cnc.capacity() < lengthClaimed(meta) ? State.STARTING : State.READY, meta);
    }

    public State state()
    {
        return state;
    }

    public File file()
    {
        return file;
    }

    /** The driver's process id; only when {@link State#READY}. */
    public long pid()
    {
        return CncFileDescriptor.pid(meta);
    }

    /** How long ago the driver last showed it is alive; only when {@link State#READY}. */
    public long heartbeatAgeMs()
    {
        final ManyToOneRingBuffer toDriver =
            new ManyToOneRingBuffer(CncFileDescriptor.createToDriverBuffer(cnc, meta));
        return System.currentTimeMillis() - toDriver.consumerHeartbeatTime();
    }

    /** Whether the driver has shown it is alive within Aeron's driver timeout; only when {@link State#READY}. */
    public boolean driverAlive()
    {
        return heartbeatAgeMs() <= CommonContext.DRIVER_TIMEOUT_MS;
    }

    /** The driver's counters, valid until this is closed; only when {@link State#READY}. */
    public CountersReader counters()
    {
        return new CountersReader(CncFileDescriptor.createCountersMetaDataBuffer(cnc, meta),
            CncFileDescriptor.createCountersValuesBuffer(cnc, meta), StandardCharsets.US_ASCII);
    }

    public void close()
    {
        if (null != cnc)
        {
            IoUtil.unmap(cnc);
        }
    }

    /** The CnC file's length its metadata claims: the metadata and the buffers after it. */
    private static long lengthClaimed(final UnsafeBuffer meta)
    {
        return (long)CncFileDescriptor.META_DATA_LENGTH +
            meta.getInt(CncFileDescriptor.toDriverBufferLengthOffset(0)) +
            meta.getInt(CncFileDescriptor.toClientsBufferLengthOffset(0)) +
            meta.getInt(CncFileDescriptor.countersMetaDataBufferLengthOffset(0)) +
            meta.getInt(CncFileDescriptor.countersValuesBufferLengthOffset(0)) +
            meta.getInt(CncFileDescriptor.errorLogBufferLengthOffset(0));
    }
}
