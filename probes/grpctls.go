package probes

import (
	"context"
	"net"

	"google.golang.org/grpc/credentials"
)

// permanentHandshake makes a failed TLS handshake a permanent dial error.
// gRPC treats every handshake error as temporary and retries it until the
// deadline, so a blocking dial would report a rejected certificate as a
// timeout; with this, FailOnNonTempDialError returns the cause at once.
type permanentHandshake struct {
	credentials.TransportCredentials
}

// ClientHandshake marks a handshake failure as not temporary.
func (p permanentHandshake) ClientHandshake(ctx context.Context, authority string, conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	c, info, err := p.TransportCredentials.ClientHandshake(ctx, authority, conn)
	if err != nil && ctx.Err() == nil {
		return nil, nil, handshakeError{err}
	}
	return c, info, err
}

// Clone keeps the wrapper.
func (p permanentHandshake) Clone() credentials.TransportCredentials {
	return permanentHandshake{p.TransportCredentials.Clone()}
}

// handshakeError is a TLS handshake failure retrying will not mend.
type handshakeError struct{ err error }

func (e handshakeError) Error() string   { return e.err.Error() }
func (e handshakeError) Unwrap() error   { return e.err }
func (e handshakeError) Temporary() bool { return false }
