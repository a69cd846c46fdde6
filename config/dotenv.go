package config

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// ErrDotenv is wrapped by every ParseDotenv error.
var ErrDotenv = errors.New("config: bad env file")

// EnvEntry is one KEY=VALUE assignment of an env file.
type EnvEntry struct {
	Key   string
	Value string
	// Line is the 1-based line number of the assignment.
	Line int
}

// ParseDotenv parses an env file: one KEY=VALUE per line, blank lines and
// lines starting with # ignored, an optional "export " prefix, values
// optionally in single quotes (taken literally) or double quotes (with \n,
// \r, \t, \", \\ and \$ escapes); an unquoted value ends at " #" (inline
// comment) and is trimmed. There is no variable expansion and no multi-line
// value. Errors name the line but never echo the value, which may be a
// secret. A key assigned twice keeps the last value.
func ParseDotenv(data []byte) ([]EnvEntry, error) {
	var out []EnvEntry
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if rest, ok := strings.CutPrefix(line, "export"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			line = strings.TrimSpace(rest)
		}
		key, raw, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%w: line %d: expected KEY=VALUE", ErrDotenv, n)
		}
		key = strings.TrimSpace(key)
		if !validEnvKey(key) {
			return nil, fmt.Errorf("%w: line %d: invalid variable name %q", ErrDotenv, n, truncate(key, 64))
		}
		val, err := dotenvValue(strings.TrimSpace(raw))
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %s: %v", ErrDotenv, n, key, err)
		}
		out = append(out, EnvEntry{Key: key, Value: val, Line: n})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: line %d: %v", ErrDotenv, n+1, err)
	}
	return out, nil
}

// dotenvValue decodes the right-hand side of an assignment.
func dotenvValue(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	switch raw[0] {
	case '\'':
		end := strings.IndexByte(raw[1:], '\'')
		if end < 0 {
			return "", errors.New("unterminated single quote")
		}
		if err := onlyComment(raw[end+2:]); err != nil {
			return "", err
		}
		return raw[1 : end+1], nil
	case '"':
		var b strings.Builder
		for i := 1; i < len(raw); i++ {
			c := raw[i]
			switch {
			case c == '"':
				if err := onlyComment(raw[i+1:]); err != nil {
					return "", err
				}
				return b.String(), nil
			case c == '\\' && i+1 < len(raw):
				i++
				switch raw[i] {
				case 'n':
					b.WriteByte('\n')
				case 'r':
					b.WriteByte('\r')
				case 't':
					b.WriteByte('\t')
				case '"', '\\', '$', '\'':
					b.WriteByte(raw[i])
				default:
					b.WriteByte('\\')
					b.WriteByte(raw[i])
				}
			default:
				b.WriteByte(c)
			}
		}
		return "", errors.New("unterminated double quote")
	}
	if i := strings.Index(raw, " #"); i >= 0 {
		raw = raw[:i]
	}
	if i := strings.Index(raw, "\t#"); i >= 0 {
		raw = raw[:i]
	}
	return strings.TrimSpace(raw), nil
}

// onlyComment accepts what may follow a closing quote: blanks and a comment.
func onlyComment(rest string) error {
	rest = strings.TrimSpace(rest)
	if rest == "" || strings.HasPrefix(rest, "#") {
		return nil
	}
	return errors.New("unexpected text after closing quote")
}

// validEnvKey reports whether k is a portable variable name.
func validEnvKey(k string) bool {
	if k == "" {
		return false
	}
	for i, c := range k {
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// truncate shortens s to at most n bytes for error messages.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
