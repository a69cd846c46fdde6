package boltstore

import (
	"encoding/binary"
	"strconv"
	"strings"

	"github.com/dbhealth/database-service/projections"
)

// Per-target keys are tkey(id) followed by big-endian numbers, so one
// target's keys are contiguous and ordered by slot (or hour, or epoch and
// seq). tkey is the id's length as a uvarint, then the id: no id is a
// prefix of another's key, whatever bytes a name holds.

func tkey(id string) []byte {
	b := binary.AppendUvarint(make([]byte, 0, len(id)+binary.MaxVarintLen16+16), uint64(len(id)))
	return append(b, id...)
}

// slotKey is tkey(id) followed by a slot (or an hour) in ms.
func slotKey(id string, slot int64) []byte {
	return binary.BigEndian.AppendUint64(tkey(id), uint64(slot))
}

// logKey is tkey(id) followed by epoch and seq.
func logKey(id string, epoch, seq int64) []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(tkey(id), uint64(epoch)), uint64(seq))
}

// splitTKey splits a per-target key into the id and what follows.
func splitTKey(k []byte) (id string, rest []byte, ok bool) {
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
