package promtest

import "testing"

const exposition = `# TYPE requests_total counter
requests_total{code="200",path="/a"} 3
requests_total{code="500",path="/a"} 1
requests_total{code="200",path="/b"} 2
# TYPE clients gauge
clients 4
# TYPE took_seconds histogram
took_seconds_bucket{kind="redis",le="0.1"} 1
took_seconds_bucket{kind="redis",le="+Inf"} 2
took_seconds_sum{kind="redis"} 0.3
took_seconds_count{kind="redis"} 2
`

func TestValueAndSum(t *testing.T) {
	s, err := Parse(exposition)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		labels map[string]string
		value  float64
		ok     bool
		sum    float64
		found  bool
	}{
		{"requests_total", Labels(`code="200"`, `path="/a"`), 3, true, 3, true},
		{"requests_total", Labels(`code="200"`), 0, false, 5, true},
		{"requests_total", nil, 0, false, 6, true},
		{"clients", nil, 4, true, 4, true},
		{"took_seconds_count", Labels(`kind="redis"`), 2, true, 2, true},
		{"took_seconds_bucket", Labels(`kind="redis"`, `le="+Inf"`), 2, true, 2, true},
		{"missing", nil, 0, false, 0, false},
	}
	for _, tt := range tests {
		v, ok := s.Value(tt.name, tt.labels)
		sum, found := s.Sum(tt.name, tt.labels)
		if v != tt.value || ok != tt.ok || sum != tt.sum || found != tt.found {
			t.Errorf("%s%v: Value = %v, %v; Sum = %v, %v; want %v, %v; %v, %v",
				tt.name, tt.labels, v, ok, sum, found, tt.value, tt.ok, tt.sum, tt.found)
		}
	}
	if v, ok := Value(exposition, "clients", nil); v != 4 || !ok {
		t.Errorf("Value(text) = %v, %v", v, ok)
	}
	if _, ok := Sum("not { an exposition", "clients", nil); ok {
		t.Error("Sum of a malformed text found a sample")
	}
}
