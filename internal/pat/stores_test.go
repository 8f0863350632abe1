package pat_test

import (
	"github.com/oauthdesk/oauthdesk/internal/pat"
	"github.com/oauthdesk/oauthdesk/internal/store"
)

// internal/store implements every small store a personal access token
// slice declares (a store missing a method fails to compile).
var (
	_ pat.TokenStore   = (*store.DB)(nil)
	_ pat.PolicyStore  = (*store.DB)(nil)
	_ pat.RuleStore    = (*store.DB)(nil)
	_ pat.ScannerStore = (*store.DB)(nil)
	_ pat.LeakStore    = (*store.DB)(nil)
	_ pat.NoticeStore  = (*store.DB)(nil)
	_ pat.OwnerStore   = (*store.DB)(nil)
)
