package io.kratosupgrade.operator.unit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.database.DatabaseKind;
import io.kratosupgrade.operator.resources.CredentialsSecretBuilder;
import io.kratosupgrade.operator.resources.UpgradeLock;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.kratosupgrade.operator.resources.DeploymentPatches;
import io.kratosupgrade.operator.resources.Labels;
import io.kratosupgrade.operator.resources.Names;
import java.util.Map;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Deterministic names, the credentials Secret, and the Deployment patches. */
class NamesAndPatchesTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String LABEL_VALUE = "^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$";

    /** 80 characters: a legal object name, too long for a label value. */
    private static final String LONG_NAME = "kratos-upgrade-for-the-production-identity-cluster-in-europe-west-3-blue-green-x";

    @Test
    void shortNamesAreKeptReadable() {
        KratosUpgrade ku = Fixtures.upgrade();

        assertThat(Names.backupJob(ku, 3)).isEqualTo("kratos-upgrade-3-backup");
        assertThat(Names.migrationJob(ku, 3)).isEqualTo("kratos-upgrade-3-migrate");
        assertThat(Names.backupCredentialsSecret(ku, 3)).isEqualTo("kratos-upgrade-3-backup-db");
    }

    @Test
    void longNamesGiveJobNamesThatFitALabelAndAreStable() {
        assertThat(LONG_NAME).hasSize(80);
        KratosUpgrade ku = Fixtures.upgrade(LONG_NAME);

        String backup = Names.backupJob(ku, 1);
        String migrate = Names.migrationJob(ku, 1);

        assertThat(backup).hasSizeLessThanOrEqualTo(63).matches(LABEL_VALUE).startsWith("kratos-upgrade-for-the");
        assertThat(migrate).hasSizeLessThanOrEqualTo(63).matches(LABEL_VALUE);
        assertThat(backup).isNotEqualTo(migrate).isNotEqualTo(Names.backupJob(ku, 2));
        // Same input, same name: a restarted operator finds the Job it created.
        assertThat(Names.backupJob(Fixtures.upgrade(LONG_NAME), 1)).isEqualTo(backup);
        assertThat(Names.migrationJob(Fixtures.upgrade(LONG_NAME), 1)).isEqualTo(migrate);
    }

    @Test
    void namesDifferingOnlyAfterTheCutStayDistinct() {
        String a = Names.migrationJob(Fixtures.upgrade(LONG_NAME + "a"), 1);
        String b = Names.migrationJob(Fixtures.upgrade(LONG_NAME + "b"), 1);

        assertThat(a).isNotEqualTo(b);
    }

    @Test
    void backupFileNamesRunVersionAndUid() {
        String file = Names.backupFile(Fixtures.upgrade(), 4, "v1.1.0", DatabaseKind.POSTGRES);

        assertThat(file).isEqualTo("kratos-upgrade-run4-v1.1.0-0f1e2d3c.pgdump");
        assertThat(Names.backupFile(Fixtures.upgrade(), 4, "v1.1.0", DatabaseKind.MYSQL)).endsWith("-0f1e2d3c.sql");
    }
    @Test
    void backupFileNameFitsAFileSystemNameForTheLongestObjectName() {
        KratosUpgrade ku = Fixtures.upgrade("k".repeat(253));

        String file = Names.backupFile(ku, 12, "v1.10.10", DatabaseKind.POSTGRES);

        // The backup script also writes "<file>.partial" and "<file>.sha256" next to it.
        assertThat((file + ".partial").getBytes(java.nio.charset.StandardCharsets.UTF_8)).hasSizeLessThanOrEqualTo(255);
    }
    @Test
    void credentialsSecretLabelsAreValidLabelValuesForLongNames() {
        KratosUpgrade ku = Fixtures.upgrade(LONG_NAME);

        Secret secret = CredentialsSecretBuilder.build(ku, 1, Names.backupCredentialsSecret(ku, 1), Map.of("PGHOST", "db"));

        assertThat(secret.getMetadata().getLabels().values())
                .allSatisfy(v -> assertThat(v).hasSizeLessThanOrEqualTo(63).matches(LABEL_VALUE));
    }

    @Test
    void credentialsSecretCarriesTheToolEnvironmentAsStringData() {
        Secret secret = CredentialsSecretBuilder.build(Fixtures.upgrade(), 1, "kratos-upgrade-1-backup-db",
                Map.of("PGPASSWORD", "pw", "PGHOST", "db"));

        assertThat(secret.getStringData()).containsExactlyInAnyOrderEntriesOf(Map.of("PGPASSWORD", "pw", "PGHOST", "db"));
        assertThat(secret.getMetadata().getNamespace()).isEqualTo(Fixtures.NS);
        assertThat(secret.getMetadata().getLabels()).containsEntry(Labels.MANAGED_BY, Labels.OPERATOR);
    }

    @Test
    void setImageTestsTheContainerNameBeforeReplacingTheImageAtItsIndex() throws Exception {
        JsonNode ops = JSON.readTree(DeploymentPatches.setImage(2, "kratos", "oryd/kratos:v1.3.1"));

        assertThat(ops.size()).isEqualTo(2);
        assertThat(ops.get(0).get("op").asText()).isEqualTo("test");
        assertThat(ops.get(0).get("path").asText()).isEqualTo("/spec/template/spec/containers/2/name");
        assertThat(ops.get(0).get("value").asText()).isEqualTo("kratos");
        assertThat(ops.get(1).get("op").asText()).isEqualTo("replace");
        assertThat(ops.get(1).get("path").asText()).isEqualTo("/spec/template/spec/containers/2/image");
        assertThat(ops.get(1).get("value").asText()).isEqualTo("oryd/kratos:v1.3.1");
    }

    @Test
    void setReplicasReplacesSpecReplicasWithANumber() throws Exception {
        JsonNode op = JSON.readTree(DeploymentPatches.setReplicas(0)).get(0);

        assertThat(op.get("op").asText()).isEqualTo("replace");
        assertThat(op.get("path").asText()).isEqualTo("/spec/replicas");
        assertThat(op.get("value").isInt()).isTrue();
        assertThat(op.get("value").asInt()).isZero();
    }

    @Test
    void theLockOfADeploymentWithALongNameIsAValidLeaseNameAndRecognisesItsHolder() {
        String deployment = "kratos-" + "x".repeat(250);
        Lease lease = UpgradeLock.lease("ory", deployment, LONG_NAME, java.time.ZonedDateTime.parse("2026-01-01T00:00:00Z"));

        assertThat(lease.getMetadata().getName()).hasSizeLessThanOrEqualTo(253).matches("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
                .isEqualTo(UpgradeLock.leaseName(deployment)).isNotEqualTo(UpgradeLock.leaseName(deployment + "y"));
        assertThat(lease.getMetadata().getAnnotations()).containsEntry(UpgradeLock.DEPLOYMENT_ANNOTATION, deployment);
        assertThat(lease.getMetadata().getLabels()).containsEntry(Labels.MANAGED_BY, Labels.OPERATOR);
        assertThat(UpgradeLock.heldBy(lease, LONG_NAME)).isTrue();
        assertThat(UpgradeLock.heldBy(lease, LONG_NAME + "-2")).isFalse();
        assertThat(UpgradeLock.heldBy(null, LONG_NAME)).isFalse();
    }

    @Test
    void legacyLockLabelsAreRemovedWithEscapedPointers() throws Exception {
        JsonNode ops = JSON.readTree(DeploymentPatches.removeLabels(List.of(Labels.LEGACY_LOCK_LABEL, Labels.LEGACY_MANAGED_LABEL)));

        assertThat(ops).hasSize(2);
        assertThat(ops.get(0).get("op").asText()).isEqualTo("remove");
        assertThat(ops.get(0).get("path").asText()).isEqualTo("/metadata/labels/kratos-upgrade.io~1locked-by");
        assertThat(ops.get(1).get("path").asText()).isEqualTo("/metadata/labels/kratos-upgrade.io~1managed");
    }
}
