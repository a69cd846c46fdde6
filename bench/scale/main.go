// Command scale is the load benchmark of database-service: it starts the
// built binary with N generated Redis targets probed every S, in
// standalone mode (embedded bus and store) or in shared mode (the
// machine's RabbitMQ and a throwaway redis-server as the store, with one
// or more replicas), and measures over a fixed window:
//
//   - service CPU per completed check (/proc and dbhealth_checks_total);
//   - RSS (anonymous and file-backed) at the end of the window;
//   - broker and store CPU per check (shared mode);
//   - completion: checks done / checks due (N x window / S);
//   - outbox length, consumer lag (queue depth) and "lost" log lines.
//
// Usage (make bench-scale runs the standard cases):
//
//	go run ./bench/scale -mode embedded -targets 1000 -interval 1s -window 30s
//	go run ./bench/scale -mode shared -targets 10000 -interval 10s -replicas 2
//
// Every target is the machine's Redis (-redis), under its own name.
// Everything the benchmark starts talks to 127.0.0.1 only and is stopped
// at the end.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	mode       string
	targets    int
	interval   time.Duration
	replicas   int
	window     time.Duration
	warmup     time.Duration
	bin        string
	redis      string
	rabbit     string
	profile    string
	heap       string
	keep       bool
	concurrent int
}

func main() {
	var o options
	flag.StringVar(&o.mode, "mode", "embedded", "embedded or shared")
	flag.IntVar(&o.targets, "targets", 1000, "number of generated Redis targets")
	flag.DurationVar(&o.interval, "interval", time.Second, "probe interval of every target")
	flag.IntVar(&o.replicas, "replicas", 1, "replicas (shared mode)")
	flag.DurationVar(&o.window, "window", 30*time.Second, "measurement window")
	flag.DurationVar(&o.warmup, "warmup", 0, "extra time after every target was checked once (default 3 intervals, at least 5s)")
	flag.StringVar(&o.bin, "bin", "bin/database-service", "the service binary")
	flag.StringVar(&o.redis, "redis", "127.0.0.1:6379", "the Redis every target points at, or \"spawn\": a redis-server of the benchmark's own that accepts 19000 clients (the machine's accepts 10000 in all)")
	flag.StringVar(&o.rabbit, "rabbit", "127.0.0.1:5672", "RabbitMQ (shared mode)")
	flag.StringVar(&o.profile, "cpuprofile", "", "write a CPU profile of the first replica over the window to this file")
	flag.StringVar(&o.heap, "heapprofile", "", "write a heap profile of the first replica at the end of the window to this file")
	flag.BoolVar(&o.keep, "keep", false, "keep the work directory (logs, data)")
	flag.IntVar(&o.concurrent, "concurrency", 0, "PROBE_CONCURRENCY (default: the service's)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	res.print(os.Stdout)
}

// result is one case's figures.
type result struct {
	o                    options
	checks, due          float64
	up                   float64 // checks that found their target UP
	serviceCPU           time.Duration
	brokerCPU, storeCPU  time.Duration
	rssMB, anonMB, filMB float64
	rssFirst, rssMax     float64 // first and largest sample of the window (MB)
	outbox               float64
	queueDepth           int
	lostLines            int
	lagP99               string
}

func (r result) print(w io.Writer) {
	per := func(d time.Duration) string {
		if r.checks == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f", float64(d.Microseconds())/r.checks)
	}
	fmt.Fprintf(w, "case: mode=%s targets=%d interval=%s replicas=%d window=%s\n", r.o.mode, r.o.targets, r.o.interval, r.o.replicas, r.o.window)
	fmt.Fprintf(w, "  checks completed   %.0f of %.0f due (%.2f%%), %.2f%% of them UP\n", r.checks, r.due, 100*r.checks/r.due, 100*r.up/max(r.checks, 1))
	fmt.Fprintf(w, "  service CPU/check  %s us (%.2f cores)\n", per(r.serviceCPU), r.serviceCPU.Seconds()/r.o.window.Seconds())
	if r.o.mode == "shared" {
		fmt.Fprintf(w, "  broker CPU/check   %s us\n", per(r.brokerCPU))
		fmt.Fprintf(w, "  store CPU/check    %s us\n", per(r.storeCPU))
		fmt.Fprintf(w, "  checks queue depth %d\n", r.queueDepth)
	}
	fmt.Fprintf(w, "  RSS                %.0f MB per replica at the end (anon %.0f, file %.0f); %.0f MB at the start of the window, %.0f MB at most\n",
		r.rssMB, r.anonMB, r.filMB, r.rssFirst, r.rssMax)
	fmt.Fprintf(w, "  outbox length      %.0f\n", r.outbox)
	fmt.Fprintf(w, "  projection lag p99 %s\n", r.lagP99)
	fmt.Fprintf(w, "  'lost' log lines   %d\n", r.lostLines)
}

func run(ctx context.Context, o options) (res result, err error) {
	res.o = o
	if o.mode != "embedded" && o.mode != "shared" {
		return res, fmt.Errorf("-mode %q: want embedded or shared", o.mode)
	}
	if o.mode == "embedded" {
		o.replicas = 1
		res.o.replicas = 1
	}
	bin, err := filepath.Abs(o.bin)
	if err != nil {
		return res, err
	}
	if _, err := os.Stat(bin); err != nil {
		return res, fmt.Errorf("%s: build it first (make build): %w", o.bin, err)
	}
	dir, err := os.MkdirTemp("", "dbsvc-bench-")
	if err != nil {
		return res, err
	}
	if !o.keep {
		defer os.RemoveAll(dir)
	} else {
		fmt.Fprintln(os.Stderr, "work directory:", dir)
	}
	if o.redis == "spawn" {
		port, err := freePort()
		if err != nil {
			return res, err
		}
		tr := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--maxclients", "19000", "--dir", dir, "--logfile", filepath.Join(dir, "target-redis.log"))
		if err := tr.Start(); err != nil {
			return res, fmt.Errorf("start the target redis-server: %w", err)
		}
		defer func() { _ = tr.Process.Kill(); _ = tr.Wait() }()
		o.redis = fmt.Sprintf("127.0.0.1:%d", port)
		if err := waitTCP(ctx, o.redis); err != nil {
			return res, err
		}
	}
	targets := filepath.Join(dir, "targets.yaml")
	if err := writeTargets(targets, o); err != nil {
		return res, err
	}
	id := fmt.Sprintf("%x", rand.Uint32())
	env := map[string]string{
		"APP_ENV": "production", "DB_SERVICE_NAME": "bench-" + id, "TARGETS_FILE": targets,
		"PROBE_INTERVAL": o.interval.String(), "PROBE_TIMEOUT": min(o.interval/2, 2*time.Second).String(),
		"POSTGRES_ENABLED": "false", "ELASTICSEARCH_ENABLED": "false", "MILVUS_ENABLED": "false",
		"REDIS_ENABLED": "false", "NACOS_ENABLED": "false", "RABBITMQ_ENABLED": "false", "REGISTRY_ENABLED": "false",
		"DEBUG": strconv.FormatBool(o.profile != "" || o.heap != ""),
	}
	if o.concurrent > 0 {
		env["PROBE_CONCURRENCY"] = strconv.Itoa(o.concurrent)
	}
	var store *exec.Cmd
	var storePID, brokerPID int
	if o.mode == "shared" {
		port, err := freePort()
		if err != nil {
			return res, err
		}
		store = exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--dir", dir, "--logfile", filepath.Join(dir, "store-redis.log"))
		if err := store.Start(); err != nil {
			return res, fmt.Errorf("start the store redis-server: %w", err)
		}
		defer func() { _ = store.Process.Kill(); _ = store.Wait() }()
		storePID = store.Process.Pid
		if err := waitTCP(ctx, fmt.Sprintf("127.0.0.1:%d", port)); err != nil {
			return res, err
		}
		if brokerPID, err = listenerPID(o.rabbit); err != nil {
			return res, fmt.Errorf("RabbitMQ on %s: %w", o.rabbit, err)
		}
		env["STORE_URL"] = fmt.Sprintf("redis://127.0.0.1:%d/0", port)
		env["BUS_URL"] = "amqp://guest:guest@" + o.rabbit + "/"
		env["BUS_EXCHANGE"] = "bench-" + id
		defer cleanupBroker(o.rabbit, "bench-"+id, "bench-"+id)
	}
	var reps []*replica
	defer func() {
		for _, r := range reps {
			_ = r.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-r.done:
			case <-time.After(20 * time.Second):
				_ = r.cmd.Process.Kill()
				<-r.done
			}
		}
	}()
	for i := range o.replicas {
		r, err := startReplica(ctx, bin, dir, i, env)
		if err != nil {
			return res, err
		}
		reps = append(reps, r)
	}
	// Warm up: every target checked once, then a few intervals more.
	deadline := time.Now().Add(2*time.Minute + 3*o.interval)
	for {
		n, err := sumMetric(reps, "dbhealth_checks_total")
		if err == nil && n >= float64(o.targets) {
			break
		}
		if time.Now().After(deadline) {
			return res, fmt.Errorf("warm-up: %v checks after 2 minutes (%v)", n, err)
		}
		if err := sleep(ctx, 500*time.Millisecond); err != nil {
			return res, err
		}
	}
	warm := o.warmup
	if warm == 0 {
		warm = max(3*o.interval, 5*time.Second)
	}
	if err := sleep(ctx, warm); err != nil {
		return res, err
	}

	c0, err := sumMetric(reps, "dbhealth_checks_total")
	if err != nil {
		return res, err
	}
	up0, _ := sumMetric(reps, `dbhealth_checks_total{`, `state="UP"`)
	cpu0 := procsCPU(reps)
	b0, s0 := cpuOf(brokerPID), cpuOf(storePID)
	start := time.Now()
	var prof chan error
	if o.profile != "" {
		prof = make(chan error, 1)
		go func() { prof <- fetchProfile(reps[0].url, o.window, o.profile) }()
	}
	sample := func() {
		for _, r := range reps {
			rss, _, _ := memOf(r.cmd.Process.Pid)
			if res.rssFirst == 0 {
				res.rssFirst = rss
			}
			res.rssMax = max(res.rssMax, rss)
		}
	}
	sample()
	for end := start.Add(o.window); time.Now().Before(end); {
		if err := sleep(ctx, min(10*time.Second, time.Until(end))); err != nil {
			return res, err
		}
		sample()
	}
	elapsed := time.Since(start)
	c1, err := sumMetric(reps, "dbhealth_checks_total")
	if err != nil {
		return res, err
	}
	res.serviceCPU = procsCPU(reps) - cpu0
	res.brokerCPU, res.storeCPU = cpuOf(brokerPID)-b0, cpuOf(storePID)-s0
	res.checks = c1 - c0
	up1, _ := sumMetric(reps, `dbhealth_checks_total{`, `state="UP"`)
	res.up = up1 - up0
	res.due = float64(o.targets) * elapsed.Seconds() / o.interval.Seconds()
	res.o.window = elapsed.Round(time.Millisecond)
	for _, r := range reps {
		rss, anon, file := memOf(r.cmd.Process.Pid)
		res.rssMB = max(res.rssMB, rss)
		res.anonMB, res.filMB = max(res.anonMB, anon), max(res.filMB, file)
	}
	res.outbox, _ = gauge(reps[0], "dbhealth_outbox_length")
	res.lagP99 = lagP99(reps)
	if o.mode == "shared" {
		res.queueDepth = queueDepth(o.rabbit, "bench-"+id+".checks")
	}
	for _, r := range reps {
		res.lostLines += countLines(r.log, "lost")
	}
	if o.heap != "" {
		if err := fetch(reps[0].url+"/debug/pprof/heap", time.Minute, o.heap); err != nil {
			fmt.Fprintln(os.Stderr, "heap profile:", err)
		}
	}
	if prof != nil {
		if err := <-prof; err != nil {
			fmt.Fprintln(os.Stderr, "profile:", err)
		} else {
			fmt.Fprintln(os.Stderr, "CPU profile written to", o.profile)
		}
	}
	return res, nil
}

// writeTargets writes N Redis targets, all on o.redis.
func writeTargets(path string, o options) error {
	host, port, err := net.SplitHostPort(o.redis)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("targets:\n")
	for i := range o.targets {
		fmt.Fprintf(&b, "  - {name: r%05d, type: redis, host: %s, port: %s}\n", i, host, port)
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}
