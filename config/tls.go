package config

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dbhealth/database-service/probes"
)

// tlsEnv is the TLS variables of one kind's default target: their names
// and pointers to their values in the Config.
type tlsEnv struct {
	kind    probes.Kind
	enabled bool
	// vars are the names of the mode, CA, certificate and key variables.
	vars [4]string
	// vals point at the fields holding them.
	vals [4]*string
}

// tlsEnvs lists the TLS variables of every kind, in probes.Kinds order.
func (c *Config) tlsEnvs() []tlsEnv {
	kindVars := func(k probes.Kind, enabled bool, v *TLSVars) tlsEnv {
		p := kindVarPrefix(k)
		return tlsEnv{kind: k, enabled: enabled, vals: [4]*string{&v.TLS, &v.TLSCACert, &v.TLSCert, &v.TLSKey},
			vars: [4]string{p + "_TLS", p + "_TLS_CA_CERT", p + "_TLS_CERT", p + "_TLS_KEY"}}
	}
	pg, es := &c.Postgres, &c.Elasticsearch
	return []tlsEnv{
		{kind: probes.Postgres, enabled: pg.Enabled,
			vars: [4]string{"POSTGRES_SSLMODE", "POSTGRES_SSLROOTCERT", "POSTGRES_SSLCERT", "POSTGRES_SSLKEY"},
			vals: [4]*string{&pg.SSLMode, &pg.SSLRootCert, &pg.SSLCert, &pg.SSLKey}},
		{kind: probes.Elasticsearch, enabled: es.Enabled,
			vars: [4]string{"ELASTICSEARCH_TLS", "ELASTICSEARCH_CA_CERT", "ELASTICSEARCH_CLIENT_CERT", "ELASTICSEARCH_CLIENT_KEY"},
			vals: [4]*string{&es.TLS, &es.CACert, &es.ClientCert, &es.ClientKey}},
		kindVars(probes.Milvus, c.Milvus.Enabled, &c.Milvus.TLSVars),
		kindVars(probes.Redis, c.Redis.Enabled, &c.Redis.TLSVars),
		kindVars(probes.Nacos, c.Nacos.Enabled, &c.Nacos.TLSVars),
		kindVars(probes.RabbitMQ, c.RabbitMQ.Enabled, &c.RabbitMQ.TLSVars),
	}
}

// tlsFields are the targets file's keys of the four TLS settings, in
// tlsEnv order.
var tlsFields = [4]string{"mode", "ca_file", "cert_file", "key_file"}

// settings returns the kind's probes.TLS (the mode as given; a bad one is
// left for validate to report).
func (e tlsEnv) settings() probes.TLS {
	mode, _ := probes.ParseTLSMode(*e.vals[0])
	return withFileDefault(probes.TLS{Mode: mode, CAFile: *e.vals[1], CertFile: *e.vals[2], KeyFile: *e.vals[3]})
}

// withFileDefault turns the default mode into verify-full when a
// certificate file is given: asking for a CA or a client certificate
// means asking for TLS, and verify-full is the safe reading of it.
func withFileDefault(s probes.TLS) probes.TLS {
	if s.Mode == probes.TLSDefault && (s.CAFile != "" || s.CertFile != "" || s.KeyFile != "") {
		s.Mode = probes.TLSVerifyFull
	}
	return s
}

// normalizeTLS resolves relative TLS file paths against dir.
func (c *Config) normalizeTLS(dir string) {
	for _, e := range c.tlsEnvs() {
		for _, v := range e.vals[1:] {
			*v = absolute(dir, strings.TrimSpace(*v))
		}
	}
}

// validateTLS checks every kind's TLS variables: the mode, and, for an
// enabled target, that the files can be read and parsed (the errors name
// the variable and the path, never a file's content).
func (c *Config) validateTLS() []error {
	var errs []error
	for _, e := range c.tlsEnvs() {
		if _, err := probes.ParseTLSMode(*e.vals[0]); err != nil {
			errs = append(errs, fieldErr(e.vars[0], "%s", err))
			continue
		}
		if !e.enabled {
			continue
		}
		for _, err := range checkTLSFiles(e.settings()) {
			errs = append(errs, fieldErr(e.vars[tlsFieldIndex(err.Field)], "%s", strings.TrimPrefix(err.Error(), err.Field+": ")))
		}
	}
	return append(errs, c.checkESScheme()...)
}

// checkESScheme rejects ELASTICSEARCH_TLS settings the hosts contradict.
func (c *Config) checkESScheme() []error {
	if !c.Elasticsearch.Enabled {
		return nil
	}
	if err := checkESTLS(c.envTLS(probes.Elasticsearch).Mode, c.Elasticsearch.Hosts); err != nil {
		return []error{fieldErr("ELASTICSEARCH_TLS", "%s", err)}
	}
	return nil
}

// checkESTLS reports a mode the Elasticsearch URLs contradict: disable with
// an https:// URL, or a TLS mode when every URL is http://.
func checkESTLS(mode probes.TLSMode, urls []string) error {
	https := 0
	for _, u := range urls {
		if strings.HasPrefix(strings.ToLower(u), "https://") {
			https++
		}
	}
	switch {
	case mode == probes.TLSDisable && https > 0:
		return errors.New("disable contradicts the https:// hosts; use http:// URLs or a TLS mode")
	case mode != probes.TLSDefault && mode != probes.TLSDisable && https == 0 && len(urls) > 0:
		return fmt.Errorf("%s applies to https:// hosts, but every host is http://", mode)
	}
	return nil
}

// checkTLSFiles loads s's files as the probe will and returns what is
// wrong with them.
func checkTLSFiles(s probes.TLS) []*probes.TLSFileError {
	if !s.Enabled() {
		return nil
	}
	_, err := s.ClientConfig("")
	var fe *probes.TLSFileError
	if errors.As(err, &fe) {
		return []*probes.TLSFileError{fe}
	}
	return nil
}

// tlsFieldIndex is the index of a TLSFileError field in tlsFields.
func tlsFieldIndex(field string) int {
	for i, f := range tlsFields {
		if f == field {
			return i
		}
	}
	return 0
}

// esTLS is the TLS of an Elasticsearch target: https:// URLs with no mode
// given mean verify-full, as Go's default client does.
func esTLS(s probes.TLS, urls []string) probes.TLS {
	if s.Mode == probes.TLSDefault {
		for _, u := range urls {
			if strings.HasPrefix(strings.ToLower(u), "https://") {
				s.Mode = probes.TLSVerifyFull
			}
		}
	}
	return s
}

// envTLS is the TLS of kind k's default target.
func (c *Config) envTLS(k probes.Kind) probes.TLS {
	for _, e := range c.tlsEnvs() {
		if e.kind == k {
			return e.settings()
		}
	}
	return probes.TLS{}
}

// RedactedTLS is a probes.TLS for display: the mode ("disable" when none
// applies) and the file paths; paths are not secrets, the files' contents
// are never shown.
type RedactedTLS struct {
	Mode       string `json:"mode"`
	CAFile     string `json:"ca_file,omitempty"`
	CertFile   string `json:"cert_file,omitempty"`
	KeyFile    string `json:"key_file,omitempty"`
	ServerName string `json:"server_name,omitempty"`
}

// redactTLS shows s.
func redactTLS(s probes.TLS) RedactedTLS {
	mode := string(s.Mode)
	if s.Mode == probes.TLSDefault {
		mode = string(probes.TLSDisable)
	}
	return RedactedTLS{Mode: mode, CAFile: s.CAFile, CertFile: s.CertFile, KeyFile: s.KeyFile, ServerName: s.ServerName}
}
