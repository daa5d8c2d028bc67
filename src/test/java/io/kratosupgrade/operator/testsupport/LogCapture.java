package io.kratosupgrade.operator.testsupport;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Keeps the log records of some logger hierarchies (JUL, which JBoss LogManager and the SLF4J bridge feed)
 * from a level up: each line holds the message, its parameters and any exception with its stack, so a
 * check for a secret sees everything that could reach a log file whatever the formatting.
 */
public final class LogCapture implements AutoCloseable {

    private final List<String> lines = new CopyOnWriteArrayList<>();
    private final List<Logger> loggers = new ArrayList<>();
    private final Map<Logger, Level> previousLevels = new java.util.HashMap<>();
    private final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord r) {
            StringBuilder line = new StringBuilder(Instant.ofEpochMilli(r.getMillis()) + " " + r.getLevel() + " "
                    + r.getLoggerName() + ": " + format(r));
            if (r.getThrown() != null) {
                StringWriter stack = new StringWriter();
                r.getThrown().printStackTrace(new PrintWriter(stack));
                line.append('\n').append(stack);
            }
            lines.add(line.toString());
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    /**
     * @param level       the lowest level kept
     * @param lowerLevels whether to lower the loggers' own levels to {@code level} (to see DEBUG at all); the
     *                    records then stop at this capture instead of also flooding the console
     */
    public LogCapture(Level level, boolean lowerLevels, String... loggerNames) {
        handler.setLevel(level);
        for (String name : loggerNames) {
            Logger logger = Logger.getLogger(name);
            loggers.add(logger);
            if (lowerLevels) {
                previousLevels.put(logger, logger.getLevel());
                logger.setLevel(level);
                logger.setUseParentHandlers(false);
            }
            logger.addHandler(handler);
        }
    }

    public List<String> lines() {
        return List.copyOf(lines);
    }

    @Override
    public void close() {
        for (Logger logger : loggers) {
            logger.removeHandler(handler);
            if (previousLevels.containsKey(logger)) {
                logger.setLevel(previousLevels.get(logger));
                logger.setUseParentHandlers(true);
            }
        }
    }

    private static String format(LogRecord r) {
        String message = String.valueOf(r.getMessage());
        if (r.getParameters() == null || r.getParameters().length == 0) {
            return message;
        }
        StringBuilder out = new StringBuilder(message).append(" |");
        for (Object p : r.getParameters()) {
            out.append(' ').append(p);
        }
        return out.toString();
    }
}
