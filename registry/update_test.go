package registry

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
)

func TestUpdateRequestValidate(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	many := func(n int) map[string]string {
		m := map[string]string{}
		for i := range n {
			m["k"+strconv.Itoa(i)] = "v"
		}
		return m
	}
	tests := []struct {
		name    string
		req     UpdateRequest
		current map[string]string
		field   string // "" means valid
	}{
		{"empty", UpdateRequest{}, nil, ""},
		{"metadata and weight", UpdateRequest{Metadata: map[string]string{"zone": "a", "rack_1.x-y": "b"}, Weight: f(1000)}, nil, ""},
		{"weight zero", UpdateRequest{Weight: f(0)}, nil, ""},
		{"weight negative", UpdateRequest{Weight: f(-1)}, nil, "weight"},
		{"weight too big", UpdateRequest{Weight: f(1000.5)}, nil, "weight"},
		{"weight NaN", UpdateRequest{Weight: f(math.NaN())}, nil, "weight"},
		{"key with space", UpdateRequest{Metadata: map[string]string{"bad key": "v"}}, nil, "metadata"},
		{"empty key", UpdateRequest{Metadata: map[string]string{"": "v"}}, nil, "metadata"},
		{"key too long", UpdateRequest{Metadata: map[string]string{strings.Repeat("k", 65): "v"}}, nil, "metadata"},
		{"key of 64", UpdateRequest{Metadata: map[string]string{strings.Repeat("k", 64): "v"}}, nil, ""},
		{"value too long", UpdateRequest{Metadata: map[string]string{"zone": strings.Repeat("v", 257)}}, nil, "metadata.zone"},
		{"value of 256", UpdateRequest{Metadata: map[string]string{"zone": strings.Repeat("v", 256)}}, nil, ""},
		{"reserved version", UpdateRequest{Metadata: map[string]string{"version": "x"}}, nil, "metadata.version"},
		{"reserved replica_id", UpdateRequest{Metadata: map[string]string{"replica_id": "x"}}, nil, "metadata.replica_id"},
		{"reserved roles", UpdateRequest{Metadata: map[string]string{"roles": ""}}, nil, "metadata.roles"},
		{"reserved started_at", UpdateRequest{Metadata: map[string]string{"started_at": "x"}}, nil, "metadata.started_at"},
		{"32 keys", UpdateRequest{Metadata: many(32)}, nil, ""},
		{"33 keys", UpdateRequest{Metadata: many(33)}, nil, "metadata"},
		{"merge over the limit", UpdateRequest{Metadata: map[string]string{"new": "v"}}, many(32), "metadata"},
		{"replace at the limit", UpdateRequest{Metadata: map[string]string{"k0": "w"}}, many(32), ""},
		{"delete makes room", UpdateRequest{Metadata: map[string]string{"k0": "", "new": "v"}}, many(32), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.req.validate(tt.current)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("want a ValidationError on %q, got %v", tt.field, err)
			}
			if ve.Field != tt.field || ve.Message == "" {
				t.Fatalf("field %q message %q, want field %q", ve.Field, ve.Message, tt.field)
			}
		})
	}
}

func TestNewValidatesConfig(t *testing.T) {
	ok := Config{Enabled: true, Servers: []string{"127.0.0.1:8848"}, ServiceName: "svc", Port: 8089, IP: "10.0.0.1"}
	tests := []struct {
		name string
		mod  func(*Config)
		bad  bool
	}{
		{"valid", func(*Config) {}, false},
		{"no server", func(c *Config) { c.Servers = nil }, true},
		{"server without port", func(c *Config) { c.Servers = []string{"nacos"} }, true},
		{"gRPC port out of range", func(c *Config) { c.Servers = []string{"nacos:65000"} }, true},
		{"no service name", func(c *Config) { c.ServiceName = "" }, true},
		{"port 0", func(c *Config) { c.Port = 0 }, true},
		{"bad IP", func(c *Config) { c.IP = "not-an-ip" }, true},
		{"disabled needs nothing", func(c *Config) { *c = Config{} }, false},
		{"http prefix tolerated", func(c *Config) { c.Servers = []string{"http://127.0.0.1:8848/"} }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			tt.mod(&cfg)
			_, err := New(cfg, nil)
			if (err != nil) != tt.bad {
				t.Fatalf("New: %v, want error %v", err, tt.bad)
			}
		})
	}
}

func TestDefaultIP(t *testing.T) {
	r, err := New(Config{Enabled: true, Servers: []string{"127.0.0.1:8848"}, ServiceName: "svc", Port: 8089}, nil)
	if err != nil {
		t.Skipf("no non-loopback address here: %v", err)
	}
	st := r.Status()
	if st.IP == "" || st.IP == "127.0.0.1" || !strings.HasPrefix(st.InstanceID, st.IP+"#8089#DEFAULT#DEFAULT_GROUP@@svc") {
		t.Fatalf("ip %q instance id %q", st.IP, st.InstanceID)
	}
}
