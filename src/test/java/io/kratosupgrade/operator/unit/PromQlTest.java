package io.kratosupgrade.operator.unit;

import static org.assertj.core.api.Assertions.assertThat;

import io.kratosupgrade.operator.testsupport.PromQl;
import org.junit.jupiter.api.Test;

/** The metric-name extraction the dashboard and alert tests rely on. */
class PromQlTest {

    @Test
    void namesLeaveOutFunctionsLabelsKeywordsAndVariables() {
        assertThat(PromQl.metricNames("histogram_quantile(0.95, sum by (le, phase) (increase("
                + "kratos_upgrade_phase_duration_seconds_bucket{job=~\"$job\",outcome=\"completed\"}[$__range])))"))
                .containsExactly("kratos_upgrade_phase_duration_seconds_bucket");
        assertThat(PromQl.metricNames("time() - kratos_upgrade_phase_started_timestamp_seconds{phase!~\"A|B\"} > 3600"))
                .containsExactly("kratos_upgrade_phase_started_timestamp_seconds");
        assertThat(PromQl.metricNames("sum(rate(a_total[5m])) by (reason) / on (job) group_left b offset 1h > bool 1e3"))
                .containsExactly("a_total", "b");
    }

    @Test
    void expositionNamesAreTheSampleNames() {
        assertThat(PromQl.exposedNames("""
                # TYPE x_seconds histogram
                x_seconds_bucket{le="1.0"} 0.0
                x_seconds_count 1.0
                up 1
                """)).containsExactly("up", "x_seconds_bucket", "x_seconds_count");
    }
}
