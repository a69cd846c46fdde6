package logging

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dbhealth/database-service/config/secret"
)

func TestFormatFor(t *testing.T) {
	for env, want := range map[string]Format{"production": FormatJSON, "development": FormatText, "test": FormatText, "": FormatText} {
		if got := FormatFor(env); got != want {
			t.Errorf("FormatFor(%q) = %q, want %q", env, got, want)
		}
	}
}

func TestLevelAndFormat(t *testing.T) {
	tests := []struct {
		name      string
		opts      Options
		wantDebug bool
		wantJSON  bool
	}{
		{"text info", Options{}, false, false},
		{"text debug", Options{Debug: true}, true, false},
		{"json info", Options{Format: FormatJSON}, false, true},
		{"json debug", Options{Format: FormatJSON, Debug: true}, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tt.opts.Console = &buf
			log, closer, err := New(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer closer.Close()
			log.Debug("debug line", "k", 1)
			log.Info("info line", "password", secret.String("hunter2-canary"))
			out := buf.String()
			if got := strings.Contains(out, "debug line"); got != tt.wantDebug {
				t.Errorf("debug record logged = %v, want %v:\n%s", got, tt.wantDebug, out)
			}
			if !strings.Contains(out, "info line") {
				t.Fatalf("info record missing:\n%s", out)
			}
			if strings.Contains(out, "hunter2-canary") {
				t.Errorf("secret logged: %s", out)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			last := lines[len(lines)-1]
			var m map[string]any
			isJSON := json.Unmarshal([]byte(last), &m) == nil
			if isJSON != tt.wantJSON {
				t.Errorf("JSON = %v, want %v: %s", isJSON, tt.wantJSON, last)
			}
			if isJSON && (m["msg"] != "info line" || m["level"] != "INFO" || m["password"] != secret.Mask) {
				t.Errorf("JSON record %v", m)
			}
			if !isJSON && !strings.Contains(last, `level=INFO msg="info line" password=******`) {
				t.Errorf("text record %q", last)
			}
		})
	}
}

func TestLevelVarIsShared(t *testing.T) {
	var buf bytes.Buffer
	lv := new(slog.LevelVar)
	log, _, err := New(Options{Console: &buf, Level: lv})
	if err != nil {
		t.Fatal(err)
	}
	log.Debug("before")
	lv.Set(slog.LevelDebug)
	log.Debug("after")
	if out := buf.String(); strings.Contains(out, "before") || !strings.Contains(out, "after") {
		t.Errorf("level change not applied:\n%s", out)
	}
}

func TestFileOutput(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nested", "svc.log")
	var console bytes.Buffer
	log, closer, err := New(Options{Format: FormatJSON, Console: &console, File: path, MaxSizeMB: 1, MaxBackups: 2, MaxAgeDays: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("log file not created at start: %v", err)
	}
	log.With("target", "redis/redis").Info("probe done", "state", "UP")
	log.Debug("hidden")
	if err := closer.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"file": string(data), "console": console.String()} {
		var m map[string]any
		if err := json.Unmarshal(bytes.TrimSpace([]byte(out)), &m); err != nil {
			t.Fatalf("%s: not one JSON record: %q", name, out)
		}
		if m["msg"] != "probe done" || m["target"] != "redis/redis" || m["state"] != "UP" {
			t.Errorf("%s record %v", name, m)
		}
	}
}

func TestFileRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "svc.log")
	log, closer, err := New(Options{Console: &bytes.Buffer{}, File: path, MaxSizeMB: 1, MaxBackups: 1})
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 64<<10)
	for range 20 { // 20 x 64 KiB > 1 MiB: at least one rotation
		log.Info("filler", "pad", big)
	}
	if err := closer.Close(); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) < 2 {
		t.Fatalf("no rotated file: %v", entries)
	}
}

func TestBadOptions(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts Options
	}{
		{"unknown format", Options{Format: "xml"}},
		{"negative size", Options{MaxSizeMB: -1}},
		{"file under a file", Options{File: filepath.Join(file, "svc.log")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := New(tt.opts); err == nil {
				t.Fatal("no error")
			}
		})
	}
}
