package io.kratosupgrade.operator.kratos;

import io.kratosupgrade.operator.knowledge.Release;
import io.kratosupgrade.operator.knowledge.ReleaseKnowledge;
import io.kratosupgrade.operator.product.Product;
import java.util.List;

/** Ory Kratos: its knowledge base is products/kratos/releases.json. */
public final class Kratos implements Product {

    public static final Kratos INSTANCE = new Kratos(ReleaseKnowledge.load("products/kratos/releases.json"));

    private final ReleaseKnowledge knowledge;

    Kratos(ReleaseKnowledge knowledge) {
        this.knowledge = knowledge;
    }

    @Override
    public String displayName() {
        return "Kratos";
    }

    @Override
    public List<String> coreTables() {
        return CORE_TABLES;
    }

    /** Who can log in, with what, and how (schema_migration and networks: which schema, which install). */
    private static final List<String> CORE_TABLES = List.of("identities", "identity_credentials",
            "identity_credential_identifiers", "identity_verifiable_addresses", "identity_recovery_addresses",
            "sessions", "session_devices", "selfservice_login_flows", "schema_migration", "networks");

    @Override
    public String defaultContainerName() {
        return "kratos";
    }

    @Override
    public ReleaseKnowledge knowledge() {
        return knowledge;
    }

    /**
     * The command of the release itself, or of the closest older release the knowledge base lists (a newer
     * patch release keeps its line's command); older than every known release: the oldest's.
     */
    @Override
    public List<String> migrateArgs(KratosVersion target) {
        return knowledge.closest(target).map(Release::migrateArgs).orElse(knowledge.releases().get(0).migrateArgs());
    }
}
