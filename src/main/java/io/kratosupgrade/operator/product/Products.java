package io.kratosupgrade.operator.product;

import io.kratosupgrade.operator.api.v1alpha1.OryProduct;

/** The products the engine upgrades, by spec.product. */
public final class Products {

    private Products() {
    }

    /** spec.product's product; null (an object written before the field existed) is Kratos. */
    public static Product of(OryProduct name) {
        if (name == null) return Kratos.INSTANCE;
        return switch (name) {
            case Kratos -> Kratos.INSTANCE;
            case Hydra -> Hydra.INSTANCE;
            case Keto -> Keto.INSTANCE;
        };
    }
}
