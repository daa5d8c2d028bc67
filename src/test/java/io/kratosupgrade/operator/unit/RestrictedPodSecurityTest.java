package io.kratosupgrade.operator.unit;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.kratosupgrade.operator.resources.RestrictedPodSecurity;
import org.junit.jupiter.api.Test;

/** Every container of a Job's pod meets the restricted Pod Security Standard, whatever the template said. */
class RestrictedPodSecurityTest {

    @Test
    void aBareContainerGetsEverythingRestrictedAsks() {
        PodSpec pod = pod(new ContainerBuilder().withName("c").build());

        RestrictedPodSecurity.apply(pod);

        SecurityContext sc = pod.getContainers().get(0).getSecurityContext();
        assertThat(sc.getAllowPrivilegeEscalation()).isFalse();
        assertThat(sc.getRunAsNonRoot()).isTrue();
        assertThat(sc.getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(sc.getCapabilities().getAdd()).isNull();
        assertThat(sc.getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
    }

    @Test
    void aPodLevelSeccompProfileIsRepeatedOnEveryContainerAndAContainerLevelOneKept() {
        PodSpec pod = new PodSpecBuilder()
                .withNewSecurityContext().withNewSeccompProfile().withType("Localhost").withLocalhostProfile("p.json")
                    .endSeccompProfile().endSecurityContext()
                .withContainers(new ContainerBuilder().withName("a").build(),
                        new ContainerBuilder().withName("b").withNewSecurityContext().withNewSeccompProfile()
                                .withType("RuntimeDefault").endSeccompProfile().endSecurityContext().build())
                .build();

        RestrictedPodSecurity.apply(pod);

        // "a" inherits the pod's Localhost profile (allowed), "b" keeps its own.
        assertThat(pod.getContainers().get(0).getSecurityContext().getSeccompProfile()).isNull();
        assertThat(pod.getContainers().get(1).getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
    }

    @Test
    void unconfinedSeccompPrivilegeAndExtraCapabilitiesAreTakenAway() {
        PodSpec pod = pod(new ContainerBuilder().withName("c").withNewSecurityContext()
                .withPrivileged(true).withAllowPrivilegeEscalation(true)
                .withNewSeccompProfile().withType("Unconfined").endSeccompProfile()
                .withNewCapabilities().withAdd("SYS_ADMIN", "NET_BIND_SERVICE").endCapabilities()
                .endSecurityContext().build());

        RestrictedPodSecurity.apply(pod);

        SecurityContext sc = pod.getContainers().get(0).getSecurityContext();
        assertThat(sc.getPrivileged()).isNull();
        assertThat(sc.getAllowPrivilegeEscalation()).isFalse();
        assertThat(sc.getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
        assertThat(sc.getCapabilities().getAdd()).containsExactly("NET_BIND_SERVICE");
    }

    @Test
    void nativeSidecarsAreHardenedToo() {
        PodSpec pod = new PodSpecBuilder().withInitContainers(new ContainerBuilder().withName("proxy").withRestartPolicy("Always").build())
                .withContainers(new ContainerBuilder().withName("c").build()).build();

        RestrictedPodSecurity.apply(pod);

        assertThat(pod.getInitContainers().get(0).getSecurityContext().getRunAsNonRoot()).isTrue();
    }

    @Test
    void aTemplateThatExplicitlyRunsAsRootIsNotForcedOffRoot() {
        PodSpec pod = new PodSpecBuilder().withNewSecurityContext().withRunAsUser(0L).endSecurityContext()
                .withContainers(new ContainerBuilder().withName("c").build()).build();

        RestrictedPodSecurity.apply(pod);

        assertThat(pod.getContainers().get(0).getSecurityContext().getRunAsNonRoot()).isNull();
    }

    private static PodSpec pod(Container container) {
        return new PodSpecBuilder().withContainers(container).build();
    }
}
