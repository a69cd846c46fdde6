package service

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dbhealth/database-service/api"
	"github.com/dbhealth/database-service/probes"
)

func TestProbeTester(t *testing.T) {
	ts := []probes.Target{{Kind: probes.Redis, Name: "a"}, {Kind: probes.Redis, Name: "b"}, {Kind: probes.Postgres, Name: "a"}}
	var asked []probes.Target
	p := probeTester{
		Targets: func() []probes.Target { return ts },
		TestNow: func(_ context.Context, ts []probes.Target) ([]probes.Result, error) {
			asked = ts
			out := make([]probes.Result, len(ts))
			for i, t := range ts {
				out[i] = probes.Result{Target: t, State: probes.StateUp, Latency: 1500 * time.Microsecond}
			}
			return out, nil
		},
	}
	got, err := p.Test(t.Context(), probes.Redis, "")
	if err != nil || len(got) != 2 || len(asked) != 2 || got[0].Name != "a" || got[0].LatencyMS != 1.5 || got[1].State != "UP" {
		t.Errorf("Test(redis) = %+v, %v (asked %v), want a and b UP", got, err, asked)
	}
	if _, err := p.Test(t.Context(), probes.Redis, "c"); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("an unknown name: %v, want api.ErrNotFound (404)", err)
	}
	if got, err := p.Test(t.Context(), probes.Milvus, ""); err != nil || got == nil || len(got) != 0 {
		t.Errorf("a kind without targets: %v, %v, want an empty slice", got, err)
	}
}
