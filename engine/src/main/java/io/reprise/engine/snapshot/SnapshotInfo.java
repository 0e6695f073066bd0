package io.reprise.engine.snapshot;

/** What the catalog knows of one snapshot. */
public record SnapshotInfo(
    String fileName, long index, long term, long systemTimeMs, long stateDigest, long createdAtMs, long fileLength)
{
}
