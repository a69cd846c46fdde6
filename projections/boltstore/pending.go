package boltstore

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/projections"
)

// pending holds the changes applied in memory since the last commit. The
// maps hold the latest value of each record; forget lists targets whose
// per-target data is deleted before the puts of the same commit.
type pending struct {
	forget   []string
	machines map[string]*projections.Machine // nil value: delete
	status   map[string]*statusRec           // nil value: delete
	hist     map[string][]histPut            // by target id
	histMeta map[string]*histMeta            // nil value: delete
	roll     map[rollKey]projections.Rollup
	tlog     map[string][]projections.Transition
	tlogDel  []tlogDel
	alerts   map[string]*alertsRec // nil value: delete
	tombs    map[string]int64      // 0: delete
	outPut   []outboxEntry
	outDel   []uint64
	// outboxTop is the last outbox seq this commit makes durable.
	outboxTop uint64
	clock     int64
}

type histPut struct {
	slot int64
	val  []byte
}

// tlogDel deletes a target's log entries at or below (epoch, seq).
type tlogDel struct {
	id         string
	epoch, seq int64
}

func newPending() *pending {
	return &pending{
		machines: map[string]*projections.Machine{}, status: map[string]*statusRec{},
		hist: map[string][]histPut{}, histMeta: map[string]*histMeta{}, roll: map[rollKey]projections.Rollup{},
		tlog: map[string][]projections.Transition{}, alerts: map[string]*alertsRec{}, tombs: map[string]int64{},
	}
}

func (p *pending) empty() bool {
	return len(p.forget) == 0 && len(p.machines) == 0 && len(p.status) == 0 && len(p.hist) == 0 &&
		len(p.histMeta) == 0 && len(p.roll) == 0 && len(p.tlog) == 0 && len(p.tlogDel) == 0 &&
		len(p.alerts) == 0 && len(p.tombs) == 0 && len(p.outPut) == 0 && len(p.outDel) == 0 && p.clock == 0
}

// dropTarget forgets what is pending about target id (it is being removed).
func (p *pending) dropTarget(id string) {
	delete(p.hist, id)
	delete(p.tlog, id)
	for k := range p.roll {
		if k.id == id {
			delete(p.roll, k)
		}
	}
	p.tlogDel = slices.DeleteFunc(p.tlogDel, func(d tlogDel) bool { return d.id == id })
	p.forget = append(p.forget, id)
}

// merge folds the later changes q into p (a failed commit's p is kept)
// and returns p.
func (p *pending) merge(q *pending) *pending {
	for _, id := range q.forget {
		p.dropTarget(id)
	}
	maps.Copy(p.machines, q.machines)
	maps.Copy(p.status, q.status)
	for id, hs := range q.hist {
		p.hist[id] = append(p.hist[id], hs...)
	}
	maps.Copy(p.histMeta, q.histMeta)
	maps.Copy(p.roll, q.roll)
	for id, ts := range q.tlog {
		p.tlog[id] = append(p.tlog[id], ts...)
	}
	p.tlogDel = append(p.tlogDel, q.tlogDel...)
	maps.Copy(p.alerts, q.alerts)
	maps.Copy(p.tombs, q.tombs)
	p.outPut = append(p.outPut, q.outPut...)
	p.outDel = append(p.outDel, q.outDel...)
	p.outboxTop = max(p.outboxTop, q.outboxTop)
	p.clock = max(p.clock, q.clock)
	return p
}

// write applies the changes in tx.
func (p *pending) write(tx *bolt.Tx) error {
	for _, id := range p.forget {
		for _, b := range [][]byte{bHist, bRoll, bTLog} {
			if err := deletePrefix(tx.Bucket(b), tkey(id)); err != nil {
				return err
			}
		}
	}
	if p.clock != 0 {
		if err := tx.Bucket(bMeta).Put(keyClock, be64(uint64(p.clock))); err != nil {
			return err
		}
	}
	if err := put(tx.Bucket(bMachines), p.machines, func(m *projections.Machine) ([]byte, error) { return encodeMachine(*m), nil }); err != nil {
		return err
	}
	if err := put(tx.Bucket(bStatus), p.status, func(r *statusRec) ([]byte, error) { return r.encode(), nil }); err != nil {
		return err
	}
	if err := put(tx.Bucket(bHistMeta), p.histMeta, func(m *histMeta) ([]byte, error) { return m.encode(), nil }); err != nil {
		return err
	}
	if err := put(tx.Bucket(bAlerts), p.alerts, func(r *alertsRec) ([]byte, error) { return json.Marshal(r) }); err != nil {
		return err
	}
	hb := tx.Bucket(bHist)
	for _, id := range slices.Sorted(maps.Keys(p.hist)) {
		for _, h := range p.hist[id] {
			if err := hb.Put(slotKey(id, h.slot), h.val); err != nil {
				return err
			}
		}
	}
	rb := tx.Bucket(bRoll)
	for k, r := range p.roll {
		if err := rb.Put(slotKey(k.id, k.hour), encodeRollup(r)); err != nil {
			return err
		}
	}
	lb := tx.Bucket(bTLog)
	for _, d := range p.tlogDel {
		if err := deleteLogUpTo(lb, d); err != nil {
			return err
		}
	}
	for id, ts := range p.tlog {
		for _, t := range ts {
			v, err := json.Marshal(t)
			if err != nil {
				return err
			}
			if err := lb.Put(logKey(id, t.Epoch, t.Seq), v); err != nil {
				return err
			}
		}
	}
	tb := tx.Bucket(bTombs)
	for id, at := range p.tombs {
		var err error
		if at == 0 {
			err = tb.Delete([]byte(id))
		} else {
			err = tb.Put([]byte(id), be64(uint64(at)))
		}
		if err != nil {
			return err
		}
	}
	ob := tx.Bucket(bOutbox)
	for _, e := range p.outPut {
		v, err := json.Marshal(e.sc)
		if err != nil {
			return err
		}
		if err := ob.Put(be64(e.seq), v); err != nil {
			return err
		}
	}
	for _, seq := range p.outDel {
		if err := ob.Delete(be64(seq)); err != nil {
			return err
		}
	}
	return nil
}

// put writes each value of m under its key, encoded; a nil value deletes
// the key.
func put[T any](b *bolt.Bucket, m map[string]*T, encode func(*T) ([]byte, error)) error {
	for k, v := range m {
		if v == nil {
			if err := b.Delete([]byte(k)); err != nil {
				return err
			}
			continue
		}
		raw, err := encode(v)
		if err != nil {
			return fmt.Errorf("boltstore: encode %s: %w", k, err)
		}
		if err := b.Put([]byte(k), raw); err != nil {
			return err
		}
	}
	return nil
}

// deletePrefix deletes every key of b starting with prefix.
func deletePrefix(b *bolt.Bucket, prefix []byte) error {
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && strings.HasPrefix(string(k), string(prefix)); k, _ = c.Seek(prefix) {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// deleteLogUpTo deletes the log entries of d.id at or below (epoch, seq).
func deleteLogUpTo(b *bolt.Bucket, d tlogDel) error {
	prefix := tkey(d.id)
	limit := logKey(d.id, d.epoch, d.seq)
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && strings.HasPrefix(string(k), string(prefix)) && string(k) <= string(limit); k, _ = c.Seek(prefix) {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// newOutboxEntry queues sc for the relay.
func (s *Store) enqueueLocked(sc events.StateChanged) {
	s.st.outSeq++
	e := outboxEntry{seq: s.st.outSeq, sc: sc}
	s.st.out = append(s.st.out, e)
	s.pd.outPut = append(s.pd.outPut, e)
	s.pd.outboxTop = e.seq
}

func be64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
