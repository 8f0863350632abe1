package domain

import (
	"testing"
	"time"
)

func TestRevocationRuleMatches(t *testing.T) {
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	r := RevocationRule{Scopes: []string{"vso.code", "vso.build"}, CreatedBefore: at}
	cases := []struct {
		name   string
		issued time.Time
		scopes []string
		want   bool
	}{
		{"before, carrying one", at.Add(-time.Second), []string{"vso.profile", "vso.code"}, true},
		{"before, case differs", at.Add(-time.Hour), []string{"VSO.BUILD"}, true},
		{"before, full access", at.Add(-time.Hour), []string{ScopeFullAccess}, true},
		{"before, none of them", at.Add(-time.Hour), []string{"vso.profile"}, false},
		{"at the instant (not before)", at, []string{"vso.code"}, false},
		{"after", at.Add(time.Second), []string{"vso.code"}, false},
		{"before, no scopes", at.Add(-time.Hour), nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := r.Matches(c.issued, c.scopes); got != c.want {
				t.Errorf("Matches(%v, %v) = %v, want %v", c.issued, c.scopes, got, c.want)
			}
		})
	}
}

func TestSubjectDescriptor(t *testing.T) {
	id := "5a934169-06f1-493e-886e-ad59e143700b"
	d := SubjectDescriptor(id)
	if d == id || ParseSubjectDescriptor(d) != id {
		t.Errorf("SubjectDescriptor(%q) = %q, parsed back %q", id, d, ParseSubjectDescriptor(d))
	}
	for _, in := range []string{id, "odu.!!!", "aad.abc", ""} {
		if got := ParseSubjectDescriptor(in); got != in {
			t.Errorf("ParseSubjectDescriptor(%q) = %q, want it unchanged", in, got)
		}
	}
}

func TestPATState(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	revoked := now.Add(-time.Hour)
	cases := []struct {
		p    PAT
		want string
	}{
		{PAT{ExpiresAt: now.Add(time.Second)}, PATActive},
		{PAT{ExpiresAt: now}, PATExpired},
		{PAT{ExpiresAt: now.Add(time.Hour), RevokedAt: &revoked}, PATRevoked},
		{PAT{ExpiresAt: now.Add(-time.Hour), RevokedAt: &revoked}, PATRevoked},
	}
	for _, c := range cases {
		if got := c.p.State(now); got != c.want {
			t.Errorf("State(%+v) = %q, want %q", c.p, got, c.want)
		}
	}
}
