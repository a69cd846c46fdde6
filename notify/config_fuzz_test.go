package notify

import (
	"strings"
	"testing"
)

// FuzzParseConfig checks that no input panics, that an accepted config
// builds, and that no error echoes a signing secret.
func FuzzParseConfig(f *testing.F) {
	f.Add(goodConfig)
	f.Add("receivers:\n  - {name: a, kind: webhook, webhook: {url: 'http://x/', secrets: [whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw]}}\n")
	f.Add("receivers: [{name: x, kind: email, email: {host: h, from: a@b.c, to: [d@e.f]}}]")
	f.Fuzz(func(t *testing.T, in string) {
		c, err := ParseConfig([]byte(in))
		if err != nil {
			if strings.Contains(err.Error(), "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") {
				t.Fatalf("error leaks a secret: %v", err)
			}
			return
		}
		if _, err := c.Build(Deps{}); err != nil {
			t.Fatalf("accepted config does not build: %v", err)
		}
	})
}
