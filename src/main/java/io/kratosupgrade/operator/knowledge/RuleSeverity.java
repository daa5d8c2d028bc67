package io.kratosupgrade.operator.knowledge;

/** Block: the target release refuses the configuration, the run stops in preflight. Warn: behaviour changes. */
public enum RuleSeverity { Block, Warn }
