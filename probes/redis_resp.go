package probes

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// A minimal RESP2 codec for the Redis probe, which keeps one raw
// connection per target: it must see that connection to notice its loss.

// respError is an error reply ("-ERR ...") read as a value.
type respError string

func (e respError) Error() string { return string(e) }

// RedisError marks it as a server's error reply (the go-redis
// convention).
func (respError) RedisError() {}

// Limits that keep a misbehaving server from making the reader allocate
// without bound.
const (
	respMaxBulk  = 1 << 20
	respMaxArray = 1 << 10
	respMaxDepth = 4
)

var errRESP = errors.New("redis: malformed reply")

// readRESP reads one reply: a string for simple and bulk strings, int64,
// respError, []any for arrays, nil for null.
func readRESP(rd *bufio.Reader) (any, error) { return readRESPDepth(rd, 0) }

func readRESPDepth(rd *bufio.Reader, depth int) (any, error) {
	line, err := rd.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, errRESP
		}
		return nil, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return nil, errRESP
	}
	kind, body := line[0], string(line[1:len(line)-2])
	switch kind {
	case '+':
		return body, nil
	case '-':
		return respError(body), nil
	case ':':
		n, err := strconv.ParseInt(body, 10, 64)
		if err != nil {
			return nil, errRESP
		}
		return n, nil
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil || n > respMaxBulk {
			return nil, errRESP
		}
		if n < 0 {
			return nil, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(rd, buf); err != nil {
			return nil, err
		}
		if buf[n] != '\r' || buf[n+1] != '\n' {
			return nil, errRESP
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil || n > respMaxArray || depth >= respMaxDepth {
			return nil, errRESP
		}
		if n < 0 {
			return nil, nil
		}
		items := make([]any, n)
		for i := range items {
			if items[i], err = readRESPDepth(rd, depth+1); err != nil {
				return nil, err
			}
		}
		return items, nil
	}
	return nil, fmt.Errorf("%w: unexpected type byte %q", errRESP, kind)
}

// appendRESP appends a command as a RESP array of bulk strings.
func appendRESP(b []byte, args ...string) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, '\r', '\n')
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, '\r', '\n')
		b = append(b, a...)
		b = append(b, '\r', '\n')
	}
	return b
}
