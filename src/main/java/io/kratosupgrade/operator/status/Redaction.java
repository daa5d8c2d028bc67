package io.kratosupgrade.operator.status;

import java.util.regex.Pattern;

/**
 * Makes text from a pod's log fit for status, events and the operator's log: credentials in connection strings
 * and key=value settings are replaced, and only the end is kept. Logs are the one thing the operator copies
 * into status that it did not write itself.
 */
public final class Redaction {

    /** scheme://user:password@host: the password goes. */
    private static final Pattern URL_PASSWORD = Pattern.compile("([A-Za-z][A-Za-z0-9+.-]*://[^\\s:/@]*):[^\\s@]*@");
    /**
     * password=..., SECRETS_COOKIE="...", token: ... and the like (DSN key=value form, env dumps, YAML): any key
     * that contains one of the words.
     */
    private static final Pattern KEY_VALUE = Pattern.compile(
            "(?i)([\\w.-]*(?:password|passwd|pwd|secret|token|api[_-]?key)[\\w.-]*[\"']?\\s*[=:]\\s*)(\"[^\"]*\"|'[^']*'|[^\\s,;&]+)");

    private Redaction() {
    }

    public static String redact(String text) {
        if (text == null) return null;
        String out = URL_PASSWORD.matcher(text).replaceAll("$1:REDACTED@");
        return KEY_VALUE.matcher(out).replaceAll("$1REDACTED");
    }

    /** The last {@code maxChars} characters of the redacted text, starting at a line boundary when there is one. */
    public static String tail(String text, int maxChars) {
        String redacted = redact(text);
        if (redacted == null) return null;
        redacted = redacted.strip();
        if (redacted.length() <= maxChars) return redacted;
        String end = redacted.substring(redacted.length() - maxChars);
        int newline = end.indexOf('\n');
        return "..." + (newline >= 0 && newline < end.length() - 1 ? end.substring(newline + 1) : end);
    }
}
