package localstore

import (
	"encoding/binary"
	"errors"
	"math"

	"github.com/dbhealth/database-service/projections"
)

// The records written on every commit (one per target per check: status,
// transition state, history summary, history entry) use a small binary
// form rather than JSON: varints and length-prefixed strings, a version
// byte first. Rare records (alerts, transitions, the outbox) stay JSON.

const codecVersion = 1

var errCodec = errors.New("localstore: malformed record")

type enc []byte

func (e enc) str(s string) enc   { return append(binary.AppendUvarint(e, uint64(len(s))), s...) }
func (e enc) bytes(b []byte) enc { return append(binary.AppendUvarint(e, uint64(len(b))), b...) }
func (e enc) int(n int64) enc    { return binary.AppendVarint(e, n) }
func (e enc) f64(f float64) enc  { return binary.LittleEndian.AppendUint64(e, math.Float64bits(f)) }
func (e enc) bool(b bool) enc {
	if b {
		return append(e, 1)
	}
	return append(e, 0)
}

type dec struct {
	b   []byte
	err error
}

func newDec(b []byte) *dec {
	d := &dec{b: b}
	if len(b) == 0 || b[0] != codecVersion {
		d.err = errCodec
		return d
	}
	d.b = b[1:]
	return d
}

func (d *dec) bytes() []byte {
	n, w := binary.Uvarint(d.b)
	if w <= 0 || uint64(len(d.b)-w) < n {
		d.err, d.b = errCodec, nil
		return nil
	}
	v := d.b[w : w+int(n)]
	d.b = d.b[w+int(n):]
	return v
}

func (d *dec) str() string { return string(d.bytes()) }

func (d *dec) int() int64 {
	n, w := binary.Varint(d.b)
	if w <= 0 {
		d.err, d.b = errCodec, nil
		return 0
	}
	d.b = d.b[w:]
	return n
}

func (d *dec) f64() float64 {
	if len(d.b) < 8 {
		d.err, d.b = errCodec, nil
		return 0
	}
	f := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
	d.b = d.b[8:]
	return f
}

func (d *dec) bool() bool {
	if len(d.b) < 1 {
		d.err, d.b = errCodec, nil
		return false
	}
	v := d.b[0] == 1
	d.b = d.b[1:]
	return v
}

func (r *statusRec) encode() []byte {
	e := enc{codecVersion}.str(r.Type).str(r.Name).
		bool(r.HasState).int(r.Epoch).int(r.Seq).str(r.State).int(r.Since).str(r.Reason).
		bool(r.HasCheck).int(r.Slot).int(r.CheckedAt).f64(r.LatencyMS).str(r.ErrorKind).str(r.Error).str(r.Prober).bytes(r.Details)
	return e
}

func decodeStatus(b []byte) (*statusRec, error) {
	d := newDec(b)
	r := &statusRec{Type: d.str(), Name: d.str(),
		HasState: d.bool(), Epoch: d.int(), Seq: d.int(), State: d.str(), Since: d.int(), Reason: d.str(),
		HasCheck: d.bool(), Slot: d.int(), CheckedAt: d.int(), LatencyMS: d.f64(), ErrorKind: d.str(), Error: d.str(), Prober: d.str()}
	if details := d.bytes(); len(details) > 0 {
		r.Details = append([]byte(nil), details...)
	}
	return r, d.err
}

func encodeMachine(m projections.Machine) []byte {
	return enc{codecVersion}.str(m.Stable).str(m.Cand).int(int64(m.Count)).str(m.CandReason).
		int(m.Seq).int(m.Epoch).int(m.LastSlot).int(m.Since)
}

func decodeMachine(b []byte) (projections.Machine, error) {
	d := newDec(b)
	m := projections.Machine{Stable: d.str(), Cand: d.str(), Count: int(d.int()), CandReason: d.str(),
		Seq: d.int(), Epoch: d.int(), LastSlot: d.int(), Since: d.int()}
	return m, d.err
}

func (m *histMeta) encode() []byte {
	return enc{codecVersion}.str(m.Type).str(m.Name).int(m.Count).int(m.Newest)
}

func decodeHistMeta(b []byte) (*histMeta, error) {
	d := newDec(b)
	m := &histMeta{Type: d.str(), Name: d.str(), Count: d.int(), Newest: d.int()}
	return m, d.err
}

// historyValue is the stored form of a history entry; the slot is the key.
type historyValue struct {
	State     string
	CheckedAt int64 // Unix ns
	LatencyMS float64
	ErrorKind string
	Error     string
	Prober    string
}

func (h historyValue) encode() []byte {
	return enc{codecVersion}.str(h.State).int(h.CheckedAt).f64(h.LatencyMS).str(h.ErrorKind).str(h.Error).str(h.Prober)
}

func decodeHistory(b []byte) (historyValue, error) {
	d := newDec(b)
	h := historyValue{State: d.str(), CheckedAt: d.int(), LatencyMS: d.f64(), ErrorKind: d.str(), Error: d.str(), Prober: d.str()}
	return h, d.err
}
