package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"
)

// The operations, as they appear in the op column.
const (
	opLoginFlow        = "login_flow"
	opLogin            = "login"
	opWhoami           = "whoami"
	opRegistrationFlow = "registration_flow"
	opRegistration     = "registration"
)

// What a front end does for one user: log in, then look at the session a few times.
var loginCycle = []string{opLoginFlow, opLogin, opWhoami, opWhoami, opWhoami}

var registrationSteps = []string{opRegistrationFlow, opRegistration}

// session is one logical user: a login cycle that repeats with the next
// seeded identity, or a single registration. While one of its requests is in
// flight it belongs to the goroutine sending it, otherwise to the planner.
type session struct {
	steps  []string
	step   int
	email  string
	flowID string
	token  string
}

func (s *session) op() string { return s.steps[s.step] }

func (s *session) isRegistration() bool { return s.steps[0] == opRegistrationFlow }

// planner decides which session's next step each schedule slot carries. It is
// not safe for concurrent use: only the scheduling goroutine calls it.
type planner struct {
	identityFormat     string
	identities         int
	lastIdentity       int // number of the identity the newest login cycle uses
	registrationEvery  int
	registrationFormat string // email of registration n; unique to this run
	registrationCount  int

	idle          []*session // login sessions waiting for a slot, oldest first
	registrations []*session // registrations whose flow exists, waiting to submit
}

func newPlanner(cfg config) *planner {
	return &planner{
		identityFormat:     cfg.identityFormat,
		identities:         cfg.identities,
		registrationEvery:  cfg.registrationEvery,
		registrationFormat: "loadgen-" + randomHex(4) + "-%d@example.org",
	}
}

// next returns the session whose next step goes in slot (0, 1, ...). Slots
// that no idle session can take get a new login session, so that a slow
// Kratos does not lower the request rate.
func (p *planner) next(slot int) *session {
	if p.registrationEvery > 0 && slot%p.registrationEvery == p.registrationEvery-1 {
		p.registrationCount++
		return &session{steps: registrationSteps, email: fmt.Sprintf(p.registrationFormat, p.registrationCount)}
	}
	// A registration submits as soon as possible: a real user does not wait
	// behind other users, and a flow left waiting could expire.
	for _, queue := range []*[]*session{&p.registrations, &p.idle} {
		if len(*queue) > 0 {
			s := (*queue)[0]
			*queue = (*queue)[1:]
			return s
		}
	}
	s := &session{steps: loginCycle}
	p.restart(s)
	return s
}

// done takes back a session whose step has finished (or was skipped).
// A failed step ends a login cycle early, as a user would start over.
func (p *planner) done(s *session, ok bool) {
	s.step++
	finished := !ok || s.step == len(s.steps)
	if s.isRegistration() {
		if !finished {
			p.registrations = append(p.registrations, s)
		}
		return
	}
	if finished {
		p.restart(s)
	}
	p.idle = append(p.idle, s)
}

// restart begins a login cycle with the next seeded identity (1..identities).
func (p *planner) restart(s *session) {
	p.lastIdentity = p.lastIdentity%p.identities + 1
	s.step = 0
	s.email = fmt.Sprintf(p.identityFormat, p.lastIdentity)
	s.flowID = ""
	s.token = ""
}

// generator sends the planned requests on the open-loop schedule.
type generator struct {
	cfg      config
	kratos   *kratos
	plan     *planner
	records  chan<- record
	finished chan finishedStep
	inflight int // requests started whose finishedStep has not been taken back yet
}

type finishedStep struct {
	s  *session
	ok bool
}

func newGenerator(cfg config, records chan<- record) *generator {
	return &generator{
		cfg:     cfg,
		kratos:  newKratos(cfg.public, cfg.timeout),
		plan:    newPlanner(cfg),
		records: records,
		// Room for every request in flight, so that a sender never blocks.
		finished: make(chan finishedStep, cfg.maxInflight),
	}
}

// run sends requests until the duration is over or ctx is done, then waits
// for the requests in flight (each ends within the request timeout).
func (g *generator) run(ctx context.Context) {
	start := time.Now()
	for slot := 0; ; slot++ {
		// Computed from start, not from the previous slot, so that neither
		// rounding nor late wake-ups accumulate.
		offset := time.Duration(float64(slot) * float64(time.Second) / g.cfg.rate)
		if g.cfg.duration > 0 && offset >= g.cfg.duration {
			break
		}
		at := start.Add(offset)
		if !sleepUntil(ctx, at) {
			break
		}
		g.takeFinished(false)
		g.start(g.plan.next(slot), at)
	}
	for g.inflight > 0 {
		g.takeFinished(true)
	}
}

// takeFinished hands finished sessions back to the planner; with wait it
// waits for at least one.
func (g *generator) takeFinished(wait bool) {
	for {
		var f finishedStep
		if wait {
			f = <-g.finished
			wait = false
		} else {
			select {
			case f = <-g.finished:
			default:
				return
			}
		}
		g.inflight--
		g.plan.done(f.s, f.ok)
	}
}

// start sends the session's next step in its own goroutine, or records it
// as skipped when too many requests are in flight: queueing it would turn
// the open loop into a closed one.
func (g *generator) start(s *session, at time.Time) {
	if g.inflight >= g.cfg.maxInflight {
		g.records <- record{scheduled: at, op: s.op(), errClass: errOverload}
		g.plan.done(s, false)
		return
	}
	g.inflight++
	go func() {
		r := g.kratos.do(s, g.cfg.password)
		r.scheduled = at
		g.records <- r
		g.finished <- finishedStep{s, r.ok()}
	}()
}

// sleepUntil waits until t and reports whether ctx is still live.
func sleepUntil(ctx context.Context, t time.Time) bool {
	if d := time.Until(t); d > 0 {
		timer := time.NewTimer(d)
		defer timer.Stop()
		select {
		case <-ctx.Done():
		case <-timer.C:
		}
	}
	return ctx.Err() == nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b)
}
