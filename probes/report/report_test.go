package report_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/dbhealth/database-service/probes/report"
)

func TestWrite(t *testing.T) {
	rs := []report.Result{
		{Type: "redis", Name: "cache", Address: "127.0.0.1:6379", State: "UP", LatencyMS: 1.25, Version: "7.2"},
		{Type: "postgres", Name: "orders", Address: "127.0.0.1:5432", State: "DOWN", ErrorKind: "auth", Error: strings.Repeat("x", 200)},
	}
	if !report.AnyDown(rs) || report.AnyDown(rs[:1]) {
		t.Error("AnyDown does not follow the DOWN row")
	}
	var table bytes.Buffer
	if err := report.WriteTable(&table, rs); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(table.String()), "\n")
	if len(lines) != 3 || strings.Fields(lines[0])[0] != "TYPE" {
		t.Fatalf("table:\n%s", table.String())
	}
	if f := strings.Fields(lines[1]); f[3] != "UP" || f[4] != "1.2ms" && f[4] != "1.3ms" || f[5] != "7.2" || f[6] != "-" {
		t.Errorf("UP row %q", f)
	}
	if f := strings.Fields(lines[2]); f[5] != "-" || f[6] != "auth" || len(f[7]) != 120 || !strings.HasSuffix(f[7], "...") {
		t.Errorf("DOWN row %q: want no version, the error kind and the error cut at 120", f)
	}
	var js bytes.Buffer
	if err := report.WriteJSON(&js, rs); err != nil {
		t.Fatal(err)
	}
	var back []report.Result
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back) != 2 || back[1].ErrorKind != "auth" {
		t.Errorf("JSON round trip: %v %+v", err, back)
	}
}
