package io.kratosupgrade.operator.unit;

import static org.assertj.core.api.Assertions.assertThat;

import io.kratosupgrade.operator.api.v1alpha1.OryProduct;
import io.kratosupgrade.operator.kratos.KratosVersion;
import io.kratosupgrade.operator.kratos.MigrateCommand;
import io.kratosupgrade.operator.product.Product;
import io.kratosupgrade.operator.product.Products;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What differs between Kratos, Hydra and Keto, as the engine asks it: commands, containers, tables, releases. */
class ProductsTest {

    @Test
    void eachProductHasItsOwnMigrateCommandPerRelease() {
        Product hydra = Products.of(OryProduct.Hydra);
        // Checked against the real binaries (docs/hydra-facts.md): `up` came with v2.3.0.
        assertThat(hydra.migrateArgs(KratosVersion.parse("v2.1.2"))).containsExactly("migrate", "sql", "-e", "--yes");
        assertThat(hydra.migrateArgs(KratosVersion.parse("v2.3.0"))).containsExactly("migrate", "sql", "up", "-e", "--yes");
        assertThat(hydra.migrateArgs(KratosVersion.parse("v2.3.1"))).as("a newer patch keeps its line's command")
                .containsExactly("migrate", "sql", "up", "-e", "--yes");
        // Keto has no -e: the DSN comes from the environment or the config file the server's own flags name.
        Product keto = Products.of(OryProduct.Keto);
        assertThat(MigrateCommand.args(keto.migrateArgs(KratosVersion.parse("v0.11.0-alpha.0")), List.of("serve", "-c", "/etc/keto/keto.yaml")))
                .containsExactly("migrate", "up", "--yes", "--config", "/etc/keto/keto.yaml");
        assertThat(Products.of(OryProduct.Kratos).migrateArgs(KratosVersion.parse("v1.3.1"))).containsExactly("migrate", "sql", "-e", "--yes");
    }

    @Test
    void anObjectWithoutProductIsKratosAndEachProductNamesItsContainerAndTables() {
        assertThat(Products.of(null)).isSameAs(Products.of(OryProduct.Kratos));
        assertThat(Products.of(OryProduct.Hydra).defaultContainerName()).isEqualTo("hydra");
        assertThat(Products.of(OryProduct.Keto).defaultContainerName()).isEqualTo("keto");
        assertThat(Products.of(OryProduct.Hydra).coreTables()).contains("hydra_client", "schema_migration", "networks")
                .doesNotContain("identities");
        assertThat(Products.of(OryProduct.Keto).coreTables()).contains("keto_relation_tuples", "schema_migration");
    }

    @Test
    void theKnowledgeBasesKnowTheReleasesThatWereRunForReal() {
        // The rows the real binaries left on PostgreSQL 15 (hack/images.sh verify-hydra and verify-keto).
        var hydra = Products.of(OryProduct.Hydra).knowledge();
        assertThat(hydra.release(KratosVersion.parse("v2.1.2")).orElseThrow().migrations("postgres")).hasSize(200)
                .last().isEqualTo("20230512112801000001");
        assertThat(hydra.release(KratosVersion.parse("v2.3.0")).orElseThrow().migrations("postgres")).hasSize(212)
                .last().isEqualTo("20241129111700000000");
        var keto = Products.of(OryProduct.Keto).knowledge();
        assertThat(keto.release(KratosVersion.parse("v0.11.0-alpha.0")).orElseThrow().migrations("postgres")).hasSize(16)
                .last().isEqualTo("20220513200600000001");
    }
}
