package localstore

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/cockroachdb/pebble/v2"

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

// write adds the changes to b.
func (p *pending) write(b *pebble.Batch) error {
	for _, id := range p.forget {
		for _, ns := range []byte{nsHist, nsRoll, nsLog} {
			pre := tkey(ns, id)
			if err := b.DeleteRange(pre, prefixEnd(pre), nil); err != nil {
				return err
			}
		}
	}
	if p.clock != 0 {
		if err := b.Set(keyClock, be64(uint64(p.clock)), nil); err != nil {
			return err
		}
	}
	if err := put(b, nsMachine, p.machines, func(m *projections.Machine) ([]byte, error) { return encodeMachine(*m), nil }); err != nil {
		return err
	}
	if err := put(b, nsStatus, p.status, func(r *statusRec) ([]byte, error) { return r.encode(), nil }); err != nil {
		return err
	}
	if err := put(b, nsHistMeta, p.histMeta, func(m *histMeta) ([]byte, error) { return m.encode(), nil }); err != nil {
		return err
	}
	if err := put(b, nsAlerts, p.alerts, func(r *alertsRec) ([]byte, error) { return json.Marshal(r) }); err != nil {
		return err
	}
	for id, hs := range p.hist {
		for _, h := range hs {
			if err := b.Set(slotKey(nsHist, id, h.slot), h.val, nil); err != nil {
				return err
			}
		}
	}
	for k, r := range p.roll {
		if err := b.Set(slotKey(nsRoll, k.id, k.hour), encodeRollup(r), nil); err != nil {
			return err
		}
	}
	for _, d := range p.tlogDel {
		// Everything of the target's log up to and including (epoch, seq).
		if err := b.DeleteRange(tkey(nsLog, d.id), prefixEnd(logKey(d.id, d.epoch, d.seq)), nil); err != nil {
			return err
		}
	}
	for id, ts := range p.tlog {
		for _, t := range ts {
			v, err := json.Marshal(t)
			if err != nil {
				return err
			}
			if err := b.Set(logKey(id, t.Epoch, t.Seq), v, nil); err != nil {
				return err
			}
		}
	}
	for id, at := range p.tombs {
		var err error
		if at == 0 {
			err = b.Delete(idKey(nsTomb, id), nil)
		} else {
			err = b.Set(idKey(nsTomb, id), be64(uint64(at)), nil)
		}
		if err != nil {
			return err
		}
	}
	for _, e := range p.outPut {
		v, err := json.Marshal(e.sc)
		if err != nil {
			return err
		}
		if err := b.Set(outboxKey(e.seq), v, nil); err != nil {
			return err
		}
	}
	for _, seq := range p.outDel {
		if err := b.Delete(outboxKey(seq), nil); err != nil {
			return err
		}
	}
	return nil
}

// put sets each value of m under its id in namespace ns, encoded; a nil
// value deletes the key.
func put[T any](b *pebble.Batch, ns byte, m map[string]*T, encode func(*T) ([]byte, error)) error {
	for id, v := range m {
		if v == nil {
			if err := b.Delete(idKey(ns, id), nil); err != nil {
				return err
			}
			continue
		}
		raw, err := encode(v)
		if err != nil {
			return fmt.Errorf("localstore: encode %s: %w", id, err)
		}
		if err := b.Set(idKey(ns, id), raw, nil); err != nil {
			return err
		}
	}
	return nil
}

func outboxKey(seq uint64) []byte { return binary.BigEndian.AppendUint64([]byte{nsOutbox}, seq) }

// newOutboxEntry queues sc for the relay.
func (s *Store) enqueueLocked(sc events.StateChanged) {
	s.st.outSeq++
	e := outboxEntry{seq: s.st.outSeq, sc: sc}
	s.st.out = append(s.st.out, e)
	s.pd.outPut = append(s.pd.outPut, e)
	s.pd.outboxTop = e.seq
}

func be64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
