package io.kratosupgrade.operator.product;

import io.kratosupgrade.operator.knowledge.ReleaseKnowledge;
import java.util.List;

/** Ory Kratos (identities): its knowledge base is products/kratos/releases.json. */
public final class Kratos extends OryService {

    /** Who can log in, with what, and how (schema_migration and networks: which schema, which install). */
    private static final List<String> CORE_TABLES = List.of("identities", "identity_credentials",
            "identity_credential_identifiers", "identity_verifiable_addresses", "identity_recovery_addresses",
            "sessions", "session_devices", "selfservice_login_flows", "schema_migration", "networks");

    public static final Kratos INSTANCE = new Kratos(ReleaseKnowledge.load("products/kratos/releases.json"));

    Kratos(ReleaseKnowledge knowledge) {
        super("Kratos", "kratos", knowledge, CORE_TABLES);
    }
}
