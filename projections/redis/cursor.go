package redisstore

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/dbhealth/database-service/projections"
)

// cursor is the position after the last item of a history page: the next
// page holds the items after (slot, name) in history order.
type cursor struct {
	slot int64
	name string
}

const cursorVersion = "h1"

// encodeCursor makes an opaque, URL-safe cursor.
func encodeCursor(c cursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorVersion + ":" + strconv.FormatInt(c.slot, 10) + ":" + c.name))
}

// decodeCursor parses a cursor made by encodeCursor; any other string is
// an error wrapping projections.ErrBadCursor.
func decodeCursor(s string) (cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, fmt.Errorf("%w: %q", projections.ErrBadCursor, s)
	}
	v, rest, ok := strings.Cut(string(b), ":")
	if !ok || v != cursorVersion {
		return cursor{}, fmt.Errorf("%w: %q", projections.ErrBadCursor, s)
	}
	slot, name, ok := strings.Cut(rest, ":")
	n, err := strconv.ParseInt(slot, 10, 64)
	if !ok || err != nil || n < 0 || name == "" {
		return cursor{}, fmt.Errorf("%w: %q", projections.ErrBadCursor, s)
	}
	return cursor{slot: n, name: name}, nil
}
