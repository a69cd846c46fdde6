package localstore

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/projections"
)

// keyClock holds the last slot issued.
var keyClock = []byte{nsMeta}

// statusRec is one target's current status.
type statusRec struct {
	Type, Name string
	// The state part, set by the last transition ((Epoch, Seq) guard).
	HasState   bool
	Epoch, Seq int64
	State      string
	Since      int64 // Unix ns
	Reason     string
	// The last-check part (Slot guard).
	HasCheck  bool
	Slot      int64
	CheckedAt int64 // Unix ns
	LatencyMS float64
	ErrorKind string
	Error     string
	Prober    string
	Details   json.RawMessage
}

// histMeta summarises one target's history on disk and pending.
type histMeta struct {
	Type, Name string
	Count      int64
	Newest     int64 // newest slot
}

// alertsRec is what of a target's alerts is not derived from its log: the
// floor below which transitions are stale (they belonged to pruned or
// removed incidents) and the alerts of removed incidents.
type alertsRec struct {
	HasFloor bool
	FloorE   int64
	FloorS   int64
	Frozen   []projections.Alert
}

// frozenAlert is the disk form of an alert (projections.Alert hides its
// epoch, seq and end from JSON).
type frozenAlert struct {
	projections.Alert
	Epoch int64
	Seq   int64
	End   string
}

// MarshalJSON keeps the hidden fields of frozen alerts.
func (r alertsRec) MarshalJSON() ([]byte, error) {
	type wire struct {
		HasFloor       bool
		FloorE, FloorS int64
		Frozen         []frozenAlert
	}
	w := wire{HasFloor: r.HasFloor, FloorE: r.FloorE, FloorS: r.FloorS}
	for _, a := range r.Frozen {
		w.Frozen = append(w.Frozen, frozenAlert{Alert: a, Epoch: a.Epoch, Seq: a.Seq, End: a.End})
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (r *alertsRec) UnmarshalJSON(b []byte) error {
	var w struct {
		HasFloor       bool
		FloorE, FloorS int64
		Frozen         []frozenAlert
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*r = alertsRec{HasFloor: w.HasFloor, FloorE: w.FloorE, FloorS: w.FloorS}
	for _, f := range w.Frozen {
		a := f.Alert
		a.Epoch, a.Seq, a.End = f.Epoch, f.Seq, f.End
		r.Frozen = append(r.Frozen, a)
	}
	return nil
}

// targetAlerts is one target's alert state in memory.
type targetAlerts struct {
	Type, Name string
	log        []projections.Transition
	rec        alertsRec
	alerts     []projections.Alert // Incidents(log) followed by rec.Frozen
}

// outboxEntry is a transition waiting to be published.
type outboxEntry struct {
	seq uint64
	sc  events.StateChanged
}

// rollKey names one target's rollup of one hour.
type rollKey struct {
	id   string
	hour int64
}

// state is the store's in-memory state.
type state struct {
	clock    int64 // the last slot issued
	machines map[string]projections.Machine
	status   map[string]*statusRec
	hist     map[string]*histMeta
	alerts   map[string]*targetAlerts
	tombs    map[string]int64
	roll     map[rollKey]*projections.Rollup // recently touched hours
	out      []outboxEntry                   // unacknowledged, oldest first
	outSeq   uint64                          // last outbox seq assigned
	// durableOutbox: entries up to this seq are on disk (publishable).
	durableOutbox uint64
	flushErr      error
}

func newState() state {
	return state{
		machines: map[string]projections.Machine{}, status: map[string]*statusRec{},
		hist: map[string]*histMeta{}, alerts: map[string]*targetAlerts{},
		tombs: map[string]int64{}, roll: map[rollKey]*projections.Rollup{},
	}
}

// load reads the store's small state into memory (everything but the
// history and the rollups).
func (s *Store) load() error {
	st := &s.st
	if v, closer, err := s.db.Get(keyClock); err == nil {
		if len(v) == 8 {
			st.clock = int64(binary.BigEndian.Uint64(v))
		}
		_ = closer.Close()
	} else if !errors.Is(err, pebble.ErrNotFound) {
		return fmt.Errorf("localstore: read the clock: %w", err)
	}
	if err := each(s.db, nsMachine, decodeMachine, func(id string, m projections.Machine) { st.machines[id] = m }); err != nil {
		return err
	}
	if err := each(s.db, nsStatus, decodeStatus, func(id string, r *statusRec) { st.status[id] = r }); err != nil {
		return err
	}
	if err := each(s.db, nsHistMeta, decodeHistMeta, func(id string, m *histMeta) { st.hist[id] = m }); err != nil {
		return err
	}
	if err := each(s.db, nsAlerts, decodeJSON[alertsRec], func(id string, r *alertsRec) { st.alertsOf(id).rec = *r }); err != nil {
		return err
	}
	if err := scan(s.db, []byte{nsLog}, func(k, v []byte) error {
		id, _, ok := splitTKey(k)
		if !ok {
			return nil
		}
		t, err := decodeJSON[projections.Transition](v)
		if err != nil {
			return err
		}
		ta := st.alertsOf(id)
		ta.log = append(ta.log, *t)
		return nil
	}); err != nil {
		return err
	}
	for id, ta := range st.alerts {
		ta.Type, ta.Name = splitID(id)
		ta.derive()
	}
	if err := scan(s.db, []byte{nsTomb}, func(k, v []byte) error {
		if len(v) == 8 {
			st.tombs[string(k[1:])] = int64(binary.BigEndian.Uint64(v))
		}
		return nil
	}); err != nil {
		return err
	}
	return scan(s.db, []byte{nsOutbox}, func(k, v []byte) error {
		sc, err := decodeJSON[events.StateChanged](v)
		if err != nil || len(k) != 9 {
			return fmt.Errorf("localstore: outbox entry %x: %w", k, err)
		}
		seq := binary.BigEndian.Uint64(k[1:])
		st.out = append(st.out, outboxEntry{seq: seq, sc: *sc})
		st.outSeq, st.durableOutbox = max(st.outSeq, seq), max(st.durableOutbox, seq)
		return nil
	})
}

// scan calls f with every key and value starting with prefix, in order.
func scan(db *pebble.DB, prefix []byte, f func(k, v []byte) error) error {
	return scanRange(db, prefix, prefixEnd(prefix), f)
}

// scanRange calls f with every key and value in [lo, hi), in order.
func scanRange(db *pebble.DB, lo, hi []byte, f func(k, v []byte) error) error {
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return fmt.Errorf("localstore: %w", err)
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		if err := f(it.Key(), it.Value()); err != nil {
			return err
		}
	}
	return it.Error()
}

// each decodes every value of namespace ns and passes it to f with the id
// of its key.
func each[T any](db *pebble.DB, ns byte, decode func([]byte) (T, error), f func(id string, v T)) error {
	return scan(db, []byte{ns}, func(k, v []byte) error {
		x, err := decode(v)
		if err != nil {
			return fmt.Errorf("localstore: key %q: %w", k, err)
		}
		f(string(k[1:]), x)
		return nil
	})
}

// decodeJSON decodes a JSON value into a fresh T.
func decodeJSON[T any](v []byte) (*T, error) {
	var x T
	err := json.Unmarshal(v, &x)
	return &x, err
}

// alertsOf returns (creating it) the alert state of target id.
func (st *state) alertsOf(id string) *targetAlerts {
	ta := st.alerts[id]
	if ta == nil {
		ta = &targetAlerts{}
		ta.Type, ta.Name = splitID(id)
		st.alerts[id] = ta
	}
	return ta
}

// derive recomputes the alerts from the log.
func (ta *targetAlerts) derive() {
	ta.alerts = append(projections.Incidents(ta.Type, ta.Name, ta.log), ta.rec.Frozen...)
}
