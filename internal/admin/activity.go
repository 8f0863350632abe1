package admin

import (
	"context"
	"slices"

	"github.com/oauthdesk/oauthdesk/internal/audit"
)

// ActivityStore is what the activity views read: the audit log by app or
// user (its app_id / user_id index) and the names that label its links.
type ActivityStore interface {
	AuditEvents(ctx context.Context, f audit.Filter) ([]audit.Event, bool, error)
	AppNames(ctx context.Context, clientIDs []string) (map[string]string, error)
	UserNames(ctx context.Context, ids []string) (map[string]string, error)
}

// Activity answers "what happened to this app / this user": a page of the
// audit events that concern it, with the names of every app and user the
// page mentions.
type Activity struct {
	store ActivityStore
}

// NewActivity returns the activity use case over st.
func NewActivity(st ActivityStore) *Activity { return &Activity{store: st} }

// ActivityPage is one page of events, newest first, with labels: Apps
// maps client id → app name, Users user id → username ("… (deleted)"
// for a deleted user) for every id the events name (actor, target, app,
// user). More says older events match.
type ActivityPage struct {
	Events []audit.Event
	More   bool
	Apps   map[string]string
	Users  map[string]string
}

// Events returns one page of the audit events matching f (f.AppID /
// f.UserID select "everything about this app / user": one keyset query)
// and the names they mention (two primary-key lookups).
func (a *Activity) Events(ctx context.Context, f audit.Filter) (ActivityPage, error) {
	events, more, err := a.store.AuditEvents(ctx, f)
	if err != nil {
		return ActivityPage{}, err
	}
	p := ActivityPage{Events: events, More: more}
	var apps, users []string
	add := func(list []string, id string) []string {
		if id == "" || slices.Contains(list, id) {
			return list
		}
		return append(list, id)
	}
	for _, e := range events {
		apps, users = add(apps, e.AppID), add(users, e.UserID)
		users = add(users, e.ActorID)
		switch e.TargetType {
		case audit.TargetApp, audit.TargetSecret:
			apps = add(apps, e.TargetID)
		case audit.TargetUser:
			users = add(users, e.TargetID)
		}
	}
	if p.Apps, err = a.store.AppNames(ctx, apps); err != nil {
		return p, err
	}
	if p.Users, err = a.store.UserNames(ctx, users); err != nil {
		return p, err
	}
	return p, nil
}

// Names returns the names of the given apps and users (see ActivityPage).
func (a *Activity) Names(ctx context.Context, clientIDs, userIDs []string) (map[string]string, map[string]string, error) {
	apps, err := a.store.AppNames(ctx, clientIDs)
	if err != nil {
		return nil, nil, err
	}
	users, err := a.store.UserNames(ctx, userIDs)
	return apps, users, err
}
