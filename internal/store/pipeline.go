package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"
)

// pipeline sends b on one connection of pool as one PostgreSQL pipeline:
// one round trip, ended by a single Sync, so its statements run in one
// implicit transaction that commits (or fails) as a whole. read takes the
// results, one per queued statement, in order. The batches of refresh
// reads (refresh_reads.go) and of rotations (rotation.go) go this way.
// Errors: the pool's; read's; the pipeline's end (the commit's outcome);
// each translated for what.
func pipeline(ctx context.Context, pool *gorm.DB, what string, b *pgx.Batch, read func(br pgx.BatchResults) error) error {
	sqlDB, err := pool.DB()
	if err != nil {
		return err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return translate(err, what)
	}
	defer conn.Close()
	return translate(conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("store: pipelines need the pgx driver, not %T", dc)
		}
		br := sc.Conn().SendBatch(ctx, b)
		if err := read(br); err != nil {
			_ = br.Close()
			return err
		}
		return br.Close()
	}), what)
}
