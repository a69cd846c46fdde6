package probes

import (
	"crypto/tls"
	"fmt"

	"github.com/nacos-group/nacos-sdk-go/v2/common/constant"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// nacosTLS is the TLS side of a Nacos target: the HTTP scheme, the HTTP
// client's configuration and the credentials of the watch connections.
type nacosTLS struct {
	scheme string
	http   *tls.Config // nil: plain HTTP
	creds  credentials.TransportCredentials
}

// newNacosTLS builds t's TLS side. Host names are checked (verify-full)
// against each server's own address: ServerName is left to the HTTP
// transport and to gRPC.
func newNacosTLS(t Target) (nacosTLS, error) {
	cfg, err := t.TLS.ClientConfig("")
	if err != nil {
		return nacosTLS{}, Fail(ErrKindConfig, fmt.Errorf("nacos: tls %w", err))
	}
	if cfg == nil {
		return nacosTLS{scheme: "http", creds: insecure.NewCredentials()}, nil
	}
	return nacosTLS{scheme: "https", http: cfg, creds: credentials.NewTLS(cfg)}, nil
}

// nacosSDKTLS maps t.TLS onto the SDK's settings (which it also applies
// to its HTTP requests). The SDK cannot verify a chain without the host
// name: verify-ca is verify-full there, stricter, never weaker. Appointed
// keeps the SDK from reading its nacos_remote_client_rpc_tls_* variables.
func nacosSDKTLS(t Target) constant.TLSConfig {
	if !t.TLS.Enabled() {
		return constant.TLSConfig{Appointed: true}
	}
	return constant.TLSConfig{
		Appointed:          true,
		Enable:             true,
		TrustAll:           t.TLS.Mode == TLSRequire,
		CaFile:             t.TLS.CAFile,
		CertFile:           t.TLS.CertFile,
		KeyFile:            t.TLS.KeyFile,
		ServerNameOverride: t.TLS.ServerName,
	}
}

// nacosSDKScheme is the scheme of the SDK's HTTP requests.
func nacosSDKScheme(t Target) string {
	if t.TLS.Enabled() {
		return "https"
	}
	return "http"
}
