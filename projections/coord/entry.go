package coord

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/dbhealth/database-service/events"
)

// transitionFromEntry rebuilds a StateChanged from an outbox entry written
// by applyScript.
func transitionFromEntry(v map[string]any) (events.StateChanged, error) {
	str := func(k string) string { s, _ := v[k].(string); return s }
	sc := events.StateChanged{
		Target:  events.TargetRef{Type: str("type"), Name: str("name")},
		From:    str("from"),
		To:      str("to"),
		Reason:  str("reason"),
		Seq:     parseInt(v["seq"]),
		Epoch:   parseInt(v["epoch"]),
		At:      time.UnixMilli(parseInt(v["at"])).UTC(),
		Initial: str("initial") == "1",
	}
	if c := str("check"); c != "" {
		if err := json.Unmarshal([]byte(c), &sc.Check); err != nil {
			return sc, fmt.Errorf("check: %w", err)
		}
	}
	if sc.Target.Type == "" || sc.Target.Name == "" || sc.To == "" || sc.Seq < 1 {
		return sc, fmt.Errorf("incomplete entry %v", v)
	}
	return sc, nil
}
