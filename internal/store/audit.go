package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/oauthdesk/oauthdesk/internal/audit"
)

type auditRow struct {
	Seq        int64 `gorm:"column:seq;primaryKey;autoIncrement:false"`
	ID         string
	At         time.Time
	Actor      string
	ActorID    string `gorm:"column:actor_id"`
	Action     string
	TargetType string
	TargetID   string `gorm:"column:target_id"`
	Details    string
	RemoteAddr string
	PrevHash   string
	Hash       string
	AppID      string `gorm:"column:app_id"`
	UserID     string `gorm:"column:user_id"`
}

func (auditRow) TableName() string { return "audit_events" }

func (r auditRow) event() audit.Event {
	e := audit.Event{Seq: r.Seq, ID: r.ID, At: utc(r.At), Actor: r.Actor, ActorID: r.ActorID, Action: r.Action,
		TargetType: r.TargetType, TargetID: r.TargetID, RemoteAddr: r.RemoteAddr, PrevHash: r.PrevHash, Hash: r.Hash,
		RawDetails: r.Details, AppID: r.AppID, UserID: r.UserID}
	if err := json.Unmarshal([]byte(r.Details), &e.Details); err != nil || e.Details == nil {
		e.Details = map[string]any{}
	}
	return e
}

// AppendAudit appends e to the chain: it takes the next sequence number
// and the previous event's hash, and stores e with its own hash. Call it
// inside the write transaction of the change it records (it opens one
// itself otherwise). e.At is kept to the microsecond (PostgreSQL's
// precision). Returns the stored event.
func (db *DB) AppendAudit(ctx context.Context, e audit.Event) (audit.Event, error) {
	err := db.WriteTx(ctx, func(ctx context.Context) error {
		// Concurrent writers on several replicas: one append at a time,
		// until the appending transaction commits or rolls back, so the
		// next writer sees this event as the last (gapless, one chain).
		if err := db.lock(ctx, "audit_chain"); err != nil {
			return translate(err, "audit log")
		}
		var last auditRow
		res := db.wr(ctx).Order("seq DESC").Limit(1).Find(&last)
		if res.Error != nil {
			return translate(res.Error, "audit log")
		}
		e.PrevHash, e.Seq = audit.GenesisHash, 1
		if res.RowsAffected == 1 {
			e.PrevHash, e.Seq = last.Hash, last.Seq+1
		}
		if e.ID == "" {
			e.ID = uuid.NewString()
		}
		// Microseconds: what PostgreSQL's TIMESTAMPTZ keeps, so the hash
		// recomputed from the stored row matches on both dialects.
		e.At = e.At.UTC().Truncate(time.Microsecond)
		e.RawDetails = e.DetailsJSON()
		e.Hash = e.ComputeHash(e.PrevHash)
		if err := db.auditSubjects(ctx, &e); err != nil {
			return err
		}
		row := auditRow{Seq: e.Seq, ID: e.ID, At: e.At, Actor: e.Actor, ActorID: e.ActorID, Action: e.Action,
			TargetType: e.TargetType, TargetID: e.TargetID, Details: e.DetailsJSON(), RemoteAddr: e.RemoteAddr,
			PrevHash: e.PrevHash, Hash: e.Hash, AppID: e.AppID, UserID: e.UserID}
		return translate(db.wr(ctx).Create(&row).Error, "audit event")
	})
	return e, err
}

// auditSubjects fills e.AppID and e.UserID, when the caller left them
// empty, from e.Subjects and, for an authorization target, the
// authorization's app and user (a primary-key probe in the appending
// transaction). An event that concerns no other user names its acting
// user (e.ActorID), so a user's activity holds what they did as well as
// what was done to them. Migrations 00019 and 00029 derive the same for
// older events.
func (db *DB) auditSubjects(ctx context.Context, e *audit.Event) error {
	app, user := e.Subjects()
	if e.TargetType == audit.TargetAuthorization && e.TargetID != "" {
		var z []struct {
			ClientID string
			UserID   string
		}
		if err := db.wr(ctx).Raw(`SELECT client_id, user_id FROM authorizations WHERE id = ?`, e.TargetID).Scan(&z).Error; err != nil {
			return translate(err, "audit event")
		}
		if len(z) == 1 {
			app, user = z[0].ClientID, z[0].UserID
		}
	}
	if e.AppID == "" {
		e.AppID = app
	}
	if user == "" {
		user = e.ActorID
	}
	if e.UserID == "" {
		e.UserID = user
	}
	return nil
}

// AuditEvents returns events matching f, newest first, and whether more
// older events match. With f.AppID or f.UserID it walks the partial index
// audit_events_by_app / _by_user backwards from f.BeforeSeq: one keyset
// query per page, whatever the size of the log.
func (db *DB) AuditEvents(ctx context.Context, f audit.Filter) ([]audit.Event, bool, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 1000)
	q := db.rd(ctx).Model(&auditRow{})
	if f.AppID != "" {
		q = q.Where("app_id = ? AND app_id <> ''", f.AppID)
	}
	if f.UserID != "" {
		q = q.Where("user_id = ? AND user_id <> ''", f.UserID)
	}
	if f.Actor != "" {
		q = q.Where("actor = ?", f.Actor)
	}
	if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	if f.TargetType != "" {
		q = q.Where("target_type = ?", f.TargetType)
	}
	if f.TargetID != "" {
		q = q.Where("target_id = ?", f.TargetID)
	}
	if !f.Since.IsZero() {
		q = q.Where("at >= ?", f.Since.UTC())
	}
	if !f.Until.IsZero() {
		q = q.Where("at < ?", f.Until.UTC())
	}
	if f.BeforeSeq > 0 {
		q = q.Where("seq < ?", f.BeforeSeq)
	}
	var rows []auditRow
	if err := q.Order("seq DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, false, translate(err, "audit log")
	}
	more := len(rows) > limit
	if more {
		rows = rows[:limit]
	}
	out := make([]audit.Event, len(rows))
	for i, r := range rows {
		out[i] = r.event()
	}
	return out, more, nil
}

// WalkAudit calls fn for every event with At >= since (zero: all), oldest
// first, reading in batches; it stops early when fn returns false.
func (db *DB) WalkAudit(ctx context.Context, since time.Time, fn func(audit.Event) bool) error {
	var after int64
	for {
		var rows []auditRow
		q := db.rd(ctx).Where("seq > ?", after)
		if !since.IsZero() {
			q = q.Where("at >= ?", since.UTC())
		}
		if err := q.Order("seq").Limit(500).Find(&rows).Error; err != nil {
			return translate(err, "audit log")
		}
		for _, r := range rows {
			if !fn(r.event()) {
				return nil
			}
			after = r.Seq
		}
		if len(rows) < 500 {
			return nil
		}
	}
}

// AuditHead returns the sequence number and hash of the newest audit
// event: (0, audit.GenesisHash) for an empty log.
func (db *DB) AuditHead(ctx context.Context) (int64, string, error) {
	var last auditRow
	res := db.rd(ctx).Order("seq DESC").Limit(1).Find(&last)
	if res.Error != nil {
		return 0, "", translate(res.Error, "audit log")
	}
	if res.RowsAffected == 0 {
		return 0, audit.GenesisHash, nil
	}
	return last.Seq, last.Hash, nil
}
