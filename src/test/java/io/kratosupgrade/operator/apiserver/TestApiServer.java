package io.kratosupgrade.operator.apiserver;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubeapitest.KubeAPIServer;
import io.fabric8.kubeapitest.KubeAPIServerConfigBuilder;
import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * One real kube-apiserver + etcd for the whole test JVM (fabric8 kube-api-test), built from source by
 * hack/k8s-binaries.sh and found under kubeapitest.dir. No controllers run: tests play their part.
 * The CRD applied is the committed one under crds/, the file users install.
 */
final class TestApiServer {

    static final Path CRD = Path.of("crds", "kratosupgrades.kratos-upgrade.io-v1.yml");
    private static KubeAPIServer server;
    private static KubernetesClient client;

    private TestApiServer() {
    }

    static synchronized KubernetesClient client() {
        if (client == null) {
            start();
        }
        return client;
    }

    private static void start() {
        String dir = System.getProperty("kubeapitest.dir",
                System.getProperty("user.home") + "/.cache/kratos-upgrade-operator/kubeapitest");
        File k8s = new File(dir, "k8s");
        File[] versions = k8s.listFiles(File::isDirectory);
        if (versions == null || versions.length == 0) {
            throw new IllegalStateException("no kube-apiserver/etcd/kubectl under " + k8s
                    + ": run hack/k8s-binaries.sh (the README's test command does)");
        }
        server = new KubeAPIServer(KubeAPIServerConfigBuilder.anAPIServerConfig()
                .withTestDir(dir)
                .withOfflineMode(true)
                .withUpdateKubeConfig(false)
                .withStartupTimeout(120_000)
                .build());
        server.start();
        client = new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(server.getKubeConfigYaml())).build();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            client.close();
            server.stop();
        }));
        applyCrd(client);
    }

    private static void applyCrd(KubernetesClient client) {
        try (FileInputStream in = new FileInputStream(CRD.toFile())) {
            CustomResourceDefinition crd = client.apiextensions().v1().customResourceDefinitions().load(in).item();
            client.resource(crd).serverSideApply();
            client.apiextensions().v1().customResourceDefinitions().withName(crd.getMetadata().getName())
                    .waitUntilCondition(c -> c.getStatus() != null && c.getStatus().getConditions() != null
                            && c.getStatus().getConditions().stream()
                                    .anyMatch(cond -> "Established".equals(cond.getType()) && "True".equals(cond.getStatus())),
                            60, TimeUnit.SECONDS);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + CRD + " (run from the project root)", e);
        }
    }
}
