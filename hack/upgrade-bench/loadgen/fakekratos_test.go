package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// How the fake Kratos answers.
const (
	modeOK          int32 = iota
	modeUnavailable       // 503, as from a pod that is shutting down
	modeHangUp            // closes the connection without an answer
	modeReset             // resets the connection (RST)
)

// fakeKratos implements the endpoints loadgen calls, with Kratos's
// dependencies between them: a flow is used once, whoami needs a token that
// a login issued, registration needs a fresh email. A request out of order
// therefore fails, which the tests see in the records.
type fakeKratos struct {
	*httptest.Server
	password string
	delay    time.Duration // before each answer; set before the first request
	mode     atomic.Int32

	mu           sync.Mutex
	nextID       int
	flows        map[string]string // unused flow id -> "login" or "registration"
	tokens       map[string]bool
	emails       map[string]bool // registered
	logins       []string        // identifiers of successful logins, in order
	regPasswords []string
	tokensIssued []string
	badRequests  []string // why requests were refused
}

func newFakeKratos(t *testing.T, password string) *fakeKratos {
	f := &fakeKratos{
		password: password,
		flows:    map[string]string{},
		tokens:   map[string]bool{},
		emails:   map[string]bool{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /self-service/login/api", f.createFlow("login"))
	mux.HandleFunc("GET /self-service/registration/api", f.createFlow("registration"))
	mux.HandleFunc("POST /self-service/login", f.login)
	mux.HandleFunc("POST /self-service/registration", f.register)
	mux.HandleFunc("GET /sessions/whoami", f.whoami)
	f.Server = httptest.NewServer(f.misbehave(mux))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeKratos) misbehave(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.delay > 0 {
			select {
			case <-time.After(f.delay):
			case <-r.Context().Done(): // the client gave up
				return
			}
		}
		switch f.mode.Load() {
		case modeUnavailable:
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
		case modeHangUp, modeReset:
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				panic(err)
			}
			if f.mode.Load() == modeReset {
				_ = conn.(*net.TCPConn).SetLinger(0)
			}
			conn.Close()
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func (f *fakeKratos) refuse(w http.ResponseWriter, status int, why string) {
	f.mu.Lock()
	f.badRequests = append(f.badRequests, why)
	f.mu.Unlock()
	http.Error(w, why, status)
}

func (f *fakeKratos) createFlow(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.nextID++
		id := fmt.Sprintf("%s-flow-%d", kind, f.nextID)
		f.flows[id] = kind
		f.mu.Unlock()
		writeJSON(w, map[string]any{"id": id, "type": "api", "ui": map[string]any{"method": "POST"}})
	}
}

// takeFlow consumes the flow named in the query; Kratos answers 410 for a
// flow it no longer accepts.
func (f *fakeKratos) takeFlow(w http.ResponseWriter, r *http.Request, kind string) bool {
	id := r.URL.Query().Get("flow")
	f.mu.Lock()
	ok := f.flows[id] == kind
	delete(f.flows, id)
	f.mu.Unlock()
	if !ok {
		f.refuse(w, http.StatusGone, "unknown "+kind+" flow "+id)
	}
	return ok
}

func (f *fakeKratos) login(w http.ResponseWriter, r *http.Request) {
	if !f.takeFlow(w, r, "login") {
		return
	}
	var body struct{ Method, Identifier, Password string }
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Method != "password" ||
		body.Password != f.password || !strings.HasPrefix(body.Identifier, "bench-") {
		f.refuse(w, http.StatusBadRequest, fmt.Sprintf("bad login body (err %v, identifier %q)", err, body.Identifier))
		return
	}
	f.mu.Lock()
	f.nextID++
	token := fmt.Sprintf("ory_st_SECRETTOKEN%d", f.nextID)
	f.tokens[token] = true
	f.tokensIssued = append(f.tokensIssued, token)
	f.logins = append(f.logins, body.Identifier)
	f.mu.Unlock()
	writeJSON(w, map[string]any{"session_token": token, "session": map[string]any{"active": true}})
}

func (f *fakeKratos) whoami(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	ok := f.tokens[r.Header.Get("X-Session-Token")]
	f.mu.Unlock()
	if !ok {
		f.refuse(w, http.StatusUnauthorized, "whoami without a valid session token")
		return
	}
	writeJSON(w, map[string]any{"active": true})
}

func (f *fakeKratos) register(w http.ResponseWriter, r *http.Request) {
	if !f.takeFlow(w, r, "registration") {
		return
	}
	var body struct {
		Method   string
		Password string
		Traits   struct{ Email string }
	}
	err := json.NewDecoder(r.Body).Decode(&body)
	f.mu.Lock()
	fresh := !f.emails[body.Traits.Email]
	f.emails[body.Traits.Email] = true
	f.regPasswords = append(f.regPasswords, body.Password)
	f.mu.Unlock()
	if err != nil || body.Method != "password" || len(body.Password) < 16 ||
		!strings.Contains(body.Traits.Email, "@") || !fresh {
		f.refuse(w, http.StatusBadRequest, fmt.Sprintf("bad registration body (err %v, email %q)", err, body.Traits.Email))
		return
	}
	writeJSON(w, map[string]any{"identity": map[string]any{"traits": map[string]string{"email": body.Traits.Email}}})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// secrets returns every password and token the fake has seen or issued.
func (f *fakeKratos) secrets() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	all := append([]string{f.password}, f.regPasswords...)
	return append(all, f.tokensIssued...)
}

// refused returns why the fake refused requests: it does so only for
// requests that a correct client does not send.
func (f *fakeKratos) refused() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.badRequests...)
}

// loginEmails returns the identifiers of the successful logins.
func (f *fakeKratos) loginEmails() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.logins...)
}
