package io.kratosupgrade.operator.api.v1alpha1;

/** The Ory product a KratosUpgrade upgrades: the engine is the same, the release knowledge and commands differ. */
public enum OryProduct {
    /** Ory Kratos (identities, logins): migrate sql -e --yes, migrate sql up -e --yes from v25. */
    Kratos,
    /** Ory Hydra (OAuth2, OpenID Connect): migrate sql -e --yes, migrate sql up -e --yes from v2.3. */
    Hydra,
    /** Ory Keto (permissions): migrate up --yes, the DSN from the environment or the config file. */
    Keto
}
