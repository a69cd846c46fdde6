package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseTargets checks that ParseTargets never panics and either fails
// or returns targets that all pass ValidateTarget, with names unique per
// kind and no password in any error.
func FuzzParseTargets(f *testing.F) {
	if data, err := os.ReadFile(filepath.Join("testdata", "targets.yaml")); err == nil {
		f.Add(data)
	}
	seeds := []string{
		"",
		"targets: []",
		"targets: [{name: a, type: redis, host: h}]",
		"targets: [{name: a, type: nacos, addresses: ['[::1]:8848', 'n']}]",
		"targets: [{name: a, type: elasticsearch, hosts: ['http://[::1]:9200']}]",
		"defaults: {interval: 1s, timeout: 500ms}\ntargets: [{name: a, type: postgres, host: h, degraded: {conn_ratio: 1}}]",
		"targets: [{name: a, type: rabbitmq, host: h, vhost: v, management_url: 'http://h:15672'}]",
		"targets: [{name: a, type: redis, host: h}, {name: a, type: redis, host: h}]",
		"targets: [{name: a, type: milvus, host: '::1', port: 65535, interval: 1ns}]",
		"targets:\n- name: a\n  type: postgres\n  host: h\n  password: &p x\n  username: *p\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ParseTargets(data, testDefaults)
		if err != nil {
			if got != nil {
				t.Fatalf("targets returned with an error")
			}
			return
		}
		seen := map[string]bool{}
		for _, tg := range got {
			if err := ValidateTarget(tg); err != nil {
				t.Fatalf("ParseTargets returned an invalid target %s: %v", tg.ID(), err)
			}
			if seen[tg.ID()] {
				t.Fatalf("duplicate target %s", tg.ID())
			}
			seen[tg.ID()] = true
			if p := tg.Password.Reveal(); len(p) >= 3 && strings.Contains(tg.String(), p) {
				t.Fatalf("String() shows the password")
			}
		}
	})
}
