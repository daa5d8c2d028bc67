package io.kratosupgrade.operator.testsupport;

import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A real Flux pipeline beside a cluster: Flux's source-controller and kustomize-controller (built from the Go module
 * proxy by hack/flux.sh) running as host processes against the cluster's kubeconfig, their CRDs installed, and a Git
 * smart-HTTP server on this machine that the source-controller clones from and the tests push to, the way a team
 * commits. The directory comes from -Dflux.dir (hack/test.sh passes it), else hack/flux.sh builds it.
 */
public final class FluxPipeline implements AutoCloseable {

    public static final String NAMESPACE = "flux-system";

    private final KubernetesClient client;
    private final Path work;
    private final List<Process> processes = new ArrayList<>();
    private String gitAddress;

    private FluxPipeline(KubernetesClient client, Path work) {
        this.client = client;
        this.work = work;
    }

    public static FluxPipeline start(KubernetesClient client, String kubeconfig) throws IOException {
        Path dir = Path.of(fluxDir());
        FluxPipeline flux = new FluxPipeline(client, Files.createTempDirectory("flux-e2e"));
        try {
            flux.installCrds(dir.resolve("crds"));
            flux.startProcesses(dir, kubeconfig);
        } catch (RuntimeException | IOException e) {
            flux.close();
            throw e;
        }
        return flux;
    }

    private static String fluxDir() {
        return Processes.builtTool("flux.dir", List.of("hack/flux.sh", "build"), Duration.ofMinutes(40));
    }

    private void installCrds(Path crds) throws IOException {
        try (Stream<Path> files = Files.list(crds)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
                for (HasMetadata crd : client.load(Files.newInputStream(file)).items()) {
                    client.resource(crd).forceConflicts().serverSideApply();
                    await().atMost(Duration.ofMinutes(1)).until(() -> established(crd.getMetadata().getName()));
                }
            }
        }
        if (client.namespaces().withName(NAMESPACE).get() == null) {
            client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NAMESPACE).endMetadata().build()).create();
        }
    }

    private boolean established(String name) {
        CustomResourceDefinition crd = client.apiextensions().v1().customResourceDefinitions().withName(name).get();
        return crd != null && crd.getStatus() != null && crd.getStatus().getConditions().stream()
                .anyMatch(c -> "Established".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    private void startProcesses(Path dir, String kubeconfig) throws IOException {
        Path logs = Path.of("target", "flux-logs");
        Files.createDirectories(logs);
        Path addrFile = work.resolve("git-addr");
        start(logs, "flux-git-server", Map.of(), dir.resolve("flux-git-server").toString(), "-root", work.resolve("repos").toString(),
                "-listen", "127.0.0.1:0", "-auto-create", "-addr-file", addrFile.toString());
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(addrFile) && Files.size(addrFile) > 0);
        gitAddress = Files.readString(addrFile).strip();

        Map<String, String> env = Map.of("KUBECONFIG", kubeconfig, "RUNTIME_NAMESPACE", NAMESPACE);
        Files.createDirectories(work.resolve("storage")); // source-controller refuses a storage path that does not exist
        int storage = freePort();
        int sourceHealth = freePort();
        int kustomizeHealth = freePort();
        start(logs, "source-controller", env, dir.resolve("source-controller").toString(), "--watch-all-namespaces=true",
                "--enable-leader-election=false", "--metrics-addr=127.0.0.1:" + freePort(), "--health-addr=127.0.0.1:" + sourceHealth,
                "--storage-path=" + work.resolve("storage"), "--storage-addr=127.0.0.1:" + storage,
                "--storage-adv-addr=127.0.0.1:" + storage, "--log-level=info");
        // --requeue-dependency: how soon a Kustomization waiting on another looks again (default 30s).
        start(logs, "kustomize-controller", env, dir.resolve("kustomize-controller").toString(), "--watch-all-namespaces=true",
                "--enable-leader-election=false", "--metrics-addr=127.0.0.1:" + freePort(), "--health-addr=127.0.0.1:" + kustomizeHealth,
                "--no-remote-bases=true", "--requeue-dependency=2s", "--log-level=info");
        for (int port : List.of(sourceHealth, kustomizeHealth)) {
            await().atMost(Duration.ofMinutes(1)).ignoreExceptions().until(() -> ok("http://127.0.0.1:" + port + "/readyz"));
        }
    }

    private void start(Path logs, String name, Map<String, String> env, String... command) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logs.resolve(name + ".log").toFile()));
        pb.environment().putAll(env);
        processes.add(pb.start());
    }

    private static boolean ok(String url) throws IOException {
        HttpURLConnection c = (HttpURLConnection) URI.create(url).toURL().openConnection();
        c.setConnectTimeout(1000);
        try {
            return c.getResponseCode() == 200;
        } finally {
            c.disconnect();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** A new repository on the Git server, with a work tree to commit from. */
    public GitRepo repository(String name) throws IOException {
        Path tree = Files.createDirectories(work.resolve("trees").resolve(name));
        git(tree, "init", "-q", "-b", "main");
        return new GitRepo(tree, "http://" + gitAddress + "/" + name + ".git");
    }

    /** Applies Flux objects (GitRepository, Kustomization) written as YAML. */
    public void apply(String yaml) {
        client.load(new java.io.ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))).items()
                .forEach(o -> client.resource(o).forceConflicts().serverSideApply());
    }

    public void delete(String yaml) {
        client.load(new java.io.ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))).items()
                .forEach(o -> client.resource(o).delete());
    }

    /** A work tree whose commits are pushed to the pipeline's Git server. */
    public static final class GitRepo {
        private final Path tree;
        private final String url;

        GitRepo(Path tree, String url) {
            this.tree = tree;
            this.url = url;
        }

        public String url() {
            return url;
        }

        /** Writes the files (path relative to the repository -> content), commits them and pushes; returns the commit. */
        public String commit(String message, Map<String, String> files) throws IOException {
            for (var file : files.entrySet()) {
                Path path = tree.resolve(file.getKey());
                Files.createDirectories(path.getParent());
                Files.writeString(path, file.getValue());
            }
            git(tree, "add", "-A");
            git(tree, "-c", "user.name=e2e", "-c", "user.email=e2e@example.invalid", "-c", "commit.gpgsign=false",
                    "commit", "-q", "-m", message);
            git(tree, "push", "-q", url, "main");
            return git(tree, "rev-parse", "HEAD").strip();
        }
    }

    private static String git(Path tree, String... args) {
        List<String> command = new ArrayList<>(List.of("git", "-C", tree.toString()));
        command.addAll(List.of(args));
        Processes.Result r = Processes.run(command, Map.of(), Duration.ofMinutes(1));
        if (r.exitCode() != 0) throw new IllegalStateException(String.join(" ", command) + " failed: " + r);
        return r.stdout();
    }

    @Override
    public void close() {
        processes.forEach(Process::destroy);
        for (Process p : processes) {
            try {
                if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) p.destroyForcibly();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try (Stream<Path> paths = Files.walk(work)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
