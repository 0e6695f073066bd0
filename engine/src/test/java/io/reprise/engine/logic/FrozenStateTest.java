package io.reprise.engine.logic;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;

import io.reprise.engine.state.Destinations;
import io.reprise.engine.state.SessionTable;
import io.reprise.engine.state.StateInput;
import io.reprise.engine.state.StateOutput;
import io.reprise.schema.log.Outcome;
import io.reprise.schema.log.SessionPolicy;
import io.reprise.engine.testing.TestSeeds;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * A frozen view ({@link BusinessLogic#freeze}) answers, while the live state goes on applying, exactly as the state
 * did at the freeze: the same digest, and the same image byte for byte but for the layout of the session index,
 * which the view builds from its records; restored, that image is the same state, in which every session is found.
 * That is what lets the snapshot agent write a snapshot without a second copy of the state that applies every
 * operator again.
 */
class FrozenStateTest
{
    private static final byte[] PAYLOAD = {1, 2, 3, 4, 5, 6, 7, 8};

    @Test
    void shouldKeepTheImageOfTheFreezeWhileTheModelGuidedLogGoesOn()
    {
        final long seed = TestSeeds.seed("FrozenStateTest#shouldKeepTheImageOfTheFreezeWhileTheModelGuidedLogGoesOn");
        final List<byte[]> log = DeterminismTest.randomLog(seed, 60_000);
        final BusinessLogic logic = new BusinessLogic(ReferenceModelTest.modelRules(), OutputSink.NONE);
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[4096]);
        final SplittableRandom random = new SplittableRandom(seed);
        long term = 1;
        int frozenAt = -1;
        BusinessLogic view = null;
        byte[] expectedImage = null;
        long expectedDigest = 0;
        int views = 0;
        for (int i = 0; i < log.size(); i++)
        {
            if (null == view && random.nextInt(500) == 0)
            {
                view = logic.freeze();
                frozenAt = i;
                expectedImage = image(logic);
                expectedDigest = logic.digest();
            }
            if (null != view && random.nextInt(8) == 0)
            {
                logic.saveAhead(); // as the node does between batches
            }
            final byte[] frame = log.get(i);
            buffer.putBytes(0, frame);
            term = ReferenceModel.entryTerm(frame, term);
            logic.apply(i + 1, term, buffer, 0, frame.length);
            if (null != view && (random.nextInt(1000) == 0 || i == log.size() - 1))
            {
                assertSameState(expectedImage, expectedDigest, view,
                    "seed " + seed + " frozen at " + frozenAt + ", now " + i);
                assertEquals(frozenAt, view.appliedIndex());
                logic.recycle(view);
                view = null;
                views++;
            }
        }
        assertTrue(views >= 20, "seed " + seed + ": only " + views + " views checked");
    }

    /**
     * Thousands of sessions over many pages and index chunks, an index that grows and timer chunks taken while a
     * view is held, the view written on another thread meanwhile, and save pages reused from one view to the next.
     */
    @Test
    void shouldKeepTheImageOfTheFreezeOverManyPagesWhileAnotherThreadWritesIt()
    {
        final long seed =
            TestSeeds.seed("FrozenStateTest#shouldKeepTheImageOfTheFreezeOverManyPagesWhileAnotherThreadWritesIt");
        final SplittableRandom random = new SplittableRandom(seed);
        final LogicDriver d = new LogicDriver(new BusinessRules()
            .maxSessions(1 << 17)
            .expectedSessions(4096)
            .maxDestinations(8)
            .terminalRetentionMs(20_000)
            .deadRetentionMs(60_000)
            .defaultInFlightLimit(64)
            .maxBeginRepeatsBatch(64)
            .conclude());
        d.logic.reserveSnapshotCopies();
        final SessionPolicy policy = new SessionPolicy().initialDelayMs(200).backoffInitialMs(300)
            .backoffMaxMs(5_000).maxAttempts(4).leaseMs(2_000).ttlMs(0);
        long timeMs = 1_000_000;
        d.time(timeMs);
        for (int round = 0; round < 12; round++)
        {
            final BusinessLogic view = d.logic.freeze();
            final byte[] expectedImage = image(d.logic);
            final long expectedDigest = d.logic.digest();
            final long frozenIndex = d.logic.appliedIndex();
            final CompletableFuture<byte[]> written = CompletableFuture.supplyAsync(() -> image(view));
            for (int i = 0; i < 6_000; i++)
            {
                if (round % 2 == 1 && random.nextInt(64) == 0)
                {
                    d.logic.saveAhead(); // as the node does between batches: some pages are saved whole, some not
                }
                final long id = random.nextLong(60_000 + 10_000L * round);
                final int tenant = 1 + (int)(id % 3);
                final int p = random.nextInt(100);
                if (p < 55)
                {
                    // A destination belongs to the tenant that first used it: tenant t uses t - 1 and t + 2.
                    d.save(tenant, id, tenant - 1 + 3 * (int)((id >>> 2) & 1), policy, PAYLOAD);
                }
                else if (p < 65)
                {
                    d.cancel(tenant, id);
                }
                else if (p < 80)
                {
                    reportIfInFlight(d, tenant, id, random.nextBoolean() ? Outcome.SUCCEEDED : Outcome.RETRY);
                }
                else if (p < 90)
                {
                    d.begin(random.nextInt(6), 16);
                }
                else
                {
                    timeMs += random.nextInt(40);
                    d.time(timeMs);
                }
            }
            final byte[] writtenImage = written.join(); // a view has one reader at a time
            assertArrayEquals(image(view), writtenImage,
                "seed " + seed + " round " + round + ": the same from any thread");
            assertSameState(expectedImage, expectedDigest, view, "seed " + seed + " round " + round);
            assertEquals(frozenIndex, view.appliedIndex());
            assertThrows(IllegalStateException.class, view::freeze, "a view is read-only");
            if (round % 3 == 2)
            {
                // One view at a time: a second freeze is refused and changes nothing, the view included.
                final long digest = d.logic.digest();
                assertThrows(IllegalStateException.class, d.logic::freeze);
                assertEquals(digest, d.logic.digest());
                assertSameState(expectedImage, expectedDigest, view, "seed " + seed + " round " + round);
            }
            d.logic.recycle(view);
        }
        assertTrue(d.logic.sessions().size() > 20_000, "sessions: " + d.logic.sessions().size());
        final Destinations destinations = d.logic.destinations();
        assertTrue(destinations.used() < destinations.count(), "some destinations never used: " + destinations.used());
    }

    /** The warm-up a large node runs before serving checks its views too: every operator applied, no view changed. */
    @Test
    void shouldRefuseToApplyToAView()
    {
        final LogicDriver d = new LogicDriver(LogicDriver.smallRules());
        d.time(1_000_000);
        d.save(1, 7, 0, new SessionPolicy(), PAYLOAD);
        final BusinessLogic view = d.logic.freeze();
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[256]);
        final int length = d.encoder.saveSession(buffer, 0, 1, 1, 1, 8, 0, new SessionPolicy(),
            new UnsafeBuffer(PAYLOAD), 0, PAYLOAD.length);
        assertThrows(IllegalStateException.class, () -> view.apply(view.appliedIndex() + 1, 1, buffer, 0, length));
        assertEquals(1, d.logic.sessions().size());
        assertEquals(SessionTable.NULL, d.logic.sessions().find(1, 8));
    }

    /**
     * The view's image equals the live image taken at the freeze outside the index, and restores to a state with the
     * digest of the freeze in which every live session is found where the image put it.
     */
    private static void assertSameState(
        final byte[] expectedImage, final long expectedDigest, final BusinessLogic view, final String message)
    {
        assertEquals(expectedDigest, view.digest(), message);
        final byte[] viewImage = image(view);
        assertEquals(expectedImage.length, viewImage.length, message);
        // BusinessLogic scalars (36 bytes), then highWater, size, freeHead, indexLength, the records, the index.
        final int highWater = view.sessions().highWater();
        final int indexLength = java.nio.ByteBuffer.wrap(viewImage).getInt(36 + 12);
        final int indexFrom = 36 + 16 + highWater * 96;
        final int indexTo = indexFrom + indexLength * 4;
        assertArrayEquals(java.util.Arrays.copyOfRange(expectedImage, 0, indexFrom),
            java.util.Arrays.copyOfRange(viewImage, 0, indexFrom), message + ": before the index");
        assertArrayEquals(java.util.Arrays.copyOfRange(expectedImage, indexTo, expectedImage.length),
            java.util.Arrays.copyOfRange(viewImage, indexTo, viewImage.length), message + ": after the index");

        final BusinessLogic restored = restore(view.rules(), viewImage);
        assertEquals(expectedDigest, restored.digest(), message + ": restored");
        assertEquals(view.appliedIndex(), restored.appliedIndex(), message);
        final SessionTable sessions = restored.sessions();
        for (int record = 0; record < sessions.highWater(); record++)
        {
            if (sessions.isLive(record))
            {
                assertEquals(record, sessions.find(sessions.tenant(record), sessions.sessionId(record)), message);
            }
        }
        // A view holds only the destinations used so far; the image restores every other one as never used.
        final Destinations frozen = view.destinations();
        final Destinations back = restored.destinations();
        for (int d = 0; d < back.count(); d++)
        {
            final boolean used = d < frozen.used();
            assertEquals(used ? frozen.owner(d) : Destinations.NO_OWNER, back.owner(d), message);
            assertEquals(used ? frozen.inFlightLimit(d) : view.rules().defaultInFlightLimit(), back.inFlightLimit(d),
                message);
            assertEquals(used ? frozen.pending(d) + frozen.ready(d) + frozen.inFlight(d) + frozen.dead(d) : 0,
                back.pending(d) + back.ready(d) + back.inFlight(d) + back.dead(d), message);
            assertEquals(used ? frozen.readyHead(d) : SessionTable.NULL, back.readyHead(d), message);
            assertEquals(used ? frozen.deadHead(d) : SessionTable.NULL, back.deadHead(d), message);
        }
    }

    private static BusinessLogic restore(final BusinessRules rules, final byte[] image)
    {
        final DataInputStream in = new DataInputStream(new ByteArrayInputStream(image));
        final BusinessLogic restored = new BusinessLogic(rules, OutputSink.NONE);
        try
        {
            restored.readState(new StateInput()
            {
                public long getLong() throws IOException
                {
                    return in.readLong();
                }

                public int getInt() throws IOException
                {
                    return in.readInt();
                }

                public void getLongs(final long[] values, final int offset, final int length) throws IOException
                {
                    for (int i = offset; i < offset + length; i++)
                    {
                        values[i] = in.readLong();
                    }
                }

                public void getInts(final int[] values, final int offset, final int length) throws IOException
                {
                    for (int i = offset; i < offset + length; i++)
                    {
                        values[i] = in.readInt();
                    }
                }
            });
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        return restored;
    }

    private static void reportIfInFlight(final LogicDriver d, final int tenant, final long id, final Outcome outcome)
    {
        final SessionTable sessions = d.logic.sessions();
        final int record = sessions.find(tenant, id);
        if (record != SessionTable.NULL)
        {
            d.report(tenant, id, sessions.attempt(record), outcome);
        }
    }

    static byte[] image(final BusinessLogic logic)
    {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final DataOutputStream out = new DataOutputStream(bytes);
        try
        {
            logic.writeState(new StateOutput()
            {
                public void putLong(final long value) throws IOException
                {
                    out.writeLong(value);
                }

                public void putInt(final int value) throws IOException
                {
                    out.writeInt(value);
                }

                public void putLongs(final long[] values, final int offset, final int length) throws IOException
                {
                    for (int i = offset; i < offset + length; i++)
                    {
                        out.writeLong(values[i]);
                    }
                }

                public void putInts(final int[] values, final int offset, final int length) throws IOException
                {
                    for (int i = offset; i < offset + length; i++)
                    {
                        out.writeInt(values[i]);
                    }
                }
            });
            out.flush();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        return bytes.toByteArray();
    }
}
