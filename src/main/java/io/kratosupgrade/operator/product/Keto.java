package io.kratosupgrade.operator.product;

import io.kratosupgrade.operator.knowledge.ReleaseKnowledge;
import java.util.List;

/**
 * Ory Keto (permissions): its knowledge base is products/keto/releases.json. {@code migrate up --yes} takes no
 * {@code -e}: Keto reads the DSN from its config file or the DSN variable, which the migration Job gets from the
 * server's own container.
 */
public final class Keto extends OryService {

    /** The relation tuples and the UUIDs they map names to (schema_migration and networks as for Kratos). */
    private static final List<String> CORE_TABLES = List.of("keto_relation_tuples", "keto_uuid_mappings", "schema_migration", "networks");

    public static final Keto INSTANCE = new Keto(ReleaseKnowledge.load("products/keto/releases.json"));

    Keto(ReleaseKnowledge knowledge) {
        super("Keto", "keto", knowledge, CORE_TABLES);
    }
}
