package probes

import (
	"errors"
	"strings"
)

// redisErrorCode is the first word of a Redis error reply ("WRONGPASS",
// "LOADING", ...), or "" when err is not one.
func redisErrorCode(err error) string {
	var rerr respError
	if !errors.As(err, &rerr) {
		return ""
	}
	code, _, _ := strings.Cut(string(rerr), " ")
	return code
}

// classifyRedis gives err the kind the server's error reply tells.
func classifyRedis(err error) error {
	code := redisErrorCode(err)
	switch code {
	case "":
		return err
	case "WRONGPASS", "NOAUTH", "NOPERM":
		return Fail(ErrKindAuth, err)
	case "LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "MISCONF":
		return Fail(ErrKindUnavailable, err)
	}
	msg := strings.ToLower(err.Error())
	// Older servers: "ERR invalid password", "ERR AUTH <password> called
	// without any password configured ...".
	if strings.Contains(msg, "password") || strings.Contains(msg, "auth") {
		return Fail(ErrKindAuth, err)
	}
	if strings.Contains(msg, "max number of clients") {
		return Fail(ErrKindUnavailable, err)
	}
	return Fail(ErrKindProtocol, err)
}
