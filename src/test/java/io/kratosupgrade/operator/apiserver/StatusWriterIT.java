package io.kratosupgrade.operator.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.testsupport.Edits;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeStatus;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.status.StatusWriter;
import java.time.Clock;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A status decided from an object that has changed since is never stored. */
class StatusWriterIT extends ApiServerTestBase {

    @Test
    void aStatusDecidedFromAStaleObjectIsRefusedAndNothingIsOverwritten() {
        installKratos();
        operator.stop();
        try {
            upgrade("stale", "v1.3.1", spec -> { });
            KratosUpgrade basis = get("stale");
            // Someone changes the object after the operator read it: a retry annotation, say.
            Edits.edit(client.resources(KratosUpgrade.class).inNamespace(namespace).withName("stale"),
                    ku -> { ku.getMetadata().setAnnotations(Map.of(KratosUpgrade.RETRY_ANNOTATION, "1")); return ku; });
            StatusWriter writer = new StatusWriter(client, Clock.systemUTC());
            KratosUpgradeStatus decided = new KratosUpgradeStatus();
            decided.setPhase(Phase.Migrating);
            decided.setRun(7);

            assertThatThrownBy(() -> writer.write(basis, decided)).isInstanceOf(StatusWriter.StaleDecisionException.class);
            assertThat(get("stale").getStatus().getPhase()).as("nothing was written").isNull();

            KratosUpgrade fresh = get("stale");
            assertThat(writer.write(fresh, decided).getStatus().getRun()).as("a decision from the current object is stored")
                    .isEqualTo(7);
        } finally {
            operator.start();
        }
    }
}
