package io.kratosupgrade.operator.kratos;

import java.util.ArrayList;
import java.util.List;

/**
 * The migrate command line of a release, as the knowledge base has it ({@code migrate sql -e --yes} before
 * Kratos v25, {@code migrate sql up -e --yes} from v25 on), followed by the config flags of the server's own
 * command line, so the migration reads the same config.
 */
public final class MigrateCommand {

    private MigrateCommand() {
    }

    /** @param releaseArgs the release's migrate command line ({@link io.kratosupgrade.operator.product.Product#migrateArgs}) */
    public static List<String> args(List<String> releaseArgs, List<String> serverArgs) {
        List<String> args = new ArrayList<>(releaseArgs);
        args.addAll(configFlags(serverArgs));
        return args;
    }

    /** The {@code -c/--config} flags (both "--config x" and "--config=x" forms) of a command line. */
    public static List<String> configFlags(List<String> serverArgs) {
        List<String> flags = new ArrayList<>();
        if (serverArgs == null) {
            return flags;
        }
        for (int i = 0; i < serverArgs.size(); i++) {
            String arg = serverArgs.get(i);
            if ((arg.equals("-c") || arg.equals("--config")) && i + 1 < serverArgs.size()) {
                flags.add("--config");
                flags.add(serverArgs.get(++i));
            } else if (arg.startsWith("--config=") || arg.startsWith("-c=")) {
                flags.add("--config");
                flags.add(arg.substring(arg.indexOf('=') + 1));
            }
        }
        return flags;
    }
}
