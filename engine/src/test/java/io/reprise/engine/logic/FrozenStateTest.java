package io.reprise.engine.logic;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;

import io.reprise.engine.state.SessionTable;
import io.reprise.engine.state.StateOutput;
import io.reprise.schema.log.Outcome;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * A frozen view ({@link BusinessLogic#freeze}) answers, while the live state goes on applying, exactly as the state
 * did at the freeze: the same image byte for byte and the same digest. That is what lets the snapshot agent write
 * a snapshot without a second copy of the state that applies every operator again.
 */
class FrozenStateTest
{
    private static final byte[] PAYLOAD = {1, 2, 3, 4, 5, 6, 7, 8};

    @Test
    void shouldKeepTheImageOfTheFreezeWhileTheModelGuidedLogGoesOn()
    {
        final long seed = new SplittableRandom().nextLong();
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
            final byte[] frame = log.get(i);
            buffer.putBytes(0, frame);
            term = ReferenceModel.entryTerm(frame, term);
            logic.apply(i + 1, term, buffer, 0, frame.length);
            if (null != view && (random.nextInt(1000) == 0 || i == log.size() - 1))
            {
                assertArrayEquals(expectedImage, image(view), "seed " + seed + " frozen at " + frozenAt + ", now " + i);
                assertEquals(expectedDigest, view.digest(), "seed " + seed + " frozen at " + frozenAt);
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
     * view is held, the view written on another thread meanwhile, and spares reused from one view to the next.
     */
    @Test
    void shouldKeepTheImageOfTheFreezeOverManyPagesWhileAnotherThreadWritesIt()
    {
        final long seed = new SplittableRandom().nextLong();
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
            assertArrayEquals(expectedImage, written.join(), "seed " + seed + " round " + round);
            assertArrayEquals(expectedImage, image(view), "seed " + seed + " round " + round);
            assertEquals(expectedDigest, view.digest(), "seed " + seed + " round " + round);
            assertEquals(frozenIndex, view.appliedIndex());
            if (round % 3 != 2)
            {
                d.logic.recycle(view);
            }
            else
            {
                // A view never given back: the next freeze must still be exact (its pages simply stay the view's).
                assertThrows(IllegalStateException.class, () -> view.freeze());
            }
        }
        assertTrue(d.logic.sessions().size() > 20_000, "sessions: " + d.logic.sessions().size());
    }

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
