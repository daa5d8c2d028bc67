package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const testPassword = "Seeded-Pa55word-do-not-print"

func testConfig(public string) config {
	return config{
		public:            public,
		rate:              100,
		duration:          500 * time.Millisecond,
		timeout:           2 * time.Second,
		identityFormat:    "bench-%d@example.org",
		identities:        3,
		password:          testPassword,
		registrationEvery: 20,
		maxInflight:       200,
	}
}

// parsed is one output line.
type parsed struct {
	tMs       int64
	op        string
	status    int
	latencyMs float64
	err       string
}

// runParsed runs the generator and checks the output's format line by line.
func runParsed(t *testing.T, cfg config) ([]parsed, summary, string) {
	t.Helper()
	var out bytes.Buffer
	began := time.Now()
	sum, err := run(context.Background(), cfg, &out)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return parseOutput(t, out.String(), began), sum, out.String()
}

func parseOutput(t *testing.T, out string, began time.Time) []parsed {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("output is not CSV: %v\n%s", err, out)
	}
	if len(rows) == 0 || !reflect.DeepEqual(rows[0], []string{"t_ms", "op", "status", "latency_ms", "error"}) {
		t.Fatalf("bad header line in\n%s", out)
	}
	ops := map[string]bool{opLoginFlow: true, opLogin: true, opWhoami: true, opRegistrationFlow: true, opRegistration: true}
	classes := map[string]bool{"": true, errRefused: true, errReset: true, errTimeout: true, errEOF: true, errDNS: true, errOverload: true, errOther: true}
	var records []parsed
	for _, row := range rows[1:] {
		var p parsed
		var errs [3]error
		p.tMs, errs[0] = strconv.ParseInt(row[0], 10, 64)
		p.op = row[1]
		p.status, errs[1] = strconv.Atoi(row[2])
		p.latencyMs, errs[2] = strconv.ParseFloat(row[3], 64)
		p.err = row[4]
		if errors.Join(errs[:]...) != nil || !ops[p.op] || !classes[p.err] || p.latencyMs < 0 ||
			p.tMs < began.UnixMilli() || p.tMs > time.Now().UnixMilli() {
			t.Fatalf("bad line %q", strings.Join(row, ","))
		}
		records = append(records, p)
	}
	return records
}

func countOps(records []parsed) map[string]int {
	counts := map[string]int{}
	for _, r := range records {
		counts[r.op]++
	}
	return counts
}

// wantCount checks that the number of requests matches rate*duration.
func wantCount(t *testing.T, cfg config, got int) {
	t.Helper()
	want := cfg.rate * cfg.duration.Seconds()
	if tolerance := math.Max(2, want*0.05); math.Abs(float64(got)-want) > tolerance {
		t.Errorf("%d requests, want %.0f ± %.0f", got, want, tolerance)
	}
}

func TestRunKeepsTheRateAndTheFlowsWork(t *testing.T) {
	fake := newFakeKratos(t, testPassword)
	cfg := testConfig(fake.URL)
	cfg.duration = 600 * time.Millisecond

	began := time.Now()
	records, sum, out := runParsed(t, cfg)
	elapsed := time.Since(began)

	wantCount(t, cfg, len(records))
	if elapsed < cfg.duration-cfg.duration/10 {
		t.Errorf("ran %v, want about %v", elapsed, cfg.duration)
	}
	// The scheduled times are spread over the duration at 1/rate apart.
	first, last := records[0].tMs, records[0].tMs
	for _, r := range records {
		first, last = min(first, r.tMs), max(last, r.tMs)
	}
	if wantSpan := float64(len(records)-1) * 1000 / cfg.rate; math.Abs(float64(last-first)-wantSpan) > 2 {
		t.Errorf("scheduled times span %d ms, want %.0f", last-first, wantSpan)
	}

	for _, r := range records {
		if r.status != 200 || r.err != "" {
			t.Errorf("failed request %+v; the fake refused: %q", r, fake.refused())
			break
		}
	}
	if sum != (summary{requests: len(records), ok: len(records)}) {
		t.Errorf("summary %+v for %d successful requests", sum, len(records))
	}

	counts := countOps(records)
	// Slots 19, 39, 59 start registrations; each submits in a later slot.
	if counts[opRegistrationFlow] != 3 || counts[opRegistration] < 2 || counts[opRegistration] > 3 {
		t.Errorf("registrations: %v", counts)
	}
	if counts[opLogin] == 0 || counts[opLogin] > counts[opLoginFlow] ||
		counts[opWhoami] == 0 || counts[opWhoami] > 3*counts[opLogin] {
		t.Errorf("login cycle a, b, c, c, c not kept: %v", counts)
	}
	for _, email := range fake.loginEmails() {
		if email != "bench-1@example.org" && email != "bench-2@example.org" && email != "bench-3@example.org" {
			t.Errorf("login as %q, not one of the 3 seeded identities", email)
		}
	}
	for _, secret := range fake.secrets() {
		if strings.Contains(out, secret) {
			t.Errorf("output contains the secret %q", secret)
		}
	}
}

// An open loop keeps the rate when Kratos is slow, by running several user
// sessions at once; a closed loop would send far fewer requests.
func TestRunKeepsTheRateWhenKratosIsSlow(t *testing.T) {
	fake := newFakeKratos(t, testPassword)
	fake.delay = 100 * time.Millisecond
	cfg := testConfig(fake.URL)

	records, sum, _ := runParsed(t, cfg)

	wantCount(t, cfg, len(records))
	if sum.ok != len(records) || len(fake.refused()) > 0 {
		t.Errorf("summary %+v, the fake refused: %q", sum, fake.refused())
	}
}

func TestFailuresAreRecordedWithStatusAndClass(t *testing.T) {
	tests := []struct {
		name       string
		mode       int32
		delay      time.Duration
		closed     bool
		wantStatus int
		wantErr    string
	}{
		{name: "503", mode: modeUnavailable, wantStatus: 503},
		{name: "hang up", mode: modeHangUp, wantErr: errEOF},
		{name: "reset", mode: modeReset, wantErr: errReset},
		{name: "timeout", delay: 10 * time.Second, wantErr: errTimeout},
		{name: "closed server", closed: true, wantErr: errRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakeKratos(t, testPassword)
			fake.mode.Store(tt.mode)
			fake.delay = tt.delay
			cfg := testConfig(fake.URL)
			cfg.rate = 50
			cfg.duration = 200 * time.Millisecond
			cfg.timeout = 200 * time.Millisecond
			if tt.closed {
				fake.Close()
			}

			records, sum, _ := runParsed(t, cfg)

			wantCount(t, cfg, len(records))
			for _, r := range records {
				if r.status != tt.wantStatus || r.err != tt.wantErr {
					t.Fatalf("record %+v, want status %d and error %q", r, tt.wantStatus, tt.wantErr)
				}
			}
			// A failed step restarts the cycle, so only flows are ever attempted.
			if counts := countOps(records); counts[opLogin] > 0 || counts[opWhoami] > 0 || counts[opRegistration] > 0 {
				t.Errorf("steps after a failed one: %v", counts)
			}
			if sum != (summary{requests: len(records), failed: len(records)}) {
				t.Errorf("summary %+v for %d failures", sum, len(records))
			}
		})
	}
}

func TestRequestsBeyondMaxInflightAreSkipped(t *testing.T) {
	fake := newFakeKratos(t, testPassword)
	fake.delay = 400 * time.Millisecond
	cfg := testConfig(fake.URL)
	cfg.duration = 300 * time.Millisecond
	cfg.maxInflight = 2

	records, sum, _ := runParsed(t, cfg)

	wantCount(t, cfg, len(records))
	var skipped int
	for _, r := range records {
		switch {
		case r.err == errOverload && r.status == 0 && r.latencyMs == 0:
			skipped++
		case r.status != 200 || r.err != "":
			t.Errorf("record %+v is neither a success nor skipped", r)
		}
	}
	// All slots but the first two come before the first answer.
	if skipped < len(records)-4 || sum.ok != len(records)-skipped {
		t.Errorf("%d of %d skipped, summary %+v", skipped, len(records), sum)
	}
}

// lineWriter collects the output and closes reached once it has n lines.
type lineWriter struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	n       int
	reached chan struct{}
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	before := bytes.Count(w.buf.Bytes(), []byte("\n"))
	w.buf.Write(p)
	if before < w.n && bytes.Count(w.buf.Bytes(), []byte("\n")) >= w.n {
		close(w.reached)
	}
	return len(p), nil
}

func TestStopFileEndsTheRun(t *testing.T) {
	fake := newFakeKratos(t, testPassword)
	cfg := testConfig(fake.URL)
	cfg.duration = 0
	cfg.stopFile = filepath.Join(t.TempDir(), "stop")
	out := &lineWriter{n: 6, reached: make(chan struct{})} // header and 5 records
	done := make(chan summary, 1)
	began := time.Now()
	go func() {
		sum, err := run(context.Background(), cfg, out)
		if err != nil {
			t.Errorf("run: %v", err)
		}
		done <- sum
	}()

	select {
	case <-out.reached:
	case <-time.After(5 * time.Second):
		t.Fatal("no records after 5 s")
	}
	if err := os.WriteFile(cfg.stopFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var sum summary
	select {
	case sum = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("still running 5 s after the stop file appeared")
	}

	out.mu.Lock()
	defer out.mu.Unlock()
	records := parseOutput(t, out.buf.String(), began)
	if sum.requests != len(records) || sum.ok != len(records) {
		t.Errorf("summary %+v for %d records", sum, len(records))
	}
}

func TestClassify(t *testing.T) {
	wrap := func(err error) error { return &url.Error{Op: "Get", URL: "http://kratos", Err: err} }
	syscallErr := func(errno syscall.Errno) error {
		return wrap(&net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", errno)})
	}
	tests := map[error]string{
		nil: "",
		wrap(&net.DNSError{Err: "no such host", Name: "kratos-public", IsNotFound: true}): errDNS,
		syscallErr(syscall.ECONNREFUSED): errRefused,
		syscallErr(syscall.ECONNRESET):   errReset,
		syscallErr(syscall.EPIPE):        errReset,
		syscallErr(syscall.EHOSTUNREACH): errUnreachable,
		wrap(context.DeadlineExceeded):   errTimeout,
		wrap(io.EOF):                     errEOF,
		io.ErrUnexpectedEOF:              errEOF,
		errBadBody:                       errOther,
	}
	for err, want := range tests {
		if got := classify(err); got != want {
			t.Errorf("classify(%v) = %q, want %q", err, got, want)
		}
	}
}

func TestParseConfig(t *testing.T) {
	env := func(password string) func(string) string {
		return func(name string) string {
			if name == "LOADGEN_PASSWORD" {
				return password
			}
			return ""
		}
	}

	cfg, err := parseConfig([]string{"-public", "http://kratos-public:4433/"}, env("from-env"))
	want := config{
		public: "http://kratos-public:4433", rate: 20, timeout: 5 * time.Second,
		identityFormat: "bench-%d@example.org", identities: 20, password: "from-env",
		registrationEvery: 20, maxInflight: 200,
	}
	if err != nil || cfg != want {
		t.Errorf("defaults: %+v, %v", cfg, err)
	}
	cfg, err = parseConfig([]string{"-public", "http://k", "-password", "from-flag"}, env("from-env"))
	if err != nil || cfg.password != "from-flag" {
		t.Errorf("-password does not win over the environment: %v", err)
	}

	for _, args := range [][]string{
		{"-password", "p"},
		{"-public", "http://k"},
		{"-public", "http://k", "-password", "p", "-registration-every", "1"},
		{"-public", "http://k", "-password", "p", "-identity-format", "bench-%s"},
		{"-public", "http://k", "-password", "p", "-rate", "0"},
	} {
		if _, err := parseConfig(args, env("")); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
}
