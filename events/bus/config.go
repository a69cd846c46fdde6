package bus

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dbhealth/database-service/config/secret"
	"github.com/dbhealth/database-service/events"
)

// Defaults applied by Config for zero values.
const (
	DefaultServiceName      = "database-service"
	DefaultPrefetch         = 64
	DefaultConcurrency      = 16
	DefaultDeliveryLimit    = 5
	DefaultPublishTimeout   = 5 * time.Second
	DefaultChannelPoolSize  = 8
	DefaultAsyncBuffer      = 8192
	DefaultAsyncWorkers     = 2
	DefaultHandlerTimeout   = 30 * time.Second
	DefaultRetryInterval    = 100 * time.Millisecond
	DefaultRetryMaxInterval = 10 * time.Second
	DefaultHeartbeat        = 10 * time.Second
)

// ErrConfig is wrapped by every configuration error of New.
var ErrConfig = errors.New("bus: invalid configuration")

// Config configures a Bus. Zero values take the defaults above.
type Config struct {
	// URL is the broker, amqp:// or amqps://; empty selects the embedded
	// in-process bus. Its password is never logged nor returned in errors.
	URL secret.String
	// Exchange is the topic exchange events go to (default events.Exchange).
	Exchange string
	// ServiceName prefixes queue names: "<ServiceName>.<group>",
	// "<ServiceName>.poison", "<ServiceName>.dlx" (default "database-service").
	ServiceName string
	// ReplicaID names this process in connection names, consumer tags and
	// per-replica queues (default "<hostname>-<pid>").
	ReplicaID string
	// Prefetch is the consumer prefetch count (default 64).
	Prefetch int
	// Concurrency is how many events a group handles at once on the
	// replica that consumes its queue; events about one subject (one
	// target) are always handled one at a time, in order (default 16;
	// 1 handles everything in order). At most Prefetch.
	Concurrency int
	// DeliveryLimit is x-delivery-limit of group queues: deliveries after
	// which the broker dead-letters a message to the poison queue (default 5).
	DeliveryLimit int
	// PublishTimeout bounds Publish, including waiting for confirms
	// (default 5s).
	PublishTimeout time.Duration
	// ChannelPoolSize is the number of publishing channels; events about one
	// subject always use the same channel, so their order is kept
	// (default 8).
	ChannelPoolSize int
	// AsyncBuffer is the capacity of PublishAsync's buffer (default 8192).
	AsyncBuffer int
	// AsyncWorkers is the number of goroutines draining it (default 2).
	AsyncWorkers int
	// HandlerTimeout bounds one handler attempt (default 30s).
	HandlerTimeout time.Duration
	// RetryInterval is the first retry's backoff of a failed handler,
	// doubled each time (default 100ms), up to RetryMaxInterval (default
	// 10s); transient failures are retried until they pass.
	RetryInterval    time.Duration
	RetryMaxInterval time.Duration
	// Heartbeat is the AMQP heartbeat interval (default 10s).
	Heartbeat time.Duration
	// Registerer receives the bus metrics; nil registers nothing.
	Registerer prometheus.Registerer
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	if c.Exchange == "" {
		c.Exchange = events.Exchange
	}
	if c.ServiceName == "" {
		c.ServiceName = DefaultServiceName
	}
	if c.ReplicaID == "" {
		host, _ := os.Hostname()
		if host == "" {
			host = "replica"
		}
		c.ReplicaID = host + "-" + strconv.Itoa(os.Getpid())
	}
	def(&c.Prefetch, DefaultPrefetch)
	def(&c.Concurrency, DefaultConcurrency)
	def(&c.DeliveryLimit, DefaultDeliveryLimit)
	def(&c.ChannelPoolSize, DefaultChannelPoolSize)
	def(&c.AsyncBuffer, DefaultAsyncBuffer)
	def(&c.AsyncWorkers, DefaultAsyncWorkers)
	defDur(&c.PublishTimeout, DefaultPublishTimeout)
	defDur(&c.HandlerTimeout, DefaultHandlerTimeout)
	defDur(&c.RetryInterval, DefaultRetryInterval)
	defDur(&c.RetryMaxInterval, DefaultRetryMaxInterval)
	defDur(&c.Heartbeat, DefaultHeartbeat)
	return c
}

// nameRE is what exchange, service, replica and group names may contain:
// no spaces, no wildcards, nothing that needs quoting in rabbitmqctl.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,200}$`)

// Validate checks a defaulted configuration. Its errors wrap ErrConfig and
// never contain the URL's password.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.URL.IsSet() {
		if err := checkURL(c.URL); err != nil {
			errs = append(errs, err)
		}
	}
	for _, n := range []struct{ key, v string }{
		{"Exchange", c.Exchange}, {"ServiceName", c.ServiceName}, {"ReplicaID", c.ReplicaID},
	} {
		if !nameRE.MatchString(n.v) {
			bad("%s %q: want 1-200 of [A-Za-z0-9_.:-]", n.key, n.v)
		}
	}
	if c.Prefetch < 1 || c.Prefetch > 65535 {
		bad("Prefetch %d: want 1..65535", c.Prefetch)
	}
	if c.Concurrency < 1 || c.Concurrency > c.Prefetch {
		bad("Concurrency %d: want 1..Prefetch (%d)", c.Concurrency, c.Prefetch)
	}
	if c.DeliveryLimit < 1 {
		bad("DeliveryLimit %d: want >= 1", c.DeliveryLimit)
	}
	if c.PublishTimeout < 0 || c.HandlerTimeout < 0 || c.RetryInterval < 0 || c.RetryMaxInterval < 0 || c.Heartbeat < 0 {
		bad("durations must not be negative")
	}
	if c.ChannelPoolSize < 1 || c.ChannelPoolSize > 1024 {
		bad("ChannelPoolSize %d: want 1..1024", c.ChannelPoolSize)
	}
	if c.AsyncBuffer < 1 || c.AsyncWorkers < 1 {
		bad("AsyncBuffer and AsyncWorkers must be >= 1")
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrConfig, errors.Join(errs...))
	}
	return nil
}

// checkURL accepts amqp:// and amqps:// URLs.
func checkURL(u secret.String) error {
	p, err := url.Parse(u.Reveal())
	if err != nil {
		return fmt.Errorf("URL %s: not a URL", RedactURL(u))
	}
	if p.Scheme != "amqp" && p.Scheme != "amqps" {
		return fmt.Errorf("URL %s: scheme must be amqp or amqps", RedactURL(u))
	}
	if p.Hostname() == "" {
		return fmt.Errorf("URL %s: host missing", RedactURL(u))
	}
	return nil
}

// RedactURL returns u with its password replaced by secret.Mask, for logs.
func RedactURL(u secret.String) string {
	p, err := url.Parse(u.Reveal())
	if err != nil {
		return secret.Mask
	}
	if _, has := p.User.Password(); has {
		const placeholder = "PASSWORDPLACEHOLDER"
		p.User = url.UserPassword(p.User.Username(), placeholder)
		return strings.Replace(p.String(), placeholder, secret.Mask, 1)
	}
	return p.String()
}

// password is the URL's password (empty when none), for scrubbing errors.
func password(u secret.String) secret.String {
	p, err := url.Parse(u.Reveal())
	if err != nil || p.User == nil {
		return u // unparsable: scrub the whole URL
	}
	pw, _ := p.User.Password()
	return secret.String(pw)
}

// Embedded reports whether c selects the in-process bus.
func (c Config) Embedded() bool { return !c.URL.IsSet() }

// QueueName is the durable queue of a consumer group: "<ServiceName>.<group>".
func (c Config) QueueName(group string) string { return c.ServiceName + "." + group }

// ReplicaQueueName is the transient queue of a per-replica consumer:
// "<ServiceName>.<group>.<ReplicaID>".
func (c Config) ReplicaQueueName(group string) string {
	return c.ServiceName + "." + group + "." + c.ReplicaID
}

// PoisonQueue is the queue poisoned and dead-lettered messages end in.
func (c Config) PoisonQueue() string { return c.ServiceName + ".poison" }

// DeadLetterExchange is the fanout exchange bound to PoisonQueue.
func (c Config) DeadLetterExchange() string { return c.ServiceName + ".dlx" }

// UnroutedExchange is the alternate exchange of Exchange; the queue of the
// same name keeps messages no binding matched.
func (c Config) UnroutedExchange() string { return c.Exchange + ".unrouted" }
