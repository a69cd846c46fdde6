package probes

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The Nacos client's HTTP side: every server's readiness, the server state
// (version, auth) and the login check, over the client's http.Client.

// nacosReadinessPath is the console readiness endpoint: 200 "OK", or 500
// with the reason ("naming not in readiness", ...).
const nacosReadinessPath = "/nacos/v1/console/health/readiness"

// nacosBodyLimit bounds what is read of an HTTP answer.
const nacosBodyLimit = 4096

// nacosLoginRecheck is how long a successful login check is trusted: a
// login costs the server a bcrypt hash, so it is not repeated every probe.
const nacosLoginRecheck = 5 * time.Minute

// readinessAll asks every server concurrently and fills f.Servers. It
// returns the address of the first server (in configuration order) that
// answered HTTP at all, or "" and the first request error.
func (c *nacosClient) readinessAll(ctx context.Context, f *NacosFacts) (string, error) {
	type answer struct {
		facts NacosServerFacts
		err   error
	}
	answers := make([]answer, len(c.addrs))
	var wg sync.WaitGroup
	for i, a := range c.addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sf, err := c.readiness(ctx, a)
			answers[i] = answer{sf, err}
		}()
	}
	wg.Wait()
	answered := ""
	var firstErr error
	for _, a := range answers {
		f.Servers = append(f.Servers, a.facts)
		if a.facts.Ready {
			f.ServersReady++
		}
		switch {
		case a.err == nil && answered == "":
			answered = a.facts.Address
		case a.err != nil && firstErr == nil:
			firstErr = fmt.Errorf("nacos: readiness of %s: %w", a.facts.Address, a.err)
		}
	}
	return answered, firstErr
}

// checkLogin verifies the credentials when a user name is set and the
// server does not say that auth is off. A success is trusted for
// nacosLoginRecheck (or half the token lifetime, if shorter).
func (c *nacosClient) checkLogin(ctx context.Context, addr string) error {
	if c.target.Username == "" || (c.authEnabled != nil && !*c.authEnabled) {
		return nil
	}
	if !c.loginChecked.IsZero() && time.Since(c.loginChecked) < c.loginValid {
		return nil
	}
	ttl, err := c.login(ctx, addr)
	if err != nil {
		c.loginChecked = time.Time{}
		return err
	}
	c.loginChecked, c.loginValid = time.Now(), nacosLoginRecheck
	if ttl > 0 && ttl/2 < c.loginValid {
		c.loginValid = ttl / 2
	}
	return nil
}

// readiness asks one server for its readiness. A request error is returned
// as err; any HTTP answer is a fact.
func (c *nacosClient) readiness(ctx context.Context, addr string) (NacosServerFacts, error) {
	f := NacosServerFacts{Address: addr}
	code, body, err := c.httpDo(ctx, http.MethodGet, addr, nacosReadinessPath, nil)
	if err != nil {
		f.Reason = err.Error()
		return f, err
	}
	f.Status = code
	f.Ready = code == http.StatusOK
	if !f.Ready {
		f.Reason = oneLine(body)
	}
	return f, nil
}

// nacosState is what /nacos/v1/console/server/state tells.
type nacosState struct {
	Version     string
	AuthEnabled *bool
}

// serverState reads the version and auth switch of a server. Older servers
// lack the endpoint: an empty state and no error then.
func (c *nacosClient) serverState(ctx context.Context, addr string) (nacosState, error) {
	code, body, err := c.httpDo(ctx, http.MethodGet, addr, "/nacos/v1/console/server/state", nil)
	if err != nil || code != http.StatusOK {
		return nacosState{}, err
	}
	var raw map[string]any
	if json.Unmarshal([]byte(body), &raw) != nil {
		return nacosState{}, nil
	}
	var st nacosState
	st.Version, _ = raw["version"].(string)
	switch v := raw["auth_enabled"].(type) {
	case string:
		if b, err := strconv.ParseBool(v); err == nil {
			st.AuthEnabled = &b
		}
	case bool:
		st.AuthEnabled = &v
	}
	return st, nil
}

// login checks the credentials with the same request the SDK makes
// (POST /nacos/v1/auth/users/login). The SDK only logs a rejected login and
// then has its requests refused one by one, so the probe asks itself. It
// returns the token lifetime on success; a 401/403 is an ErrKindAuth error.
func (c *nacosClient) login(ctx context.Context, addr string) (time.Duration, error) {
	form := url.Values{"username": {c.target.Username}, "password": {c.target.Password.Reveal()}}
	code, body, err := c.httpDo(ctx, http.MethodPost, addr, "/nacos/v1/auth/users/login", form)
	if err != nil {
		return 0, fmt.Errorf("nacos login: %w", err)
	}
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return 0, Fail(ErrKindAuth, fmt.Errorf("nacos: login as %q rejected by %s: HTTP %d %s",
			c.target.Username, addr, code, oneLine(body)))
	case code == http.StatusNotFound:
		// No login endpoint: a server without the auth plugin.
		return 0, nil
	case code != http.StatusOK:
		return 0, Fail(ErrKindProtocol, fmt.Errorf("nacos: login at %s: HTTP %d %s", addr, code, oneLine(body)))
	}
	var tok struct {
		AccessToken string  `json:"accessToken"`
		TokenTTL    float64 `json:"tokenTtl"`
	}
	if err := json.Unmarshal([]byte(body), &tok); err != nil || tok.AccessToken == "" {
		return 0, Fail(ErrKindProtocol, fmt.Errorf("nacos: login at %s: no accessToken in the answer", addr))
	}
	return time.Duration(tok.TokenTTL) * time.Second, nil
}

// httpDo sends one request to a server's HTTP port and reads (a bounded
// part of) the answer.
func (c *nacosClient) httpDo(ctx context.Context, method, addr, path string, form url.Values) (int, string, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, c.tls.scheme+"://"+addr+path, body)
	if err != nil {
		return 0, "", Fail(ErrKindConfig, err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, nacosBodyLimit))
	if err != nil {
		return 0, "", err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, string(b), nil
}

// oneLine trims an HTTP body for a reason: one line, at most 200 bytes.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
