package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"time"
)

// Error classes of the error column.
const (
	errRefused = "refused"
	errReset   = "reset"
	errTimeout = "timeout"
	errEOF     = "eof"
	errDNS     = "dns"
	// No route to the address: a connection sent to a pod that is gone, before the Service forgot it.
	errUnreachable = "unreachable"
	errOverload    = "overload"
	errOther       = "other"
)

// errBadBody is a 200 answer without what the next step needs (flow id, session token).
var errBadBody = errors.New("unexpected response body")

// Kratos's answers are small; this only bounds a misbehaving server.
const maxBody = 1 << 20

// kratos sends the requests of the self-service API flows (flows for native
// apps, which use JSON and a session token instead of cookies and CSRF tokens).
type kratos struct {
	public string
	client *http.Client
}

func newKratos(public string, timeout time.Duration) *kratos {
	transport := &http.Transport{
		// No proxy from the environment: the requests must go to the Service.
		Proxy: nil,
		// A fresh connection per request, as a browser behind a load balancer
		// would get: a pod going away shows as failures instead of being
		// hidden by a connection to a surviving pod.
		DisableKeepAlives: true,
	}
	// The client's timeout covers connecting, sending and reading the answer.
	return &kratos{public: public, client: &http.Client{Transport: transport, Timeout: timeout}}
}

type flowAnswer struct {
	ID string `json:"id"`
}

type loginAnswer struct {
	SessionToken string `json:"session_token"`
}

// do sends the session's next step and stores what later steps need in s.
// The password is that of the seeded identities.
func (k *kratos) do(s *session, password string) record {
	began := time.Now()
	var status int
	var err error
	switch s.op() {
	case opLoginFlow, opRegistrationFlow:
		path := "/self-service/login/api"
		if s.op() == opRegistrationFlow {
			path = "/self-service/registration/api"
		}
		var flow flowAnswer
		status, err = k.call(http.MethodGet, path, nil, nil, &flow)
		if err == nil && status == http.StatusOK && flow.ID == "" {
			err = errBadBody
		}
		s.flowID = flow.ID
	case opLogin:
		body := map[string]string{"method": "password", "identifier": s.email, "password": password}
		var login loginAnswer
		status, err = k.call(http.MethodPost, "/self-service/login?flow="+url.QueryEscape(s.flowID), nil, body, &login)
		if err == nil && status == http.StatusOK && login.SessionToken == "" {
			err = errBadBody
		}
		s.token = login.SessionToken
	case opWhoami:
		status, err = k.call(http.MethodGet, "/sessions/whoami", http.Header{"X-Session-Token": {s.token}}, nil, nil)
	case opRegistration:
		body := map[string]any{
			"method":   "password",
			"traits":   map[string]string{"email": s.email},
			"password": newPassword(),
		}
		status, err = k.call(http.MethodPost, "/self-service/registration?flow="+url.QueryEscape(s.flowID), nil, body, nil)
	}
	return record{op: s.op(), status: status, latency: time.Since(began), errClass: classify(err)}
}

// call sends one request with an optional JSON body and, on a 200, decodes
// the JSON answer into answer (if not nil). The body is always read to its
// end, so that the latency covers the whole answer.
func (k *kratos) call(method, path string, header http.Header, body, answer any) (int, error) {
	var reqBody io.Reader
	if body != nil {
		encoded, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		reqBody = bytes.NewReader(encoded)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, k.public+path, reqBody)
	if err != nil {
		return 0, err
	}
	for name, values := range header {
		req.Header[name] = values
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := k.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil || resp.StatusCode != http.StatusOK || answer == nil {
		return resp.StatusCode, err
	}
	if json.Unmarshal(data, answer) != nil {
		return resp.StatusCode, errBadBody
	}
	return resp.StatusCode, nil
}

// newPassword returns a random password that Kratos's password policy
// accepts: long, not in any breach list, unlike the identifier.
func newPassword() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// classify maps a request's error to its class in the output.
func classify(err error) string {
	var dnsErr *net.DNSError
	var netErr net.Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &dnsErr):
		return errDNS
	case errors.Is(err, syscall.ECONNREFUSED):
		return errRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return errReset
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return errUnreachable
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return errTimeout
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errEOF
	default:
		return errOther
	}
}
