package io.reprise.engine.state;

import java.io.IOException;

/** Where the state reads its image from when restored: the same stream {@link StateOutput} wrote. */
public interface StateInput
{
    long getLong() throws IOException;

    int getInt() throws IOException;

    void getLongs(long[] values, int offset, int length) throws IOException;

    void getInts(int[] values, int offset, int length) throws IOException;
}
