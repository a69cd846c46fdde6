package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/dbhealth/database-service/probes"
)

func TestMergeTargets(t *testing.T) {
	c := mustLoad(t, map[string]string{
		"POSTGRES_ENABLED": "false", "ELASTICSEARCH_ENABLED": "false", "MILVUS_ENABLED": "false",
		"NACOS_ENABLED": "false", "RABBITMQ_ENABLED": "false",
	}, nil)
	doc := func(t *testing.T, yaml string) []probes.Target {
		t.Helper()
		ts, err := c.DocTargets([]byte(yaml))
		if err != nil {
			t.Fatalf("DocTargets: %v", err)
		}
		return ts
	}
	const fileSrc, nacosSrc = "file:/t.yaml", "nacos:dbsvc"
	ids := func(ts []probes.Target) []string {
		var out []string
		for _, tg := range ts {
			out = append(out, tg.ID())
		}
		return out
	}

	tests := []struct {
		name     string
		file     string
		nacos    string
		want     []string
		sources  map[string]string
		conflict []string // target ids the error must name
	}{
		{
			name:  "disjoint sources add up",
			file:  "targets: [{name: a, type: postgres, host: h}]",
			nacos: "targets: [{name: b, type: redis, host: h}]",
			want:  []string{"redis/redis", "postgres/a", "redis/b"},
			sources: map[string]string{
				"redis/redis": "variables REDIS_*", "postgres/a": fileSrc, "redis/b": nacosSrc,
			},
		},
		{
			name:    "identical definitions are one target",
			file:    "targets: [{name: a, type: postgres, host: h, password: s3cret}]",
			nacos:   "targets: [{name: a, type: postgres, host: h, password: s3cret}, {name: b, type: redis, host: h}]",
			want:    []string{"redis/redis", "postgres/a", "redis/b"},
			sources: map[string]string{"postgres/a": fileSrc + " and " + nacosSrc, "redis/b": nacosSrc},
		},
		{
			name:  "a same name of another kind is another target",
			file:  "targets: [{name: a, type: postgres, host: h}]",
			nacos: "targets: [{name: a, type: redis, host: h}]",
			want:  []string{"redis/redis", "postgres/a", "redis/a"},
		},
		{
			name:     "different settings conflict",
			file:     "targets: [{name: a, type: postgres, host: h1, password: s3cret}, {name: b, type: redis, host: h}]",
			nacos:    "targets: [{name: a, type: postgres, host: h2, password: s3cret}, {name: b, type: redis, host: h, interval: 45s}]",
			conflict: []string{"postgres/a", "redis/b"},
		},
		{
			name:     "a different password alone conflicts",
			file:     "targets: [{name: a, type: postgres, host: h, password: pw-first}]",
			nacos:    "targets: [{name: a, type: postgres, host: h, password: pw-second}]",
			conflict: []string{"postgres/a"},
		},
		{
			name: "an empty source adds nothing",
			file: "targets: [{name: a, type: postgres, host: h}]",
			want: []string{"redis/redis", "postgres/a"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, sources, err := c.MergeTargets(
				TargetSet{Source: fileSrc, Targets: doc(t, tc.file)},
				TargetSet{Source: nacosSrc, Targets: doc(t, tc.nacos)},
			)
			if tc.conflict != nil {
				if !errors.Is(err, ErrTargetConflict) {
					t.Fatalf("err %v, want ErrTargetConflict", err)
				}
				for _, id := range tc.conflict {
					if !strings.Contains(err.Error(), id+" is defined by "+fileSrc+" and by "+nacosSrc) {
						t.Errorf("error does not name %s and both sources: %v", id, err)
					}
				}
				for _, s := range []string{"s3cret", "pw-first", "pw-second"} {
					if strings.Contains(err.Error(), s) {
						t.Errorf("error shows a setting (%s): %v", s, err)
					}
				}
				if got != nil || sources != nil {
					t.Errorf("a conflict returned a set: %v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ids(got), tc.want) {
				t.Errorf("targets %v, want %v", ids(got), tc.want)
			}
			for id, want := range tc.sources {
				if sources[id] != want {
					t.Errorf("source of %s = %q, want %q", id, sources[id], want)
				}
			}
			if len(sources) != len(got) {
				t.Errorf("sources %v for %d targets", sources, len(got))
			}
		})
	}
}

func TestMergeTargetsDefaultClash(t *testing.T) {
	c := mustLoad(t, nil, nil)
	// A set that bypassed DocTargets still cannot redefine a default.
	pg := c.DefaultTargets()[0]
	pg.Host = "elsewhere"
	_, _, err := c.MergeTargets(TargetSet{Source: "nacos:x", Targets: []probes.Target{pg}})
	if !errors.Is(err, ErrTargetConflict) || !strings.Contains(err.Error(), "postgres/postgres is defined by variables POSTGRES_* and by nacos:x") {
		t.Fatalf("err %v", err)
	}
	if _, _, err := c.MergeTargets(TargetSet{Source: "nacos:x", Targets: c.DefaultTargets()[:1]}); err != nil {
		t.Fatalf("an identical default is no conflict: %v", err)
	}
}
