package localstore

import (
	"encoding/binary"
	"strconv"
	"strings"

	"github.com/dbhealth/database-service/projections"
)

// Every key starts with a namespace byte. Per-target keys follow it with
// tkey(id) and big-endian numbers, so one target's keys are contiguous and
// ordered by slot (or hour, or epoch and seq): the id's length as a
// uvarint, then the id, so no id is a prefix of another's key whatever
// bytes a name holds. Other keys follow the namespace with the id.
const (
	nsMeta     = 'C' // "C" -> the last slot issued (8 bytes)
	nsMachine  = 'm' // id -> projections.Machine
	nsStatus   = 's' // id -> statusRec
	nsHistMeta = 'H' // id -> histMeta
	nsAlerts   = 'a' // id -> alertsRec (JSON)
	nsTomb     = 'x' // id -> forget time in ms (8 bytes)
	nsOutbox   = 'o' // seq (8 bytes) -> events.StateChanged (JSON)
	nsHist     = 'h' // tkey+slot -> historyValue
	nsRoll     = 'r' // tkey+hour -> rollup (text)
	nsLog      = 't' // tkey+epoch+seq -> projections.Transition (JSON)
)

// idKey is ns followed by id.
func idKey(ns byte, id string) []byte { return append([]byte{ns}, id...) }

// tkey is the prefix of target id's keys in namespace ns.
func tkey(ns byte, id string) []byte {
	b := binary.AppendUvarint(append(make([]byte, 0, len(id)+binary.MaxVarintLen16+17), ns), uint64(len(id)))
	return append(b, id...)
}

// slotKey is tkey followed by a slot (or an hour) in ms.
func slotKey(ns byte, id string, slot int64) []byte {
	return binary.BigEndian.AppendUint64(tkey(ns, id), uint64(slot))
}

// logKey is target id's log key of (epoch, seq).
func logKey(id string, epoch, seq int64) []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(tkey(nsLog, id), uint64(epoch)), uint64(seq))
}

// prefixEnd is the first key after every key starting with p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i]++; end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil // p is all 0xff: no upper bound
}

// splitTKey splits a per-target key into the id and what follows.
func splitTKey(k []byte) (id string, rest []byte, ok bool) {
	if len(k) == 0 {
		return "", nil, false
	}
	k = k[1:]
	n, w := binary.Uvarint(k)
	if w <= 0 || uint64(len(k)-w) < n {
		return "", nil, false
	}
	return string(k[w : w+int(n)]), k[w+int(n):], true
}

// tailInt is the big-endian number ending a per-target key.
func tailInt(k []byte) int64 {
	if len(k) < 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(k[len(k)-8:]))
}

// splitID splits "<kind>/<name>".
func splitID(id string) (kind, name string) {
	kind, name, _ = strings.Cut(id, "/")
	return kind, name
}

// encodeRollup writes the counters, the slowest check (us) and the
// latency histogram as space-separated integers.
func encodeRollup(r projections.Rollup) []byte {
	b := make([]byte, 0, 64)
	for _, v := range []int64{r.Checks, r.Up, r.Degraded, r.Down, r.Errors, int64(r.MaxLatencyMS*1000 + 0.5)} {
		b = strconv.AppendInt(b, v, 10)
		b = append(b, ' ')
	}
	for i := range projections.LatencyBuckets {
		var v int64
		if i < len(r.Latency) {
			v = r.Latency[i]
		}
		b = strconv.AppendInt(b, v, 10)
		b = append(b, ' ')
	}
	return b[:len(b)-1]
}

// decodeRollup reads what encodeRollup wrote (missing numbers are 0).
func decodeRollup(hour int64, v []byte) projections.Rollup {
	n := make([]int64, 6+projections.LatencyBuckets)
	for i, f := range strings.Fields(string(v)) {
		if i == len(n) {
			break
		}
		n[i], _ = strconv.ParseInt(f, 10, 64)
	}
	return projections.Rollup{
		Hour: timeMS(hour), Checks: n[0], Up: n[1], Degraded: n[2], Down: n[3], Errors: n[4],
		MaxLatencyMS: float64(n[5]) / 1000, Latency: n[6:],
	}
}
