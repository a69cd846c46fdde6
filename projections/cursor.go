package projections

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// Cursor is the position after the last item of a history page: the next
// page holds the items after (Slot, Name) in history order (slot
// descending, then name ascending).
type Cursor struct {
	Slot int64
	Name string
}

const cursorVersion = "h1"

// Encode makes the opaque, URL-safe form of c (HistoryPage.Next).
func (c Cursor) Encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorVersion + ":" + strconv.FormatInt(c.Slot, 10) + ":" + c.Name))
}

// DecodeCursor parses a cursor made by Encode; any other string is an
// error wrapping ErrBadCursor.
func DecodeCursor(s string) (Cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, fmt.Errorf("%w: %q", ErrBadCursor, s)
	}
	v, rest, ok := strings.Cut(string(b), ":")
	if !ok || v != cursorVersion {
		return Cursor{}, fmt.Errorf("%w: %q", ErrBadCursor, s)
	}
	slot, name, ok := strings.Cut(rest, ":")
	n, err := strconv.ParseInt(slot, 10, 64)
	if !ok || err != nil || n < 0 || name == "" {
		return Cursor{}, fmt.Errorf("%w: %q", ErrBadCursor, s)
	}
	return Cursor{Slot: n, Name: name}, nil
}
