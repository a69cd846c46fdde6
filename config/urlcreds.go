package config

import (
	"net/url"

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
