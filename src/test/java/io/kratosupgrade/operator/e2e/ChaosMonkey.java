package io.kratosupgrade.operator.e2e;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.kube.JobOutcome;
import io.kratosupgrade.operator.resources.Labels;
import io.kratosupgrade.operator.testsupport.OperatorProcess;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Kills the operator (SIGKILL) at chosen points of a run and starts a new one each time. Kill points are
 * conditions on what the cluster shows: a phase just entered (as the status write announcing it arrives
 * through a watch, in order, so no phase is skipped however short), a step's Job running, a rollout half-way.
 * Each point fires at most once. It also counts, from before the run, every Job ever created in the namespace
 * by the operator (by uid), which is what proves that no step ran twice.
 */
final class ChaosMonkey implements AutoCloseable {

    /** What a kill point looks at: the KratosUpgrade as the event carried it, and the namespace's Jobs and pods. */
    record World(KratosUpgrade upgrade, Map<String, Job> jobs, Deployment deployment, List<Pod> kratosPods) {

        Phase phase() {
            return upgrade == null || upgrade.getStatus() == null ? null : upgrade.getStatus().getPhase();
        }

        boolean jobRunning(String step) {
            return jobsRunning().stream().anyMatch(name -> name.endsWith("-" + step));
        }

        List<String> jobsRunning() {
            return jobs.values().stream().filter(j -> !JobOutcome.of(j, List.of()).finished()).map(j -> j.getMetadata().getName()).toList();
        }
    }

    /**
     * @param whileDown what the test does while no operator runs, or null: let a held step finish then (the new operator
     *                  finds it done) and hold the next one before any operator can start it
     * @param after     what the test does once the new operator runs (release a step it held still), or null
     */
    record KillPoint(String name, Predicate<World> when, Runnable whileDown, Runnable after) {
        KillPoint(String name, Predicate<World> when) {
            this(name, when, null, null);
        }

        KillPoint(String name, Predicate<World> when, Runnable after) {
            this(name, when, null, after);
        }

        static KillPoint entering(Phase phase) {
            return new KillPoint("entering " + phase, w -> w.phase() == phase);
        }
    }

    /**
     * @param phaseAtKill the phase the stored object showed when the process was killed
     * @param jobsRunning the operator's Jobs not yet finished when the kill point fired
     */
    record Kill(String point, Phase phaseAtKill, List<String> jobsRunning, long restartMillis) {
    }

    private final KubernetesClient client;
    private final String namespace;
    private final String upgradeName;
    private final OperatorProcess operator;
    private final List<KillPoint> plan;
    private final List<Kill> kills = new ArrayList<>();
    private final Set<String> jobUids = ConcurrentHashMap.newKeySet();
    private final Map<String, Integer> jobsCreatedByName = new ConcurrentHashMap<>();
    private final LinkedBlockingQueue<KratosUpgrade> updates = new LinkedBlockingQueue<>();
    private final List<SharedIndexInformer<?>> informers = new ArrayList<>();
    private final String kratosDeployment;
    private volatile boolean stopped;
    private Thread thread;

    ChaosMonkey(KubernetesClient client, String namespace, String upgradeName, String kratosDeployment, OperatorProcess operator,
                List<KillPoint> plan) {
        this.client = client;
        this.namespace = namespace;
        this.upgradeName = upgradeName;
        this.kratosDeployment = kratosDeployment;
        this.operator = operator;
        this.plan = plan;
    }

    /** Starts watching; call before the KratosUpgrade is created. */
    ChaosMonkey start() {
        informers.add(client.batch().v1().jobs().inNamespace(namespace).withLabel(Labels.MANAGED_BY, Labels.OPERATOR)
                .inform(new ResourceEventHandler<>() {
            public void onAdd(Job job) {
                if (jobUids.add(job.getMetadata().getUid())) jobsCreatedByName.merge(job.getMetadata().getName(), 1, Integer::sum);
                nudge();
            }
            public void onUpdate(Job old, Job job) { nudge(); }
            public void onDelete(Job job, boolean unknown) { }
        }));
        informers.add(client.resources(KratosUpgrade.class).inNamespace(namespace).inform(new ResourceEventHandler<>() {
            public void onAdd(KratosUpgrade ku) { offer(ku); }
            public void onUpdate(KratosUpgrade old, KratosUpgrade ku) { offer(ku); }
            public void onDelete(KratosUpgrade ku, boolean unknown) { }
        }));
        informers.add(client.apps().deployments().inNamespace(namespace).inform(new ResourceEventHandler<>() {
            public void onAdd(Deployment d) { nudge(); }
            public void onUpdate(Deployment old, Deployment d) { nudge(); }
            public void onDelete(Deployment d, boolean unknown) { }
        }));
        informers.add(client.pods().inNamespace(namespace).inform(new ResourceEventHandler<>() {
            public void onAdd(Pod p) { nudge(); }
            public void onUpdate(Pod old, Pod p) { nudge(); }
            public void onDelete(Pod p, boolean unknown) { nudge(); }
        }));
        thread = new Thread(this::run, "chaos-monkey");
        thread.setDaemon(true);
        thread.start();
        return this;
    }

    private void offer(KratosUpgrade ku) {
        if (upgradeName.equals(ku.getMetadata().getName())) updates.add(ku);
    }

    /** Something other than the KratosUpgrade changed: look again at its newest version. */
    private void nudge() {
        KratosUpgrade latest = client.resources(KratosUpgrade.class).inNamespace(namespace).withName(upgradeName).get();
        if (latest != null) updates.add(latest);
    }

    private void run() {
        List<KillPoint> pending = new ArrayList<>(plan);
        while (!stopped && !pending.isEmpty()) {
            KratosUpgrade ku;
            try {
                ku = updates.poll(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (ku == null) continue;
            World world = world(ku);
            for (KillPoint point : List.copyOf(pending)) {
                if (point.when().test(world)) {
                    pending.remove(point);
                    fire(point, world);
                    break;
                }
            }
        }
    }

    /**
     * Kills, restarts and records under the lock {@link #kills()} takes: a run can end while the last kill's operator
     * starts (the new process's first reconcile finishes it), and the test then reads the kill it caused.
     */
    private void fire(KillPoint point, World world) {
        synchronized (kills) {
            operator.kill();
            KratosUpgrade now = client.resources(KratosUpgrade.class).inNamespace(namespace).withName(upgradeName).get();
            long restart;
            try {
                if (point.whileDown() != null) point.whileDown().run();
            } finally {
                // An operator runs again even when the test's part failed: the run must not wait for ever.
                restart = operator.start().toMillis();
            }
            kills.add(new Kill(point.name(), now == null || now.getStatus() == null ? null : now.getStatus().getPhase(),
                    world.jobsRunning(), restart));
            if (point.after() != null) point.after().run();
        }
    }

    private World world(KratosUpgrade ku) {
        Map<String, Job> jobs = new LinkedHashMap<>();
        client.batch().v1().jobs().inNamespace(namespace).list().getItems().forEach(j -> jobs.put(j.getMetadata().getName(), j));
        Deployment deployment = client.apps().deployments().inNamespace(namespace).withName(kratosDeployment).get();
        List<Pod> pods = deployment == null ? List.of() : client.pods().inNamespace(namespace)
                .withLabelSelector(deployment.getSpec().getSelector()).list().getItems();
        return new World(ku, jobs, deployment, pods);
    }

    List<Kill> kills() {
        synchronized (kills) {
            return List.copyOf(kills);
        }
    }

    /** Every Job the operator created in the namespace since {@link #start()}, by name, counted by distinct uid. */
    Map<String, Integer> jobsCreated() {
        return Map.copyOf(jobsCreatedByName);
    }

    List<String> missed() {
        Set<String> fired = ConcurrentHashMap.newKeySet();
        kills().forEach(k -> fired.add(k.point()));
        return plan.stream().map(KillPoint::name).filter(n -> !fired.contains(n)).toList();
    }

    @Override
    public void close() {
        stopped = true;
        informers.forEach(SharedIndexInformer::close);
        if (thread != null) thread.interrupt();
    }
}
