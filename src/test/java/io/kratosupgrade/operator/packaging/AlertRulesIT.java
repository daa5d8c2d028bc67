package io.kratosupgrade.operator.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.kratosupgrade.operator.packaging.ChartRenderIT.Helm;
import io.kratosupgrade.operator.testsupport.Processes;
import io.kratosupgrade.operator.testsupport.PromQl;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chart's observability extras: the PrometheusRule as the chart renders it, checked and unit-tested with
 * promtool ({@code promtool check rules}, {@code promtool test rules} with
 * src/test/resources/promtool/kratos-upgrade-alerts.test.yaml), and the Grafana dashboard ConfigMap. Both are
 * off by default.
 *
 * <p>promtool: {@code -Dpromtool.binary=...} (hack/test.sh passes {@code $(hack/promtool.sh)}), else this test runs
 * {@code hack/promtool.sh}, which builds it once (cached). helm as in {@link ChartRenderIT}.
 */
public class AlertRulesIT {

    static final Path ALERT_TESTS = Path.of("src", "test", "resources", "promtool", "kratos-upgrade-alerts.test.yaml");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    static String promtool() {
        return Processes.builtTool("promtool.binary", List.of("hack/promtool.sh"), Duration.ofMinutes(30));
    }

    /** spec of the PrometheusRule the chart renders with prometheusRule.enabled=true (and extra --set flags). */
    public static JsonNode renderedRules(String... sets) {
        List<String> args = new ArrayList<>(List.of("template", ChartRenderIT.RELEASE, Helm.CHART.toString(), "-n",
                ChartRenderIT.NAMESPACE, "--show-only", "templates/prometheusrule.yaml", "--set", "prometheusRule.enabled=true"));
        for (String set : sets) {
            args.add("--set");
            args.add(set);
        }
        Processes.Result r = Helm.helm(args.toArray(String[]::new));
        assertThat(r.exitCode()).as("%s", r).isZero();
        try {
            JsonNode rule = YAML.readTree(r.stdout());
            assertThat(rule.path("kind").asText()).isEqualTo("PrometheusRule");
            return rule.path("spec");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every rule's expr. */
    public static List<String> ruleExpressions(JsonNode spec) {
        List<String> exprs = new ArrayList<>();
        spec.path("groups").forEach(g -> g.path("rules").forEach(rule -> exprs.add(rule.path("expr").asText())));
        return exprs;
    }

    @Test
    void theRenderedRulesPassPromtoolCheckAndTheirUnitTests(@TempDir Path dir) throws IOException {
        JsonNode spec = renderedRules();
        Files.writeString(dir.resolve("rules.yaml"), YAML.writeValueAsString(spec));
        Files.copy(ALERT_TESTS, dir.resolve("alerts.test.yaml"));

        Processes.Result check = Processes.run(List.of(promtool(), "check", "rules", dir.resolve("rules.yaml").toString()),
                Map.of(), Duration.ofMinutes(1));
        assertThat(check.exitCode()).as("promtool check rules\n%s", check).isZero();
        assertThat(check.stdout()).contains("SUCCESS: 5 rules found");

        Processes.Result test = Processes.run(List.of(promtool(), "test", "rules", dir.resolve("alerts.test.yaml").toString()),
                Map.of(), Duration.ofMinutes(2));
        assertThat(test.exitCode()).as("promtool test rules\n%s", test).isZero();
    }

    @Test
    void everyAlertHasASeverityADescriptionAndAUnitTest() throws IOException {
        JsonNode spec = renderedRules();
        String tests = Files.readString(ALERT_TESTS);
        Set<String> alerts = new TreeSet<>();
        spec.path("groups").forEach(g -> g.path("rules").forEach(rule -> {
            String name = rule.path("alert").asText();
            alerts.add(name);
            assertThat(rule.path("labels").path("severity").asText()).as(name).isIn("critical", "warning", "info");
            assertThat(rule.path("annotations").path("description").asText()).as(name).isNotBlank();
            assertThat(tests).as("a promtool test fires %s", name).contains("alertname: " + name + "\n");
        }));
        assertThat(alerts).containsExactlyInAnyOrder("KratosUpgradeRunFailed", "KratosUpgradePhaseStuck",
                "KratosUpgradeReconcileErrors", "KratosUpgradeAwaitingApproval", "KratosUpgradeImageReverted");
    }

    @Test
    void thresholdsComeFromValues() {
        JsonNode spec = renderedRules("prometheusRule.phaseStuck.seconds=600", "prometheusRule.phaseStuck.excludedPhases={Copying}",
                "prometheusRule.awaitingApproval.severity=warning");
        String rules = spec.toString();
        assertThat(rules).contains("{phase!~\\\"Copying\\\"} > 600").contains("\"severity\":\"warning\"");
    }

    @Test
    void rulesAndDashboardAreOffByDefault() {
        Processes.Result r = Helm.helm("template", ChartRenderIT.RELEASE, Helm.CHART.toString(), "-n", ChartRenderIT.NAMESPACE);
        assertThat(r.exitCode()).as("%s", r).isZero();
        assertThat(r.stdout()).doesNotContain("kind: PrometheusRule").doesNotContain("grafana_dashboard");
    }

    @Test
    void theDashboardShipsAsAConfigMapForGrafanasSidecar() throws IOException {
        Processes.Result r = Helm.helm("template", ChartRenderIT.RELEASE, Helm.CHART.toString(), "-n", ChartRenderIT.NAMESPACE,
                "--show-only", "templates/grafana-dashboard.yaml", "--set", "grafanaDashboard.enabled=true");
        assertThat(r.exitCode()).as("%s", r).isZero();
        JsonNode configMap = YAML.readTree(r.stdout());
        assertThat(configMap.path("kind").asText()).isEqualTo("ConfigMap");
        assertThat(configMap.path("metadata").path("labels").path("grafana_dashboard").asText()).isEqualTo("1");
        JsonNode shipped = new ObjectMapper().readTree(configMap.path("data").path("kratos-upgrade.json").asText());
        JsonNode inRepo = new ObjectMapper().readTree(Files.readString(PromQl.DASHBOARD));
        assertThat(shipped).as("the chart ships dashboards/kratos-upgrade.json as it is").isEqualTo(inRepo);
        assertThat(((ObjectNode) inRepo).path("panels").size()).isGreaterThan(5);
    }
}
