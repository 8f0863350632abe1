package admin_test

import (
	"github.com/oauthdesk/oauthdesk/internal/admin"
	"github.com/oauthdesk/oauthdesk/internal/store"
)

// internal/store implements every small store a slice declares, on
// SQLite and PostgreSQL alike (a store missing a method fails to compile).
var (
	_ admin.AppStore           = (*store.DB)(nil)
	_ admin.OwnerStore         = (*store.DB)(nil)
	_ admin.SecretStore        = (*store.DB)(nil)
	_ admin.ExpiryStore        = (*store.DB)(nil)
	_ admin.AuthorizationStore = (*store.DB)(nil)
	_ admin.UserStore          = (*store.DB)(nil)
	_ admin.SignInStore        = (*store.DB)(nil)
	_ admin.ScopeStore         = (*store.DB)(nil)
	_ admin.AppScopeStore      = (*store.DB)(nil)
	_ admin.SettingStore       = (*store.DB)(nil)
	_ admin.AuditLog           = (*store.DB)(nil)
	_ admin.ImportStore        = (*store.DB)(nil)
	_ admin.ActivityStore      = (*store.DB)(nil)
	_ admin.AttentionStore     = (*store.DB)(nil)
	_ admin.ClientGrantStore   = (*store.DB)(nil)
	_ admin.InvitationStore    = (*store.DB)(nil)
	_ admin.PendingChangeStore = (*store.DB)(nil)
	_ admin.SoleOwnerStore     = (*store.DB)(nil)
)
