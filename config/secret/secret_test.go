package secret

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestStringNeverPrints(t *testing.T) {
	const pw = "hunter2-very-secret"
	s := String(pw)
	type holder struct {
		Password String `json:"password"`
	}
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	logger.Info("msg", "password", s, "holder", holder{s})
	js, _ := json.Marshal(holder{s})
	txt, _ := s.MarshalText()
	outs := []string{
		fmt.Sprint(s), fmt.Sprintf("%s %v %q %x %d %+v %#v", s, s, s, s, s, holder{s}, holder{s}),
		buf.String(), string(js), string(txt),
		fmt.Errorf("connect: %v", s).Error(), errors.New(s.String()).Error(),
	}
	for _, o := range outs {
		if strings.Contains(o, pw) {
			t.Fatalf("secret leaked: %s", o)
		}
		if !strings.Contains(o, Mask) {
			t.Fatalf("mask missing: %s", o)
		}
	}
	if s.Reveal() != pw {
		t.Fatal("Reveal lost the value")
	}
	var back String
	if err := back.UnmarshalText([]byte(pw)); err != nil || back.Reveal() != pw {
		t.Fatal("UnmarshalText lost the value")
	}
}

func TestEmptyPrintsEmpty(t *testing.T) {
	if fmt.Sprint(String("")) != "" || String("").IsSet() {
		t.Fatal("empty secret should print empty")
	}
}

func TestScrub(t *testing.T) {
	got := Scrub("dial postgres://u:topsecret@h/db failed: topsecret", String("topsecret"), String(""))
	if strings.Contains(got, "topsecret") {
		t.Fatal(got)
	}
}
