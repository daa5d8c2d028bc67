package io.kratosupgrade.operator.kratos;

import java.util.ArrayList;
import java.util.List;

/**
 * The migrate command line of a Kratos release: {@code migrate sql -e --yes} before v25 (there is no
 * {@code up} subcommand), {@code migrate sql up -e --yes} from v25 on (plain {@code migrate sql} is deprecated).
 * Config flags of the server's own command line are carried over so the migration reads the same config.
 */
public final class MigrateCommand {

    private MigrateCommand() {
    }

    public static List<String> args(KratosVersion target, List<String> serverArgs) {
        List<String> args = new ArrayList<>(target.usesMigrateSqlUp()
                ? List.of("migrate", "sql", "up", "-e", "--yes")
                : List.of("migrate", "sql", "-e", "--yes"));
        args.addAll(configFlags(serverArgs));
        return args;
    }

    /** The {@code -c/--config} flags (both "--config x" and "--config=x" forms) of a command line. */
    static List<String> configFlags(List<String> serverArgs) {
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
