package io.kratosupgrade.operator.unit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kratosupgrade.operator.kratos.ImageReference;
import io.kratosupgrade.operator.kratos.KratosVersion;
import io.kratosupgrade.operator.product.Kratos;
import io.kratosupgrade.operator.kratos.MigrateCommand;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Kratos release numbers, image references and the migrate command line. */
class KratosReleaseTest {

    @Nested
    class Versions {

        @Test
        void parsesWithAndWithoutV() {
            assertThat(KratosVersion.parse("v1.3.1")).isEqualTo(new KratosVersion(1, 3, 1, null));
            assertThat(KratosVersion.parse("25.4.0")).isEqualTo(new KratosVersion(25, 4, 0, null));
            assertThat(KratosVersion.parse("v1.0.0-pre.2")).isEqualTo(new KratosVersion(1, 0, 0, "pre.2"));
            assertThat(KratosVersion.parse("1.3.1")).hasToString("v1.3.1");
        }

        @ParameterizedTest
        @NullSource
        @ValueSource(strings = {"", "latest", "v1.3", "v1.3.1.4", "v1.3.x", "1.3.1-", "vv1.3.1"})
        void rejectsNonVersions(String text) {
            assertThatThrownBy(() -> KratosVersion.parse(text)).isInstanceOf(IllegalArgumentException.class);
        }

        @Test
        void ordersNumericallyWithPreReleasesBeforeTheirRelease() {
            List<KratosVersion> shuffled = new ArrayList<>(List.of(
                    KratosVersion.parse("v25.4.0"), KratosVersion.parse("v1.10.0"), KratosVersion.parse("v1.0.0"),
                    KratosVersion.parse("v1.9.3"), KratosVersion.parse("v1.0.0-rc.1"), KratosVersion.parse("v1.0.0-alpha.1"),
                    KratosVersion.parse("v0.13.0"), KratosVersion.parse("v1.0.0-beta.1")));
            Collections.shuffle(shuffled, new java.util.Random(42));
            Collections.sort(shuffled);

            assertThat(shuffled).extracting(KratosVersion::toString).containsExactly(
                    "v0.13.0", "v1.0.0-alpha.1", "v1.0.0-beta.1", "v1.0.0-rc.1", "v1.0.0", "v1.9.3", "v1.10.0", "v25.4.0");
            assertThat(KratosVersion.parse("v1.3.1")).isEqualByComparingTo(KratosVersion.parse("1.3.1"));
        }
        @Test
        void numericPreReleaseIdentifiersCompareNumerically() {
            assertThat(KratosVersion.parse("v1.0.0-pre.9")).isLessThan(KratosVersion.parse("v1.0.0-pre.10"));
        }

        @Test
        void versionFromImageTagIgnoresFlavourSuffixes() {
            assertThat(KratosVersion.fromImageTag("v1.3.1")).contains(KratosVersion.parse("v1.3.1"));
            assertThat(KratosVersion.fromImageTag("v1.3.1-distroless")).contains(KratosVersion.parse("v1.3.1"));
            assertThat(KratosVersion.fromImageTag("v25.4.0-amd64")).contains(KratosVersion.parse("v25.4.0"));
            // Pre-releases are versions of their own (Keto v0.6 to v0.11 are alphas); a flavour after one is still dropped.
            assertThat(KratosVersion.fromImageTag("v0.6.0-alpha.3")).contains(KratosVersion.parse("v0.6.0-alpha.3"));
            assertThat(KratosVersion.fromImageTag("v0.11.0-alpha.0-distroless")).contains(KratosVersion.parse("v0.11.0-alpha.0"));
        }

        @ParameterizedTest
        @NullSource
        @ValueSource(strings = {"latest", "master", "sha-1a2b3c", "v1", "distroless", "v99999999999999999999.0.0"})
        void tagsThatNameNoReleaseGiveNoVersion(String tag) {
            assertThat(KratosVersion.fromImageTag(tag)).isEmpty();
        }

        @Test
        void migrateSqlUpStartsWithTheCalendarVersionedLine() {
        }
    }

    @Nested
    class Images {

        @Test
        void registryPortIsNotATag() {
            ImageReference ref = ImageReference.parse("localhost:5000/ory/kratos:v1.1.0");

            assertThat(ref.repository()).isEqualTo("localhost:5000/ory/kratos");
            assertThat(ref.tag()).isEqualTo("v1.1.0");
            assertThat(ref.digest()).isNull();
            assertThat(ref).hasToString("localhost:5000/ory/kratos:v1.1.0");
        }

        @Test
        void registryPortWithoutTag() {
            ImageReference ref = ImageReference.parse("localhost:5000/ory/kratos");

            assertThat(ref.repository()).isEqualTo("localhost:5000/ory/kratos");
            assertThat(ref.tag()).isNull();
        }

        @Test
        void digestIsSeparatedFromTag() {
            String digest = "sha256:" + "a".repeat(64);
            ImageReference tagged = ImageReference.parse("oryd/kratos:v1.1.0@" + digest);
            ImageReference untagged = ImageReference.parse("oryd/kratos@" + digest);

            assertThat(tagged.repository()).isEqualTo("oryd/kratos");
            assertThat(tagged.tag()).isEqualTo("v1.1.0");
            assertThat(tagged.digest()).isEqualTo(digest);
            assertThat(untagged.repository()).isEqualTo("oryd/kratos");
            assertThat(untagged.tag()).isNull();
            assertThat(untagged.digest()).isEqualTo(digest);
        }

        @Test
        void noTagAndNoRegistry() {
            ImageReference ref = ImageReference.parse("kratos");

            assertThat(ref.repository()).isEqualTo("kratos");
            assertThat(ref.tag()).isNull();
        }

        @Test
        void withTagKeepsRepositoryAndDropsDigest() {
            assertThat(ImageReference.parse("localhost:5000/ory/kratos:v1.1.0").withTag("v1.3.1"))
                    .isEqualTo("localhost:5000/ory/kratos:v1.3.1");
            assertThat(ImageReference.parse("oryd/kratos:v1.1.0@sha256:" + "b".repeat(64)).withTag("v1.3.1"))
                    .isEqualTo("oryd/kratos:v1.3.1");
        }

        @ParameterizedTest
        @NullSource
        @ValueSource(strings = {"", "  ", "oryd//kratos::v1.3.1", "oryd/kratos:", "ORYD/kratos:v1", "/kratos", "kratos/",
                "oryd/kratos:v1.3.1 ", "oryd/kratos@sha256:abc", "kratös"})
        void malformedReferencesAreRejected(String image) {
            assertThatThrownBy(() -> ImageReference.parse(image)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Nested
    class Migrate {

        private static final List<String> SERVER_ARGS = List.of("serve", "all", "--config", "/etc/config/kratos.yaml", "--dev");

        @Test
        void beforeV25ThereIsNoUpSubcommand() {
            assertThat(MigrateCommand.args(Kratos.INSTANCE.migrateArgs(KratosVersion.parse("v1.3.1")), SERVER_ARGS))
                    .containsExactly("migrate", "sql", "-e", "--yes", "--config", "/etc/config/kratos.yaml");
        }

        @ParameterizedTest
        @ValueSource(strings = {"v25.4.0", "v26.2.0", "v26.2.3", "v27.0.0"})
        void fromV25OnItIsMigrateSqlUpAndAnUnknownNewerReleaseKeepsTheNewestCommand(String version) {
            assertThat(MigrateCommand.args(Kratos.INSTANCE.migrateArgs(KratosVersion.parse(version)), SERVER_ARGS))
                    .containsExactly("migrate", "sql", "up", "-e", "--yes", "--config", "/etc/config/kratos.yaml");
        }

        @Test
        void everyConfigFlagFormIsCarriedOverAndNothingElse() {
            List<String> server = List.of("serve", "-c", "/a.yaml", "--dev", "--watch-courier", "--config=/b.yaml",
                    "--sqa-opt-out", "--config", "/c.yaml");

            assertThat(MigrateCommand.args(Kratos.INSTANCE.migrateArgs(KratosVersion.parse("v1.3.1")), server)).containsExactly(
                    "migrate", "sql", "-e", "--yes", "--config", "/a.yaml", "--config", "/b.yaml", "--config", "/c.yaml");
        }

        @Test
        void noServerArgsGiveThePlainCommand() {
            assertThat(MigrateCommand.args(Kratos.INSTANCE.migrateArgs(KratosVersion.parse("v1.3.1")), null)).containsExactly("migrate", "sql", "-e", "--yes");
            assertThat(MigrateCommand.args(Kratos.INSTANCE.migrateArgs(KratosVersion.parse("v1.3.1")), List.of("serve", "--config")))
                    .containsExactly("migrate", "sql", "-e", "--yes");
        }
    }
}
