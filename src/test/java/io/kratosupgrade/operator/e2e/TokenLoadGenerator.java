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
 * A pod that registers an OAuth2 client with Hydra's admin API (client_credentials, client_secret_basic) and then
 * asks Hydra's public API for tokens with it at a bounded rate, through the Service, recording each request: when
 * it started and ended (ms, the node's clock) and its HTTP status. What a machine-to-machine caller of Hydra does all
 * day; a client registered before the upgrade that stops getting tokens is the failure this watches for. Runs on the
 * database tools image (Perl's core HTTP::Tiny, Time::HiRes and MIME::Base64), as {@link MixedLoadGenerator} does.
 */
final class TokenLoadGenerator {

    /** One token request. {@code status} 0: no answer (refused, reset, timeout). */
    record Request(long startMs, long endMs, int status) {
        boolean ok() {
            return status == 200;
        }

        Instant start() {
            return Instant.ofEpochMilli(startMs);
        }

        @Override
        public String toString() {
            return "token " + start() + " .. " + Instant.ofEpochMilli(endMs) + " -> " + status;
        }
    }

    private static final Pattern LINE = Pattern.compile("^REQ (\\d+) (\\d+) (\\d+)$");
    private static final String SCRIPT = String.join("\n",
            "use strict; use warnings; use HTTP::Tiny; use Time::HiRes qw(time sleep); use MIME::Base64;",
            "$| = 1;",
            "my ($public, $admin, $name, $secret, $rate) = @ENV{qw(PUBLIC ADMIN CLIENT_NAME CLIENT_SECRET RATE)};",
            "my $http = HTTP::Tiny->new(timeout => 5, keep_alive => 0);",
            // Hydra v2 chooses the client's id; the secret is ours.
            "my $client = qq({\"client_name\":\"$name\",\"client_secret\":\"$secret\",\"grant_types\":[\"client_credentials\"],"
                    + "\"token_endpoint_auth_method\":\"client_secret_basic\"});",
            "my $id;",
            "for (1 .. 60) {",
            "  my $r = $http->post(\"$admin/admin/clients\", { headers => { 'Content-Type' => 'application/json' }, content => $client });",
            "  if ($r->{status} == 201 && $r->{content} =~ /\"client_id\":\"([^\"]+)\"/) { $id = $1; print \"CLIENT $id\\n\"; last }",
            "  print \"CLIENT-ERROR $r->{status} $r->{content}\\n\"; sleep 1;",
            "}",
            "die \"no client\\n\" unless $id;",
            "my $auth = 'Basic ' . encode_base64(\"$id:$secret\", '');",
            "my ($start, $i) = (time, 0);",
            "until (-e '/tmp/stop') {",
            "  my $due = $start + $i++ / $rate; my $now = time;",
            "  if ($due > $now) { sleep($due - $now) } elsif ($now - $due > 1) { $start = $now - $i / $rate }",
            "  my $t0 = time;",
            "  my $r = $http->post_form(\"$public/oauth2/token\", { grant_type => 'client_credentials' }, { headers => { Authorization => $auth } });",
            "  my $t1 = time;",
            "  printf \"REQ %d %d %d\\n\", $t0 * 1000, $t1 * 1000, ($r->{status} == 599 ? 0 : $r->{status});",
            "}",
            "print \"DONE\\n\";",
            "sleep 3600;");

    private final LoadPod pod;

    TokenLoadGenerator(KubernetesClient client, String namespace) {
        this.pod = new LoadPod(client, namespace, "token-load");
    }

    /**
     * Starts the pod and waits until the client is registered (Hydra chooses its id) and a token was issued.
     *
     * @param serviceIp    Hydra's Service (public API on 4444, admin API on 4445)
     * @param clientSecret kept in a Secret, never in the pod spec or a log
     */
    void start(String serviceIp, String image, String clientName, String clientSecret, int rate) {
        pod.start(image, SCRIPT, Map.of("PUBLIC", "http://" + serviceIp + ":4444", "ADMIN", "http://" + serviceIp + ":4445",
                "CLIENT_NAME", clientName, "RATE", Integer.toString(rate)), "CLIENT_SECRET", clientSecret);
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500)).until(() -> requests().stream().anyMatch(Request::ok));
    }

    /** The token requests recorded so far (the pod's log). */
    List<Request> requests() {
        return pod.lines().map(LINE::matcher).filter(Matcher::matches)
                .map(m -> new Request(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Integer.parseInt(m.group(3)))).toList();
    }

    /** Stops the loop (the request in flight completes) and returns every request. */
    List<Request> stop() {
        pod.stop();
        return requests();
    }
}
