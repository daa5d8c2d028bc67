// Command loadgen calls Ory Kratos's public API at a fixed request rate and
// records every request, for the side-by-side upgrade benchmark: it runs as a
// pod next to Kratos while an upgrade happens, and its output shows what
// clients saw during the upgrade.
//
//	loadgen -public http://kratos-public:4433 [-rate 20] [-duration 0] [-stop-file FILE] ...
//
// The schedule is open-loop: request i is sent at start + i/rate however long
// earlier requests took, so an outage shows up as failed requests rather than
// as fewer requests. Every request opens a fresh TCP connection.
//
// One CSV line per request goes to stdout (header t_ms,op,status,latency_ms,error),
// and a line "RESULT requests=N ok=N failed=N" to stderr at the end.
// See README.md for the operations and the columns.
//
// Only the standard library is used.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

type config struct {
	public            string // base URL of the public API, without a trailing slash
	rate              float64
	duration          time.Duration // 0: until a signal or the stop file
	stopFile          string
	timeout           time.Duration
	identityFormat    string
	identities        int
	password          string
	registrationEvery int // 0: no registrations
	maxInflight       int
}

func main() {
	cfg, err := parseConfig(os.Args[1:], os.Getenv)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	sum, err := run(ctx, cfg, os.Stdout)
	fmt.Fprintf(os.Stderr, "RESULT requests=%d ok=%d failed=%d\n", sum.requests, sum.ok, sum.failed)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen: writing the records:", err)
		os.Exit(1)
	}
}

// parseConfig reads the flags; getenv supplies LOADGEN_PASSWORD, so that the
// password need not appear on the command line (and in the pod spec's args).
func parseConfig(args []string, getenv func(string) string) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.StringVar(&cfg.public, "public", "", "base URL of Kratos's public API, e.g. http://kratos-public:4433 (required)")
	fs.Float64Var(&cfg.rate, "rate", 20, "requests per second")
	fs.DurationVar(&cfg.duration, "duration", 0, "how long to run; 0 runs until SIGTERM/SIGINT or until -stop-file exists")
	fs.StringVar(&cfg.stopFile, "stop-file", "", "stop once this file exists (checked every 100 ms)")
	fs.DurationVar(&cfg.timeout, "timeout", 5*time.Second, "timeout of each request, connecting included")
	fs.StringVar(&cfg.identityFormat, "identity-format", "bench-%d@example.org", "email of seeded identity number n (1..-identities)")
	fs.IntVar(&cfg.identities, "identities", 20, "number of seeded identities")
	fs.StringVar(&cfg.password, "password", "", "password of the seeded identities (default: env LOADGEN_PASSWORD)")
	fs.IntVar(&cfg.registrationEvery, "registration-every", 20, "one in N operations registers a fresh identity; 0 disables registrations")
	fs.IntVar(&cfg.maxInflight, "max-inflight", 200, "requests in flight at most; a request due beyond that is recorded as skipped (error overload)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if cfg.password == "" {
		cfg.password = getenv("LOADGEN_PASSWORD")
	}
	cfg.public = strings.TrimRight(cfg.public, "/")
	switch {
	case cfg.public == "":
		return cfg, errors.New("-public is required")
	case cfg.password == "":
		return cfg, errors.New("a password is required: -password or env LOADGEN_PASSWORD")
	case cfg.rate <= 0:
		return cfg, errors.New("-rate must be positive")
	case cfg.duration < 0:
		return cfg, errors.New("-duration must not be negative")
	case cfg.timeout <= 0:
		return cfg, errors.New("-timeout must be positive")
	case cfg.identities < 1:
		return cfg, errors.New("-identities must be at least 1")
	case strings.Count(cfg.identityFormat, "%") != 1 || !strings.Contains(cfg.identityFormat, "%d"):
		return cfg, errors.New("-identity-format must contain %d and no other verb")
	case cfg.registrationEvery < 0 || cfg.registrationEvery == 1:
		// With 1 every slot would start a registration and none could submit one.
		return cfg, errors.New("-registration-every must be 0 or at least 2")
	case cfg.maxInflight < 1:
		return cfg, errors.New("-max-inflight must be at least 1")
	}
	return cfg, nil
}

// run generates the load until the duration is over, ctx is cancelled or the
// stop file appears, waits for the requests in flight, and returns the counts
// of what it wrote to out. The error is the first failure to write out.
func run(ctx context.Context, cfg config, out io.Writer) (summary, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if cfg.stopFile != "" {
		go watchStopFile(ctx, cfg.stopFile, cancel)
	}

	records := make(chan record, 1024)
	type written struct {
		sum summary
		err error
	}
	done := make(chan written, 1)
	go func() {
		sum, err := writeRecords(out, records)
		done <- written{sum, err}
	}()

	newGenerator(cfg, records).run(ctx)
	close(records)
	w := <-done
	return w.sum, w.err
}

// watchStopFile cancels the run once path exists, so that a benchmark script
// can end the run with `kubectl exec ... touch FILE` and still get the summary.
func watchStopFile(ctx context.Context, path string, cancel context.CancelFunc) {
	ticker := time.NewTicker(100 * time.Millisecond)
	defer ticker.Stop()
	for {
		if _, err := os.Stat(path); err == nil {
			cancel()
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}
