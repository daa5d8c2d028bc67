package io.kratosupgrade.operator.fleet;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.kratosupgrade.operator.api.v1alpha1.FleetCanary;
import java.util.ArrayList;
import java.util.List;

/** Which instances the next wave takes. Pure: the fleet's state in, the wave's members out. */
public final class WavePlanner {

    /**
     * @param instances the keys (namespace/deployment) of the wave's members, in the order given
     * @param canary    whether this wave is the canary
     * @param unmatched canary names that select no instance waiting to start
     */
    public record Wave(List<String> instances, boolean canary, List<String> unmatched) {
    }

    private WavePlanner() {
    }

    /**
     * @param waiting       keys of the instances not started in this run, in the fleet's stable order
     * @param firstWave     whether no wave of this run has started yet (only the first one can be a canary)
     * @param canary        spec.rollout.canary, or null
     * @param maxConcurrent spec.rollout.maxConcurrent
     * @param total         how many instances the fleet selects (percentages are of this)
     * @param namespace     the fleet's namespace (canary names without one are in it)
     */
    public static Wave next(List<String> waiting, boolean firstWave, FleetCanary canary, IntOrString maxConcurrent,
                            int total, String namespace) {
        if (firstWave && canary != null) {
            List<String> unmatched = new ArrayList<>();
            List<String> members = new ArrayList<>();
            if (canary.getCount() != null && canary.getCount() > 0) {
                members.addAll(waiting.subList(0, Math.min(canary.getCount(), waiting.size())));
            } else {
                for (String name : canary.getInstances()) {
                    String key = name.contains("/") ? name : FleetInstance.key(namespace, name);
                    if (waiting.contains(key)) {
                        if (!members.contains(key)) members.add(key);
                    } else {
                        unmatched.add(name);
                    }
                }
            }
            if (!members.isEmpty()) return new Wave(members, true, unmatched);
            // No canary left to start (their names select nothing): an ordinary first wave.
            Wave ordinary = next(waiting, false, null, maxConcurrent, total, namespace);
            return new Wave(ordinary.instances(), false, unmatched);
        }
        int size = Math.min(waveSize(maxConcurrent, total), waiting.size());
        return new Wave(List.copyOf(waiting.subList(0, size)), false, List.of());
    }

    /** A count, or a percentage of {@code total} rounded up; at least 1. */
    public static int waveSize(IntOrString maxConcurrent, int total) {
        if (maxConcurrent == null) return 1;
        if (maxConcurrent.getIntVal() != null) return Math.max(1, maxConcurrent.getIntVal());
        String text = maxConcurrent.getStrVal().trim();
        if (text.endsWith("%")) {
            int percent = Integer.parseInt(text.substring(0, text.length() - 1));
            return Math.max(1, (int) Math.ceil(total * percent / 100.0));
        }
        return Math.max(1, Integer.parseInt(text));
    }
}
