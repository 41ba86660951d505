package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/parley-chat/parley"
)

// Media blobs. A blob is one row in media and its bytes are rows of
// media_chunks. Every write here is a short transaction of its own: a
// 100 MB upload is a hundred one-chunk commits, between which mailbox
// batches get the (on SQLite, only) write connection. Deletion first sets
// deleted_at, which stops serving the blob and refuses further chunks,
// then deletes the chunks a few at a time, then the row; a deletion cut
// short by a crash is finished by the next sweep.
//
// Links: a delivery that names blobs (Delivery.Media) marks its mailbox
// rows has_media and, in its batch transaction, inserts one media_refs
// row per blob and clears the blobs' released_at (linkMedia). The sweeper
// sets released_at once no mailbox row of any referencing message is
// left (a partial index on mailbox.message_id holds only has_media rows),
// and deletes the blob when released_at is older than the grace period.
//
// On PostgreSQL a chunk write locks the blob's row, and so does marking
// it deleted or linking it, so no chunk or link is added to a blob whose
// deletion has started.

var (
	qCreateMedia = newQuery(`INSERT INTO media (id, account, device, kind, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`)
	// qUploadState gets the dialect's LockRows appended (lockText).
	qUploadState   = newQuery(`SELECT completed_at, deleted_at FROM media WHERE id = ?`)
	qInsertChunk   = newQuery(`INSERT INTO media_chunks (media_id, n, data) VALUES (?, ?, ?)`)
	qChunkTotals   = newQuery(`SELECT COUNT(*), COALESCE(SUM(LENGTH(data)), 0), COALESCE(MAX(n), -1) FROM media_chunks WHERE media_id = ?`)
	qCompleteMedia = newQuery(`UPDATE media SET size = ?, sha256 = ?, completed_at = ? WHERE id = ?`)

	qMedia = newQuery(`SELECT id, account, device, kind, size, sha256, created_at, completed_at FROM media
		WHERE id = ? AND completed_at <> 0 AND deleted_at = 0`)
	qMediaChunk = newQuery(`SELECT c.data FROM media_chunks c JOIN media m ON m.id = c.media_id
		WHERE c.media_id = ? AND c.n = ? AND m.completed_at <> 0 AND m.deleted_at = 0`)

	qMarkMediaDeleted = newQuery(`UPDATE media SET deleted_at = ? WHERE id = ? AND deleted_at = 0`)
	qMediaExists      = newQuery(`SELECT COUNT(*) FROM media WHERE id = ?`)
	qDeleteChunks     = newQuery(`DELETE FROM media_chunks WHERE media_id = ? AND n IN
		(SELECT n FROM media_chunks WHERE media_id = ? ORDER BY n LIMIT ?)`)
	qDeleteMediaRefs = newQuery(`DELETE FROM media_refs WHERE media_id = ?`)
	qDeleteMediaRow  = newQuery(`DELETE FROM media WHERE id = ? AND deleted_at <> 0`)

	// Linking, in the delivery's batch transaction.
	bLinkMedia  = newBulk(`UPDATE media SET linked_at = ?, released_at = 0 WHERE deleted_at = 0 AND id IN (`, `?`, `)`)
	bInsertRefs = newBulk(`INSERT INTO media_refs (media_id, message_id) SELECT v.column1, v.column2 FROM (VALUES `, `(?, ?)`,
		`) AS v WHERE EXISTS (SELECT 1 FROM media m WHERE m.id = v.column1 AND m.deleted_at = 0) ON CONFLICT DO NOTHING`)

	// Sweeping. A linked blob is in use while any of its messages has a
	// mailbox row; has_media <> 0 selects the partial index.
	qUnreleasedMedia = newQuery(`SELECT id FROM media WHERE linked_at <> 0 AND released_at = 0 AND deleted_at = 0
		AND NOT EXISTS (` + mediaInUse + `) LIMIT ?`)
	bReleaseMedia = newBulk(`UPDATE media SET released_at = ? WHERE linked_at <> 0 AND released_at = 0 AND deleted_at = 0
		AND NOT EXISTS (`+mediaInUse+`) AND id IN (`, `?`, `)`)
	qDeletingMedia = newQuery(`SELECT id FROM media WHERE deleted_at <> 0 LIMIT ?`)
)

const mediaInUse = `SELECT 1 FROM media_refs r WHERE r.media_id = media.id
	AND EXISTS (SELECT 1 FROM mailbox b WHERE b.message_id = r.message_id AND b.has_media <> 0)`

// sweepRule selects blobs to delete by one cutoff time; mark re-checks
// the condition as it sets deleted_at, so that a blob linked again
// between the two is kept.
type sweepRule struct {
	name       string
	pick, mark query
	cutoff     func(sw *parley.MediaSweep) int64
}

func newSweepRule(name, cond string, cutoff func(sw *parley.MediaSweep) int64) sweepRule {
	return sweepRule{
		name:   name,
		pick:   newQuery(`SELECT id FROM media WHERE deleted_at = 0 AND ` + cond + ` LIMIT ?`),
		mark:   newQuery(`UPDATE media SET deleted_at = ? WHERE id = ? AND deleted_at = 0 AND ` + cond),
		cutoff: cutoff,
	}
}

var sweepRules = []sweepRule{
	newSweepRule("released", `released_at <> 0 AND released_at < ?`, func(sw *parley.MediaSweep) int64 { return micros(sw.ReleasedBefore) }),
	newSweepRule("unlinked", `linked_at = 0 AND created_at < ? AND NOT EXISTS (SELECT 1 FROM business_media b WHERE b.blob = media.id)`, func(sw *parley.MediaSweep) int64 { return micros(sw.UnlinkedBefore) }),
	newSweepRule("retention", `created_at < ?`, func(sw *parley.MediaSweep) int64 { return micros(sw.CreatedBefore) }),
}

const (
	chunkDeleteSlice = 8    // chunks (MiB) deleted per transaction
	sweepSlice       = 1000 // blobs looked at per query
)

// CreateMedia records a new, incomplete blob.
func (s *Store) CreateMedia(ctx context.Context, m *parley.Media) error {
	res, err := s.w.ExecContext(ctx, s.sql(qCreateMedia), m.ID, m.Account, int64(m.Device), string(m.Kind), micros(m.CreatedAt))
	if err != nil {
		return s.wrap("CreateMedia", err)
	}
	if ok, err := rowsAffected(res); err != nil {
		return s.wrap("CreateMedia", err)
	} else if !ok {
		e := parley.Errorf(parley.ECONFLICT, "media id is taken")
		e.Op = s.op("CreateMedia")
		return e
	}
	return nil
}

// uploading locks the blob's row (PostgreSQL) within tx and fails with
// ENOTFOUND unless the blob is being uploaded.
func (s *Store) uploading(ctx context.Context, tx *sql.Tx, name, id string) error {
	var completed, deleted int64
	err := tx.QueryRowContext(ctx, s.lockText(qUploadState), id).Scan(&completed, &deleted)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (completed != 0 || deleted != 0)) {
		return s.notFound(name, "no upload in progress for media %s", id)
	}
	return err
}

// PutMediaChunk stores chunk n of an incomplete blob in a transaction of
// its own.
func (s *Store) PutMediaChunk(ctx context.Context, id string, n int, data []byte) error {
	const name = "PutMediaChunk"
	return s.writeTx(ctx, name, func(tx *sql.Tx) error {
		if err := s.uploading(ctx, tx, name, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.sql(qInsertChunk), id, int64(n), data)
		return err
	})
}

// CompleteMedia checks the chunks against size and makes the blob
// servable.
func (s *Store) CompleteMedia(ctx context.Context, id string, size int64, sum []byte, at time.Time) error {
	const name = "CompleteMedia"
	return s.writeTx(ctx, name, func(tx *sql.Tx) error {
		if err := s.uploading(ctx, tx, name, id); err != nil {
			return err
		}
		var count, total, last int64
		if err := tx.QueryRowContext(ctx, s.sql(qChunkTotals), id).Scan(&count, &total, &last); err != nil {
			return err
		}
		want := (size + parley.MediaChunkSize - 1) / parley.MediaChunkSize
		if count != want || last != want-1 || total != size {
			e := parley.Errorf(parley.ECONFLICT, "the stored chunks hold %d bytes in %d chunks, not %d bytes in %d", total, count, size, want)
			e.Op = s.op(name)
			return e
		}
		_, err := tx.ExecContext(ctx, s.sql(qCompleteMedia), size, sum, micros(at), id)
		return err
	})
}

// Media returns a complete blob that is not being deleted.
func (s *Store) Media(ctx context.Context, id string) (*parley.Media, error) {
	var m parley.Media
	var dev, created, completed int64
	var kind string
	err := s.r.QueryRowContext(ctx, s.sql(qMedia), id).Scan(&m.ID, &m.Account, &dev, &kind, &m.Size, &m.SHA256, &created, &completed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.notFound("Media", "media %s not found", id)
	}
	if err != nil {
		return nil, s.wrap("Media", err)
	}
	m.Device, m.Kind, m.CreatedAt, m.CompletedAt = uint32(dev), parley.MediaKind(kind), fromMicros(created), fromMicros(completed)
	m.SHA256 = blob(m.SHA256)
	return &m, nil
}

// MediaChunk returns chunk n of a complete blob.
func (s *Store) MediaChunk(ctx context.Context, id string, n int) ([]byte, error) {
	var data []byte
	err := s.r.QueryRowContext(ctx, s.sql(qMediaChunk), id, int64(n)).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.notFound("MediaChunk", "media %s has no chunk %d", id, n)
	}
	if err != nil {
		return nil, s.wrap("MediaChunk", err)
	}
	return data, nil
}

// DeleteMedia stops serving the blob at once and then removes it.
func (s *Store) DeleteMedia(ctx context.Context, id string, at time.Time) error {
	const name = "DeleteMedia"
	res, err := s.w.ExecContext(ctx, s.sql(qMarkMediaDeleted), micros(at), id)
	if err != nil {
		return s.wrap(name, err)
	}
	if ok, err := rowsAffected(res); err != nil {
		return s.wrap(name, err)
	} else if !ok {
		var n int
		if err := s.w.QueryRowContext(ctx, s.sql(qMediaExists), id).Scan(&n); err != nil {
			return s.wrap(name, err)
		}
		if n == 0 {
			return s.notFound(name, "media %s not found", id)
		}
		// Its deletion had started: finish it.
	}
	if err := s.removeMedia(ctx, id); err != nil {
		return s.wrap(name, err)
	}
	return nil
}

// removeMedia deletes the chunks of a blob marked deleted, a few per
// transaction, then its links and row.
func (s *Store) removeMedia(ctx context.Context, id string) error {
	for {
		res, err := s.w.ExecContext(ctx, s.sql(qDeleteChunks), id, id, chunkDeleteSlice)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n < chunkDeleteSlice {
			break
		}
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, s.sql(qDeleteMediaRefs), id); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, s.sql(qDeleteBusinessMediaBlob), id); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, s.sql(qDeleteMediaRow), id); err != nil {
		return err
	}
	return tx.Commit()
}

// linkMedia links the blobs of every delivery in ops that goes ahead to
// its message, within the batch transaction. Blobs whose deletion has
// started are left alone.
func (s *Store) linkMedia(t wtx, ops []*op) error {
	var ids, refs []any
	var latest time.Time
	for _, o := range ops {
		if !o.deliver || o.err != nil || o.duplicate || len(o.media) == 0 {
			continue
		}
		for _, id := range o.media {
			ids = append(ids, id)
			refs = append(refs, id, o.messageID)
		}
		if o.timestamp.After(latest) {
			latest = o.timestamp
		}
	}
	if len(ids) == 0 {
		return nil
	}
	// One order of row locks for every batch.
	slices.SortFunc(ids, func(a, b any) int { return cmp.Compare(a.(string), b.(string)) })
	ids = slices.Compact(ids)
	err := s.eachChunk(bLinkMedia, []any{micros(latest)}, ids, func(text string, args []any) error {
		_, err := t.exec(text, args)
		return err
	})
	if err != nil {
		return err
	}
	_, err = s.execBulk(t, bInsertRefs, refs)
	return err
}

// SweepMedia releases blobs whose messages are all gone from every
// mailbox, marks the blobs sw selects deleted, and removes every blob
// marked deleted. It returns how many blobs it removed.
func (s *Store) SweepMedia(ctx context.Context, sw parley.MediaSweep) (int, error) {
	const name = "SweepMedia"
	if err := s.releaseMedia(ctx, micros(sw.Now)); err != nil {
		return 0, s.wrap(name, err)
	}
	for _, r := range sweepRules {
		if err := s.markMedia(ctx, r, micros(sw.Now), r.cutoff(&sw)); err != nil {
			return 0, s.wrap(name, err)
		}
	}
	removed := 0
	for {
		ids, err := s.mediaIDs(ctx, s.sql(qDeletingMedia), sweepSlice)
		if err != nil {
			return removed, s.wrap(name, err)
		}
		for _, id := range ids {
			if err := s.removeMedia(ctx, id); err != nil {
				return removed, s.wrap(name, err)
			}
			removed++
		}
		if len(ids) < sweepSlice {
			return removed, nil
		}
	}
}

// releaseMedia sets released_at on linked blobs that are no longer in
// use. Candidates are found on the read pool, so that the scan does not
// hold SQLite's write lock; the update checks again.
func (s *Store) releaseMedia(ctx context.Context, now int64) error {
	for {
		ids, err := s.mediaIDs(ctx, s.sql(qUnreleasedMedia), sweepSlice)
		if err != nil || len(ids) == 0 {
			return err
		}
		rows := make([]any, len(ids))
		for i, id := range ids {
			rows[i] = id
		}
		var released int64
		err = s.eachChunk(bReleaseMedia, []any{now}, rows, func(text string, args []any) error {
			res, err := s.w.ExecContext(ctx, text, args...)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			released += n
			return err
		})
		if err != nil || len(ids) < sweepSlice || released == 0 {
			return err
		}
	}
}

// markMedia sets deleted_at on the blobs rule r selects at cutoff.
func (s *Store) markMedia(ctx context.Context, r sweepRule, now, cutoff int64) error {
	for {
		ids, err := s.mediaIDs(ctx, s.sql(r.pick), cutoff, sweepSlice)
		if err != nil || len(ids) == 0 {
			return err
		}
		var marked int64
		for _, id := range ids {
			res, err := s.w.ExecContext(ctx, s.sql(r.mark), now, id, cutoff)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			marked += n
		}
		if len(ids) < sweepSlice || marked == 0 {
			return nil
		}
	}
}

// mediaIDs runs a query for blob ids on the read pool.
func (s *Store) mediaIDs(ctx context.Context, text string, args ...any) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, text, args...)
	if err != nil {
		return nil, err
	}
	var ids []string
	err = scanAll(rows, func(r scanner) error {
		var id string
		if err := r.Scan(&id); err != nil {
			return err
		}
		ids = append(ids, id)
		return nil
	})
	return ids, err
}
