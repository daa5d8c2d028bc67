package io.kratosupgrade.operator.kube;

import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStateWaiting;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * What a step's Job has come to: finished (its Complete or Failed condition, or its own pod succeeded, which
 * comes first), or still running, or failing in a way that will not fix itself (a pod the API server refuses to
 * create, a pod waiting on an image that cannot be pulled, a crash loop, a missing Secret key) and should fail
 * the step now rather than at the deadline.
 */
public record JobOutcome(State state, String reason, String message, String terminationMessage) {

    public enum State { RUNNING, SUCCEEDED, FAILED }

    /** Waiting reasons that mean the container will not start without someone changing something. */
    public static final Set<String> FAST_FAILURE_REASONS = Set.of(
            "ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull",
            "CrashLoopBackOff", "CreateContainerConfigError", "CreateContainerError", "RunContainerError");

    /**
     * Messages of those reasons that the kubelet retries by itself: it could not read a Secret or ConfigMap
     * from the API server yet (restarted, overloaded). A missing Secret or key stays a fast failure.
     */
    private static final List<String> TRANSIENT_MESSAGES = List.of("failed to sync secret cache", "failed to sync configmap cache");

    public static JobOutcome of(Job job, List<Pod> pods) {
        return of(job, pods, null);
    }

    /**
     * @param podCreationFailure the message of the Job controller's latest FailedCreate event for this Job
     *                           (admission refused the pod, a quota is exhausted, the service account is
     *                           missing), or null: with no pod at all, it fails the step at once
     */
    public static JobOutcome of(Job job, List<Pod> pods, String podCreationFailure) {
        if (job.getStatus() != null && job.getStatus().getConditions() != null) {
            for (JobCondition c : job.getStatus().getConditions()) {
                if (!"True".equals(c.getStatus())) continue;
                if ("Complete".equals(c.getType())) {
                    return new JobOutcome(State.SUCCEEDED, "Complete", "Job completed", terminationMessage(pods));
                }
                if ("Failed".equals(c.getType())) {
                    String reason = c.getReason() == null ? "Failed" : c.getReason();
                    String detail = c.getMessage() == null ? "" : ": " + c.getMessage();
                    return new JobOutcome(State.FAILED, reason, "Job failed (" + reason + ")" + detail + podExitSummary(pods),
                            failedContainerMessage(pods));
                }
            }
        }
        // The step is done when its pod has succeeded. The Job controller says so only at its next sync of the Job,
        // which it batches up to a second after the pod's update (SuccessCriteriaMet, then Complete); an operator
        // Job has one pod, no retries and no success policy, so its succeeded pod decides it. The pod must be
        // this Job's (its owner's uid): a pod left by an earlier Job of the same name says nothing about this one.
        List<Pod> succeeded = pods.stream().filter(p -> succeeded(p) && ownedBy(p, job)).toList();
        if (!succeeded.isEmpty()) {
            return new JobOutcome(State.SUCCEEDED, "Complete", "its pod succeeded", terminationMessage(succeeded));
        }
        if (job.getSpec() != null && Boolean.TRUE.equals(job.getSpec().getSuspend())) {
            return new JobOutcome(State.FAILED, "Suspended", "Job was suspended", null);
        }
        if (pods.isEmpty() && podCreationFailure != null) {
            return new JobOutcome(State.FAILED, "FailedCreate", "the Job's pod cannot be created: " + podCreationFailure, null);
        }
        Optional<PodFailure> stuck = stuck(pods);
        if (stuck.isPresent()) {
            return new JobOutcome(State.FAILED, stuck.get().reason(), stuck.get().message(), null);
        }
        return new JobOutcome(State.RUNNING, "Running", pendingDetail(pods).orElse("Job is running"), null);
    }

    /** A container that will not run without someone's help, and what its waiting state says. */
    public record PodFailure(String reason, String message) {
    }

    /**
     * The first container of {@code pods} waiting in a state that does not pass by itself (an image that cannot be
     * pulled, a crash loop, a config error), if any: Jobs' steps and BlueGreen's new side fail on it at once.
     */
    public static Optional<PodFailure> stuck(List<Pod> pods) {
        for (Pod pod : pods) {
            for (ContainerStatus cs : containerStatuses(pod)) {
                ContainerStateWaiting waiting = cs.getState() == null ? null : cs.getState().getWaiting();
                if (waiting != null && FAST_FAILURE_REASONS.contains(waiting.getReason()) && !transientMessage(waiting.getMessage())) {
                    String detail = waiting.getMessage() == null ? "" : ": " + waiting.getMessage();
                    return Optional.of(new PodFailure(waiting.getReason(), "container " + cs.getName() + " of pod "
                            + pod.getMetadata().getName() + " is in " + waiting.getReason() + detail));
                }
            }
        }
        return Optional.empty();
    }

    private static boolean transientMessage(String message) {
        return message != null && TRANSIENT_MESSAGES.stream().anyMatch(message::contains);
    }

    /**
     * Scheduler messages that mean a pod waits for a volume no node can offer as things stand: no
     * PersistentVolume matches the claim, or the claim is gone. Unlike a full node, nothing in the cluster fixes
     * that by itself, so the step gives up after a short grace (a provisioner may still be creating the volume).
     */
    private static final List<String> VOLUME_MESSAGES = List.of("unbound immediate PersistentVolumeClaims",
            "didn't find available persistent volumes to bind", "persistentvolumeclaim \"");

    /** A pod of the Job is unschedulable for its volume: since when (the condition's transition), and why. */
    public record VolumeWait(Instant since, String message) {
    }

    public static Optional<VolumeWait> volumeWait(List<Pod> pods) {
        for (Pod pod : pods) {
            if (pod.getStatus() == null || pod.getStatus().getConditions() == null) continue;
            for (var c : pod.getStatus().getConditions()) {
                if ("PodScheduled".equals(c.getType()) && "False".equals(c.getStatus()) && c.getMessage() != null
                        && VOLUME_MESSAGES.stream().anyMatch(c.getMessage()::contains)) {
                    String since = c.getLastTransitionTime() != null ? c.getLastTransitionTime() : pod.getMetadata().getCreationTimestamp();
                    return Optional.of(new VolumeWait(since == null ? Instant.EPOCH : Instant.parse(since),
                            "pod " + pod.getMetadata().getName() + " cannot be scheduled: " + c.getMessage()));
                }
            }
        }
        return Optional.empty();
    }

    /** Why a Job's pod has not started yet (unschedulable, an unbound PVC, ...), for the status message. */
    static Optional<String> pendingDetail(List<Pod> pods) {
        for (Pod pod : pods) {
            if (pod.getStatus() == null || pod.getStatus().getConditions() == null) continue;
            for (var c : pod.getStatus().getConditions()) {
                if ("PodScheduled".equals(c.getType()) && "False".equals(c.getStatus())) {
                    return Optional.of("pod " + pod.getMetadata().getName() + " is not scheduled: " + c.getReason()
                            + (c.getMessage() == null ? "" : ": " + c.getMessage()));
                }
            }
        }
        return Optional.empty();
    }

    /** How the named container (init or not) of the Job's pod ended, if it has. */
    public static Optional<ContainerStateTerminated> terminated(List<Pod> pods, String container) {
        for (Pod pod : pods) {
            for (ContainerStatus cs : containerStatuses(pod)) {
                if (container.equals(cs.getName()) && cs.getState() != null && cs.getState().getTerminated() != null) {
                    return Optional.of(cs.getState().getTerminated());
                }
            }
        }
        return Optional.empty();
    }

    public boolean finished() {
        return state != State.RUNNING;
    }

    /**
     * The termination message of a successful pod (the backup Job reports size and checksum there): that of the
     * first container that exited 0 with one.
     */
    private static String terminationMessage(List<Pod> pods) {
        for (Pod pod : pods) {
            for (ContainerStatus cs : containerStatuses(pod)) {
                ContainerStateTerminated t = cs.getState() == null ? null : cs.getState().getTerminated();
                if (t != null && Integer.valueOf(0).equals(t.getExitCode()) && t.getMessage() != null) {
                    return t.getMessage();
                }
            }
        }
        return null;
    }

    /**
     * The termination message of the first container that exited non-zero: with
     * terminationMessagePolicy FallbackToLogsOnError, the end of its log. Not redacted here.
     */
    private static String failedContainerMessage(List<Pod> pods) {
        for (Pod pod : pods) {
            for (ContainerStatus cs : containerStatuses(pod)) {
                ContainerStateTerminated t = cs.getState() == null ? null : cs.getState().getTerminated();
                if (t != null && t.getExitCode() != null && t.getExitCode() != 0 && t.getMessage() != null && !t.getMessage().isBlank()) {
                    return t.getMessage();
                }
            }
        }
        return null;
    }

    private static String podExitSummary(List<Pod> pods) {
        List<String> parts = new ArrayList<>();
        for (Pod pod : pods) {
            for (ContainerStatus cs : containerStatuses(pod)) {
                ContainerStateTerminated t = cs.getState() == null ? null : cs.getState().getTerminated();
                if (t != null && t.getExitCode() != null && t.getExitCode() != 0) {
                    parts.add("container " + cs.getName() + " exited " + t.getExitCode()
                            + (t.getReason() == null ? "" : " (" + t.getReason() + ")"));
                }
            }
        }
        return parts.isEmpty() ? "" : "; " + String.join(", ", parts) + "; see the Job's pod logs";
    }

    private static boolean ownedBy(Pod pod, Job job) {
        String uid = job.getMetadata() == null ? null : job.getMetadata().getUid();
        return uid != null && pod.getMetadata() != null && pod.getMetadata().getOwnerReferences() != null
                && pod.getMetadata().getOwnerReferences().stream().anyMatch(o -> uid.equals(o.getUid()));
    }

    private static boolean succeeded(Pod pod) {
        return pod.getStatus() != null && "Succeeded".equals(pod.getStatus().getPhase());
    }

    private static List<ContainerStatus> containerStatuses(Pod pod) {
        if (pod.getStatus() == null) return List.of();
        List<ContainerStatus> all = new ArrayList<>();
        Optional.ofNullable(pod.getStatus().getInitContainerStatuses()).ifPresent(all::addAll);
        Optional.ofNullable(pod.getStatus().getContainerStatuses()).ifPresent(all::addAll);
        return all;
    }
}
