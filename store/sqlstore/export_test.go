package sqlstore

import "slices"

// HotStatements returns, rebound for d, the statements that the mailbox
// batch and the mailbox's readers run: every bulk of the batch with one
// and with two rows (those d runs), and the other queries. plan_test.go
// checks how the database plans them.
func HotStatements(d *Dialect) []string {
	t := newTexts(d)
	var out []string
	for _, b := range batchBulks {
		if d.LocalWrites && slices.Contains(remoteBulks, b) {
			continue
		}
		out = append(out, t.bulks[b.id][0], t.bulks[b.id][1])
	}
	for _, q := range slices.Concat(batchQueries, []query{qSent, qFetch}) {
		out = append(out, t.queries[q])
	}
	return out
}
