package io.reprise.transport;

import java.util.List;
import java.util.Map;

import io.reprise.schema.client.ClientRole;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The token spec of {@code --tokens} and {@code reprise.auth.tokens}: {@code T=TOKEN} grants tenant T both roles,
 * {@code T:controller=TOKEN} and {@code T:worker=TOKEN} one; every malformed entry is refused with a message that
 * says what and where, and never shows a token.
 */
class TokenSpecTest
{
    private static final String SECRET = "S3CRET";

    @Test
    void shouldGrantBothRolesForTEqualsTokenAndOneRoleForTRoleEqualsToken()
    {
        final Map<String, TokenGrant> grants = TransportContext.parseTokens("1:controller=A,1:worker=B,2=C");
        assertEquals(List.of("A", "B", "C"), List.copyOf(grants.keySet()), "in the order given");
        assertEquals(new TokenGrant(1, true, false), grants.get("A"));
        assertEquals(new TokenGrant(1, false, true), grants.get("B"));
        assertEquals(new TokenGrant(2, true, true), grants.get("C"));
        assertTrue(grants.get("A").grants(ClientRole.CONTROLLER));
        assertFalse(grants.get("A").grants(ClientRole.WORKER));
        assertFalse(grants.get("B").grants(ClientRole.CONTROLLER));
        assertTrue(grants.get("B").grants(ClientRole.WORKER));
        assertTrue(grants.get("C").grants(ClientRole.CONTROLLER) && grants.get("C").grants(ClientRole.WORKER));
        assertFalse(grants.get("C").grants(ClientRole.NULL_VAL));
        assertEquals("tenant 1 as controller", grants.get("A").toString());
        assertEquals("tenant 2 as controller and worker", grants.get("C").toString());
    }

    @Test
    void shouldTakeEverythingAfterTheFirstEqualsAsTheTokenAndIgnoreSpaces()
    {
        final Map<String, TokenGrant> grants = TransportContext.parseTokens(" 7 : worker = a=b:c , 8=d== ");
        assertEquals(new TokenGrant(7, false, true), grants.get("a=b:c"));
        assertEquals(new TokenGrant(8, true, true), grants.get("d=="));
        assertEquals(2, grants.size());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "\"\"                     | no tokens: give T=TOKEN or T:ROLE=TOKEN entries, comma-separated",
        "\"   \"                  | no tokens: give T=TOKEN or T:ROLE=TOKEN entries, comma-separated",
        "1=S3CRET,,2=B            | token entry 2 is empty (two commas in a row, or one at an end)",
        "1=S3CRET,                | token entry 2 is empty (two commas in a row, or one at an end)",
        ",1=S3CRET                | token entry 1 is empty (two commas in a row, or one at an end)",
        "1=A,S3CRET               | token entry 2 has no '=': give T=TOKEN or T:ROLE=TOKEN",
        "=S3CRET                  | token entry 1 (=...): no tenant",
        ":worker=S3CRET           | token entry 1 (:worker=...): no tenant",
        "one=S3CRET               | token entry 1 (one=...): tenant 'one' is not a whole number in 1..2147483647",
        "0=S3CRET                 | token entry 1 (0=...): tenant '0' is not a whole number in 1..2147483647",
        "-3:worker=S3CRET         | token entry 1 (-3:worker=...): tenant '-3' is not a whole number in 1..2147483647",
        "2147483648=S3CRET        | token entry 1 (2147483648=...): tenant '2147483648' is not a whole number in " +
            "1..2147483647",
        "1:admin=S3CRET           | token entry 1 (1:admin=...): unknown role 'admin': give controller or worker, " +
            "or T=TOKEN for both",
        "1:Worker=S3CRET          | token entry 1 (1:Worker=...): unknown role 'Worker': give controller or worker, " +
            "or T=TOKEN for both",
        "1:controller:worker=S3CRET | token entry 1 (1:controller:worker=...): unknown role 'controller:worker': " +
            "give controller or worker, or T=TOKEN for both",
        "1:=S3CRET                | token entry 1 (1:=...): no role after ':': give controller or worker, " +
            "or T=TOKEN for both",
        "1=                       | token entry 1 (1=...): empty token",
        "1=A,2:worker=  ,3=B      | token entry 2 (2:worker=...): empty token",
        "1=S3CRET,1=S3CRET        | token entry 2 (1=...): its token is already given in token entry 1 (1=...); " +
            "a token names one tenant and one grant: write T=TOKEN for both roles of a tenant",
        "1=S3CRET,2=S3CRET        | token entry 2 (2=...): its token is already given in token entry 1 (1=...); " +
            "a token names one tenant and one grant: write T=TOKEN for both roles of a tenant",
        "1:controller=S3CRET,1:worker=S3CRET | token entry 2 (1:worker=...): its token is already given in token " +
            "entry 1 (1:controller=...); a token names one tenant and one grant: write T=TOKEN for both roles of a " +
            "tenant",
    })
    void shouldRefuseAMalformedSpecSayingWhatAndWhereWithoutTheToken(final String spec, final String message)
    {
        final IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
            () -> TransportContext.parseTokens(spec));
        assertEquals(message, refused.getMessage());
        assertFalse(refused.getMessage().contains(SECRET), refused.getMessage());
    }

    @Test
    void shouldKeepTheTokensWhenASpecIsRefused()
    {
        final TransportContext context = new TransportContext().tokens("1:worker=A");
        assertThrows(IllegalArgumentException.class, () -> context.tokens("1:boss=B"));
        assertEquals(new TokenGrant(1, false, true), context.grantOf("A"));
        assertNull(context.grantOf("B"));
    }

    @Test
    void shouldReadTheSpecFromTheSystemProperty()
    {
        final String before = System.getProperty(TransportContext.TOKENS_PROP_NAME);
        try
        {
            System.setProperty(TransportContext.TOKENS_PROP_NAME, "3:worker=W,4=X");
            final TransportContext context = new TransportContext();
            assertEquals(new TokenGrant(3, false, true), context.grantOf("W"));
            assertEquals(new TokenGrant(4, true, true), context.grantOf("X"));
            assertNull(context.grantOf(TransportContext.TOKENS_DEFAULT.substring(2)));

            System.setProperty(TransportContext.TOKENS_PROP_NAME, "3:boss=W");
            final IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                TransportContext::new);
            assertEquals("token entry 1 (3:boss=...): unknown role 'boss': give controller or worker, or T=TOKEN for " +
                "both", refused.getMessage());
        }
        finally
        {
            if (null == before)
            {
                System.clearProperty(TransportContext.TOKENS_PROP_NAME);
            }
            else
            {
                System.setProperty(TransportContext.TOKENS_PROP_NAME, before);
            }
        }
    }

    @Test
    void shouldGrantTheDevelopmentTokenBothRolesByDefault()
    {
        final Map<String, TokenGrant> grants = TransportContext.parseTokens(TransportContext.TOKENS_DEFAULT);
        assertEquals(Map.of("reprise-dev-token", new TokenGrant(1, true, true)), grants);
    }
}
