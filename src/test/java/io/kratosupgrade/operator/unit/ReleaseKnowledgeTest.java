package io.kratosupgrade.operator.unit;

import static org.assertj.core.api.Assertions.assertThat;

import io.kratosupgrade.operator.knowledge.ConfigRule;
import io.kratosupgrade.operator.knowledge.Release;
import io.kratosupgrade.operator.knowledge.ReleaseKnowledge;
import io.kratosupgrade.operator.knowledge.RuleSeverity;
import io.kratosupgrade.operator.product.Kratos;
import io.kratosupgrade.operator.kratos.KratosVersion;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** The Kratos knowledge base as shipped (products/kratos/releases.json). */
class ReleaseKnowledgeTest {

    private final ReleaseKnowledge kb = Kratos.INSTANCE.knowledge();

    private static KratosVersion v(String text) {
        return KratosVersion.parse(text);
    }

    @Test
    void everyReleaseFromV0100ToV2620IsKnownInOrder() {
        assertThat(kb.releases()).extracting(r -> r.version().toString()).containsExactly("v0.10.0", "v0.10.1", "v0.11.0",
                "v0.11.1", "v0.13.0", "v1.0.0", "v1.1.0", "v1.2.0", "v1.3.0", "v1.3.1", "v25.4.0", "v26.2.0");
        assertThat(kb.releases()).allSatisfy(r -> assertThat(r.migrationsFrom()).isNotBlank());
    }

    /** Rows and newest version measured in schema_migration after `migrate sql` of the real binaries (PostgreSQL 15). */
    @ParameterizedTest
    @CsvSource({
            "v0.10.1, 271, 20220512102703000000",
            "v0.11.0, 282, 20221024182336000000",
            "v0.13.0, 290, 20230322144139000001",
            "v1.0.0,  295, 20230705000000000001",
            "v1.3.1,  315, 20240425095000000001",
    })
    void postgresMigrationsAreTheRowsARealMigrationLeaves(String release, int rows, String newest) {
        Release r = kb.release(v(release)).orElseThrow();
        assertThat(r.migrations("postgres")).hasSize(rows);
        assertThat(r.newestMigration("postgres")).isEqualTo(newest);
    }

    @Test
    void newestMigrationsMatchTheReleaseNotes() {
        assertThat(kb.release(v("v1.1.0")).orElseThrow().newestMigration("postgres")).isEqualTo("20240119094628000000");
        assertThat(kb.release(v("v25.4.0")).orElseThrow().newestMigration("postgres")).isEqualTo("20250710085000000000");
        assertThat(kb.release(v("v26.2.0")).orElseThrow().newestMigration("postgres")).isEqualTo("20260114175904000000");
        // A migration written for some databases only is not pending for the others.
        Release v254 = kb.release(v("v25.4.0")).orElseThrow();
        assertThat(v254.migrations("mysql")).contains("20200519101058000000");
        assertThat(v254.migrations("postgres")).doesNotContain("20200519101058000000");
        // A migration with a .mysql file and an .autocommit file for the rest is applied by every database (popx).
        assertThat(v254.migrations("postgres")).contains("20241029153900000001", "20241031094100000002");
    }

    @Test
    void crossingSkipsTheCurrentAndIncludesTheTarget() {
        assertThat(kb.crossed(v("v0.10.1"), v("v1.0.0"))).extracting(r -> r.version().toString())
                .containsExactly("v0.11.0", "v0.11.1", "v0.13.0", "v1.0.0");
        assertThat(kb.rulesCrossing(v("v0.10.1"), v("v0.11.0"))).extracting(ConfigRule::id).contains("courier-message-ttl-removed");
        assertThat(kb.rulesCrossing(v("v0.11.0"), v("v1.3.1"))).extracting(ConfigRule::id).doesNotContain("courier-message-ttl-removed");
    }

    @Test
    void everyBreakingChangeOfTheReleaseNotesIsARuleOfAKnownRelease() {
        assertThat(kb.rules()).extracting(ConfigRule::id).contains("courier-message-ttl-removed", "courier-sms-header-removed",
                "recovery-default-code", "verification-default-code", "link-method-default-disabled",
                "unknown-recipients-not-notified", "courier-sms-not-read", "courier-http-jsonnet-snake-case",
                "webauthn-rp-origin-deprecated", "registration-two-step", "code-method-identifier", "code-mfa-identifier",
                "passwordless-fallback-removed", "courier-sms-removed", "require-verified-address-flow",
                "oidc-registration-node-group", "legacy-one-step-deprecated", "link-base-url-deprecated");
        assertThat(kb.rules()).extracting(ConfigRule::id).doesNotHaveDuplicates();
        assertThat(kb.rules()).allSatisfy(rule -> {
            assertThat(kb.release(rule.release())).as(rule.id()).isPresent();
            assertThat(rule.what()).isNotBlank();
            assertThat(rule.fix()).isNotBlank();
            assertThat(rule.when()).isNotEmpty();
        });
        assertThat(kb.rules()).filteredOn(r -> r.severity() == RuleSeverity.Block).extracting(ConfigRule::id)
                .containsExactlyInAnyOrder("courier-message-ttl-removed", "courier-sms-header-removed", "courier-sms-removed");
    }

    @Test
    void aPatchReleaseTheFileDoesNotListUsesItsLinesRelease() {
        assertThat(kb.closest(v("v1.3.7")).orElseThrow().version()).isEqualTo(v("v1.3.1"));
        assertThat(kb.closest(v("v27.0.0")).orElseThrow().version()).isEqualTo(v("v26.2.0"));
        assertThat(kb.closest(v("v0.9.0"))).isEmpty();
    }
}
