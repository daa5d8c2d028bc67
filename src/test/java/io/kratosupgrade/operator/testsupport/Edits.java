package io.kratosupgrade.operator.testsupport;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.Resource;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * Edits an object the operator writes at the same time. fabric8's {@code edit} sends the resourceVersion it
 * read, so a status write of the operator between the read and the patch makes it fail with 409 Conflict; a
 * user (or kubectl) simply reads again and retries, and so do the tests.
 */
public final class Edits {

    private static final Duration DEADLINE = Duration.ofSeconds(30);

    private Edits() {
    }

    public static <T extends HasMetadata> T edit(Resource<T> resource, UnaryOperator<T> change) {
        return retryingConflicts(() -> resource.edit(change));
    }

    /** Runs a read-modify-write (a status update, say) again from the read while it fails with 409 Conflict. */
    public static <T> T retryingConflicts(Supplier<T> readModifyWrite) {
        Instant deadline = Instant.now().plus(DEADLINE);
        while (true) {
            try {
                return readModifyWrite.get();
            } catch (KubernetesClientException e) {
                if (e.getCode() != 409 || Instant.now().isAfter(deadline)) throw e;
            }
        }
    }
}
