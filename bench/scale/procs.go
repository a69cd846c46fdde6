package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// replica is one running process of the service.
type replica struct {
	cmd  *exec.Cmd
	url  string
	log  string
	done chan struct{}
}

func startReplica(ctx context.Context, bin, dir string, i int, env map[string]string) (*replica, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	rdir := filepath.Join(dir, fmt.Sprintf("replica-%d", i))
	if err := os.MkdirAll(rdir, 0o700); err != nil {
		return nil, err
	}
	r := &replica{url: fmt.Sprintf("http://127.0.0.1:%d", port), log: filepath.Join(rdir, "service.log"), done: make(chan struct{})}
	logf, err := os.Create(r.log)
	if err != nil {
		return nil, err
	}
	r.cmd = exec.Command(bin)
	r.cmd.Dir = rdir
	r.cmd.Env = append(os.Environ(), "DB_SERVICE_PORT="+strconv.Itoa(port), "DATA_DIR="+filepath.Join(rdir, "data"),
		"REPLICA_ID="+fmt.Sprintf("bench-%d", i))
	for k, v := range env {
		r.cmd.Env = append(r.cmd.Env, k+"="+v)
	}
	r.cmd.Stdout, r.cmd.Stderr = logf, logf
	if err := r.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = r.cmd.Wait(); _ = logf.Close(); close(r.done) }()
	if err := waitTCP(ctx, fmt.Sprintf("127.0.0.1:%d", port)); err != nil {
		return nil, fmt.Errorf("replica %d did not listen: %w (log: %s)", i, err, r.log)
	}
	return r, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func waitTCP(ctx context.Context, addr string) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return err
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// clockTick is the kernel's USER_HZ, the unit of /proc/<pid>/stat times.
const clockTick = 100

// cpuOf is the user + system CPU time of pid so far (0 for pid 0).
func cpuOf(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	// fields after the command: state(0) ... utime(11) stime(12)
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * time.Second / clockTick
}

func procsCPU(reps []*replica) time.Duration {
	var d time.Duration
	for _, r := range reps {
		d += cpuOf(r.cmd.Process.Pid)
	}
	return d
}

// memOf is the RSS of pid in MB: total, anonymous and file-backed.
func memOf(pid int) (rss, anon, file float64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
		switch k {
		case "VmRSS":
			rss = kb / 1024
		case "RssAnon":
			anon = kb / 1024
		case "RssFile":
			file = kb / 1024
		}
	}
	return rss, anon, file
}

var pidRE = regexp.MustCompile(`pid=(\d+)`)

// listenerPID is the pid of the process listening on addr's port.
func listenerPID(addr string) (int, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, err
	}
	out, err := exec.Command("ss", "-Hltnp", "sport = :"+port).Output()
	if err != nil {
		return 0, err
	}
	m := pidRE.FindSubmatch(out)
	if m == nil {
		return 0, errors.New("no listener found (ss -Hltnp)")
	}
	return strconv.Atoi(string(m[1]))
}
