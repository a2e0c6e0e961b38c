package wechatpaytest

import (
	"net/http"
	"time"
)

// Outage is the state of the fake's API (every endpoint, the bill's too).
type Outage int

// The outages.
const (
	Up          Outage = iota // answering
	Unavailable               // every call answers 503, unsigned, as a gateway would
	Hangup                    // every call's connection is closed without an answer
)

// Call is one API call the fake received.
type Call struct {
	Method, Path string
	Status       int // 0: no answer (hung up, or the caller left first)
}

// apiFaults are the API's faults; under the Server's mu.
type apiFaults struct {
	outage     Outage
	latency    time.Duration
	failN      int
	failStatus int
	failCode   string
	calls      []Call
}

// SetOutage takes the API down (Unavailable, Hangup) or up again (Up).
func (s *Server) SetOutage(o Outage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.api.outage = o
}

// SetLatency makes every API call answer after d (0: at once), so that a
// client whose timeout is shorter gives up first.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.api.latency = d
}

// FailNext makes the next n API calls answer 500 SYSTEM_ERROR (signed).
func (s *Server) FailNext(n int) { s.FailNextWith(n, http.StatusInternalServerError, "SYSTEM_ERROR") }

// FailNextWith makes the next n API calls answer status with code (signed).
func (s *Server) FailNextWith(n, status int, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.api.failN, s.api.failStatus, s.api.failCode = n, status, code
}

// Calls are the API calls so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.api.calls...)
}

// inject applies the faults to a call; false: the call was answered (or
// hung up) here.
func (a *apiFaults) inject(s *Server, w *statusWriter, r *http.Request) bool {
	s.mu.Lock()
	latency, outage := a.latency, a.outage
	fail := outage == Up && a.failN > 0
	if fail {
		a.failN--
	}
	status, code := a.failStatus, a.failCode
	s.mu.Unlock()
	if latency > 0 {
		t := time.NewTimer(latency)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return false
		case <-s.stopped().Done():
			return false
		}
	}
	switch {
	case outage == Unavailable:
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("Service Unavailable"))
	case outage == Hangup:
		if conn, _, err := http.NewResponseController(w.ResponseWriter).Hijack(); err == nil {
			conn.Close()
		}
	case fail:
		s.answer(w, status, map[string]string{"code": code, "message": "系统错误,请稍后重试"})
	default:
		return true
	}
	return false
}

func (a *apiFaults) record(s *Server, r *http.Request, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a.calls = append(a.calls, Call{Method: r.Method, Path: r.URL.Path, Status: status})
}

// statusWriter keeps the status an answer was written with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}
