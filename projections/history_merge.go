package projections

import (
	"fmt"
	"math"
)

// History query limits.
const (
	DefaultHistoryLimit = 100
	MaxHistoryLimit     = 1000
)

// HistoryEntry is one history item with its slot.
type HistoryEntry struct {
	Slot int64
	Item HistoryItem
}

// before reports whether a comes before b in history order: slot
// descending, then name ascending.
func (a HistoryEntry) before(b HistoryEntry) bool {
	if a.Slot != b.Slot {
		return a.Slot > b.Slot
	}
	return a.Item.Name < b.Item.Name
}

// HistoryStream is one target's history being read newest first, a chunk
// at a time, by a store's refill function.
type HistoryStream struct {
	// Name is the target's name.
	Name string
	// Lo and Hi bound the slots still to read (inclusive).
	Lo, Hi int64
	// Chunk is how many entries the next read should fetch at most.
	Chunk int64
	buf   []HistoryEntry
	done  bool
}

// Took records the entries (newest first, slots in [Lo, Hi]) a chunked
// read returned; fewer than Chunk means the stream is exhausted.
func (st *HistoryStream) Took(es []HistoryEntry) {
	st.buf = append(st.buf, es...)
	if len(es) > 0 {
		st.Hi = es[len(es)-1].Slot - 1
	}
	if int64(len(es)) < st.Chunk || st.Hi < st.Lo {
		st.done = true
	}
	st.Chunk = min(st.Chunk*2, MaxHistoryLimit+1)
}

// HistoryPlan is a validated history query: the streams to merge.
type HistoryPlan struct {
	Kind    string
	Limit   int
	Streams []*HistoryStream
}

// PlanHistory validates q for the targets named (q.Name alone when set)
// and prepares one stream per target. Limit is clamped to
// 1..MaxHistoryLimit (DefaultHistoryLimit when 0); Since and Until bound
// the slots inclusively; a malformed cursor is an error wrapping
// ErrBadCursor, a missing type one wrapping ErrBadQuery.
func PlanHistory(q HistoryQuery, names []string) (HistoryPlan, error) {
	if q.Type == "" {
		return HistoryPlan{}, fmt.Errorf("%w: history needs a type", ErrBadQuery)
	}
	limit := min(positiveOr(q.Limit, DefaultHistoryLimit), MaxHistoryLimit)
	var cur *Cursor
	if q.Cursor != "" {
		c, err := DecodeCursor(q.Cursor)
		if err != nil {
			return HistoryPlan{}, err
		}
		cur = &c
	}
	if q.Name != "" {
		names = []string{q.Name}
	}
	lo := int64(0)
	if !q.Since.IsZero() {
		lo = max(q.Since.UnixMilli(), 0)
	}
	hi := int64(math.MaxInt64)
	if !q.Until.IsZero() {
		hi = q.Until.UnixMilli()
	}
	chunk := int64(limit + 1)
	if len(names) > 1 {
		chunk = min(chunk, max(8, 2*int64(limit+1)/int64(len(names))+1))
	}
	p := HistoryPlan{Kind: q.Type, Limit: limit}
	for _, n := range names {
		st := &HistoryStream{Name: n, Lo: lo, Hi: hi, Chunk: chunk}
		if cur != nil {
			if n > cur.Name {
				st.Hi = min(st.Hi, cur.Slot)
			} else {
				st.Hi = min(st.Hi, cur.Slot-1)
			}
		}
		st.done = st.Hi < lo
		p.Streams = append(p.Streams, st)
	}
	return p, nil
}

// Merge pops up to p.Limit entries in history order, calling refill with
// the streams whose buffer ran empty (each must end with Took), and
// returns the page with the cursor of the next one.
func (p HistoryPlan) Merge(refill func(need []*HistoryStream) error) (HistoryPage, error) {
	page := HistoryPage{Items: []HistoryItem{}}
	var last HistoryEntry
	for {
		var need []*HistoryStream
		for _, st := range p.Streams {
			if len(st.buf) == 0 && !st.done {
				need = append(need, st)
			}
		}
		if len(need) > 0 {
			if err := refill(need); err != nil {
				return HistoryPage{Items: []HistoryItem{}}, err
			}
		}
		var best *HistoryStream
		for _, st := range p.Streams {
			if len(st.buf) > 0 && (best == nil || st.buf[0].before(best.buf[0])) {
				best = st
			}
		}
		if best == nil {
			return page, nil
		}
		if len(page.Items) == p.Limit {
			page.Next = Cursor{Slot: last.Slot, Name: last.Item.Name}.Encode()
			return page, nil
		}
		last = best.buf[0]
		page.Items = append(page.Items, last.Item)
		best.buf = best.buf[1:]
	}
}
