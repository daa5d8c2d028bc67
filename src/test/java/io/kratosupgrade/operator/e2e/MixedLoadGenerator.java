package io.kratosupgrade.operator.e2e;

import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A pod calling Kratos through its Service at a bounded rate with a mix of reads and writes, and recording each
 * request: whether it is a read or a write, when it started and ended (ms, the node's clock), its HTTP status, and
 * for a write the id Kratos answered. Where {@link LoadGenerator} only writes, this one tells the two apart, for
 * strategies that refuse writes for a while and must keep serving reads (BlueGreen's freeze).
 * <ul>
 * <li>write: {@code GET /self-service/login/api} on the public API (Kratos inserts a login flow);</li>
 * <li>read: {@code GET /sessions/whoami} with the session token of a login made before the load started, and
 *     {@code GET /admin/identities/<id>} of an identity created before, alternately.</li>
 * </ul>
 * Requests alternate write, read, write, read; each opens a new connection (so a Service's new endpoints apply to
 * it) and times out after 5 s (status 0). The schedule is {@code rate} requests a second, never faster: after a
 * stall it starts again from now instead of catching up. It runs on the database tools image (Perl's core
 * HTTP::Tiny and Time::HiRes; busybox's date has whole seconds only), which every cluster the operator runs on has.
 */
final class MixedLoadGenerator {

    /** One request. {@code status} 0: no answer (refused, reset, timeout). {@code id}: the written flow's id, or null. */
    record Request(boolean write, String op, long startMs, long endMs, int status, String id) {
        boolean ok() {
            return status >= 200 && status < 300;
        }

        Instant start() {
            return Instant.ofEpochMilli(startMs);
        }

        Instant end() {
            return Instant.ofEpochMilli(endMs);
        }

        @Override
        public String toString() {
            return (write ? "write " : "read ") + op + " " + start() + " .. " + end() + " -> " + status;
        }
    }

    private static final Pattern LINE = Pattern.compile("^REQ (read|write) (\\S+) (\\d+) (\\d+) (\\d+) (\\S+)$");
    private static final String SCRIPT = String.join("\n",
            "use strict; use warnings; use HTTP::Tiny; use Time::HiRes qw(time sleep);",
            "$| = 1;",
            "my ($public, $admin, $identity, $rate) = @ENV{qw(PUBLIC ADMIN IDENTITY RATE)};",
            "my $http = HTTP::Tiny->new(timeout => 5, keep_alive => 0);",
            "my @ops = ('login_flow', 'whoami', 'login_flow', 'identity');",
            "my ($start, $i) = (time, 0);",
            "until (-e '/tmp/stop') {",
            "  my $due = $start + $i / $rate; my $now = time;",
            "  if ($due > $now) { sleep($due - $now) } elsif ($now - $due > 1) { $start = $now - $i / $rate }",
            "  my $op = $ops[$i++ % 4]; my ($url, %headers);",
            "  if ($op eq 'login_flow') { $url = \"$public/self-service/login/api\" }",
            "  elsif ($op eq 'whoami') { $url = \"$public/sessions/whoami\"; $headers{'X-Session-Token'} = $ENV{TOKEN} }",
            "  else { $url = \"$admin/admin/identities/$identity\" }",
            "  my $t0 = time; my $r = $http->get($url, { headers => \\%headers }); my $t1 = time;",
            "  my $status = $r->{status} == 599 ? 0 : $r->{status};",
            "  my $id = '-';",
            "  if ($op eq 'login_flow' && $status == 200 && $r->{content} =~ /\"id\":\"([^\"]+)\"/) { $id = $1 }",
            "  printf \"REQ %s %s %d %d %d %s\\n\", ($op eq 'login_flow' ? 'write' : 'read'), $op, $t0 * 1000, $t1 * 1000, $status, $id;",
            "}",
            "print \"DONE\\n\";",
            "sleep 3600;");

    private final LoadPod pod;

    MixedLoadGenerator(KubernetesClient client, String namespace) {
        this.pod = new LoadPod(client, namespace, "mixed-load");
    }

    /**
     * Starts the pod and waits until it has answers for both kinds.
     *
     * @param serviceIp    the Kratos Service's cluster IP (public API on 4433, admin API on 4434)
     * @param sessionToken a session token for whoami (kept in a Secret, never in the pod spec or a log)
     * @param identityId   an identity the admin API reads
     * @param rate         requests per second (half reads, half writes)
     */
    void start(String serviceIp, String image, String sessionToken, String identityId, int rate) {
        pod.start(image, SCRIPT, Map.of("PUBLIC", "http://" + serviceIp + ":4433", "ADMIN", "http://" + serviceIp + ":4434",
                "IDENTITY", identityId, "RATE", Integer.toString(rate)), "TOKEN", sessionToken);
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500)).until(() -> {
            List<Request> requests = requests();
            return requests.stream().anyMatch(r -> r.write() && r.ok()) && requests.stream().anyMatch(r -> !r.write() && r.ok());
        });
    }

    /** The requests recorded so far (the pod's log). */
    List<Request> requests() {
        return pod.lines().map(LINE::matcher).filter(Matcher::matches)
                .map(m -> new Request("write".equals(m.group(1)), m.group(2), Long.parseLong(m.group(3)), Long.parseLong(m.group(4)),
                        Integer.parseInt(m.group(5)), "-".equals(m.group(6)) ? null : m.group(6)))
                .toList();
    }

    /** Stops the loop (the request in flight completes) and returns every request. */
    List<Request> stop() {
        pod.stop();
        return requests();
    }
}
