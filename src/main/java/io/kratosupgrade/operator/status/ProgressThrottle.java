package io.kratosupgrade.operator.status;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Holds back status writes that only report progress (a message, a count), so that an object's status is written
 * at most once per interval for them: at a thousand instances those writes were half of all the operator's
 * writes. A change to anything else (a phase, a Job name announced before the Job exists, a condition's status) is
 * never held back. A held-back write is not lost: the reconciler is rescheduled for when the interval ends, and
 * decides (and writes) the then-current progress.
 */
public class ProgressThrottle {

    /** A KratosUpgrade's progress: its message and its conditions' messages. */
    public static final Set<String> UPGRADE_PROGRESS = Set.of("message");
    /** A fleet's progress: messages, the counts per phase and the done/total text. */
    public static final Set<String> FLEET_PROGRESS = Set.of("message", "total", "succeeded", "failed", "inProgress",
            "pending", "skipped", "progress", "phases");
    /** Above this many remembered objects, entries older than the interval are dropped. */
    private static final int PRUNE_ABOVE = 4096;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Duration interval;
    private final Clock clock;
    private final Map<String, Instant> lastWrite = new ConcurrentHashMap<>();

    public ProgressThrottle(Duration interval, Clock clock) {
        this.interval = interval;
        this.clock = clock;
    }

    /**
     * @param progressFields names of fields that only report progress, wherever they occur in the status
     * @return zero when the change from {@code stored} to {@code decided} may be written now; otherwise how long it
     *         is held back
     */
    public Duration holdBack(HasMetadata object, Object stored, Object decided, Set<String> progressFields) {
        if (stored == null || !withoutProgress(stored, progressFields).equals(withoutProgress(decided, progressFields))) {
            return Duration.ZERO;
        }
        Instant last = lastWrite.get(object.getMetadata().getUid());
        if (last == null) return Duration.ZERO;
        Duration left = Duration.between(clock.instant(), last.plus(interval));
        return left.isNegative() ? Duration.ZERO : left;
    }

    /** Records that the object's status was just written. */
    public void written(HasMetadata object) {
        Instant now = clock.instant();
        if (lastWrite.size() > PRUNE_ABOVE) {
            lastWrite.values().removeIf(t -> t.plus(interval).isBefore(now));
        }
        lastWrite.put(object.getMetadata().getUid(), now);
    }

    /** When to look again: the decision's own time or the end of a held-back write, whichever comes first (or null). */
    public static Duration sooner(Duration requeue, Duration heldBack) {
        if (heldBack.isZero()) return requeue;
        return requeue == null || heldBack.compareTo(requeue) < 0 ? heldBack : requeue;
    }

    public void forget(HasMetadata object) {
        lastWrite.remove(object.getMetadata().getUid());
    }

    static JsonNode withoutProgress(Object status, Set<String> progressFields) {
        JsonNode tree = JSON.valueToTree(status);
        strip(tree, progressFields);
        return tree;
    }

    private static void strip(JsonNode node, Set<String> fields) {
        if (node instanceof ObjectNode object) {
            object.remove(fields);
        }
        node.forEach(child -> strip(child, fields));
    }
}
