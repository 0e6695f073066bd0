package io.reprise.engine.state;

import java.io.IOException;

/** Where the state writes its image for a snapshot: a stream of primitives and primitive arrays. */
public interface StateOutput
{
    void putLong(long value) throws IOException;

    void putInt(int value) throws IOException;

    void putLongs(long[] values, int offset, int length) throws IOException;

    void putInts(int[] values, int offset, int length) throws IOException;
}
