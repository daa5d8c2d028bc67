package io.kratosupgrade.operator.resources;

import io.fabric8.kubernetes.api.model.Capabilities;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.SeccompProfile;
import io.fabric8.kubernetes.api.model.SecurityContext;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Makes a Job's pod admissible under the {@code restricted} Pod Security Standard whatever the Kratos pod
 * template sets, per container so it holds whichever level the template sets things at: no privilege
 * escalation, not privileged, all capabilities dropped (NET_BIND_SERVICE kept if asked for), a RuntimeDefault
 * seccomp profile unless a Localhost one is set, and runAsNonRoot. The one thing left as found is a template
 * that explicitly runs as root (runAsUser 0 or runAsNonRoot false): its own Kratos pods are not admissible
 * under {@code restricted} either, and a migration that needs root would break if forced off it.
 */
public final class RestrictedPodSecurity {

    private static final String NET_BIND_SERVICE = "NET_BIND_SERVICE";

    private RestrictedPodSecurity() {
    }

    public static void apply(PodSpec pod) {
        PodSecurityContext podContext = pod.getSecurityContext();
        Stream.concat(nullSafe(pod.getInitContainers()).stream(), nullSafe(pod.getContainers()).stream())
                .forEach(c -> harden(c, podContext));
    }

    private static void harden(Container container, PodSecurityContext pod) {
        SecurityContext sc = container.getSecurityContext() == null ? new SecurityContext() : container.getSecurityContext();
        sc.setAllowPrivilegeEscalation(false);
        sc.setPrivileged(null);
        List<String> added = sc.getCapabilities() == null || sc.getCapabilities().getAdd() == null ? List.of()
                : sc.getCapabilities().getAdd().stream().filter(NET_BIND_SERVICE::equals).toList();
        sc.setCapabilities(new Capabilities(added.isEmpty() ? null : new ArrayList<>(added), new ArrayList<>(List.of("ALL"))));
        SeccompProfile seccomp = sc.getSeccompProfile() != null ? sc.getSeccompProfile() : pod == null ? null : pod.getSeccompProfile();
        if (seccomp == null || !("RuntimeDefault".equals(seccomp.getType()) || "Localhost".equals(seccomp.getType()))) {
            sc.setSeccompProfile(new SeccompProfile(null, "RuntimeDefault"));
        }
        Long user = sc.getRunAsUser() != null ? sc.getRunAsUser() : pod == null ? null : pod.getRunAsUser();
        Boolean nonRoot = sc.getRunAsNonRoot() != null ? sc.getRunAsNonRoot() : pod == null ? null : pod.getRunAsNonRoot();
        boolean explicitlyRoot = Long.valueOf(0L).equals(user) || Boolean.FALSE.equals(nonRoot);
        if (!explicitlyRoot) {
            sc.setRunAsNonRoot(true);
        }
        container.setSecurityContext(sc);
    }

    private static <T> List<T> nullSafe(List<T> list) {
        return list == null ? List.of() : list;
    }
}
