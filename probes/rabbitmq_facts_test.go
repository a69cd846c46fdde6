package probes

import (
	"errors"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

func TestRabbitMQFactsHealth(t *testing.T) {
	ok := RabbitMQHealthCheck{Check: "alarms", OK: true, Status: 200}
	tests := []struct {
		name   string
		facts  RabbitMQFacts
		want   State
		reason string
	}{
		{"plain", RabbitMQFacts{Product: "RabbitMQ", Version: "3.10.8"}, StateUp, ""},
		{"management ok", RabbitMQFacts{Management: []RabbitMQHealthCheck{ok, ok}}, StateUp, ""},
		{"blocked", RabbitMQFacts{Blocked: true, BlockedReason: "low on disk"}, StateDegraded, "connection blocked: low on disk"},
		{"blocked without reason", RabbitMQFacts{Blocked: true}, StateDegraded, "connection blocked: unknown"},
		{"alarm", RabbitMQFacts{Management: []RabbitMQHealthCheck{ok,
			{Check: "local-alarms", Status: 503, Reason: "memory on rabbit@a"}}}, StateDegraded, "local-alarms: memory on rabbit@a"},
		{"blocked and alarm", RabbitMQFacts{Blocked: true, BlockedReason: "mem", Management: []RabbitMQHealthCheck{
			{Check: "alarms", Reason: "memory on rabbit@a"}}}, StateDegraded, "connection blocked: mem; alarms: memory on rabbit@a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, reason := tt.facts.Health(Limits{}); got != tt.want || reason != tt.reason {
				t.Fatalf("Health = %s %q, want %s %q", got, reason, tt.want, tt.reason)
			}
		})
	}
}

func TestClassifyAMQP(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want ErrorKind
	}{
		{"access refused", &amqp.Error{Code: amqp.AccessRefused, Reason: "ACCESS_REFUSED - Login was refused", Server: true}, ErrKindAuth},
		{"vhost refused", &amqp.Error{Code: amqp.NotAllowed, Reason: "NOT_ALLOWED - access to vhost 'x' refused for user 'u'", Server: true}, ErrKindAuth},
		{"connection limit", &amqp.Error{Code: amqp.NotAllowed, Reason: "NOT_ALLOWED - access to vhost '/' refused for user 'u': connection limit (1) is reached", Server: true}, ErrKindUnavailable},
		{"credentials fallback", amqp.ErrCredentials, ErrKindAuth},
		{"vhost fallback", amqp.ErrVhost, ErrKindAuth},
		{"forced close", &amqp.Error{Code: amqp.ConnectionForced, Reason: "CONNECTION_FORCED - broker forced connection closure", Server: true}, ErrKindUnavailable},
		{"eof", &amqp.Error{Code: amqp.FrameError, Reason: "EOF"}, ErrKindUnavailable},
		{"not amqp", &amqp.Error{Code: amqp.FrameError, Reason: "frame could not be parsed"}, ErrKindProtocol},
		{"closed", amqp.ErrClosed, ErrKindUnavailable},
		{"other", errors.New("boom"), ErrKindUnknown},
	}
	for _, tt := range tests {
		if got := Classify(classifyAMQP(tt.err)); got != tt.want {
			t.Errorf("%s: kind %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestAlarmText(t *testing.T) {
	tests := map[string]string{
		`{"status":"failed","reason":"There are alarms in effect in the cluster","alarms":[{"node":"rabbit@a","resource":"memory"},{"node":"rabbit@b","resource":"disk"}]}`: "There are alarms in effect in the cluster: memory on rabbit@a, disk on rabbit@b",
		`{"status":"failed","reason":"something"}`: "something",
		"not json": "not json",
	}
	for body, want := range tests {
		if got := alarmText([]byte(body)); got != want {
			t.Errorf("alarmText(%s) = %q, want %q", body, got, want)
		}
	}
}
