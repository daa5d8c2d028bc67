package io.kratosupgrade.operator.product;

import io.kratosupgrade.operator.knowledge.ReleaseKnowledge;
import io.kratosupgrade.operator.kratos.KratosVersion;
import java.util.List;
import java.util.Optional;

/**
 * Everything that differs between the Ory products the engine upgrades (Kratos, Hydra, Keto; one implementation
 * each, picked by spec.product through {@link Products}): the release knowledge base, the migrate command line of a
 * release and the data migration some paths need after it, how a config key is overridden from the environment, the
 * container to look for, the tables that verify a backup. The phase machine, Jobs, backups and plans ask this, never a product by name. Health and version endpoints
 * are not here: every step is gated on the Deployment's own readiness probe, whatever the product.
 */
public interface Product {

    /** For messages: "Kratos", "Hydra", "Keto". */
    String displayName();

    /** The container picked when the pod has several and spec.containerName is empty. */
    String defaultContainerName();

    ReleaseKnowledge knowledge();

    /** The migrate command line (without config flags) of {@code target}. */
    List<String> migrateArgs(KratosVersion target);

    /**
     * The tables whose row counts say a copy of the database is whole: taken in the backup's own snapshot, they
     * are what a restored copy must hold.
     */
    List<String> coreTables();

    /**
     * The step an upgrade from {@code from} to {@code to} needs after the schema migration, if the release notes ask
     * for one (Keto v0.6 to v0.7). None for most paths.
     */
    default Optional<DataMigration> dataMigration(KratosVersion from, KratosVersion to) {
        return Optional.empty();
    }

    /** The environment variable that overrides a config key (Ory's configx: upper case, '.' becomes '_'). */
    default String envOverride(String configPath) {
        return configPath.toUpperCase(java.util.Locale.ROOT).replace('.', '_');
    }
}
