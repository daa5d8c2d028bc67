package io.kratosupgrade.operator.apiserver;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubeapitest.KubeAPIServer;
import io.fabric8.kubeapitest.KubeAPIServerConfigBuilder;
import java.io.File;
import io.kratosupgrade.operator.testsupport.Crds;

/**
 * One real kube-apiserver + etcd for the whole test JVM (fabric8 kube-api-test), built from source by
 * hack/k8s-binaries.sh and found under kubeapitest.dir. No controllers run: tests play their part.
 * The CRDs applied are the committed ones under crds/, the files users install.
 */
final class TestApiServer {

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
        Crds.apply(client);
    }
}
