package store

import (
	"fmt"
	"testing"
	"time"
)

// A client assertion's jti is accepted once, whichever of two processes
// races for it, and again only after it expired.
func testClientAssertionOnce(t *testing.T, newDB func(testing.TB) *DB) {
	ctx := t.Context()
	db := newDB(t)
	cli := second(t, db)
	exp := now0.Add(time.Minute)
	for round := range 3 {
		jti := fmt.Sprintf("jti-%d", round)
		wins := race(t, 10, []*DB{db, cli}, func(h *DB) (bool, error) {
			return h.UseClientAssertion(ctx, "client-a", jti, exp, now0)
		})
		if wins != 1 {
			t.Errorf("round %d: %d of 10 callers accepted the jti, want 1", round, wins)
		}
	}
	if ok, err := db.UseClientAssertion(ctx, "client-b", "jti-0", exp, now0); !ok || err != nil {
		t.Errorf("another client's equal jti: %v %v, want accepted", ok, err)
	}
	if ok, err := db.UseClientAssertion(ctx, "client-a", "jti-0", exp.Add(time.Minute), exp.Add(time.Second)); !ok || err != nil {
		t.Errorf("the jti after it expired: %v %v, want accepted", ok, err)
	}
	if n, err := db.PruneClientAssertions(ctx, exp.Add(time.Second)); err != nil || n != 3 {
		t.Errorf("prune: %d %v, want the 3 expired rows (not the renewed one)", n, err)
	}
}

// One live client credentials grant per client and scope set, whichever
// of two processes issues; revoking it starts a new one.
func testClientGrantOnePerScopeSet(t *testing.T, newDB func(testing.TB) *DB) {
	ctx := t.Context()
	db := newDB(t)
	cli := second(t, db)
	ids := make(chan string, 10)
	race(t, 10, []*DB{db, cli}, func(h *DB) (bool, error) {
		id, err := h.IssueClientGrant(ctx, "client-a", []string{"vso.work", "vso.code"}, now0)
		ids <- id
		return err == nil, err
	})
	close(ids)
	first := ""
	for id := range ids {
		if first == "" {
			first = id
		} else if id != first {
			t.Errorf("two live grants for one scope set: %s and %s", first, id)
		}
	}
	list, err := db.ClientGrants(ctx, "client-a")
	if err != nil || len(list) != 1 || list[0].TokenCount != 10 {
		t.Fatalf("grants: %+v %v, want one with 10 tokens", list, err)
	}
	if ok, err := db.RevokeClientGrant(ctx, "client-a", first, now0); !ok || err != nil {
		t.Fatalf("revoke: %v %v", ok, err)
	}
	if ok, _ := db.RevokeClientGrant(ctx, "client-a", first, now0); ok {
		t.Error("revoking twice: true")
	}
	if id, err := db.IssueClientGrant(ctx, "client-a", []string{"vso.code", "vso.work"}, now0); err != nil || id == first {
		t.Errorf("after revocation: %s %v, want a new grant", id, err)
	}
}
