package redisstore

import (
	"strconv"
	"strings"
)

// pack joins fields into one string, each as "<len>:<bytes>", so any byte
// may appear in a field and unpacking needs no escaping or JSON.
func pack(fields ...string) string {
	var b strings.Builder
	n := 0
	for _, f := range fields {
		n += len(f) + 4
	}
	b.Grow(n)
	for _, f := range fields {
		b.WriteString(strconv.Itoa(len(f)))
		b.WriteByte(':')
		b.WriteString(f)
	}
	return b.String()
}

// unpack splits a string made by pack into exactly len(out) fields; the
// fields share s's memory. It reports false on a malformed string.
func unpack(s string, out []string) bool {
	for i := range out {
		c := strings.IndexByte(s, ':')
		if c < 0 {
			return false
		}
		n, err := strconv.Atoi(s[:c])
		if err != nil || n < 0 || c+1+n > len(s) {
			return false
		}
		out[i] = s[c+1 : c+1+n]
		s = s[c+1+n:]
	}
	return s == ""
}
