package bus

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/dbhealth/database-service/config/secret"
	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/testsupport/logrec"
	"github.com/dbhealth/database-service/testsupport/servers"
)

func TestConfigDefaults(t *testing.T) {
	c := Config{}.WithDefaults()
	if c.Exchange != events.Exchange || c.ServiceName != "database-service" || c.Prefetch != 64 ||
		c.DeliveryLimit != 5 || c.PublishTimeout != 5*time.Second || c.ReplicaID == "" {
		t.Fatalf("defaults: %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if !c.Embedded() {
		t.Fatal("empty URL must select the embedded bus")
	}
	if got := c.QueueName("status"); got != "database-service.status" {
		t.Fatal(got)
	}
	if c.PoisonQueue() != "database-service.poison" || c.UnroutedExchange() != "db.health.unrouted" ||
		c.DeadLetterExchange() != "database-service.dlx" {
		t.Fatalf("names: %s %s %s", c.PoisonQueue(), c.UnroutedExchange(), c.DeadLetterExchange())
	}
}

func TestConfigValidate(t *testing.T) {
	const pw = "s3cr3t-pass"
	tests := []struct {
		name string
		cfg  Config
	}{
		{"scheme", Config{URL: secret.String("http://u:" + pw + "@127.0.0.1/")}},
		{"no host", Config{URL: secret.String("amqp://u:" + pw + "@/")}},
		{"bad url", Config{URL: secret.String("amqp://u:" + pw + "@127.0.0.1:bad/")}},
		{"service name", Config{ServiceName: "has space"}},
		{"prefetch", Config{Prefetch: -1}},
		{"delivery limit", Config{DeliveryLimit: -2}},
		{"pool", Config{ChannelPoolSize: 5000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.WithDefaults().Validate()
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("Validate = %v, want ErrConfig", err)
			}
			if strings.Contains(err.Error(), pw) {
				t.Fatalf("password leaked: %v", err)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	got := RedactURL(secret.String("amqps://user:p%40ss@broker.example:5671/vhost"))
	if got != "amqps://user:******@broker.example:5671/vhost" {
		t.Fatal(got)
	}
	if got := RedactURL(secret.String("amqp://127.0.0.1/")); got != "amqp://127.0.0.1/" {
		t.Fatal(got)
	}
}

// A broker that refuses the password: New starts anyway (it retries in
// the background); neither the connection error nor the logs contain it.
func TestNewNeverLeaksPassword(t *testing.T) {
	if testing.Short() {
		t.Skip("needs RabbitMQ")
	}
	const pw = "wrong-password-123"
	var logs logrec.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Second)
	defer cancel()
	b, err := New(ctx, Config{URL: secret.String(servers.MachineRabbitMQ().WithPassword(pw).URL())},
		slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer b.Close()
	err = b.WaitConnected(ctx)
	if err == nil {
		t.Fatal("connected with a wrong password")
	}
	if c := b.Check(ctx); c == nil || strings.Contains(c.Error(), pw) {
		t.Fatalf("Check = %v", c)
	}
	if strings.Contains(err.Error(), pw) || strings.Contains(logs.String(), pw) || !strings.Contains(logs.String(), "bus dial failed") {
		t.Fatalf("password leaked:\nerr: %v\nlogs: %s", err, logs.String())
	}
	if !strings.Contains(err.Error(), "******") {
		t.Fatalf("error should name the redacted URL: %v", err)
	}
}

// A broker that is not there: New returns at once, Check and
// WaitConnected say why, and the bus connects once the broker is there.
func TestNewUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens there now
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	b, err := New(ctx, Config{URL: secret.String(servers.MachineRabbitMQ().Via(addr).URL())}, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer b.Close()
	if err := b.WaitConnected(ctx); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("WaitConnected = %v, want a connection refused error", err)
	}
	if err := b.Check(ctx); !errors.Is(err, ErrDisconnected) || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("Check = %v, want ErrDisconnected naming the refusal", err)
	}
}
