package notify

import (
	"net/http"
	"time"
)

// Deps are what the receivers need from outside; the zero value is
// usable.
type Deps struct {
	// Client sends the HTTP requests. nil: a client that does not follow
	// redirects (a redirected POST would turn into a GET), over
	// http.DefaultTransport. Each attempt has its own timeout from the
	// receiver's config either way.
	Client *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (d Deps) client() *http.Client {
	if d.Client != nil {
		return d.Client
	}
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (d Deps) now() func() time.Time {
	if d.Now != nil {
		return d.Now
	}
	return time.Now
}
