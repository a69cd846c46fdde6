package boltstore

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/projections"
)

// Buckets of the file. Per-target keys start with tkey(id) (see keys.go).
var (
	bMeta     = []byte("meta")     // "clock" -> last slot issued (8 bytes)
	bMachines = []byte("machines") // id -> projections.Machine (JSON)
	bStatus   = []byte("status")   // id -> statusRec (JSON)
	bHist     = []byte("hist")     // tkey(id)+slot -> historyValue (JSON)
	bHistMeta = []byte("hmeta")    // id -> histMeta (JSON)
	bRoll     = []byte("roll")     // tkey(id)+hour -> rollup (text)
	bTLog     = []byte("tlog")     // tkey(id)+epoch+seq -> projections.Transition (JSON)
	bAlerts   = []byte("alerts")   // id -> alertsRec (JSON)
	bTombs    = []byte("tombs")    // id -> forget time in ms (8 bytes)
	bOutbox   = []byte("outbox")   // seq (8 bytes) -> events.StateChanged (JSON)
	buckets   = [][]byte{bMeta, bMachines, bStatus, bHist, bHistMeta, bRoll, bTLog, bAlerts, bTombs, bOutbox}
	keyClock  = []byte("clock")
)

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

// load reads the file into memory.
func (s *Store) load() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range buckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("boltstore: bucket %s: %w", b, err)
			}
		}
		st := &s.st
		if v := tx.Bucket(bMeta).Get(keyClock); len(v) == 8 {
			st.clock = int64(binary.BigEndian.Uint64(v))
		}
		if err := each(tx.Bucket(bMachines), decodeMachine, func(k []byte, m projections.Machine) {
			st.machines[string(k)] = m
		}); err != nil {
			return err
		}
		if err := each(tx.Bucket(bStatus), decodeStatus, func(k []byte, r *statusRec) { st.status[string(k)] = r }); err != nil {
			return err
		}
		if err := each(tx.Bucket(bHistMeta), decodeHistMeta, func(k []byte, m *histMeta) { st.hist[string(k)] = m }); err != nil {
			return err
		}
		if err := eachJSON(tx.Bucket(bAlerts), func(k []byte, r *alertsRec) {
			st.alertsOf(string(k)).rec = *r
		}); err != nil {
			return err
		}
		if err := eachJSON(tx.Bucket(bTLog), func(k []byte, t *projections.Transition) {
			id, _, ok := splitTKey(k)
			if ok {
				ta := st.alertsOf(id)
				ta.log = append(ta.log, *t)
			}
		}); err != nil {
			return err
		}
		for id, ta := range st.alerts {
			ta.Type, ta.Name = splitID(id)
			ta.derive()
		}
		_ = tx.Bucket(bTombs).ForEach(func(k, v []byte) error {
			if len(v) == 8 {
				st.tombs[string(k)] = int64(binary.BigEndian.Uint64(v))
			}
			return nil
		})
		return eachJSON(tx.Bucket(bOutbox), func(k []byte, sc *events.StateChanged) {
			seq := binary.BigEndian.Uint64(k)
			st.out = append(st.out, outboxEntry{seq: seq, sc: *sc})
			st.outSeq, st.durableOutbox = max(st.outSeq, seq), max(st.durableOutbox, seq)
		})
	})
}

// eachJSON decodes every value of b into a fresh T and passes it to f.
func eachJSON[T any](b *bolt.Bucket, f func(k []byte, v *T)) error {
	return each(b, func(v []byte) (*T, error) {
		var x T
		err := json.Unmarshal(v, &x)
		return &x, err
	}, f)
}

// each decodes every value of b and passes it to f.
func each[T any](b *bolt.Bucket, decode func([]byte) (T, error), f func(k []byte, v T)) error {
	return b.ForEach(func(k, v []byte) error {
		x, err := decode(v)
		if err != nil {
			return fmt.Errorf("boltstore: key %q: %w", k, err)
		}
		f(k, x)
		return nil
	})
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
