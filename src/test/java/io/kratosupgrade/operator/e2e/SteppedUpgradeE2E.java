package io.kratosupgrade.operator.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.kratosupgrade.operator.api.v1alpha1.HopStatus;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.ReleaseImage;
import io.kratosupgrade.operator.api.v1alpha1.UpgradePath;
import io.kratosupgrade.operator.product.Kratos;
import io.kratosupgrade.operator.kratos.KratosVersion;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A stepped upgrade across the real release chain built here, v0.10.1 -> v0.11.0 -> v0.13.0 -> v1.0.0 -> v1.3.1,
 * under steady load: every hop migrates to exactly its release's newest migration and serves that release.
 */
class SteppedUpgradeE2E extends E2eTestBase {

    static final List<String> CHAIN = List.of("v0.11.0", "v0.13.0", "v1.0.0", "v1.3.1");

    @Test
    void aSteppedUpgradeMigratesAndServesEveryReleaseInTurnWithoutAFailedRequest() throws Exception {
        kratos.install("v0.10.1");
        List<String> emails = kratos.seedIdentities(3);
        LoadGenerator load = startLoad(false);

        Instant start = Instant.now();
        KratosUpgrade ku;
        try (HopWatcher watcher = new HopWatcher(client, kratos, namespace, "stepped").start()) {
            // The images this machine has; v0.11.1 and v1.1.0..v1.3.0 are not built here, so the map names the hops.
            upgrade("stepped", "v1.3.1", spec -> {
                spec.setPath(UpgradePath.Stepped);
                spec.setReleaseImages(CHAIN.subList(0, 3).stream().map(v -> new ReleaseImage(v, "oryd/kratos:" + v)).toList());
            });
            ku = awaitOutcome("stepped", Phase.Succeeded);
            watcher.observeOnce();
            LoadGenerator.Result result = load.stop();
            System.out.printf("stepped upgrade v0.10.1 -> %s in %ds: %d requests ok, %d failed; schema per hop %s; answered per hop %s%n",
                    String.join(" -> ", CHAIN), Duration.between(start, Instant.now()).toSeconds(), result.ok(), result.failed(),
                    watcher.schemaByHop, watcher.answeredByHop);

            assertThat(watcher.error).as("the watcher's own errors").isNull();
            assertThat(result.ok()).as("requests answered while upgrading").isGreaterThan(50);
            assertThat(result.failed()).as("failed requests:\n" + result.failures()).isZero();
            assertThat(ku.getStatus().getHops()).extracting(HopStatus::getVersion).containsExactlyElementsOf(CHAIN);
            for (String hop : CHAIN) {
                String newest = Kratos.INSTANCE.knowledge().release(KratosVersion.parse(hop)).orElseThrow().newestMigration("postgres");
                assertThat(watcher.schemaByHop.get(hop)).as("schema_migration while hop " + hop + " rolled out").isEqualTo(Set.of(newest));
            }
            for (String hop : CHAIN.subList(0, 3)) {
                assertThat(watcher.answeredByHop.get(hop)).as("/admin/version while hop " + hop + " served").isEqualTo(Set.of(hop));
            }
        }
        assertEveryPodAnswers("v1.3.1");
        assertIdentitiesIntact(emails);
        assertThat(ku.getStatus().getBackup().getFile()).as("one backup, before the first hop").contains("-v0.10.1-");
        assertThat(ku.getStatus().getDatabaseVersion()).isEqualTo("v1.3.1");
    }
}
