package io.kratosupgrade.operator.kratos;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A Kratos release number (vMAJOR.MINOR.PATCH[-pre]), ordered the way releases are. */
public record KratosVersion(int major, int minor, int patch, String preRelease) implements Comparable<KratosVersion> {

    /** At most 9 digits a number, as the CRD allows: every version the API server stores fits an int. */
    private static final Pattern VERSION = Pattern.compile("^v?(\\d{1,9})\\.(\\d{1,9})\\.(\\d{1,9})(?:-([0-9A-Za-z.-]+))?$");
    /**
     * Image tags carry a flavour after the version: v1.3.1-distroless, v1.3.1-amd64. A pre-release of Ory's kind
     * (alpha.N, beta.N, rc.N, pre.N: Keto's releases up to v0.11 are all alphas) is part of the version.
     */
    private static final Pattern TAG_PREFIX = Pattern.compile(
            "^(v?\\d{1,9}\\.\\d{1,9}\\.\\d{1,9}(?:-(?:alpha|beta|rc|pre)\\.\\d{1,9})?)(?:-.*)?$");
    public static KratosVersion parse(String text) {
        Matcher m = VERSION.matcher(text == null ? "" : text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("not a Kratos version: '" + text + "' (expected vMAJOR.MINOR.PATCH)");
        }
        return new KratosVersion(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
                Integer.parseInt(m.group(3)), m.group(4));
    }

    /** The release an image tag names, ignoring flavour suffixes; empty for latest, digests and the like. */
    public static Optional<KratosVersion> fromImageTag(String tag) {
        if (tag == null) {
            return Optional.empty();
        }
        Matcher m = TAG_PREFIX.matcher(tag);
        return m.matches() ? Optional.of(parse(m.group(1))) : Optional.empty();
    }

    @Override
    public int compareTo(KratosVersion o) {
        int c = Integer.compare(major, o.major);
        if (c == 0) c = Integer.compare(minor, o.minor);
        if (c == 0) c = Integer.compare(patch, o.patch);
        if (c == 0) {
            // A release sorts after its pre-releases.
            if (preRelease == null) return o.preRelease == null ? 0 : 1;
            if (o.preRelease == null) return -1;
            c = comparePreRelease(preRelease, o.preRelease);
        }
        return c;
    }

    /** SemVer 11.4: dot-separated identifiers, numeric ones compared as numbers and below alphanumeric ones. */
    static int comparePreRelease(String a, String b) {
        String[] x = a.split("\\.");
        String[] y = b.split("\\.");
        for (int i = 0; i < Math.min(x.length, y.length); i++) {
            boolean xNum = x[i].matches("\\d+");
            boolean yNum = y[i].matches("\\d+");
            int c;
            if (xNum && yNum) {
                c = new java.math.BigInteger(x[i]).compareTo(new java.math.BigInteger(y[i]));
            } else if (xNum != yNum) {
                c = xNum ? -1 : 1;
            } else {
                c = x[i].compareTo(y[i]);
            }
            if (c != 0) return c;
        }
        return Integer.compare(x.length, y.length);
    }

    @Override
    public String toString() {
        return "v" + major + "." + minor + "." + patch + (preRelease == null ? "" : "-" + preRelease);
    }
}
