package config

import (
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/dbhealth/database-service/probes"
)

// tlsDoc is a target's `tls:` entry: a mapping
//
//	tls: {mode: verify-full, ca_file: ca.pem, cert_file: c.pem, key_file: c.key, server_name: db.internal}
//
// or a shorthand: `tls: true` (verify-full), `tls: false` (disable), or a
// bare mode (`tls: require`).
type tlsDoc struct {
	Mode       string `yaml:"mode"`
	CAFile     string `yaml:"ca_file"`
	CertFile   string `yaml:"cert_file"`
	KeyFile    string `yaml:"key_file"`
	ServerName string `yaml:"server_name"`
}

// tlsDocKeys are the keys a `tls:` mapping may hold.
var tlsDocKeys = set("mode", "ca_file", "cert_file", "key_file", "server_name")

// errTLSShape is the error of a `tls:` entry of the wrong shape.
var errTLSShape = errors.New("tls: must be true, false, a mode (disable, require, verify-ca, verify-full) or a mapping of mode, ca_file, cert_file, key_file, server_name")

// UnmarshalYAML accepts the mapping and the shorthands. Unknown keys are
// rejected (yaml.v3's KnownFields does not reach a custom unmarshaler).
func (d *tlsDoc) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		var b bool
		if n.Tag == "!!bool" && n.Decode(&b) == nil {
			d.Mode = string(probes.TLSDisable)
			if b {
				d.Mode = string(probes.TLSVerifyFull)
			}
			return nil
		}
		return n.Decode(&d.Mode)
	case yaml.MappingNode:
		for i := 0; i < len(n.Content); i += 2 {
			if k := n.Content[i].Value; !tlsDocKeys[k] {
				return fmt.Errorf("tls: unknown key %q (want mode, ca_file, cert_file, key_file, server_name)", truncate(k, 32))
			}
		}
		type plain tlsDoc
		return n.Decode((*plain)(d))
	}
	return errTLSShape
}

// settings parses d into probes.TLS and checks its files. Errors name the
// key (tls.mode, tls.ca_file, ...) and the path, never a file's content.
func (d *tlsDoc) settings() (probes.TLS, []error) {
	mode, err := probes.ParseTLSMode(d.Mode)
	if err != nil {
		return probes.TLS{}, []error{fmt.Errorf("tls.mode: %w", err)}
	}
	s := withFileDefault(probes.TLS{
		Mode: mode, CAFile: strings.TrimSpace(d.CAFile), CertFile: strings.TrimSpace(d.CertFile),
		KeyFile: strings.TrimSpace(d.KeyFile), ServerName: strings.TrimSpace(d.ServerName),
	})
	if s.ServerName != "" && !validHost(s.ServerName) {
		return s, []error{fmt.Errorf("tls.server_name: must be a host name, got %q", truncate(s.ServerName, 64))}
	}
	var errs []error
	for _, fe := range checkTLSFiles(s) {
		errs = append(errs, fmt.Errorf("tls.%w", fe))
	}
	return s, errs
}
