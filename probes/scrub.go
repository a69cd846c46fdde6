package probes

import (
	"regexp"

	"github.com/dbhealth/database-service/config/secret"
)

// urlCreds matches the password part of "scheme://user:password@" in text.
var urlCreds = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)([^@\s]*)@`)

// kvPassword matches "password=..." in DSN-like key/value strings.
var kvPassword = regexp.MustCompile(`(?i)(password\s*=\s*)('[^']*'|\S+)`)

// scrubURLCredentials masks passwords embedded in URLs or key/value DSNs.
func scrubURLCredentials(msg string) string {
	msg = urlCreds.ReplaceAllString(msg, "${1}"+secret.Mask+"@")
	return kvPassword.ReplaceAllString(msg, "${1}"+secret.Mask)
}
