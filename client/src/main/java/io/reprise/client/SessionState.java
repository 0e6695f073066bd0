package io.reprise.client;

import io.reprise.schema.client.ResultCode;
import io.reprise.schema.client.SessionStatus;

/**
 * One session as the node's applied state held it when the node answered a query ({@link
 * RepriseClient#queryAndAwait}). {@code resultCode} is OK, UNKNOWN_SESSION (never saved, purged, or another tenant's:
 * then {@code status} is {@link SessionStatus#NULL_VAL} and the session's fields are 0), or the code the node refused
 * the query with (for example SHUTTING_DOWN; then {@code systemTimeMs} and {@code appliedIndex} are 0 too).
 *
 * @param dueAtMs       PENDING: when it is next due; IN_FLIGHT: when the attempt's lease expires; otherwise 0. In the
 *                      node's system time (epoch ms).
 * @param attempt       the last attempt started, 0 before the first.
 * @param lastErrorCode the last attempt's error code: the worker's, or -1 (lease expired), -2 (deadline exceeded).
 * @param systemTimeMs  the node's system time when it answered.
 * @param appliedIndex  the state answered is that after this log index.
 */
public record SessionState(
    ResultCode resultCode,
    long sessionId,
    SessionStatus status,
    long dueAtMs,
    int destination,
    int attempt,
    int lastErrorCode,
    long systemTimeMs,
    long appliedIndex)
{
}
