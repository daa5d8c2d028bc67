package io.kratosupgrade.operator.testsupport;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * The operator as users run it, the packaged application ({@code target/quarkus-app}) in a process of its
 * own, so a test can kill it the hard way (SIGKILL: no shutdown hook, no last status write) and start a new
 * one. It runs under the {@code chaos} profile, which differs from {@code prod} only in that leader election
 * is off: a killed leader's Lease would otherwise hold the next process back for the Lease's duration
 * (leader failover is tested with the Helm chart's two replicas instead).
 */
public final class OperatorProcess implements AutoCloseable {

    private static final String READY = "'kratosupgrade' controller started";
    private static final Path JAR = Path.of("target", "quarkus-app", "quarkus-run.jar");

    private final String kubeconfig;
    private final Map<String, String> properties;
    private final List<String> log = new CopyOnWriteArrayList<>();
    private Process process;
    private int starts;

    /** @param properties extra -D system properties (operator settings) */
    public OperatorProcess(String kubeconfig, Map<String, String> properties) {
        if (!Files.isRegularFile(JAR)) {
            throw new IllegalStateException(JAR + " is missing: the e2e tier runs after `mvn package`");
        }
        this.kubeconfig = kubeconfig;
        this.properties = properties;
    }

    /** Starts a new operator process and returns once it processes events. */
    public synchronized Duration start() {
        Instant begin = Instant.now();
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dkubeconfig=" + kubeconfig, "-Dquarkus.profile=chaos", "-Dquarkus.http.port=0"));
        properties.forEach((k, v) -> command.add("-D" + k + "=" + v));
        command.addAll(List.of("-jar", JAR.toString()));
        int generation = ++starts;
        CompletableFuture<Void> ready = new CompletableFuture<>();
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the operator", e);
        }
        Process started = process;
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(started.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    log.add("[operator#" + generation + "] " + line);
                    if (line.contains(READY)) ready.complete(null);
                }
            } catch (IOException ignored) {
                // the process was killed
            }
            ready.completeExceptionally(new IllegalStateException("operator process #" + generation + " ended before it was ready"));
        }, "operator-process-" + generation);
        reader.setDaemon(true);
        reader.start();
        try {
            ready.get(2, TimeUnit.MINUTES);
        } catch (Exception e) {
            kill();
            throw new IllegalStateException("operator process #" + generation + " did not become ready: " + e.getMessage(), e);
        }
        return Duration.between(begin, Instant.now());
    }

    /** SIGKILL, as the kernel's OOM killer or a node failure would end it; waits until it is gone. */
    public synchronized void kill() {
        if (process == null) return;
        process.destroyForcibly();
        try {
            process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        log.add("[test] operator process killed (SIGKILL)");
        process = null;
    }

    public List<String> log() {
        return List.copyOf(log);
    }

    @Override
    public void close() {
        kill();
    }
}
