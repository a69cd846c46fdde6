package servers

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// echoServer answers every line with the same line.
func echoServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	Serve(t, ln, func(c net.Conn) { _, _ = io.Copy(c, c) })
	return ln.Addr().String()
}

// echoProxy is a Proxy to an echo server and a connection through it.
func echoProxy(t *testing.T) (*Proxy, net.Conn, *bufio.Reader) {
	p := StartProxy(t, echoServer(t))
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return p, c, bufio.NewReader(c)
}

func TestProxyForwardsAndCuts(t *testing.T) {
	p, c, rd := echoProxy(t)
	if _, err := io.WriteString(c, "hello\n"); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := rd.ReadString('\n')
	if err != nil || line != "hello\n" {
		t.Fatalf("echo through proxy = %q, %v", line, err)
	}
	p.Cut()
	if _, err := rd.ReadString('\n'); !errors.Is(err, io.EOF) {
		t.Fatalf("read after Cut = %v, want EOF", err)
	}
	if got := p.Accepted(); got != 1 {
		t.Fatalf("Accepted = %d, want 1", got)
	}
}

func TestProxyPauseHoldsUntilResume(t *testing.T) {
	p, c, rd := echoProxy(t)
	p.Pause()
	if _, err := io.WriteString(c, "held\n"); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	var ne net.Error
	if _, err := rd.ReadString('\n'); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read while paused = %v, want a timeout", err)
	}
	p.Resume()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if line, err := rd.ReadString('\n'); err != nil || line != "held\n" {
		t.Fatalf("read after Resume = %q, %v", line, err)
	}
}

func TestSilentAcceptsAndNeverAnswers(t *testing.T) {
	s := StartSilent(t)
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = io.WriteString(c, "PING\r\n")
	_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	var buf [1]byte
	_, err = c.Read(buf[:])
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read from silent listener = %v, want a timeout", err)
	}
}

func TestFreePortIsClosed(t *testing.T) {
	_, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", itoa(FreePort(t))), time.Second)
	if err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("dial free port = %v, want connection refused", err)
	}
}

func TestRedisRequiresPassword(t *testing.T) {
	if testing.Short() {
		t.Skip("starts redis-server")
	}
	r := StartRedis(t, "s3cret-redis")
	if got := redisCmd(t, r.Addr(), "PING"); !strings.HasPrefix(got, "-NOAUTH") {
		t.Fatalf("PING without AUTH = %q, want -NOAUTH", got)
	}
	r.Kill()
	if _, err := net.DialTimeout("tcp", r.Addr(), time.Second); err == nil {
		t.Fatal("killed redis-server still accepts connections")
	}
	r.Start()
	if got := redisCmd(t, r.Addr(), "AUTH s3cret-redis"); got != "+OK" {
		t.Fatalf("AUTH after restart = %q, want +OK", got)
	}
}

func TestPostgresStartsAndStops(t *testing.T) {
	if testing.Short() {
		t.Skip("runs initdb")
	}
	p := StartPostgres(t, "s3cret-pg")
	if err := waitDial(p.Addr(), time.Second); err != nil {
		t.Fatalf("postgres not listening: %v", err)
	}
	if err := p.StopImmediate(); err != nil {
		t.Fatal(err)
	}
	if _, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
		t.Fatal("stopped postgres still accepts connections")
	}
}

// redisCmd sends one inline command and returns the first reply line.
func redisCmd(t *testing.T, addr, cmd string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, cmd+"\r\n"); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimRight(line, "\r\n")
}

func itoa(i int) string { return strconv.Itoa(i) }
