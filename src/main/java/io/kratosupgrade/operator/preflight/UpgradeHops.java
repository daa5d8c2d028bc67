package io.kratosupgrade.operator.preflight;

import io.kratosupgrade.operator.api.v1alpha1.HopStatus;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeSpec;
import io.kratosupgrade.operator.api.v1alpha1.ReleaseImage;
import io.kratosupgrade.operator.api.v1alpha1.UpgradePath;
import io.kratosupgrade.operator.knowledge.Release;
import io.kratosupgrade.operator.knowledge.ReleaseKnowledge;
import io.kratosupgrade.operator.kratos.ImageReference;
import io.kratosupgrade.operator.kratos.KratosVersion;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The releases a run moves the Deployment to, and the image of each. Direct: the target alone. Stepped: every
 * known release between the running one and the target, or, when spec.releaseImages lists releases, exactly the
 * listed ones (the user's mirror may hold only some), then the target. No I/O.
 */
public final class UpgradeHops {

    private UpgradeHops() {
    }

    /** The image of the target: spec.image, else its entry in spec.releaseImages, else the running repository. */
    public static String targetImage(KratosUpgradeSpec spec, ImageReference running, KratosVersion target) {
        if (spec.getImage() != null) return spec.getImage();
        return listedImage(spec, target).orElseGet(() -> running.withTag(target.toString()));
    }

    public static List<HopStatus> plan(KratosUpgradeSpec spec, ReleaseKnowledge knowledge, ImageReference running,
                                       KratosVersion from, KratosVersion target) {
        List<HopStatus> hops = new ArrayList<>();
        if (spec.getPath() == UpgradePath.Stepped) {
            boolean listed = !spec.getReleaseImages().isEmpty();
            for (Release release : knowledge.crossed(from, target)) {
                KratosVersion version = release.version();
                if (version.equals(target) || (listed && listedImage(spec, version).isEmpty())) continue;
                hops.add(new HopStatus(version.toString(),
                        listedImage(spec, version).orElseGet(() -> running.withTag(version.toString()))));
            }
        }
        hops.add(new HopStatus(target.toString(), targetImage(spec, running, target)));
        return hops;
    }

    private static Optional<String> listedImage(KratosUpgradeSpec spec, KratosVersion version) {
        return spec.getReleaseImages().stream()
                .filter(r -> KratosVersion.parse(r.getVersion()).equals(version))
                .map(ReleaseImage::getImage)
                .findFirst();
    }
}
