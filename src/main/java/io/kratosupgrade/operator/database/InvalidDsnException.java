package io.kratosupgrade.operator.database;

/** A DSN that cannot be parsed. The message never contains the DSN itself. */
public class InvalidDsnException extends Exception {
    public InvalidDsnException(String message) {
        super(message);
    }
}
