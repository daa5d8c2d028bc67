package io.kratosupgrade.operator.events;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.ThreadLocalRandom;
import org.jboss.logging.Logger;

/**
 * Emits core/v1 Events on a KratosUpgrade (what {@code kubectl describe ku} shows). Best effort: an Event
 * that cannot be written is logged and never fails a reconcile.
 */
public class EventRecorder {

    private static final Logger LOG = Logger.getLogger(EventRecorder.class);
    public static final String COMPONENT = "kratos-upgrade-operator";

    private final KubernetesClient client;

    public EventRecorder(KubernetesClient client) {
        this.client = client;
    }

    public void record(KratosUpgrade ku, boolean warning, String reason, String message) {
        String ns = ku.getMetadata().getNamespace();
        String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        String name = ku.getMetadata().getName() + "." + Long.toHexString(System.nanoTime())
                + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000));
        try {
            client.v1().events().inNamespace(ns).resource(new EventBuilder()
                    .withNewMetadata().withName(name).withNamespace(ns).endMetadata()
                    .withInvolvedObject(new ObjectReferenceBuilder()
                            .withApiVersion(ku.getApiVersion()).withKind(ku.getKind())
                            .withName(ku.getMetadata().getName()).withNamespace(ns)
                            .withUid(ku.getMetadata().getUid()).withResourceVersion(ku.getMetadata().getResourceVersion())
                            .build())
                    .withType(warning ? "Warning" : "Normal")
                    .withReason(reason)
                    .withMessage(message)
                    .withNewSource().withComponent(COMPONENT).endSource()
                    .withReportingComponent(COMPONENT)
                    .withFirstTimestamp(now).withLastTimestamp(now).withCount(1)
                    .build()).create();
        } catch (RuntimeException e) {
            LOG.warnf("could not record event %s on %s/%s: %s", reason, ns, ku.getMetadata().getName(), e.getMessage());
        }
    }
}
