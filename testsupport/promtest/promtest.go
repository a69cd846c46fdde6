// Package promtest reads sample values out of a Prometheus text
// exposition (a /metrics body), for the tests of every package.
package promtest

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Sample is one line of an exposition: a histogram or summary family
// gives its _sum, _count and _bucket (or quantile) samples.
type Sample struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// Samples is a parsed exposition.
type Samples []Sample

// Parse parses the Prometheus text format.
func Parse(text string) (Samples, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		return nil, fmt.Errorf("promtest: %w", err)
	}
	var out Samples
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			out = append(out, samples(name, m)...)
		}
	}
	return out, nil
}

func samples(name string, m *dto.Metric) []Sample {
	labels := map[string]string{}
	for _, l := range m.GetLabel() {
		labels[l.GetName()] = l.GetValue()
	}
	one := func(suffix string, v float64, extra ...string) Sample {
		ls := labels
		if len(extra) == 2 {
			ls = make(map[string]string, len(labels)+1)
			for k, v := range labels {
				ls[k] = v
			}
			ls[extra[0]] = extra[1]
		}
		return Sample{Name: name + suffix, Labels: ls, Value: v}
	}
	switch {
	case m.Counter != nil:
		return []Sample{one("", m.GetCounter().GetValue())}
	case m.Gauge != nil:
		return []Sample{one("", m.GetGauge().GetValue())}
	case m.Untyped != nil:
		return []Sample{one("", m.GetUntyped().GetValue())}
	case m.Histogram != nil:
		h := m.GetHistogram()
		out := []Sample{one("_sum", h.GetSampleSum()), one("_count", float64(h.GetSampleCount()))}
		for _, b := range h.GetBucket() {
			out = append(out, one("_bucket", float64(b.GetCumulativeCount()), "le", formatFloat(b.GetUpperBound())))
		}
		return out
	case m.Summary != nil:
		s := m.GetSummary()
		out := []Sample{one("_sum", s.GetSampleSum()), one("_count", float64(s.GetSampleCount()))}
		for _, q := range s.GetQuantile() {
			out = append(out, one("", q.GetValue(), "quantile", formatFloat(q.GetQuantile())))
		}
		return out
	}
	return nil
}

func formatFloat(f float64) string {
	if math.IsInf(f, +1) {
		return "+Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// Value is the value of the sample called name with exactly labels (nil
// or empty: none); ok is false when there is no such sample.
func (s Samples) Value(name string, labels map[string]string) (v float64, ok bool) {
	for _, x := range s {
		if x.Name == name && len(x.Labels) == len(labels) && includes(x.Labels, labels) {
			return x.Value, true
		}
	}
	return 0, false
}

// Sum sums the samples called name whose labels include labels; found is
// false when none matched.
func (s Samples) Sum(name string, labels map[string]string) (sum float64, found bool) {
	for _, x := range s {
		if x.Name == name && includes(x.Labels, labels) {
			sum += x.Value
			found = true
		}
	}
	return sum, found
}

func includes(have, want map[string]string) bool {
	for k, v := range want {
		if w, ok := have[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// Value is Samples.Value of text; ok is false when text does not parse.
func Value(text, name string, labels map[string]string) (float64, bool) {
	s, err := Parse(text)
	if err != nil {
		return 0, false
	}
	return s.Value(name, labels)
}

// Sum is Samples.Sum of text; found is false when text does not parse.
func Sum(text, name string, labels map[string]string) (float64, bool) {
	s, err := Parse(text)
	if err != nil {
		return 0, false
	}
	return s.Sum(name, labels)
}

// Labels turns matchers written as in the exposition (`type="redis"`)
// into a label set.
func Labels(matchers ...string) map[string]string {
	out := make(map[string]string, len(matchers))
	for _, m := range matchers {
		k, v, ok := strings.Cut(m, "=")
		if !ok {
			panic("promtest: not a label matcher: " + m)
		}
		if uq, err := strconv.Unquote(v); err == nil {
			v = uq
		}
		out[k] = v
	}
	return out
}
