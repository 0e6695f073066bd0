package io.reprise.transport;

import io.reprise.schema.client.ClientRole;

/**
 * What one token of {@code reprise.auth.tokens} grants (docs/client.md): the one tenant a connection made with it
 * acts for, and the roles it may connect as. {@code T=TOKEN} grants both roles, {@code T:controller=TOKEN} and
 * {@code T:worker=TOKEN} one each. Immutable.
 */
public final class TokenGrant
{
    private final int tenant;
    private final boolean controller;
    private final boolean worker;

    /**
     * @param tenant     the tenant the token acts for, &gt; 0.
     * @param controller whether it may connect as a controller.
     * @param worker     whether it may connect as a worker.
     */
    public TokenGrant(final int tenant, final boolean controller, final boolean worker)
    {
        if (tenant <= 0 || !(controller || worker))
        {
            throw new IllegalArgumentException("a token grants a tenant > 0 and at least one role: tenant " + tenant);
        }
        this.tenant = tenant;
        this.controller = controller;
        this.worker = worker;
    }

    /** The tenant a connection with this token acts for. */
    public int tenant()
    {
        return tenant;
    }

    /** Whether a connection with this token may take {@code role}; false for any other value than the two roles. */
    public boolean grants(final ClientRole role)
    {
        return role == ClientRole.CONTROLLER ? controller : role == ClientRole.WORKER && worker;
    }

    public boolean equals(final Object other)
    {
        return other instanceof TokenGrant grant && grant.tenant == tenant && grant.controller == controller &&
            grant.worker == worker;
    }

    public int hashCode()
    {
        return tenant * 4 + (controller ? 2 : 0) + (worker ? 1 : 0);
    }

    /** {@code tenant 1 as controller and worker}, {@code tenant 2 as worker}: never the token. */
    public String toString()
    {
        return "tenant " + tenant + " as " + (controller && worker ? "controller and worker" :
            controller ? "controller" : "worker");
    }
}
