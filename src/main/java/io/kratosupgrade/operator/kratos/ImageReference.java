package io.kratosupgrade.operator.kratos;

import io.kratosupgrade.operator.api.v1alpha1.ImageReferences;
import java.util.regex.Pattern;

/**
 * A container image reference split into repository, tag and digest
 * ({@code registry:5000/ory/kratos:v1.3.1@sha256:...}).
 */
public record ImageReference(String repository, String tag, String digest) {

    private static final Pattern VALID = Pattern.compile(ImageReferences.PATTERN);

    /** @throws IllegalArgumentException when {@code image} is not a valid reference (the CRD's own rule) */
    public static ImageReference parse(String image) {
        if (image == null || !VALID.matcher(image).matches()) {
            throw new IllegalArgumentException("not a valid image reference: " + image);
        }
        String rest = image;
        String digest = null;
        int at = rest.indexOf('@');
        if (at >= 0) {
            digest = rest.substring(at + 1);
            rest = rest.substring(0, at);
        }
        String tag = null;
        int colon = rest.lastIndexOf(':');
        // A colon before the last slash belongs to a registry port, not a tag.
        if (colon > rest.lastIndexOf('/')) {
            tag = rest.substring(colon + 1);
            rest = rest.substring(0, colon);
        }
        return new ImageReference(rest, tag, digest);
    }

    /** The same repository at another tag (a digest is dropped: it pins the old content). */
    public String withTag(String newTag) {
        return repository + ":" + newTag;
    }

    @Override
    public String toString() {
        return repository + (tag == null ? "" : ":" + tag) + (digest == null ? "" : "@" + digest);
    }
}
