package io.kratosupgrade.operator.api.v1alpha1;

/**
 * Validation of image reference fields, after the grammar of distribution/reference (what the kubelet and
 * container runtimes accept): an optional registry host with port, lower-case path components separated
 * by single slashes, an optional tag, an optional digest. {@code oryd//kratos::v1.3.1} is refused by the API
 * server instead of failing later as an image that cannot be pulled.
 */
public final class ImageReferences {

    private static final String HOST_PART = "(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)";
    /** A registry is told from a path component as the runtimes do: it has a dot or a port, or is localhost. */
    private static final String REGISTRY = "(?:(?:(?:localhost|" + HOST_PART + "(?:\\." + HOST_PART + ")+)(?::[0-9]+)?|"
            + HOST_PART + ":[0-9]+)/)";
    private static final String COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
    private static final String TAG = "(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})";
    private static final String DIGEST = "(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})";

    public static final String PATTERN = "^" + REGISTRY + "?" + COMPONENT + "(?:/" + COMPONENT + ")*" + TAG + "?" + DIGEST + "?$";

    private ImageReferences() {
    }
}
