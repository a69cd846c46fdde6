package localstore

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/dbhealth/database-service/projections"
)

func TestCodecRoundTrips(t *testing.T) {
	st := &statusRec{Type: "redis", Name: "a|b:c", HasState: true, Epoch: 7, Seq: -1, State: "DOWN", Since: 123, Reason: "é\x00x",
		HasCheck: true, Slot: 99, CheckedAt: 456, LatencyMS: 1.25, ErrorKind: "timeout", Error: "no answer", Prober: "r1",
		Details: json.RawMessage(`{"version":"7.0"}`)}
	if got, err := decodeStatus(st.encode()); err != nil || !reflect.DeepEqual(got, st) {
		t.Fatalf("status %+v, %v", got, err)
	}
	m := projections.Machine{Stable: "UP", Cand: "DOWN", Count: 2, CandReason: "refused", Seq: 5, Epoch: 1700000000000, LastSlot: 42, Since: 41}
	if got, err := decodeMachine(encodeMachine(m)); err != nil || got != m {
		t.Fatalf("machine %+v, %v", got, err)
	}
	hm := &histMeta{Type: "postgres", Name: "x", Count: 10, Newest: 1 << 40}
	if got, err := decodeHistMeta(hm.encode()); err != nil || *got != *hm {
		t.Fatalf("history meta %+v, %v", got, err)
	}
	h := historyValue{State: "UP", CheckedAt: 1, LatencyMS: 0.5, Prober: "p"}
	if got, err := decodeHistory(h.encode()); err != nil || got != h {
		t.Fatalf("history %+v, %v", got, err)
	}
	for _, bad := range [][]byte{nil, {}, {9}, {codecVersion, 200}, st.encode()[:10]} {
		if _, err := decodeStatus(bad); err == nil {
			t.Errorf("decodeStatus(%v) accepted", bad)
		}
	}
}

func FuzzDecodeStatus(f *testing.F) {
	f.Add((&statusRec{Type: "redis", Name: "a"}).encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeStatus(b)
		if err != nil {
			return
		}
		if again, err := decodeStatus(r.encode()); err != nil || !reflect.DeepEqual(again, r) {
			t.Fatalf("re-encoding %+v gave %+v, %v", r, again, err)
		}
	})
}
