package io.reprise.engine.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reprise.engine.node.NodeContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SystemPropertiesTest
{
    @AfterEach
    void clear()
    {
        System.clearProperty(NodeContext.RING_SIZE_PROP_NAME);
    }

    @Test
    void shouldReadASetValueAndTheDefaultOtherwise()
    {
        assertEquals(NodeContext.RING_SIZE_DEFAULT, new NodeContext().ringSize());
        System.setProperty(NodeContext.RING_SIZE_PROP_NAME, " 2048 ");
        assertEquals(2048, new NodeContext().ringSize());
    }

    @Test
    void shouldRefuseAValueThatDoesNotParseNamingTheProperty()
    {
        System.setProperty(NodeContext.RING_SIZE_PROP_NAME, "8k");
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, NodeContext::new);
        assertTrue(ex.getMessage().contains(NodeContext.RING_SIZE_PROP_NAME) && ex.getMessage().contains("'8k'"),
            ex.getMessage());
    }
}
