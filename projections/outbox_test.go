package projections

import (
	"log/slog"
	"testing"
	"time"

	"github.com/dbhealth/database-service/testsupport/logrec"
)

const outboxFullMsg = "outbox full: transitions refused until the relay drains it"

// The ERROR line comes at the first refusal of an episode and then once a
// minute while refusals go on; an admitted transition ends the episode,
// and the next refusal starts another with a line at once.
func TestOutboxLimitLogsOncePerEpisode(t *testing.T) {
	log, rec := logrec.New()
	l := NewOutboxLimit(10, log)
	now := time.Unix(1_700_000_000, 0)
	l.now = func() time.Time { return now }
	errors := func() int { return len(rec.Records(slog.LevelError, outboxFullMsg)) }

	l.Refused(2, 10)
	l.Refused(1, 11)
	if errors() != 1 {
		t.Fatalf("%d ERROR lines after the first refusals, want 1", errors())
	}
	r := rec.Records(slog.LevelError, outboxFullMsg)[0]
	if r.Attrs["length"] != int64(10) || r.Attrs["max"] != int64(10) || r.Attrs["setting"] != "OUTBOX_MAX_LENGTH" {
		t.Fatalf("ERROR line %+v", r.Attrs)
	}
	now = now.Add(outboxFullRemind)
	l.Refused(1, 10)
	if errors() != 2 {
		t.Fatalf("%d ERROR lines after a minute of refusals, want a reminder", errors())
	}
	if got := rec.Records(slog.LevelError, outboxFullMsg)[1].Attrs["refused"]; got != int64(2) {
		t.Fatalf("the reminder counts %v refusals, want 2 (since the last line)", got)
	}
	l.Admitted()
	l.Admitted()
	if n := len(rec.Records(slog.LevelInfo, "outbox below its cap again; transitions accepted")); n != 1 {
		t.Fatalf("%d lines at the end of the episode, want 1", n)
	}
	l.Refused(1, 10) // a new episode, within the minute
	if errors() != 3 {
		t.Fatalf("%d ERROR lines, want one more for the new episode", errors())
	}
	if l.RefusedTotal() != 5 || l.Max() != 10 {
		t.Fatalf("RefusedTotal %d Max %d", l.RefusedTotal(), l.Max())
	}
	var none *OutboxLimit
	none.Refused(1, 1)
	none.Admitted()
	if none.Max() != 0 || none.RefusedTotal() != 0 {
		t.Fatal("a nil limit is no cap")
	}
}

// DecideCapped refuses exactly the steps that would move while the
// outbox is full, and leaves the machine as it was.
func TestDecideCapped(t *testing.T) {
	th := Thresholds{Failure: 2, Success: 1}
	m := NewMachine(1)
	m, st := DecideCapped(m, Observation{Slot: 1, State: StateUp}, th, 5, 5)
	if !st.Refused || st.Applied || m != NewMachine(1) {
		t.Fatalf("initial step under a full outbox: %+v %+v", st, m)
	}
	m, st = DecideCapped(m, Observation{Slot: 2, State: StateUp}, th, 4, 5)
	if st.Refused || !st.Moved || m.Stable != StateUp {
		t.Fatalf("below the cap: %+v %+v", st, m)
	}
	m, st = DecideCapped(m, Observation{Slot: 3, State: StateDown}, th, 9, 5)
	if st.Refused || !st.Pending || m.Count != 1 {
		t.Fatalf("a step that does not move is never refused: %+v %+v", st, m)
	}
	before := m
	m, st = DecideCapped(m, Observation{Slot: 4, State: StateDown}, th, 5, 5)
	if !st.Refused || !st.Pending || m != before {
		t.Fatalf("refused move: %+v %+v", st, m)
	}
	if _, st = DecideCapped(m, Observation{Slot: 5, State: StateDown}, th, 5, 0); !st.Moved {
		t.Fatalf("no cap: %+v", st)
	}
}
