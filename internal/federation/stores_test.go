package federation_test

import (
	"github.com/oauthdesk/oauthdesk/internal/federation"
	"github.com/oauthdesk/oauthdesk/internal/store"
)

// internal/store implements every small store a federation slice
// declares (a store missing a method fails to compile).
var (
	_ federation.ConnectorStore = (*store.DB)(nil)
	_ federation.SignInStore    = (*store.DB)(nil)
	_ federation.SyncStore      = (*store.DB)(nil)
	_ federation.UpstreamStore  = (*store.DB)(nil)
)
