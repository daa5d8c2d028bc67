package io.kratosupgrade.operator.events;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.kratosupgrade.operator.resources.Names;
import java.net.HttpURLConnection;
import java.time.Clock;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * Emits core/v1 Events on a KratosUpgrade or a KratosFleetUpgrade (what {@code kubectl describe ku} shows), deduplicated the way
 * Kubernetes' own recorder and Flink's EventUtils do: the name is derived from the object, type, reason and
 * message, so the same event again increments {@code count} and moves {@code lastTimestamp} instead of
 * piling up. Best effort: an Event that cannot be written is logged and never fails a reconcile.
 */
public class EventRecorder {

    private static final Logger LOG = Logger.getLogger(EventRecorder.class);
    public static final String COMPONENT = "kratos-upgrade-operator";
    private static final PatchContext MERGE = new PatchContext.Builder().withPatchType(PatchType.JSON_MERGE).build();

    private final KubernetesClient client;
    private final Clock clock;

    public EventRecorder(KubernetesClient client, Clock clock) {
        this.client = client;
        this.clock = clock;
    }

    public void record(HasMetadata ku, boolean warning, String reason, String message) {
        String ns = ku.getMetadata().getNamespace();
        String type = warning ? "Warning" : "Normal";
        String now = clock.instant().truncatedTo(ChronoUnit.SECONDS).toString();
        String name = name(ku, type, reason, message);
        try {
            var events = client.v1().events().inNamespace(ns);
            try {
                // Most events are new: create first, and read the existing one only when there is one.
                events.resource(new EventBuilder()
                        .withNewMetadata().withName(name).withNamespace(ns).endMetadata()
                        .withInvolvedObject(new ObjectReferenceBuilder()
                                .withApiVersion(ku.getApiVersion()).withKind(ku.getKind())
                                .withName(ku.getMetadata().getName()).withNamespace(ns)
                                .withUid(ku.getMetadata().getUid())
                                .build())
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
            LOG.warnf("could not record event %s on %s/%s: %s", reason, ns, ku.getMetadata().getName(), e.getMessage());
        }
    }

    /** Deterministic per object (uid), type, reason and message; bounded to a valid object name. */
    static String name(HasMetadata ku, String type, String reason, String message) {
        String key = ku.getMetadata().getUid() + "/" + type + "/" + reason + "/" + message;
        return Names.bounded(ku.getMetadata().getName(), 200) + "." + Names.sha256(key).substring(0, 16);
    }
}
