package harness

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"time"
)

// NoKeepAlive is for probes (/readyz, /metrics) that must not leave idle
// connections, and so goroutines, in the server.
var NoKeepAlive = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// Readyz returns /readyz's status code.
func Readyz(base string) (int, error) {
	res, err := NoKeepAlive.Get(base + "/readyz")
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, nil
}

// Metrics reads the samples of /metrics (name with labels, exactly as
// exposed, to value).
func Metrics(base string) (map[string]float64, error) {
	res, err := NoKeepAlive.Get(base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("/metrics: %s", res.Status)
	}
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, m := range sampleRE.FindAllSubmatch(b, -1) {
		v, err := strconv.ParseFloat(string(m[2]), 64)
		if err == nil {
			out[string(m[1])] = v
		}
	}
	return out, nil
}

var sampleRE = regexp.MustCompile(`(?m)^([a-zA-Z_:][^ ]*) ([0-9.eE+-]+|NaN)$`)
