package consumers_test

import (
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dbhealth/database-service/events/bus"
	"github.com/dbhealth/database-service/projections/consumers"
	"github.com/dbhealth/database-service/projections/localstore"
)

// fakeBus records the groups added.
type fakeBus struct {
	groups, checkGroups []string
}

func (b *fakeBus) AddConsumer(group string, _ []string, h bus.Handler) error {
	b.groups = append(b.groups, group)
	return nil
}

func (b *fakeBus) AddCheckConsumer(group string, _ []string, h bus.CheckHandler) error {
	b.checkGroups = append(b.checkGroups, group)
	return nil
}

func TestAdd(t *testing.T) {
	st, err := localstore.Open(t.TempDir(), localstore.Options{Replica: "r1", Source: "/test"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st.Close() }()
	b := &fakeBus{}
	reg := prometheus.NewRegistry()
	if err := consumers.Add(b, st, reg); err != nil {
		t.Fatal(err)
	}
	if len(b.checkGroups) != 1 || len(b.groups) != 2 || slices.Contains(b.groups, b.checkGroups[0]) {
		t.Errorf("check groups %v, groups %v: want one batch group and two others", b.checkGroups, b.groups)
	}
	if err := consumers.Add(b, st, reg); err == nil {
		t.Error("a second Add on the same registry succeeded; want the duplicate metrics refused")
	}
}
