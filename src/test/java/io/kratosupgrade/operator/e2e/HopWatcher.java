package io.kratosupgrade.operator.e2e;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kratosupgrade.operator.api.v1alpha1.HopStatus;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeStatus;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.kube.PodImages;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Watches a stepped run from outside while it goes, and records for every hop what the cluster really showed:
 * the newest schema_migration version while that hop rolled out (its migration done, the next one not begun),
 * and what the ready pods answered on /admin/version while that hop served (its verification, and the next
 * hop's migration, during which the pods still run it).
 *
 * <p>The two are sampled by two threads: asking the pods goes through port-forwards, which can stall for seconds
 * and would otherwise hide a short rollout window from the schema sampler.
 */
final class HopWatcher implements AutoCloseable {

    private static final Pattern VERSION = Pattern.compile("\"version\":\"([^\"]+)\"");

    private final KubernetesClient client;
    private final KratosInstallation kratos;
    private final String namespace;
    private final String name;
    private final List<Thread> threads;
    private volatile boolean running = true;
    /** Hop version -> newest schema_migration version seen while that hop rolled out. */
    final Map<String, Set<String>> schemaByHop = new ConcurrentHashMap<>();
    /** Hop version -> versions the ready pods answered while that hop served. */
    final Map<String, Set<String>> answeredByHop = new ConcurrentHashMap<>();
    volatile Exception error;

    HopWatcher(KubernetesClient client, KratosInstallation kratos, String namespace, String name) {
        this.client = client;
        this.kratos = kratos;
        this.namespace = namespace;
        this.name = name;
        this.threads = List.of(sampler("schema", this::sampleSchema), sampler("answers", this::sampleAnswers));
    }

    HopWatcher start() {
        threads.forEach(Thread::start);
        return this;
    }

    private interface Sample {
        void take(KratosUpgradeStatus status) throws Exception;
    }

    private Thread sampler(String what, Sample sample) {
        Thread thread = new Thread(() -> {
            while (running) {
                try {
                    KratosUpgradeStatus status = currentStatus();
                    if (status != null) sample.take(status);
                    Thread.sleep(200); // polling period of an observer, not synchronisation of the test
                } catch (InterruptedException e) {
                    return;
                } catch (Exception e) {
                    error = e;
                }
            }
        }, "hop-watcher-" + what + "-" + name);
        thread.setDaemon(true);
        return thread;
    }

    /** Takes one sample of each now, from the caller's thread (the run's end state, which polling may have missed). */
    void observeOnce() throws Exception {
        KratosUpgradeStatus status = currentStatus();
        if (status == null) return;
        sampleSchema(status);
        sampleAnswers(status);
    }

    /** The status of a run that has hops and a phase, or null. */
    private KratosUpgradeStatus currentStatus() {
        KratosUpgrade ku = client.resources(KratosUpgrade.class).inNamespace(namespace).withName(name).get();
        KratosUpgradeStatus status = ku == null ? null : ku.getStatus();
        if (status == null || status.getHops() == null || status.getHops().isEmpty() || status.getPhase() == null) return null;
        return status;
    }

    private void sampleSchema(KratosUpgradeStatus status) throws Exception {
        List<HopStatus> hops = status.getHops();
        int current = currentHop(hops);
        Phase phase = status.getPhase();
        // After the last hop, Succeeded belongs to its window too: no migration follows, and a quick last rollout
        // can otherwise fall between two samples.
        if (phase == Phase.RollingOut || phase == Phase.Verifying || phase == Phase.Succeeded) {
            String newest = kratos.postgres.newestMigration(kratos.database);
            // Read the status again: the sample counts only if the run is still in the same hop and phase group.
            if (unchanged(current, phase)) schemaByHop.computeIfAbsent(hops.get(current).getVersion(), k -> new TreeSet<>()).add(newest);
        }
    }

    private void sampleAnswers(KratosUpgradeStatus status) throws Exception {
        List<HopStatus> hops = status.getHops();
        int current = currentHop(hops);
        Phase phase = status.getPhase();
        int serving = phase == Phase.Migrating ? current - 1 : phase == Phase.Verifying ? current : -1;
        if (serving >= 0) {
            Set<String> answered = new TreeSet<>();
            for (Pod pod : kratos.servingPods()) {
                String body;
                try {
                    body = kratos.get(pod, 4434, "/admin/version").body();
                } catch (IOException e) {
                    // A pod listed as serving may be taken out by the rollout before the probe reaches it; only a
                    // pod that still serves after the failure is a real error.
                    if (stillServing(pod)) throw e;
                    continue;
                }
                Matcher m = VERSION.matcher(body);
                answered.add(m.find() ? m.group(1) : "unreadable");
            }
            if (!answered.isEmpty() && unchanged(current, phase)) {
                answeredByHop.computeIfAbsent(hops.get(serving).getVersion(), k -> new TreeSet<>()).addAll(answered);
            }
        }
    }

    private boolean stillServing(Pod pod) {
        Pod now = client.pods().inNamespace(namespace).withName(pod.getMetadata().getName()).get();
        return now != null && PodImages.isReady(now);
    }

    /** Whether the run is still in the hop and phase it was in before the sample was taken. */
    private boolean unchanged(int hop, Phase phase) {
        KratosUpgradeStatus status = client.resources(KratosUpgrade.class).inNamespace(namespace).withName(name).get().getStatus();
        return currentHop(status.getHops()) == hop && status.getPhase() == phase;
    }

    private static int currentHop(List<HopStatus> hops) {
        int current = 0;
        while (current < hops.size() - 1 && hops.get(current).getVerifiedAt() != null) current++;
        return current;
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        for (Thread thread : threads) {
            thread.interrupt();
            thread.join(5000);
        }
    }
}
