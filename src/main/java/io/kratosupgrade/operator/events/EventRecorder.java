package io.kratosupgrade.operator.events;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.ObjectReference;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.kratosupgrade.operator.resources.Names;
import java.net.HttpURLConnection;
import java.time.Clock;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Emits core/v1 Events on a KratosUpgrade or a KratosFleetUpgrade (what {@code kubectl describe ku} shows), deduplicated the way
 * Kubernetes' own recorder and Flink's EventUtils do: the name is derived from the object, type, reason and
 * message, so the same event again increments {@code count} and moves {@code lastTimestamp} instead of
 * piling up. Best effort: an Event that cannot be written is logged and never fails a reconcile.
 *
 * <p>Written in the background, in order, by one thread, as client-go's recorder does: a reconcile that announces
 * a step does not wait one or two API round trips for its Events before it takes the step (up to 60 ms each on
 * a busy node, measured in the upgrade benchmark). The queue is bounded; an Event that finds it full is logged
 * and dropped.
 */
public class EventRecorder implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(EventRecorder.class);
    public static final String COMPONENT = "kratos-upgrade-operator";
    private static final PatchContext MERGE = new PatchContext.Builder().withPatchType(PatchType.JSON_MERGE).build();

    private static final int QUEUE = 1000;
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);

    private final KubernetesClient client;
    private final Clock clock;
    private final ThreadPoolExecutor writer;

    public EventRecorder(KubernetesClient client, Clock clock) {
        this.client = client;
        this.clock = clock;
        this.writer = new ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(QUEUE), runnable -> {
            Thread thread = new Thread(runnable, "event-recorder");
            thread.setDaemon(true);
            return thread;
        }, (runnable, executor) -> LOG.warn("the event queue is full or closed; an event was dropped"));
        writer.allowCoreThreadTimeOut(true); // no idle thread left behind by a recorder that is never closed
    }

    /** Queues the Event; its time and the object's identity are taken now. */
    public void record(HasMetadata ku, boolean warning, String reason, String message) {
        String type = warning ? "Warning" : "Normal";
        String now = clock.instant().truncatedTo(ChronoUnit.SECONDS).toString();
        String name = name(ku, type, reason, message);
        var involved = new ObjectReferenceBuilder()
                .withApiVersion(ku.getApiVersion()).withKind(ku.getKind())
                .withName(ku.getMetadata().getName()).withNamespace(ku.getMetadata().getNamespace())
                .withUid(ku.getMetadata().getUid())
                .build();
        writer.execute(() -> write(involved, name, type, reason, message, now));
    }

    /** Writes what is queued (for at most {@link #CLOSE_TIMEOUT}), then stops; later Events are dropped. */
    @Override
    public void close() {
        writer.shutdown();
        try {
            if (!writer.awaitTermination(CLOSE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warnf("%d events not written at shutdown", writer.getQueue().size());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void write(ObjectReference involved, String name, String type, String reason, String message, String now) {
        String ns = involved.getNamespace();
        try {
            var events = client.v1().events().inNamespace(ns);
            try {
                // Most events are new: create first, and read the existing one only when there is one.
                events.resource(new EventBuilder()
                        .withNewMetadata().withName(name).withNamespace(ns).endMetadata()
                        .withInvolvedObject(involved)
                        .withType(type)
                        .withReason(reason)
                        .withMessage(message)
                        .withNewSource().withComponent(COMPONENT).endSource()
                        .withReportingComponent(COMPONENT)
                        .withFirstTimestamp(now).withLastTimestamp(now).withCount(1)
                        .build()).create();
            } catch (KubernetesClientException e) {
                if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) throw e;
                Event existing = events.withName(name).get();
                int count = existing == null || existing.getCount() == null ? 1 : existing.getCount();
                events.withName(name).patch(MERGE, Serialization.asJson(Map.of("count", count + 1, "lastTimestamp", now)));
            }
        } catch (RuntimeException e) {
            LOG.warnf("could not record event %s on %s/%s: %s", reason, ns, involved.getName(), e.getMessage());
        }
    }

    /** Deterministic per object (uid), type, reason and message; bounded to a valid object name. */
    static String name(HasMetadata ku, String type, String reason, String message) {
        String key = ku.getMetadata().getUid() + "/" + type + "/" + reason + "/" + message;
        return Names.bounded(ku.getMetadata().getName(), 200) + "." + Names.sha256(key).substring(0, 16);
    }
}
