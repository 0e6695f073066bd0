package io.reprise.sim;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.zip.CRC32C;

import io.reprise.engine.cluster.ReplicaLink;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The simulated network: delivery on virtual time in delivery-time order, the same for the same seed, and each
 * fault as documented. Every test takes its seed from {@code -Dreprise.test.seed} (a new one otherwise), prints
 * it, and names it in every failure.
 */
class SimNetworkTest
{
    private static final long MS = 1_000_000L;

    private final VirtualClock clock = new VirtualClock();

    private static long seed(final TestInfo test)
    {
        final String name = "SimNetworkTest#" + test.getTestMethod().orElseThrow().getName();
        final long seed = Long.getLong("reprise.test.seed", new SplittableRandom().nextLong());
        System.out.println(name + " seed " + seed + " (reproduce with -Dtest=" + name + " -Dreprise.test.seed=" +
            seed + ")");
        return seed;
    }

    private static String at(final long seed)
    {
        return " [seed " + seed + ", rerun with -Dreprise.test.seed=" + seed + "]";
    }

    private void advanceTo(final long nanos)
    {
        clock.advanceNanos(nanos - clock.nanoTime());
    }

    private static UnsafeBuffer message(final long... values)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[values.length * Long.BYTES]);
        for (int i = 0; i < values.length; i++)
        {
            buffer.putLong(i * Long.BYTES, values[i]);
        }
        return buffer;
    }

    private static boolean send(final SimNetwork network, final int from, final int to, final long... values)
    {
        final UnsafeBuffer buffer = message(values);
        return network.link(from).send(to, buffer, 0, buffer.capacity());
    }

    /** Everything {@code member} can poll now, as the first long of each message. */
    private static List<Long> pollAll(final SimNetwork network, final int member)
    {
        final List<Long> firsts = new ArrayList<>();
        network.link(member).poll((buffer, offset, length) -> firsts.add(buffer.getLong(offset)), Integer.MAX_VALUE);
        return firsts;
    }

    private static long inFlight(final SimNetwork network)
    {
        long inFlight = 0;
        for (int member = 0; member < network.members(); member++)
        {
            inFlight += network.inFlight(member);
        }
        return inFlight;
    }

    /** Every message taken is delivered, dropped or still on the wire, once. */
    private static void assertAccounted(final SimNetwork network, final long seed)
    {
        assertEquals(network.sent() + network.duplicated(),
            network.delivered() + network.dropped() + inFlight(network), network + at(seed));
    }

    @Test
    void shouldDeliverOnlyAfterTheDelayInDeliveryTimeOrder(final TestInfo test)
    {
        final long seed = seed(test);
        final Random workload = new Random(seed);
        final long minNs = 100_000;
        final SimNetwork network = new SimNetwork(3, new Random(seed ^ 0x5DEECE66DL), clock).delay(minNs, MS);
        final int messages = 5_000;
        final long[] sentNs = new long[messages];
        final List<Long> deliveredSequences = new ArrayList<>();
        long lastDeliveryNs = Long.MIN_VALUE;
        long lastSequence = -1;
        int sentCount = 0;
        boolean overtaken = false;

        while (sentCount < messages || network.nextDeliveryNanos() != Long.MAX_VALUE)
        {
            if (sentCount < messages && workload.nextInt(3) != 0)
            {
                clock.advanceNanos(workload.nextInt(200_000));
                sentNs[sentCount] = clock.nanoTime();
                assertTrue(send(network, workload.nextInt(2), 2, sentCount, clock.nanoTime()), at(seed));
                sentCount++;
                continue;
            }
            final long deliveryNs = network.nextDeliveryNanos();
            if (deliveryNs == Long.MAX_VALUE)
            {
                continue;
            }
            if (deliveryNs > clock.nanoTime())
            {
                assertEquals(0, network.link(2).poll((buffer, offset, length) -> { }, Integer.MAX_VALUE),
                    "delivered before its time" + at(seed));
                advanceTo(deliveryNs);
            }
            // Member 2 alone receives, so the earliest delivery time anywhere is the one of its next message.
            final long[] sequence = new long[1];
            assertEquals(1, network.link(2).poll((buffer, offset, length) -> sequence[0] = buffer.getLong(offset), 1),
                at(seed));
            final int index = (int)sequence[0];
            assertTrue(deliveryNs >= sentNs[index] + minNs,
                "message " + index + " sent at " + sentNs[index] + " delivered at " + deliveryNs + at(seed));
            assertTrue(deliveryNs > lastDeliveryNs || deliveryNs == lastDeliveryNs && index > lastSequence,
                "message " + index + " at " + deliveryNs + " after message " + lastSequence + " at " +
                lastDeliveryNs + at(seed));
            overtaken |= index < lastSequence;
            lastDeliveryNs = deliveryNs;
            lastSequence = index;
            deliveredSequences.add(sequence[0]);
        }

        assertEquals(messages, deliveredSequences.size(), at(seed));
        assertEquals(messages, deliveredSequences.stream().distinct().count(), at(seed));
        assertTrue(overtaken, "delays drawn per message reorder" + at(seed));
        assertEquals(messages, network.delivered(), at(seed));
        assertEquals(0, network.dropped(), at(seed));
        assertEquals(Long.MAX_VALUE, network.nextDeliveryNanos(), at(seed));
        assertAccounted(network, seed);
    }

    @Test
    void shouldDeliverMessagesOfOneDeliveryTimeInSendOrder(final TestInfo test)
    {
        final long seed = seed(test);
        final SimNetwork network = new SimNetwork(3, new Random(seed), clock).delay(1_000, 1_000);
        final List<Long> expected = new ArrayList<>();
        for (long i = 0; i < 50; i++)
        {
            assertTrue(send(network, (int)(i % 2), 2, i), at(seed));
            expected.add(i);
        }
        assertEquals(1_000, network.nextDeliveryNanos(), at(seed));
        clock.advanceNanos(999);
        assertEquals(List.of(), pollAll(network, 2), at(seed));
        clock.advanceNanos(1);
        assertEquals(expected, pollAll(network, 2), at(seed));
    }

    @Test
    void shouldDeliverTheSameSequenceForTheSameSeed(final TestInfo test)
    {
        final long seed = seed(test);
        final List<String> first = scenario(seed);
        final List<String> second = scenario(seed);
        assertTrue(first.size() > 1_000, "deliveries: " + first.size() + at(seed));
        assertEquals(first, second, "one seed, two runs" + at(seed));
        assertNotEquals(first, scenario(seed + 1), "seeds " + seed + " and " + (seed + 1) + " ran alike" + at(seed));
    }

    /**
     * Every fault, driven from {@code seed}: the deliveries (time, member, length, CRC of the bytes) and the counters
     * at the end.
     */
    private static List<String> scenario(final long seed)
    {
        final Random workload = new Random(seed);
        final VirtualClock clock = new VirtualClock();
        final int members = 4;
        final SimNetwork network = new SimNetwork(members, new Random(workload.nextLong()), clock)
            .loss(20_000).duplication(30_000).delay(50_000, 500_000);
        final List<String> trace = new ArrayList<>();
        final UnsafeBuffer sendBuffer = new UnsafeBuffer(new byte[512]);
        final byte[] bytes = new byte[512];
        final CRC32C crc = new CRC32C();

        for (int step = 0; step < 50_000; step++)
        {
            clock.advanceNanos(workload.nextInt(50_000));
            final int pick = workload.nextInt(1_000);
            final int member = workload.nextInt(members);
            if (pick < 600)
            {
                final int to = (member + 1 + workload.nextInt(members - 1)) % members;
                if (!network.isDown(member))
                {
                    final int length = workload.nextInt(300);
                    workload.nextBytes(bytes);
                    sendBuffer.putBytes(0, bytes, 0, length);
                    network.link(member).send(to, sendBuffer, 0, length);
                }
            }
            else if (pick < 990)
            {
                if (!network.isDown(member))
                {
                    network.link(member).poll((buffer, offset, length) ->
                    {
                        crc.reset();
                        final byte[] received = new byte[length];
                        buffer.getBytes(offset, received);
                        crc.update(received);
                        trace.add(clock.nanoTime() + " " + member + " " + length + " " + crc.getValue());
                    }, 1 + workload.nextInt(10));
                }
            }
            else if (pick < 994)
            {
                final int to = (member + 1 + workload.nextInt(members - 1)) % members;
                network.partition(member, to, workload.nextBoolean());
            }
            else if (pick < 995)
            {
                network.isolate(member);
            }
            else if (pick < 997)
            {
                network.heal();
            }
            else if (network.isDown(member))
            {
                network.up(member);
            }
            else
            {
                network.down(member);
            }
            assertAccounted(network, seed);
        }
        assertTrue(network.dropped() > 0 && network.duplicated() > 0, network + at(seed));
        trace.add(network.toString());
        return trace;
    }

    @Test
    void shouldLoseAndDuplicateAtTheirRates(final TestInfo test)
    {
        final long seed = seed(test);
        final int lossPpm = 50_000;
        final int duplicationPpm = 50_000;
        final SimNetwork network = new SimNetwork(2, new Random(seed), clock)
            .loss(lossPpm).duplication(duplicationPpm).delay(0, 10_000);
        final int messages = 100_000;
        final int[] deliveries = new int[messages];
        final ReplicaLink.MessageHandler count = (buffer, offset, length) -> deliveries[(int)buffer.getLong(offset)]++;

        for (int i = 0; i < messages; i++)
        {
            clock.advanceNanos(1_000);
            assertTrue(send(network, 0, 1, i), at(seed));
            if (i % 100 == 99)
            {
                network.link(1).poll(count, Integer.MAX_VALUE);
            }
        }
        clock.advanceNanos(1_000 * MS);
        network.link(1).poll(count, Integer.MAX_VALUE);

        int none = 0;
        int twice = 0;
        for (final int delivered : deliveries)
        {
            assertTrue(delivered <= 2, "a message delivered " + delivered + " times" + at(seed));
            none += delivered == 0 ? 1 : 0;
            twice += delivered == 2 ? 1 : 0;
        }
        assertEquals(none, network.dropped(), network + at(seed));
        assertEquals(twice, network.duplicated(), network + at(seed));
        assertEquals(messages, network.sent(), at(seed));
        assertEquals(messages - none + twice, network.delivered(), at(seed));
        assertEquals(0, network.backPressured(), at(seed));
        assertAccounted(network, seed);

        // Six standard deviations of the binomial: a correct network fails this about once in 10^9 runs.
        final double p = lossPpm / 1e6;
        final double expectedLost = messages * p;
        final double lostTolerance = 6 * Math.sqrt(messages * p * (1 - p));
        assertTrue(Math.abs(none - expectedLost) <= lostTolerance,
            "lost " + none + ", expected " + expectedLost + " +- " + lostTolerance + at(seed));
        final double q = duplicationPpm / 1e6;
        final double expectedDuplicated = (messages - none) * q;
        final double duplicatedTolerance = 6 * Math.sqrt((messages - none) * q * (1 - q));
        assertTrue(Math.abs(twice - expectedDuplicated) <= duplicatedTolerance,
            "duplicated " + twice + ", expected " + expectedDuplicated + " +- " + duplicatedTolerance + at(seed));
    }

    @Test
    void shouldDropOneWayOfAnAsymmetricPartitionUntilHealed(final TestInfo test)
    {
        final long seed = seed(test);
        final SimNetwork network = new SimNetwork(3, new Random(seed), clock).delay(1_000, 5_000);
        final long later = 1_000 * MS;

        assertTrue(send(network, 0, 1, 1));
        network.partition(0, 1, true);
        assertTrue(send(network, 0, 1, 2), "a partition drops silently, it does not push back" + at(seed));
        assertTrue(send(network, 1, 0, 3));
        assertTrue(send(network, 0, 2, 4));
        assertTrue(send(network, 2, 1, 5));
        clock.advanceNanos(later);
        assertEquals(List.of(1L, 5L), sorted(pollAll(network, 1)), "0 -> 1 blocked after the first, which was on " +
            "the wire" + at(seed));
        assertEquals(List.of(3L), pollAll(network, 0), at(seed));
        assertEquals(List.of(4L), pollAll(network, 2), at(seed));
        assertEquals(1, network.dropped(), network + at(seed));

        network.partition(0, 1, false);
        assertTrue(send(network, 0, 1, 6));
        network.partition(0, 1, true);
        network.heal();
        assertTrue(send(network, 0, 1, 7));
        clock.advanceNanos(later);
        assertEquals(List.of(6L, 7L), sorted(pollAll(network, 1)), at(seed));

        network.isolate(2);
        for (int member = 0; member < 2; member++)
        {
            assertTrue(send(network, member, 2, 10 + member));
            assertTrue(send(network, 2, member, 20 + member));
            assertTrue(send(network, member, 1 - member, 30 + member));
        }
        clock.advanceNanos(later);
        assertEquals(List.of(), pollAll(network, 2), at(seed));
        assertEquals(List.of(31L), pollAll(network, 0), at(seed));
        assertEquals(List.of(30L), pollAll(network, 1), at(seed));
        assertEquals(5, network.dropped(), network + at(seed));

        network.heal();
        assertTrue(send(network, 2, 0, 40));
        assertTrue(send(network, 0, 2, 41));
        clock.advanceNanos(later);
        assertEquals(List.of(40L), pollAll(network, 0), at(seed));
        assertEquals(List.of(41L), pollAll(network, 2), at(seed));
        assertEquals(5, network.dropped(), network + at(seed));
        assertAccounted(network, seed);
    }

    private static List<Long> sorted(final List<Long> values)
    {
        final List<Long> sorted = new ArrayList<>(values);
        sorted.sort(null);
        return sorted;
    }

    @Test
    void shouldDiscardWhatIsQueuedForADownMemberAndDropWhatArrivesUntilUp(final TestInfo test)
    {
        final long seed = seed(test);
        final SimNetwork network = new SimNetwork(3, new Random(seed), clock).delay(10_000, 50_000);

        for (long i = 0; i < 5; i++)
        {
            assertTrue(send(network, 0, 1, i));
            assertTrue(send(network, 1, 0, 100 + i));
        }
        clock.advanceNanos(5_000);
        network.down(1);
        assertEquals(0, network.inFlight(1), at(seed));
        assertEquals(5, network.dropped(), network + at(seed));
        network.down(1);
        assertEquals(5, network.dropped(), "down twice is down once" + at(seed));
        assertThrows(IllegalStateException.class, () -> network.link(1).poll((buffer, offset, length) -> { }, 10));
        assertThrows(IllegalStateException.class, () -> send(network, 1, 0, 0));

        for (long i = 0; i < 4; i++)
        {
            assertTrue(send(network, 0, 1, 10 + i), "sending to a down member is no error" + at(seed));
        }
        assertTrue(send(network, 2, 1, 14));
        clock.advanceNanos(1_000 * MS);
        assertEquals(List.of(100L, 101L, 102L, 103L, 104L), sorted(pollAll(network, 0)),
            "what the down member sent was on the wire" + at(seed));
        assertEquals(Long.MAX_VALUE, network.nextDeliveryNanos(), "a down member's arrivals are no event" + at(seed));

        network.delay(1_000 * MS, 1_000 * MS);
        assertTrue(send(network, 0, 1, 20));
        clock.advanceNanos(500 * MS);
        network.up(1);
        assertEquals(10, network.dropped(), "the five arrived while down are dropped" + network + at(seed));
        assertEquals(1, network.inFlight(1), at(seed));
        assertEquals(List.of(), pollAll(network, 1), at(seed));
        clock.advanceNanos(500 * MS);
        assertEquals(List.of(20L), pollAll(network, 1), "on the wire while down, arrives after up" + at(seed));

        network.delay(10_000, 50_000);
        assertTrue(send(network, 0, 1, 21));
        assertTrue(send(network, 1, 2, 22));
        clock.advanceNanos(1_000 * MS);
        assertEquals(List.of(21L), pollAll(network, 1), at(seed));
        assertEquals(List.of(22L), pollAll(network, 2), at(seed));
        assertEquals(10, network.dropped(), network + at(seed));
        assertAccounted(network, seed);
    }

    @Test
    void shouldPushBackBeyondTheInFlightBound(final TestInfo test)
    {
        final long seed = seed(test);
        final SimNetwork network = new SimNetwork(3, new Random(seed), clock).delay(1_000, 100_000);
        final int bound = SimNetwork.MAX_IN_FLIGHT_PER_MEMBER;

        for (int i = 0; i < bound; i++)
        {
            assertTrue(send(network, 0, 1, i), "message " + i + at(seed));
        }
        assertFalse(send(network, 0, 1, bound), at(seed));
        assertFalse(send(network, 2, 1, bound), "the bound is the receiver's" + at(seed));
        assertTrue(send(network, 0, 2, 0), at(seed));
        assertEquals(2, network.backPressured(), at(seed));
        assertEquals(bound + 1, network.sent(), at(seed));
        assertEquals(bound, network.inFlight(1), at(seed));

        clock.advanceNanos(1_000 * MS);
        assertEquals(1, network.link(1).poll((buffer, offset, length) -> { }, 1), at(seed));
        assertTrue(send(network, 0, 1, bound), "one delivered, one more taken" + at(seed));
        assertFalse(send(network, 0, 1, bound + 1), at(seed));

        network.down(1);
        assertTrue(send(network, 0, 1, 0), "a crash empties the receive buffers" + at(seed));
        assertAccounted(network, seed);
    }

    @Test
    void shouldDeliverTheBytesSentWhenTheSenderReusesItsBuffer(final TestInfo test)
    {
        final long seed = seed(test);
        final Random workload = new Random(seed);
        final SimNetwork network = new SimNetwork(2, new Random(workload.nextLong()), clock)
            .duplication(100_000).delay(0, 200_000);
        final UnsafeBuffer sendBuffer = new UnsafeBuffer(new byte[8192]);
        final List<byte[]> sent = new ArrayList<>();
        final int[] deliveries = new int[20_000];
        final ReplicaLink.MessageHandler check = (buffer, offset, length) ->
        {
            final int id = buffer.getInt(offset);
            final byte[] received = new byte[length];
            buffer.getBytes(offset, received);
            assertArrayEquals(sent.get(id), received, "message " + id + at(seed));
            deliveries[id]++;
        };

        for (int id = 0; id < deliveries.length; id++)
        {
            // Mostly small, now and then large, so slots that held a large message carry a small one.
            final int length =
                Integer.BYTES + (workload.nextInt(20) == 0 ? workload.nextInt(6_000) : workload.nextInt(100));
            final int offset = workload.nextInt(sendBuffer.capacity() - length + 1);
            final byte[] bytes = new byte[length];
            workload.nextBytes(bytes);
            sendBuffer.putBytes(offset, bytes);
            sendBuffer.putInt(offset, id);
            sendBuffer.getBytes(offset, bytes);
            sent.add(bytes);
            assertTrue(network.link(0).send(1, sendBuffer, offset, length), at(seed));
            // The sender writes its next message over the one it just sent.
            sendBuffer.setMemory(0, sendBuffer.capacity(), (byte)workload.nextInt());
            clock.advanceNanos(workload.nextInt(20_000));
            if (workload.nextInt(10) == 0)
            {
                network.link(1).poll(check, 1 + workload.nextInt(20));
            }
        }
        clock.advanceNanos(1_000 * MS);
        network.link(1).poll(check, Integer.MAX_VALUE);

        assertTrue(Arrays.stream(deliveries).allMatch((delivered) -> delivered == 1 || delivered == 2), at(seed));
        assertEquals(deliveries.length + network.duplicated(), network.delivered(), network + at(seed));
        assertAccounted(network, seed);
    }

    @Test
    void shouldRefuseMessagesToItselfOrToNoMember(final TestInfo test)
    {
        final long seed = seed(test);
        final SimNetwork network = new SimNetwork(3, new Random(seed), clock);
        final DirectBuffer buffer = message(1);
        assertSame(network.link(1), network.link(1));
        assertThrows(IllegalArgumentException.class, () -> network.link(1).send(1, buffer, 0, 8));
        assertThrows(IllegalArgumentException.class, () -> network.link(1).send(3, buffer, 0, 8));
        assertThrows(IllegalArgumentException.class, () -> network.link(1).send(-1, buffer, 0, 8));
        assertThrows(IllegalArgumentException.class, () -> network.link(1).send(0, buffer, 4, 8));
        assertThrows(IllegalArgumentException.class, () -> network.link(3));
        assertThrows(IllegalArgumentException.class, () -> network.partition(0, 0, true));
        assertThrows(IllegalArgumentException.class, () -> network.loss(1_000_001));
        assertThrows(IllegalArgumentException.class, () -> network.delay(10, 9));
        assertEquals(0, network.sent(), at(seed));
        assertTrue(network.link(1).send(0, buffer, 0, 0), "an empty message is a message" + at(seed));
        assertEquals(List.of(), pollAll(network, 1), at(seed));
        assertEquals(1, network.link(0).poll((b, offset, length) -> assertEquals(0, length), 10), at(seed));
    }
}
