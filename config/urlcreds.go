package config

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/dbhealth/database-service/config/secret"
)

// liftURLCredentials takes the user:password of http(s) URLs (as the
// Elasticsearch clients accept them, http://user:pass@host:9200) out of
// the URLs and into user and pass, so the addresses that are logged and
// shown hold no secret. Every URL must carry the same credentials, and
// they must agree with user and pass when those are set; key and the
// credential variables name the fields in the errors, which never hold
// the password.
func liftURLCredentials(key, userVar, passVar string, urls []string, user *string, pass *secret.String) error {
	// Every URL is stripped, even when the credentials turn out to
	// conflict, so nothing later reports (or shows) them again.
	var found *url.Userinfo
	differ := false
	for i, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil || u.User == nil {
			continue
		}
		if found != nil && found.String() != u.User.String() {
			differ = true
		}
		found = u.User
		u.User = nil
		urls[i] = u.String()
	}
	if differ {
		return fieldErr(key, "the URLs carry different credentials; give them once in %s and %s", userVar, passVar)
	}
	if found == nil {
		return nil
	}
	name := found.Username()
	pw, hasPW := found.Password()
	if *user != "" && *user != name {
		return fieldErr(key, "the URL's user %q conflicts with %s %q", name, userVar, *user)
	}
	if hasPW && pass.IsSet() && pass.Reveal() != pw {
		return fieldErr(key, "the URL's password conflicts with %s (values not shown)", passVar)
	}
	*user = name
	if hasPW {
		*pass = secret.String(pw)
	}
	return nil
}

// checkHTTPURL validates an http(s) URL without credentials. The value is
// echoed with any password masked.
func checkHTTPURL(key, raw, credVars string) error {
	shown := truncate(maskURLCredentials(raw), 128)
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fieldErr(key, "must be an http:// or https:// URL, got %q", shown)
	}
	if u.User != nil {
		return fieldErr(key, "must not contain credentials (use %s), got %q", credVars, shown)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fieldErr(key, "port must be 1-65535, got %q", shown)
		}
	}
	return nil
}

// checkSecretURL validates an optional URL that is a secret: the error
// shows at most its scheme.
func checkSecretURL(key string, s secret.String, schemes ...string) error {
	if !s.IsSet() {
		return nil
	}
	article := "a "
	if strings.ContainsRune("aeiou", rune(schemes[0][0])) {
		article = "an "
	}
	want := "must be " + article + strings.Join(schemes, ":// or ") + ":// URL"
	u, err := url.Parse(s.Reveal())
	if err != nil {
		return fieldErr(key, "%s (not a valid URL; value not shown, it is a secret)", want)
	}
	ok := false
	for _, sc := range schemes {
		ok = ok || u.Scheme == sc
	}
	if !ok {
		return fieldErr(key, "%s, got scheme %q", want, truncate(u.Scheme, 16))
	}
	if u.Host == "" {
		return fieldErr(key, "%s with a host (value not shown, it is a secret)", want)
	}
	return nil
}

// urlCredentials matches "scheme://user:password@" (up to the last @).
var urlCredentials = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)(\S*)@`)

// maskURLCredentials masks the password of every URL in s.
func maskURLCredentials(s string) string {
	return urlCredentials.ReplaceAllString(s, "${1}"+secret.Mask+"@")
}
