package sqlite

import (
	"context"
	"database/sql"
	"time"
)

// checkpointEvery is how often the checkpointer copies the WAL into the
// database file.
const checkpointEvery = 100 * time.Millisecond

// checkpointer runs PASSIVE checkpoints on a connection of its own. A
// checkpoint writes pages into the database file and syncs it twice; done
// by the writer on commit (SQLite's default), that work and the waits for
// the disk would hold up every delivery queued behind it. PASSIVE
// checkpoints never block the writer or readers. They cannot restart the
// WAL while the writer keeps appending to it, which the writer does
// itself when the WAL passes wal_autocheckpoint pages: by then almost all
// of it has been copied here.
type checkpointer struct {
	db   *sql.DB
	stop context.CancelFunc
	done chan struct{}
}

func startCheckpointer(path string) (*checkpointer, error) {
	db, err := openPool(path, "", false)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	ctx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{db: db, stop: cancel, done: make(chan struct{})}
	go c.run(ctx)
	return c, nil
}

func (c *checkpointer) run(ctx context.Context) {
	defer close(c.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			// A failed checkpoint is tried again on the next tick, and the
			// writer's own checkpoint bounds the WAL meanwhile.
			c.db.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
		}
	}
}

func (c *checkpointer) close() error {
	c.stop()
	<-c.done
	return c.db.Close()
}
