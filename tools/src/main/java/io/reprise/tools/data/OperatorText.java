package io.reprise.tools.data;

import java.nio.ByteOrder;
import java.util.List;
import java.util.Locale;

import io.reprise.engine.logic.BusinessLogic;
import io.reprise.tools.cli.Format;
import io.reprise.schema.log.BeginRepeatsDecoder;
import io.reprise.schema.log.CancelSessionDecoder;
import io.reprise.schema.log.ConfigureDestinationDecoder;
import io.reprise.schema.log.MessageHeaderDecoder;
import io.reprise.schema.log.NewLeaderTermDecoder;
import io.reprise.schema.log.Outcome;
import io.reprise.schema.log.RedriveDeadDecoder;
import io.reprise.schema.log.RedriveScope;
import io.reprise.schema.log.ReportOutcomeDecoder;
import io.reprise.schema.log.SaveSessionDecoder;
import io.reprise.schema.log.SetTimeDecoder;
import org.agrona.DirectBuffer;

/**
 * Decodes one operator of the log schema (docs/operators.md) for people: its name, every field, and the tenant
 * and session it names (for filters). Frames are checked the way the business logic checks them, so a
 * malformed one is described as such instead of being read past its end. Reusable: one instance per thread.
 */
public final class OperatorText
{
    /** Operator names in template id order, as {@code --type} accepts them. */
    public static final List<String> NAMES = List.of("SaveSession", "CancelSession", "ReportOutcome", "RedriveDead",
        "ConfigureDestination", "BeginRepeats", "SetTime", "NewLeaderTerm");
    private static final int[] TEMPLATE_IDS = {
        SaveSessionDecoder.TEMPLATE_ID, CancelSessionDecoder.TEMPLATE_ID, ReportOutcomeDecoder.TEMPLATE_ID,
        RedriveDeadDecoder.TEMPLATE_ID, ConfigureDestinationDecoder.TEMPLATE_ID, BeginRepeatsDecoder.TEMPLATE_ID,
        SetTimeDecoder.TEMPLATE_ID, NewLeaderTermDecoder.TEMPLATE_ID };
    private static final int MAX_TEXT_SHOWN = 200;

    private final MessageHeaderDecoder header = new MessageHeaderDecoder();
    private final SaveSessionDecoder save = new SaveSessionDecoder();
    private final CancelSessionDecoder cancel = new CancelSessionDecoder();
    private final ReportOutcomeDecoder report = new ReportOutcomeDecoder();
    private final RedriveDeadDecoder redrive = new RedriveDeadDecoder();
    private final ConfigureDestinationDecoder configure = new ConfigureDestinationDecoder();
    private final BeginRepeatsDecoder beginRepeats = new BeginRepeatsDecoder();
    private final SetTimeDecoder setTime = new SetTimeDecoder();
    private final NewLeaderTermDecoder newLeaderTerm = new NewLeaderTermDecoder();

    private DirectBuffer buffer;
    private int length;
    private int templateId;
    private String malformed;
    private boolean hasTenant;
    private int tenant;
    private boolean hasSession;
    private long sessionId;
    private int varDataOffset;
    private int varDataLength;

    /** @return the template id of {@code name} (any case), or -1. */
    public static int templateOf(final String name)
    {
        for (int i = 0; i < NAMES.size(); i++)
        {
            if (NAMES.get(i).toLowerCase(Locale.ROOT).equals(name.toLowerCase(Locale.ROOT)))
            {
                return TEMPLATE_IDS[i];
            }
        }
        return -1;
    }

    public static String nameOf(final int templateId)
    {
        for (int i = 0; i < TEMPLATE_IDS.length; i++)
        {
            if (TEMPLATE_IDS[i] == templateId)
            {
                return NAMES.get(i);
            }
        }
        return "template-" + templateId;
    }

    /** Decodes the operator in {@code buffer[offset, offset + length)}; valid until the next call. */
    public OperatorText decode(final DirectBuffer buffer, final int offset, final int length)
    {
        this.buffer = buffer;
        this.length = length;
        templateId = -1;
        malformed = null;
        hasTenant = false;
        hasSession = false;
        if (length < MessageHeaderDecoder.ENCODED_LENGTH)
        {
            malformed = "frame of " + length + " bytes is shorter than a message header";
            return this;
        }
        header.wrap(buffer, offset);
        templateId = header.templateId();
        if (header.schemaId() != MessageHeaderDecoder.SCHEMA_ID)
        {
            malformed = "schema " + header.schemaId() + " is not the log schema " + MessageHeaderDecoder.SCHEMA_ID;
            return this;
        }
        final int blockLength = header.blockLength();
        final int version = header.version();
        final int body = offset + MessageHeaderDecoder.ENCODED_LENGTH;
        final int end = offset + length;
        switch (templateId)
        {
            case SaveSessionDecoder.TEMPLATE_ID:
                if (fits(SaveSessionDecoder.BLOCK_LENGTH, blockLength, body, end, false))
                {
                    save.wrap(buffer, body, blockLength, version);
                    if (varData(save.limit(), end, "payload"))
                    {
                        names(save.tenant(), true, save.sessionId());
                    }
                }
                break;
            case CancelSessionDecoder.TEMPLATE_ID:
                if (fits(CancelSessionDecoder.BLOCK_LENGTH, blockLength, body, end, true))
                {
                    cancel.wrap(buffer, body, blockLength, version);
                    names(cancel.tenant(), true, cancel.sessionId());
                }
                break;
            case ReportOutcomeDecoder.TEMPLATE_ID:
                // An older version's report has a shorter block, and is as valid as it was then.
                if (fits(BusinessLogic.reportBlockLength(version), blockLength, body, end, false))
                {
                    report.wrap(buffer, body, blockLength, version);
                    if (varData(report.limit(), end, "errorText"))
                    {
                        names(report.tenant(), true, report.sessionId());
                    }
                }
                break;
            case RedriveDeadDecoder.TEMPLATE_ID:
                if (fits(RedriveDeadDecoder.BLOCK_LENGTH, blockLength, body, end, true))
                {
                    redrive.wrap(buffer, body, blockLength, version);
                    names(redrive.tenant(), redrive.scopeRaw() == RedriveScope.SESSION.value(), redrive.sessionId());
                }
                break;
            case ConfigureDestinationDecoder.TEMPLATE_ID:
                if (fits(ConfigureDestinationDecoder.BLOCK_LENGTH, blockLength, body, end, true))
                {
                    configure.wrap(buffer, body, blockLength, version);
                    names(configure.tenant(), false, 0);
                }
                break;
            case BeginRepeatsDecoder.TEMPLATE_ID:
                if (fits(BeginRepeatsDecoder.BLOCK_LENGTH, blockLength, body, end, true))
                {
                    beginRepeats.wrap(buffer, body, blockLength, version);
                }
                break;
            case SetTimeDecoder.TEMPLATE_ID:
                if (fits(SetTimeDecoder.BLOCK_LENGTH, blockLength, body, end, true))
                {
                    setTime.wrap(buffer, body, blockLength, version);
                }
                break;
            case NewLeaderTermDecoder.TEMPLATE_ID:
                if (fits(NewLeaderTermDecoder.BLOCK_LENGTH, blockLength, body, end, true))
                {
                    newLeaderTerm.wrap(buffer, body, blockLength, version);
                }
                break;
            default:
                malformed = "unknown template " + templateId;
                break;
        }
        return this;
    }

    private boolean fits(
        final int minBlockLength, final int blockLength, final int body, final int end, final boolean exact)
    {
        if (blockLength < minBlockLength || body + blockLength > end || (exact && body + blockLength != end))
        {
            malformed = "block length " + blockLength + " does not fit (needs >= " + minBlockLength + ", frame has " +
                (end - body) + " bytes after the header)";
            return false;
        }
        return true;
    }

    private boolean varData(final int limit, final int end, final String field)
    {
        if (limit + Integer.BYTES > end)
        {
            malformed = field + " length field missing";
            return false;
        }
        final long fieldLength = buffer.getInt(limit, ByteOrder.LITTLE_ENDIAN) & 0xFFFF_FFFFL;
        if (limit + Integer.BYTES + fieldLength != end)
        {
            malformed = field + " of " + fieldLength + " bytes does not end the frame";
            return false;
        }
        varDataOffset = limit + Integer.BYTES;
        varDataLength = (int)fieldLength;
        return true;
    }

    private void names(final int tenant, final boolean hasSession, final long sessionId)
    {
        this.hasTenant = true;
        this.tenant = tenant;
        this.hasSession = hasSession;
        this.sessionId = sessionId;
    }

    public int templateId()
    {
        return templateId;
    }

    public String name()
    {
        return nameOf(templateId);
    }

    /** Why the frame cannot be read, or null. */
    public String malformed()
    {
        return malformed;
    }

    public boolean hasTenant()
    {
        return hasTenant;
    }

    public int tenant()
    {
        return tenant;
    }

    /** Whether the operator names one session (a destination-wide redrive does not). */
    public boolean hasSession()
    {
        return hasSession;
    }

    public long sessionId()
    {
        return sessionId;
    }

    /** {@code Name field=value ...}: every field, var data as its length (error text also as text). */
    public String describe()
    {
        final StringBuilder text = new StringBuilder(name());
        if (null != malformed)
        {
            return text.append(" MALFORMED (").append(malformed).append(", ").append(length).append(" bytes)")
                .toString();
        }
        switch (templateId)
        {
            case SaveSessionDecoder.TEMPLATE_ID:
                field(text, "clientId", save.clientId());
                field(text, "correlationId", save.correlationId());
                field(text, "tenant", save.tenant());
                field(text, "sessionId", save.sessionId());
                field(text, "destination", save.destination());
                field(text, "dueAtMs", save.dueAtMs());
                field(text, "initialDelayMs", save.initialDelayMs());
                field(text, "backoffInitialMs", save.backoffInitialMs());
                field(text, "backoffMaxMs", save.backoffMaxMs());
                field(text, "backoffMultiplierPermille", save.backoffMultiplierPermille());
                field(text, "jitterPermille", save.jitterPermille());
                field(text, "maxAttempts", save.maxAttempts());
                field(text, "leaseMs", save.leaseMs());
                field(text, "ttlMs", save.ttlMs());
                text.append(" payload=").append(varDataLength).append(" bytes");
                break;
            case CancelSessionDecoder.TEMPLATE_ID:
                field(text, "clientId", cancel.clientId());
                field(text, "correlationId", cancel.correlationId());
                field(text, "tenant", cancel.tenant());
                field(text, "sessionId", cancel.sessionId());
                break;
            case ReportOutcomeDecoder.TEMPLATE_ID:
                field(text, "clientId", report.clientId());
                field(text, "correlationId", report.correlationId());
                field(text, "tenant", report.tenant());
                field(text, "sessionId", report.sessionId());
                if (BusinessLogic.reportNamesDestination(report.actingVersion()))
                {
                    field(text, "destination", report.destination());
                }
                field(text, "attempt", report.attempt());
                text.append(" outcome=").append(outcomeName(report.outcomeRaw()));
                field(text, "errorCode", report.errorCode());
                field(text, "retryAfterMs", report.retryAfterMs());
                text.append(" errorText=").append(varDataLength).append(" bytes");
                if (varDataLength > 0)
                {
                    text.append(" \"").append(printable(buffer, varDataOffset, varDataLength)).append('"');
                }
                break;
            case RedriveDeadDecoder.TEMPLATE_ID:
                field(text, "clientId", redrive.clientId());
                field(text, "correlationId", redrive.correlationId());
                field(text, "tenant", redrive.tenant());
                text.append(" scope=").append(scopeName(redrive.scopeRaw()));
                field(text, "sessionId", redrive.sessionId());
                field(text, "destination", redrive.destination());
                field(text, "maxCount", redrive.maxCount());
                break;
            case ConfigureDestinationDecoder.TEMPLATE_ID:
                field(text, "clientId", configure.clientId());
                field(text, "correlationId", configure.correlationId());
                field(text, "tenant", configure.tenant());
                field(text, "destination", configure.destination());
                field(text, "inFlightLimit", configure.inFlightLimit());
                break;
            case BeginRepeatsDecoder.TEMPLATE_ID:
                field(text, "destination", beginRepeats.destination());
                field(text, "maxCount", beginRepeats.maxCount());
                break;
            case SetTimeDecoder.TEMPLATE_ID:
                field(text, "timeMs", setTime.timeMs());
                text.append(" (").append(Format.time(setTime.timeMs())).append(')');
                break;
            case NewLeaderTermDecoder.TEMPLATE_ID:
                field(text, "term", newLeaderTerm.term());
                field(text, "leaderMemberId", newLeaderTerm.leaderMemberId());
                break;
            default:
                break;
        }
        return text.toString();
    }

    /** The last decoded SetTime's time, or -1 if the operator is not a readable SetTime. */
    public long setTimeMs()
    {
        return templateId == SetTimeDecoder.TEMPLATE_ID && null == malformed ? setTime.timeMs() : -1;
    }

    private static void field(final StringBuilder text, final String name, final long value)
    {
        text.append(' ').append(name).append('=').append(value);
    }

    private static String outcomeName(final short raw)
    {
        for (final Outcome outcome : Outcome.values())
        {
            if (outcome != Outcome.NULL_VAL && outcome.value() == raw)
            {
                return outcome.name();
            }
        }
        return "unknown(" + raw + ")";
    }

    private static String scopeName(final short raw)
    {
        for (final RedriveScope scope : RedriveScope.values())
        {
            if (scope != RedriveScope.NULL_VAL && scope.value() == raw)
            {
                return scope.name();
            }
        }
        return "unknown(" + raw + ")";
    }

    /** ASCII as is, anything else as \xNN; cut after {@value #MAX_TEXT_SHOWN} characters. */
    static String printable(final DirectBuffer buffer, final int offset, final int length)
    {
        final StringBuilder text = new StringBuilder();
        for (int i = 0; i < length && i < MAX_TEXT_SHOWN; i++)
        {
            final int b = buffer.getByte(offset + i) & 0xFF;
            if (b >= 0x20 && b < 0x7F && b != '"' && b != '\\')
            {
                text.append((char)b);
            }
            else
            {
                text.append(String.format("\\x%02x", b));
            }
        }
        if (length > MAX_TEXT_SHOWN)
        {
            text.append("...");
        }
        return text.toString();
    }
}
