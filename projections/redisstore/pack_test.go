package redisstore

import (
	"errors"
	"testing"

	"github.com/dbhealth/database-service/projections"
)

func TestPack(t *testing.T) {
	for _, fields := range [][]string{
		{}, {""}, {"", ""}, {"UP", "123", "reason with | and : and 4:abc"}, {"12:", ":", "|", "\x00\n"},
	} {
		out := make([]string, len(fields))
		if !unpack(pack(fields...), out) {
			t.Fatalf("unpack(pack(%q)) failed", fields)
		}
		for i := range fields {
			if out[i] != fields[i] {
				t.Fatalf("unpack(pack(%q)) = %q", fields, out)
			}
		}
	}
	for _, bad := range []string{"x", "3:ab", "-1:", "2:abc", "1:a1:b"} {
		if unpack(bad, make([]string, 1)) {
			t.Errorf("unpack(%q) into one field succeeded", bad)
		}
	}
}

func TestCursor(t *testing.T) {
	for _, c := range []projections.Cursor{{Slot: 1, Name: "a"}, {Slot: 1700000000000, Name: "name:with:colons|and|bars"}, {Slot: 0, Name: "é"}} {
		got, err := projections.DecodeCursor(c.Encode())
		if err != nil || got != c {
			t.Errorf("round trip of %+v = %+v, %v", c, got, err)
		}
	}
	for _, bad := range []string{"!", "aGVsbG8", projections.Cursor{Slot: -1, Name: "a"}.Encode(), projections.Cursor{Slot: 1, Name: ""}.Encode()} {
		if _, err := projections.DecodeCursor(bad); !errors.Is(err, projections.ErrBadCursor) {
			t.Errorf("decodeCursor(%q) err = %v", bad, err)
		}
	}
}
