package fakenacos

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
)

// tokenTTL is the accessToken lifetime the login endpoint announces, in
// seconds (a real server's default).
const tokenTTL = 18000

// httpHandler serves the HTTP endpoints of a Nacos node that the SDK and the
// probes use.
func (s *Server) httpHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /nacos/v1/console/health/readiness", s.v1Health(true))
	mux.HandleFunc("GET /nacos/v1/console/health/liveness", s.v1Health(false))
	mux.HandleFunc("GET /nacos/v2/console/health/readiness", s.v2Health(true))
	mux.HandleFunc("GET /nacos/v2/console/health/liveness", s.v2Health(false))
	mux.HandleFunc("GET /nacos/v1/console/server/state", s.serverState)
	mux.HandleFunc("POST /nacos/v1/auth/users/login", s.login)
	mux.HandleFunc("POST /nacos/v1/auth/login", s.login)
	mux.HandleFunc("GET /nacos/v1/ns/operator/metrics", s.metrics)
	return mux
}

func (s *Server) isDown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.down
}

// v1Health answers "OK" or a 500 with the reason, as the v1 console API does.
// A Down node is alive but not ready: only readiness fails.
func (s *Server) v1Health(readiness bool) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if readiness && s.isDown() {
			http.Error(w, "naming and config not in readiness", http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("OK"))
	}
}

// v2Health answers the v2 console API's JSON envelope.
func (s *Server) v2Health(readiness bool) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if readiness && s.isDown() {
			w.WriteHeader(http.StatusInternalServerError)
			_ = json.NewEncoder(w).Encode(map[string]any{"code": 30000, "message": "naming and config not in readiness", "data": nil})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"code": 0, "message": "success", "data": "ok"})
	}
}

// serverState answers /nacos/v1/console/server/state (version, mode, auth).
func (s *Server) serverState(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	v, auth := s.version, s.authOn
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"version":            v,
		"standalone_mode":    "standalone",
		"function_mode":      nil,
		"auth_enabled":       strconv.FormatBool(auth),
		"login_page_enabled": strconv.FormatBool(auth),
	})
}

// metrics answers /nacos/v1/ns/operator/metrics, which the SDK's HTTP naming
// proxy reads for ServerHealthy when its gRPC connection is not running.
func (s *Server) metrics(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	st := "UP"
	if s.down {
		st = "DOWN"
	}
	n := 0
	for _, svc := range s.st.services {
		n += len(svc.instances)
	}
	services := len(s.st.services)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"status": st, "serviceCount": services, "instanceCount": n})
}

// login answers the auth login form. With auth off any credentials get a
// token; with auth on wrong ones get 403 "unknown user!".
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	user, pass := r.Form.Get("username"), r.Form.Get("password")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.authOn && (user != s.authUser || pass != s.authPass) {
		http.Error(w, "unknown user!", http.StatusForbidden)
		return
	}
	tok := newToken()
	s.tokens[tok] = true
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"accessToken": tok, "tokenTtl": tokenTTL, "globalAdmin": true, "username": user})
}

func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
