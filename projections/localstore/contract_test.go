package localstore

import (
	"testing"

	"github.com/dbhealth/database-service/projections/storetest"
)

// openTest opens a store in a fresh directory, closed after the test.
func openTest(t testing.TB, opts Options) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestContract runs the read-model store contract on the embedded store.
func TestContract(t *testing.T) {
	storetest.Run(t, storetest.Backend{
		Name: "local",
		Open: func(t testing.TB, o storetest.Options) storetest.Store {
			return openTest(t, Options{HistoryMaxEntries: int(o.HistoryMaxEntries), HistoryRetention: o.HistoryRetention,
				AlertRetention: o.AlertRetention, Now: o.Now})
		},
		Settle:     func(s storetest.Store) { s.(*Store).sweep() },
		HistoryLen: func(s storetest.Store, kind, name string) int { return s.(*Store).historyLen(kind + "/" + name) },
		RollupHours: func(s storetest.Store, kind, name string) []int64 {
			return s.(*Store).rollupHours(kind + "/" + name)
		},
		AlertKept: func(s storetest.Store, id, kind, name string) bool {
			st := s.(*Store)
			_ = st.flush()
			kept := false
			_ = scan(st.db, tkey(nsLog, kind+"/"+name), func(k, _ []byte) error {
				kept = kept || tailInt(k[:len(k)-8]) == 1
				return nil
			})
			st.mu.Lock()
			defer st.mu.Unlock()
			if ta := st.st.alerts[kind+"/"+name]; ta != nil {
				for _, a := range ta.alerts {
					kept = kept || a.ID == id
				}
			}
			return kept
		},
		LateInHistory: true,
	})
}
