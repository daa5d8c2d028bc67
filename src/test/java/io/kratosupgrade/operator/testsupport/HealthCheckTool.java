package io.kratosupgrade.operator.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * hack/healthcheck: evaluates the shipped Argo CD Lua health check with gopher-lua set up as Argo CD sets it up, and
 * the shipped Flux healthCheckExprs with Flux's own CEL library, on KratosUpgrade objects.
 * The binary comes from -Dhealthcheck.binary (hack/test.sh passes it), else hack/healthcheck.sh builds it once.
 */
public final class HealthCheckTool {

    private static final ObjectMapper JSON = new ObjectMapper();

    private HealthCheckTool() {
    }

    public static String binary() {
        return Processes.builtTool("healthcheck.binary", List.of("hack/healthcheck.sh"), Duration.ofMinutes(20));
    }

    /** One result per object file: {"file", "argo": {"status", "message"}, "flux": {"status", "error"}}. */
    public static List<JsonNode> eval(Path lua, Path fluxExprs, List<Path> objects) {
        List<String> command = new ArrayList<>(List.of(binary(), "eval", "--lua", lua.toString(), "--flux", fluxExprs.toString()));
        objects.forEach(o -> command.add(o.toString()));
        Processes.Result r = Processes.run(command, Map.of(), Duration.ofMinutes(1));
        if (r.exitCode() != 0) throw new IllegalStateException("healthcheck eval failed: " + r);
        return r.stdout().lines().filter(l -> !l.isBlank()).map(HealthCheckTool::parse).toList();
    }

    /** Argo CD's own test of a resource customization: health_test.yaml in {@code dir}. */
    public static Processes.Result argoTest(Path dir) {
        return Processes.run(List.of(binary(), "argo-test", dir.toString()), Map.of(), Duration.ofMinutes(1));
    }

    private static JsonNode parse(String line) {
        try {
            return JSON.readTree(line);
        } catch (IOException e) {
            throw new UncheckedIOException("not JSON: " + line, e);
        }
    }
}
