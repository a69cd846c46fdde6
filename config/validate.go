package config

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ErrInvalid is wrapped by every configuration error, so callers can tell a
// bad configuration (exit code 2, say) from other failures.
var ErrInvalid = errors.New("config: invalid configuration")

// FieldError is one invalid variable. Its message names the variable and
// the bad value, e.g. `DB_SERVICE_PORT: must be 1-65535, got "abc"`; the
// value of a secret is never included.
type FieldError struct {
	// Var is the variable's name (or TARGETS_FILE for the targets file).
	Var string
	// Msg says what is wrong.
	Msg string
}

// Error implements error.
func (e *FieldError) Error() string { return e.Var + ": " + e.Msg }

// Unwrap makes errors.Is(err, ErrInvalid) hold.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// fieldErr builds a *FieldError with a formatted message.
func fieldErr(key, format string, args ...any) error {
	return &FieldError{Var: key, Msg: fmt.Sprintf(format, args...)}
}

// intRanges are the allowed ranges of the integer variables; max 0 means
// no upper bound.
var intRanges = map[string][2]int{
	"DB_SERVICE_PORT":     {1, 65535},
	"POSTGRES_PORT":       {1, 65535},
	"MILVUS_PORT":         {1, 65535},
	"REDIS_PORT":          {1, 65535},
	"RABBITMQ_PORT":       {1, 65535},
	"REDIS_DB":            {0, 0},
	"PROBE_CONCURRENCY":   {1, 0},
	"FAILURE_THRESHOLD":   {1, 0},
	"SUCCESS_THRESHOLD":   {1, 0},
	"LOG_MAX_SIZE_MB":     {1, 0},
	"LOG_MAX_BACKUPS":     {0, 0},
	"LOG_MAX_AGE_DAYS":    {0, 0},
	"HISTORY_MAX_ENTRIES": {1, 0},
	"OUTBOX_MAX_LENGTH":   {100, 0},
	"ALERT_MAX_ATTEMPTS":  {1, 100},
	"ALERT_SMTP_PORT":     {1, 65535},
}

// intRule describes the allowed values of an integer variable.
func intRule(key string) string {
	r, ok := intRanges[key]
	switch {
	case !ok:
		return "must be an integer"
	case r[1] > 0:
		return fmt.Sprintf("must be %d-%d", r[0], r[1])
	default:
		return fmt.Sprintf("must be an integer >= %d", r[0])
	}
}

// checkInt reports v outside key's range.
func checkInt(key string, v int) error {
	r := intRanges[key]
	if v < r[0] || (r[1] > 0 && v > r[1]) {
		return fieldErr(key, "%s, got %q", intRule(key), strconv.Itoa(v))
	}
	return nil
}

// Minimums of the schedule settings.
const (
	// MinProbeInterval is the shortest PROBE_INTERVAL (and targets-file
	// interval): below it probes of slow targets pile up and the claim
	// buckets get too short to share between replicas.
	MinProbeInterval = time.Second
	// MinOutboxClaimIdle is the publish timeout plus the relay's backoff:
	// OUTBOX_CLAIM_IDLE must exceed it, or a replica still publishing a
	// transition has it taken over (and published twice) by another.
	MinOutboxClaimIdle = 5*time.Second + 500*time.Millisecond
)

// checkPositive reports a duration that is not > 0.
func checkPositive(key string, d time.Duration) error {
	if d <= 0 {
		return fieldErr(key, "must be a duration > 0, got %q", d.String())
	}
	return nil
}

// validAppEnv reports whether v is an APP_ENV value.
func validAppEnv(v string) bool {
	return v == EnvDevelopment || v == EnvTest || v == EnvProduction
}

// replicaIDPattern is what a REPLICA_ID may look like: it goes into Redis
// keys, event ids and Nacos metadata.
var replicaIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)

// exchangePattern is what an AMQP exchange name may look like.
var exchangePattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,255}$`)

// keyPrefixPattern is what a Redis key prefix may look like.
var keyPrefixPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

// validate checks the parsed values; it returns every problem found, in
// the order of the checks below.
func (c *Config) validate() []error {
	var p problems
	c.validateService(&p)
	c.validateRanges(&p)
	c.validateAuthSchedule(&p)
	c.validateAddresses(&p)
	c.validateBusStore(&p)
	c.validateIdentity(&p)
	c.validateDelivery(&p)
	return append(p, c.validateTLS()...)
}

// problems collects the errors of the checks.
type problems []error

// add records err unless it is nil.
func (p *problems) add(err error) {
	if err != nil {
		*p = append(*p, err)
	}
}

// validateService checks APP_ENV and DB_SERVICE_NAME.
func (c *Config) validateService(p *problems) {
	if !validAppEnv(c.AppEnv) {
		p.add(fieldErr("APP_ENV", "must be one of development, test, production, got %q", truncate(c.AppEnv, 64)))
	}
	if strings.TrimSpace(c.Service.Name) == "" || strings.ContainsAny(c.Service.Name, " \t\r\n") {
		p.add(fieldErr("DB_SERVICE_NAME", "must be a non-empty name without spaces, got %q", truncate(c.Service.Name, 64)))
	}
}

// validateRanges checks the integer variables against intRanges and the
// durations for > 0.
func (c *Config) validateRanges(p *problems) {
	checkEach(p, checkInt, []namedValue[int]{
		{"DB_SERVICE_PORT", c.Service.Port},
		{"POSTGRES_PORT", c.Postgres.Port},
		{"MILVUS_PORT", c.Milvus.Port},
		{"REDIS_PORT", c.Redis.Port},
		{"REDIS_DB", c.Redis.DB},
		{"RABBITMQ_PORT", c.RabbitMQ.Port},
		{"PROBE_CONCURRENCY", c.Probe.Concurrency},
		{"FAILURE_THRESHOLD", c.Probe.FailureThreshold},
		{"SUCCESS_THRESHOLD", c.Probe.SuccessThreshold},
		{"LOG_MAX_SIZE_MB", c.Log.MaxSizeMB},
		{"LOG_MAX_BACKUPS", c.Log.MaxBackups},
		{"LOG_MAX_AGE_DAYS", c.Log.MaxAgeDays},
		{"HISTORY_MAX_ENTRIES", c.History.MaxEntries},
		{"OUTBOX_MAX_LENGTH", c.Store.OutboxMaxLength},
		{"ALERT_MAX_ATTEMPTS", c.Alerts.Delivery.MaxAttempts},
		{"ALERT_SMTP_PORT", c.Alerts.Delivery.SMTP.Port},
	})
	checkEach(p, checkPositive, []namedValue[time.Duration]{
		{"PROBE_INTERVAL", c.Probe.Interval},
		{"PROBE_TIMEOUT", c.Probe.Timeout},
		{"RETRY_INTERVAL", c.Probe.RetryInterval},
		{"HISTORY_RETENTION", c.History.Retention},
		{"ALERT_RETENTION", c.Alerts.Retention},
		{"SHUTDOWN_TIMEOUT", c.Service.ShutdownTimeout},
		{"OUTBOX_CLAIM_IDLE", c.Store.OutboxClaimIdle},
	})
}

// namedValue is a variable's value and its name.
type namedValue[T any] struct {
	key string
	v   T
}

// checkEach adds to p what check finds wrong in each of vs.
func checkEach[T any](p *problems, check func(string, T) error, vs []namedValue[T]) {
	for _, nv := range vs {
		p.add(check(nv.key, nv.v))
	}
}

// validateAuthSchedule checks API_AUTH, then the schedule's minimums and that
// the timeout is below the interval.
func (c *Config) validateAuthSchedule(p *problems) {
	switch c.Service.APIAuth {
	case AuthWrites:
	case AuthAll:
		if !c.Service.APIToken.IsSet() {
			p.add(fieldErr("API_AUTH", "all needs API_TOKEN to be set"))
		}
	default:
		p.add(fieldErr("API_AUTH", "must be one of writes, all, got %q", truncate(c.Service.APIAuth, 64)))
	}
	if c.Probe.Interval > 0 && c.Probe.Interval < MinProbeInterval {
		p.add(fieldErr("PROBE_INTERVAL", "must be at least %s, got %q", MinProbeInterval, c.Probe.Interval.String()))
	}
	if c.Store.OutboxClaimIdle > 0 && c.Store.OutboxClaimIdle <= MinOutboxClaimIdle {
		p.add(fieldErr("OUTBOX_CLAIM_IDLE", "must be more than %s (the publish timeout, 5s, plus the relay's backoff, 500ms: a shorter idle time lets another replica take over a transition still being published), got %q",
			MinOutboxClaimIdle, c.Store.OutboxClaimIdle.String()))
	}
	if c.Probe.Timeout > 0 && c.Probe.Interval > 0 && c.Probe.Timeout >= c.Probe.Interval {
		p.add(fieldErr("PROBE_TIMEOUT", "must be less than PROBE_INTERVAL (%s), got %q", c.Probe.Interval, c.Probe.Timeout.String()))
	}
}

// validateAddresses checks the default targets' hosts, URLs, vhost and
// Nacos servers, namespace and group.
func (c *Config) validateAddresses(p *problems) {
	hosts := []struct{ key, v string }{
		{"POSTGRES_HOST", c.Postgres.Host},
		{"MILVUS_HOST", c.Milvus.Host},
		{"REDIS_HOST", c.Redis.Host},
		{"RABBITMQ_HOST", c.RabbitMQ.Host},
	}
	for _, h := range hosts {
		if !validHost(h.v) {
			p.add(fieldErr(h.key, "must be a host name or IP address without port, got %q", truncate(h.v, 64)))
		}
	}
	if len(c.Elasticsearch.Hosts) == 0 {
		p.add(fieldErr("ELASTICSEARCH_HOSTS", "must list at least one http:// or https:// URL"))
	}
	for _, h := range c.Elasticsearch.Hosts {
		p.add(checkHTTPURL("ELASTICSEARCH_HOSTS", h, "ELASTICSEARCH_USERNAME and ELASTICSEARCH_PASSWORD"))
	}
	if c.RabbitMQ.ManagementURL != "" {
		p.add(checkHTTPURL("RABBITMQ_MANAGEMENT_URL", c.RabbitMQ.ManagementURL, "RABBITMQ_USERNAME and RABBITMQ_PASSWORD"))
	}
	if strings.TrimSpace(c.RabbitMQ.VHost) == "" {
		p.add(fieldErr("RABBITMQ_VHOST", "must not be blank"))
	}
	if len(c.Nacos.Servers) == 0 {
		p.add(fieldErr("NACOS_SERVERS", "must list at least one host:port"))
	}
	for _, s := range c.Nacos.Servers {
		if !validHostPort(s) {
			p.add(fieldErr("NACOS_SERVERS", "must be a comma-separated list of host:port, got %q", truncate(maskURLCredentials(s), 128)))
		}
	}
	for _, kv := range []struct{ key, v string }{{"NACOS_NAMESPACE", c.Nacos.Namespace}, {"NACOS_GROUP", c.Nacos.Group}} {
		if strings.TrimSpace(kv.v) == "" {
			p.add(fieldErr(kv.key, "must not be blank"))
		}
	}
}

// validateBusStore checks BUS_URL, STORE_URL, their combination and the
// exchange and key prefix.
func (c *Config) validateBusStore(p *problems) {
	p.add(checkSecretURL("BUS_URL", c.Bus.URL, "amqp", "amqps"))
	p.add(checkSecretURL("STORE_URL", c.Store.URL, "redis", "rediss"))
	if c.Bus.Embedded() && !c.Store.Embedded() {
		p.add(fieldErr("BUS_URL", "the embedded bus (empty BUS_URL) serves one process only and cannot be combined with a shared STORE_URL; set BUS_URL to an amqp:// URL"))
	}
	if !exchangePattern.MatchString(c.Bus.Exchange) {
		p.add(fieldErr("BUS_EXCHANGE", "must be 1-255 characters of A-Z a-z 0-9 . _ : -, got %q", truncate(c.Bus.Exchange, 64)))
	}
	if !keyPrefixPattern.MatchString(c.Store.KeyPrefix) {
		p.add(fieldErr("STORE_KEY_PREFIX", "must be 1-64 characters of A-Z a-z 0-9 . _ : -, got %q", truncate(c.Store.KeyPrefix, 64)))
	}
}

// validateIdentity checks SERVICE_IP and REPLICA_ID.
func (c *Config) validateIdentity(p *problems) {
	if c.Service.IP != "" && net.ParseIP(c.Service.IP) == nil {
		p.add(fieldErr("SERVICE_IP", "must be an IP address, got %q", truncate(c.Service.IP, 64)))
	}
	if !replicaIDPattern.MatchString(c.Service.ReplicaID) {
		p.add(fieldErr("REPLICA_ID", "must be 1-128 characters of A-Z a-z 0-9 . _ : - starting with a letter or digit, got %q", truncate(c.Service.ReplicaID, 64)))
	}
}

// validHost reports whether h is a bare host name or IP address (no port,
// scheme, path or brackets).
func validHost(h string) bool {
	if h == "" || len(h) > 253 || strings.ContainsAny(h, " \t\r\n/@?#[]%\\") {
		return false
	}
	if strings.Contains(h, ":") {
		return net.ParseIP(h) != nil
	}
	return true
}

// validHostPort reports whether s is "host:port" with a valid host and port.
func validHostPort(s string) bool {
	h, p, err := net.SplitHostPort(s)
	if err != nil || !validHost(h) {
		return false
	}
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535
}

// Validate re-checks c's variables (Load already did); use it after
// changing a loaded Config's fields, in tests for instance. It does not
// re-read TARGETS_FILE.
func (c *Config) Validate() error { return joinErrs(c.validate()) }
