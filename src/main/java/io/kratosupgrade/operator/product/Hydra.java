package io.kratosupgrade.operator.product;

import io.kratosupgrade.operator.knowledge.ReleaseKnowledge;
import java.util.List;

/**
 * Ory Hydra (OAuth2 and OpenID Connect): its knowledge base is products/hydra/releases.json ({@code migrate sql -e
 * --yes} before v2.3, {@code migrate sql up -e --yes} from v2.3).
 */
public final class Hydra extends OryService {

    /** The clients, their keys, the tokens and consents they were given (schema_migration and networks as for Kratos). */
    private static final List<String> CORE_TABLES = List.of("hydra_client", "hydra_jwk", "hydra_oauth2_access",
            "hydra_oauth2_refresh", "hydra_oauth2_flow", "hydra_oauth2_trusted_jwt_bearer_issuer", "schema_migration", "networks");

    public static final Hydra INSTANCE = new Hydra(ReleaseKnowledge.load("products/hydra/releases.json"));

    Hydra(ReleaseKnowledge knowledge) {
        super("Hydra", "hydra", knowledge, CORE_TABLES);
    }
}
