package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// scrape reads one replica's /metrics.
func scrape(r *replica) (string, error) {
	c := http.Client{Timeout: 10 * time.Second}
	res, err := c.Get(r.url + "/metrics")
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return string(b), err
}

// metricSum adds every sample of the series name in a text exposition
// whose labels contain every one of labels. A name ending in "{" selects
// labelled samples of the series.
func metricSum(text, name string, labels ...string) float64 {
	var sum float64
	name = strings.TrimSuffix(name, "{")
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		if rest == "" || (rest[0] != '{' && rest[0] != ' ') {
			continue
		}
		missing := false
		for _, l := range labels {
			missing = missing || !strings.Contains(rest, l)
		}
		if missing {
			continue
		}
		f := strings.Fields(rest[strings.LastIndexByte(rest, '}')+1:])
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err == nil {
			sum += v
		}
	}
	return sum
}

func sumMetric(reps []*replica, name string, labels ...string) (float64, error) {
	var sum float64
	for _, r := range reps {
		text, err := scrape(r)
		if err != nil {
			return 0, err
		}
		sum += metricSum(text, name, labels...)
	}
	return sum, nil
}

func gauge(r *replica, name string) (float64, error) {
	text, err := scrape(r)
	if err != nil {
		return 0, err
	}
	return metricSum(text, name), nil
}

// lagP99 estimates the 99th percentile of dbhealth_projection_lag_seconds
// over every replica and group, from the histogram buckets.
func lagP99(reps []*replica) string {
	buckets := map[float64]float64{}
	for _, r := range reps {
		text, err := scrape(r)
		if err != nil {
			return "-"
		}
		for _, line := range strings.Split(text, "\n") {
			if !strings.HasPrefix(line, "dbhealth_projection_lag_seconds_bucket{") {
				continue
			}
			i := strings.Index(line, `le="`)
			j := strings.Index(line[i+4:], `"`)
			le, err1 := strconv.ParseFloat(line[i+4:i+4+j], 64)
			f := strings.Fields(line)
			n, err2 := strconv.ParseFloat(f[len(f)-1], 64)
			if err1 == nil && err2 == nil {
				buckets[le] += n
			} else if line[i+4:i+4+j] == "+Inf" {
				buckets[1e18] += n
			}
		}
	}
	total := buckets[1e18]
	if total == 0 {
		return "-"
	}
	best := 1e18
	for le, n := range buckets {
		if n >= 0.99*total && le < best {
			best = le
		}
	}
	if best == 1e18 {
		return "> largest bucket"
	}
	return fmt.Sprintf("<= %gs (%.0f events)", best, total)
}

func countLines(path, word string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), word) {
			n++
		}
	}
	return n
}

func fetchProfile(base string, d time.Duration, path string) error {
	return fetch(fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", base, int(d.Seconds())), d+30*time.Second, path)
}

// fetch GETs url into the file path.
func fetch(url string, timeout time.Duration, path string) error {
	c := http.Client{Timeout: timeout}
	res, err := c.Get(url)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("pprof: %s", res.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, res.Body); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
