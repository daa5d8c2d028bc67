package io.kratosupgrade.operator.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs a command line with a deadline and keeps what it printed (helm, kubectl, the project's hack scripts). */
public final class Processes {

    public record Result(int exitCode, String stdout, String stderr) {
        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + stdout + "\n--- stderr\n" + stderr;
        }

        /** The last line printed on stdout (hack scripts print the path they built there). */
        public String lastLine() {
            String[] lines = stdout.strip().split("\n");
            return lines[lines.length - 1].strip();
        }
    }

    private static final java.util.concurrent.ConcurrentMap<String, String> BUILT = new java.util.concurrent.ConcurrentHashMap<>();

    private Processes() {
    }

    /**
     * A tool the project builds: the path in system property {@code property} (hack/test.sh passes it), else the
     * last line {@code build} prints (the hack/ script builds it once and caches it). Looked up once per JVM.
     */
    public static String builtTool(String property, List<String> build, Duration timeout) {
        return BUILT.computeIfAbsent(property, p -> {
            String path = System.getProperty(p, "");
            if (path.isBlank()) {
                Result r = run(build, Map.of(), timeout);
                if (r.exitCode() != 0) throw new IllegalStateException(String.join(" ", build) + " failed: " + r);
                path = r.lastLine();
            }
            if (!java.nio.file.Files.exists(java.nio.file.Path.of(path))) {
                throw new IllegalStateException(path + " (from " + p + " or " + String.join(" ", build) + ") does not exist");
            }
            return path;
        });
    }

    public static Result run(List<String> command, Map<String, String> env, Duration timeout) {
        try {
            ProcessBuilder pb = new ProcessBuilder(command);
            pb.environment().putAll(env);
            Process p = pb.start();
            p.getOutputStream().close();
            CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(p.getInputStream()));
            CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("timed out after " + timeout + ": " + command + "\n" + err.getNow(""));
            }
            return new Result(p.exitValue(), out.join(), err.join());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String read(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
