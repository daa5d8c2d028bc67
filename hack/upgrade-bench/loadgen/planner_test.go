package main

import (
	"reflect"
	"testing"
)

func testPlanner(registrationEvery int) *planner {
	cfg := testConfig("http://kratos")
	cfg.registrationEvery = registrationEvery
	p := newPlanner(cfg)
	p.registrationFormat = "new-%d@example.org" // instead of the random run id
	return p
}

func step(s *session) string { return s.op() + " " + s.email }

// With answers arriving before the next slot, one user runs the login cycle
// a, b, c, c, c over the identities in turn, and every 7th slot starts a
// registration that submits in the next slot.
func TestPlannerCycleAndMix(t *testing.T) {
	p := testPlanner(7)
	var got []string
	for slot := 0; slot < 16; slot++ {
		s := p.next(slot)
		got = append(got, step(s))
		p.done(s, true)
	}
	want := []string{
		"login_flow bench-1@example.org",
		"login bench-1@example.org",
		"whoami bench-1@example.org",
		"whoami bench-1@example.org",
		"whoami bench-1@example.org",
		"login_flow bench-2@example.org",
		"registration_flow new-1@example.org",
		"registration new-1@example.org",
		"login bench-2@example.org",
		"whoami bench-2@example.org",
		"whoami bench-2@example.org",
		"whoami bench-2@example.org",
		"login_flow bench-3@example.org",
		"registration_flow new-2@example.org",
		"registration new-2@example.org",
		"login bench-3@example.org",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("steps\n%q\nwant\n%q", got, want)
	}
}

// A failed step restarts the cycle with a new flow and the next identity;
// a failed registration flow is not submitted.
func TestPlannerRestartsAfterAFailure(t *testing.T) {
	p := testPlanner(4)
	outcomes := []bool{true, false, true, false, true, true, true, true, true}
	var got []string
	for slot, ok := range outcomes {
		s := p.next(slot)
		got = append(got, step(s))
		p.done(s, ok)
	}
	want := []string{
		"login_flow bench-1@example.org",
		"login bench-1@example.org", // fails
		"login_flow bench-2@example.org",
		"registration_flow new-1@example.org", // fails
		"login bench-2@example.org",
		"whoami bench-2@example.org",
		"whoami bench-2@example.org",
		"registration_flow new-2@example.org",
		"registration new-2@example.org",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("steps\n%q\nwant\n%q", got, want)
	}
}

// While every user waits for an answer, each slot gets a new user, so that a
// slow Kratos does not lower the rate; answered users go on in answer order.
func TestPlannerInterleavesUsers(t *testing.T) {
	p := testPlanner(0)
	var waiting []*session
	var got []string
	for slot := 0; slot < 4; slot++ {
		s := p.next(slot)
		got = append(got, step(s))
		waiting = append(waiting, s)
	}
	p.done(waiting[2], true)
	p.done(waiting[0], true)
	for slot := 4; slot < 7; slot++ {
		got = append(got, step(p.next(slot)))
	}
	want := []string{
		"login_flow bench-1@example.org",
		"login_flow bench-2@example.org",
		"login_flow bench-3@example.org",
		"login_flow bench-1@example.org",
		"login bench-3@example.org",
		"login bench-1@example.org",
		"login_flow bench-2@example.org",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("steps\n%q\nwant\n%q", got, want)
	}
}
