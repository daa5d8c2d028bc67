package io.kratosupgrade.operator.observe;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The operator-wide bound on migrations running at once ({@code kratos-upgrade.max-concurrent-migrations}), so that a
 * fleet of a thousand tenants never starts a thousand migrations against shared database servers. A run about to
 * create its migration Job holds a slot first. The slots held are the migration Jobs running (from the informer's
 * cache) plus the slots given out in the last {@link #RESERVATION} whose Job the cache does not show yet: runs are
 * reconciled in parallel, and two of them deciding at once must not both take the last slot.
 */
public class MigrationSlots {

    /** How long a slot given out waits for its Job to appear before it is free again (the run did not create it). */
    static final Duration RESERVATION = Duration.ofMinutes(2);

    private final int limit;
    private final Clock clock;
    private final Map<String, Instant> reserved = new HashMap<>();

    /** @param limit migrations at once; 0 or less: no limit */
    public MigrationSlots(int limit, Clock clock) {
        this.limit = limit;
        this.clock = clock;
    }

    public int limit() {
        return limit;
    }

    /**
     * @param upgrade namespace/name of the KratosUpgrade that wants to migrate
     * @param running namespace/name of the KratosUpgrades whose migration Job is running now
     * @return whether it may create its migration Job now (it keeps the slot until its Job has run)
     */
    /** The run no longer waits for a slot (its Job exists, or it left Migrating): the Job itself counts from now on. */
    public synchronized void release(String upgrade) {
        reserved.remove(upgrade);
    }

    public synchronized boolean hold(String upgrade, Set<String> running) {
        if (limit <= 0) return true;
        Instant now = clock.instant();
        reserved.entrySet().removeIf(e -> running.contains(e.getKey()) || e.getValue().plus(RESERVATION).isBefore(now));
        if (running.contains(upgrade) || reserved.containsKey(upgrade)) return true;
        if (running.size() + reserved.size() >= limit) return false;
        reserved.put(upgrade, now);
        return true;
    }
}
