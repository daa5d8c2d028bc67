package io.kratosupgrade.operator.unit;

import static org.assertj.core.api.Assertions.assertThat;

import io.kratosupgrade.operator.knowledge.ConfigRule;
import io.kratosupgrade.operator.product.Kratos;
import io.kratosupgrade.operator.kratos.KratosVersion;
import io.kratosupgrade.operator.observe.config.EffectiveConfig;
import io.kratosupgrade.operator.preflight.ConfigRuleCheck;
import io.kratosupgrade.operator.preflight.RuleFinding;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The rules of the shipped knowledge base against configurations. */
class ConfigRuleCheckTest {

    private static List<ConfigRule> crossing(String from, String to) {
        return Kratos.INSTANCE.knowledge().rulesCrossing(KratosVersion.parse(from), KratosVersion.parse(to));
    }

    private static ConfigRuleCheck check(String from, String to, EffectiveConfig config, String... acknowledged) {
        return ConfigRuleCheck.evaluate(crossing(from, to), config, Kratos.INSTANCE, Set.of(acknowledged));
    }

    @Test
    void theFieldReportsMessageTtlBlocksTheUpgradeToV011() {
        ConfigRuleCheck result = check("v0.10.1", "v0.11.0", Fixtures.config("courier:\n  message_ttl: 1h\n", Map.of()));

        assertThat(result.blocks()).singleElement().satisfies(f -> {
            assertThat(f.rule().id()).isEqualTo("courier-message-ttl-removed");
            assertThat(f.where()).isEqualTo("courier.message_ttl (/etc/config/kratos.yaml (ConfigMap kratos-config key kratos.yaml))");
            assertThat(f.describe()).contains("v0.11.0", "courier.message_retries");
        });
    }

    @Test
    void anEnvironmentOverrideCountsAsTheKey() {
        ConfigRuleCheck result = check("v0.10.1", "v1.3.1", Fixtures.config("{}", Map.of("COURIER_MESSAGE_TTL", "1h")));

        assertThat(result.blocks()).extracting(RuleFinding::where).containsExactly("environment variable COURIER_MESSAGE_TTL");
    }

    @Test
    void noBlockOnceTheKeyIsGoneAndNoneWhenTheReleaseIsNotCrossed() {
        assertThat(check("v0.10.1", "v0.11.0", Fixtures.config("courier:\n  message_retries: 5\n", Map.of())).blocks()).isEmpty();
        assertThat(check("v0.11.0", "v1.3.1", Fixtures.config("courier:\n  message_ttl: 1h\n", Map.of())).blocks())
                .as("already past v0.11: not this upgrade's change").isEmpty();
    }

    @Test
    void recoveryAndVerificationWithoutAnExplicitMethodWarnOfTheCodeDefault() {
        EffectiveConfig config = Fixtures.config("selfservice:\n  flows:\n    recovery: {enabled: true}\n"
                + "    verification: {enabled: true, use: link}\n", Map.of());

        ConfigRuleCheck result = check("v0.10.1", "v0.11.0", config);

        assertThat(result.warnings()).extracting(f -> f.rule().id()).contains("recovery-default-code")
                .doesNotContain("verification-default-code");
    }

    @Test
    void anAcknowledgedWarningMovesAsideABlockCannot() {
        EffectiveConfig config = Fixtures.config("courier:\n  message_ttl: 1h\nselfservice:\n  flows:\n    recovery: {enabled: true}\n",
                Map.of());

        ConfigRuleCheck result = check("v0.10.1", "v0.11.0", config, "recovery-default-code", "courier-message-ttl-removed");

        assertThat(result.acknowledged()).extracting(f -> f.rule().id()).contains("recovery-default-code");
        assertThat(result.warnings()).extracting(f -> f.rule().id()).doesNotContain("recovery-default-code");
        assertThat(result.blocks()).extracting(f -> f.rule().id()).containsExactly("courier-message-ttl-removed");
    }

    @Test
    void listsAreSearchedAndEnvironmentBooleansCompareAsText() {
        EffectiveConfig hooks = Fixtures.config("selfservice:\n  flows:\n    login:\n      after:\n        hooks:\n"
                + "          - hook: revoke_active_sessions\n          - hook: require_verified_address\n", Map.of());
        assertThat(check("v1.3.1", "v25.4.0", hooks).warnings()).extracting(f -> f.rule().id()).contains("require-verified-address-flow");

        EffectiveConfig oidc = Fixtures.config("{}", Map.of("SELFSERVICE_METHODS_OIDC_ENABLED", "true"));
        assertThat(check("v1.3.1", "v25.4.0", oidc).warnings()).extracting(f -> f.rule().id()).contains("oidc-registration-node-group");
    }

    @Test
    void theCodeMethodWarnsOnlyWhenNoIdentitySchemaCarriesTheIdentifier() throws Exception {
        var yaml = new com.fasterxml.jackson.databind.ObjectMapper();
        String cfg = "selfservice:\n  methods:\n    code:\n      passwordless_enabled: true\n";
        EffectiveConfig without = new EffectiveConfig(Fixtures.config(cfg, Map.of()).file(), Map.of(),
                List.of(yaml.readTree("{\"properties\":{\"traits\":{\"properties\":{\"email\":{\"type\":\"string\"}}}}}")),
                List.of(), new java.util.ArrayList<>());
        EffectiveConfig with = new EffectiveConfig(without.file(), Map.of(), List.of(yaml.readTree(
                "{\"properties\":{\"traits\":{\"properties\":{\"email\":{\"ory.sh/kratos\":{\"credentials\":{\"code\":"
                        + "{\"identifier\":true,\"via\":\"email\"}}}}}}}}")), List.of(), new java.util.ArrayList<>());

        assertThat(check("v1.2.0", "v1.3.1", without).warnings()).extracting(f -> f.rule().id()).contains("code-method-identifier");
        assertThat(check("v1.2.0", "v1.3.1", with).warnings()).extracting(f -> f.rule().id()).doesNotContain("code-method-identifier");
        assertThat(check("v1.2.0", "v1.3.1", Fixtures.config(cfg, Map.of())).warnings())
                .filteredOn(f -> f.rule().id().equals("code-method-identifier"))
                .singleElement().satisfies(f -> assertThat(f.note()).contains("no identity schema could be read"));
    }
}
