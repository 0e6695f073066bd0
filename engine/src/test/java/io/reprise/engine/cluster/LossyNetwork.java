package io.reprise.engine.cluster;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A network between members for tests: one queue per destination, messages lost, duplicated and reordered at seeded
 * rates, and a filter that sees (and may change or drop) every message as it is sent. Engine tests cannot use the sim
 * module, so this is its small cousin.
 */
final class LossyNetwork
{
    /** Sees each message sent, before loss; may change its bytes. Returns false to drop it. */
    @FunctionalInterface
    interface Filter
    {
        boolean onSend(int from, int to, UnsafeBuffer message);
    }

    private final SplittableRandom random;
    private final int lossPercent;
    private final int duplicatePercent;
    private final int reorderPercent;
    private final List<List<byte[]>> queues = new ArrayList<>();
    private final UnsafeBuffer view = new UnsafeBuffer(0, 0);
    Filter filter = (from, to, message) -> true;

    LossyNetwork(final int members, final long seed, final int lossPercent, final int duplicatePercent,
        final int reorderPercent)
    {
        this.random = new SplittableRandom(seed);
        this.lossPercent = lossPercent;
        this.duplicatePercent = duplicatePercent;
        this.reorderPercent = reorderPercent;
        for (int m = 0; m < members; m++)
        {
            queues.add(new ArrayList<>());
        }
    }

    static LossyNetwork perfect(final int members)
    {
        return new LossyNetwork(members, 0, 0, 0, 0);
    }

    ReplicaLink link(final int member)
    {
        return new ReplicaLink()
        {
            public boolean send(final int to, final DirectBuffer buffer, final int offset, final int length)
            {
                final byte[] copy = new byte[length];
                buffer.getBytes(offset, copy);
                view.wrap(copy);
                if (!filter.onSend(member, to, view) || chance(lossPercent))
                {
                    return true;
                }
                final List<byte[]> queue = queues.get(to);
                queue.add(copy);
                if (chance(duplicatePercent))
                {
                    queue.add(copy.clone());
                }
                return true;
            }

            public int poll(final MessageHandler handler, final int limit)
            {
                final List<byte[]> queue = queues.get(member);
                int count = 0;
                while (count < limit && !queue.isEmpty())
                {
                    // Reordering: now and then a message among the next few overtakes the head.
                    final int index = queue.size() > 1 && chance(reorderPercent) ?
                        random.nextInt(Math.min(queue.size(), 4)) : 0;
                    final byte[] message = queue.remove(index);
                    handler.onMessage(new UnsafeBuffer(message), 0, message.length);
                    count++;
                }
                return count;
            }
        };
    }

    /** Forgets whatever is on its way to {@code member}, as when it crashes. */
    void clear(final int member)
    {
        queues.get(member).clear();
    }

    private boolean chance(final int percent)
    {
        return percent > 0 && random.nextInt(100) < percent;
    }
}
