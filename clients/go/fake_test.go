package sessionsidecar

// Tests against an in-process fake sidecar (a Unix socket speaking the framing), for what a real sidecar does
// not do on demand: answer out of order, never answer, drop the connection with calls in flight, send a
// connection-level error. They need no sidecar and always run.

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	pb "sessionsidecar.dev/client/sessionsidecarv1"
)

// fakeConn is the server side of one connection of the fake sidecar.
type fakeConn struct {
	nc net.Conn
	r  *bufio.Reader
	mu sync.Mutex
}

func (f *fakeConn) read() (*pb.Request, error) {
	var header [4]byte
	if _, err := io.ReadFull(f.r, header[:]); err != nil {
		return nil, err
	}
	body := make([]byte, binary.BigEndian.Uint32(header[:]))
	if _, err := io.ReadFull(f.r, body); err != nil {
		return nil, err
	}
	req := new(pb.Request)
	return req, proto.Unmarshal(body, req)
}

func (f *fakeConn) write(resp *pb.Response) {
	body, err := proto.Marshal(resp)
	if err != nil {
		panic(err)
	}
	frame := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	f.mu.Lock()
	defer f.mu.Unlock()
	_, _ = f.nc.Write(append(frame, body...))
}

// startFake serves handler on a new socket; handler gets each connection's number (0, 1, ...).
func startFake(t *testing.T, handler func(n int, f *fakeConn)) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ssc")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "s.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var conns sync.Map
	t.Cleanup(func() {
		ln.Close()
		conns.Range(func(k, _ any) bool { k.(net.Conn).Close(); return true })
		wg.Wait()
		os.RemoveAll(dir)
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 0; ; n++ {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Store(nc, true)
			wg.Add(1)
			go func(n int) {
				defer wg.Done()
				defer nc.Close()
				handler(n, &fakeConn{nc: nc, r: bufio.NewReader(nc)})
			}(n)
		}
	}()
	return path
}

// echoList answers a ListSessions with the request's user id as the only handle.
func echoList(req *pb.Request) *pb.Response {
	return &pb.Response{Id: req.Id, Status: &pb.Status{}, Result: &pb.Response_ListSessions{
		ListSessions: &pb.ListSessionsResponse{SessionHandles: []string{req.GetListSessions().GetUserId()}},
	}}
}

// serveEcho answers every request with echoList, in order, until the connection ends.
func serveEcho(f *fakeConn) {
	for {
		req, err := f.read()
		if err != nil {
			return
		}
		f.write(echoList(req))
	}
}

func fakeClient(t *testing.T, path string) *Client {
	t.Helper()
	c, err := New(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func list(ctx context.Context, c *Client, user string) (string, error) {
	resp, err := c.ListSessions(ctx, &pb.ListSessionsRequest{UserId: user})
	if err != nil {
		return "", err
	}
	if len(resp.SessionHandles) != 1 {
		return "", fmt.Errorf("got %d handles", len(resp.SessionHandles))
	}
	return resp.SessionHandles[0], nil
}

func TestFakeResponsesOutOfOrderReachTheirCallers(t *testing.T) {
	const n = 50
	path := startFake(t, func(_ int, f *fakeConn) {
		var reqs []*pb.Request
		for len(reqs) < n {
			req, err := f.read()
			if err != nil {
				return
			}
			reqs = append(reqs, req)
		}
		for i := len(reqs) - 1; i >= 0; i-- { // answer in reverse order
			f.write(echoList(reqs[i]))
		}
		serveEcho(f)
	})
	c := fakeClient(t, path)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			user := fmt.Sprintf("user-%d", i)
			got, err := list(ctx, c, user)
			if err == nil && got != user {
				err = fmt.Errorf("call for %s got the answer for %s", user, got)
			}
			errs <- err
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestFakeDropFailsCallsInFlightThenRedials(t *testing.T) {
	const n = 5
	path := startFake(t, func(conn int, f *fakeConn) {
		if conn == 0 {
			for i := 0; i < n; i++ { // take the calls, answer none, hang up
				if _, err := f.read(); err != nil {
					return
				}
			}
			return
		}
		serveEcho(f)
	})
	c := fakeClient(t, path)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := list(ctx, c, "u")
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		var te *TransportError
		if !errors.Is(err, ErrConnectionLost) || !errors.As(err, &te) || te.Call != "ListSessions" {
			t.Fatalf("a call in flight when the connection dropped: got %v, want a *TransportError that is ErrConnectionLost", err)
		}
		if ctx.Err() != nil {
			t.Fatal("the calls in flight waited for the context instead of failing at once")
		}
	}
	if got, err := list(ctx, c, "after"); err != nil || got != "after" {
		t.Fatalf("the call after the drop did not dial again: %q, %v", got, err)
	}
}

func TestFakeContextDeadlineEndsOneCallOnly(t *testing.T) {
	release := make(chan struct{})
	path := startFake(t, func(_ int, f *fakeConn) {
		slow, err := f.read() // never answered until released
		if err != nil {
			return
		}
		go func() {
			<-release
			f.write(echoList(slow)) // late: its caller gave up; the client must drop it
		}()
		serveEcho(f)
	})
	c := fakeClient(t, path)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := list(ctx, c, "slow")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want context.DeadlineExceeded", err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Fatalf("the deadline of 100 ms ended the call after %v", elapsed)
	}
	close(release)
	ok, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	for i := 0; i < 3; i++ {
		if got, err := list(ok, c, "fast"); err != nil || got != "fast" {
			t.Fatalf("after a timed-out call: %q, %v", got, err)
		}
	}
	canceled, cancel3 := context.WithCancel(context.Background())
	cancel3()
	if _, err := c.Health(canceled); !errors.Is(err, context.Canceled) {
		t.Fatalf("a canceled context: got %v", err)
	}
}

func TestFakeStatusAndMalformedResults(t *testing.T) {
	path := startFake(t, func(_ int, f *fakeConn) {
		for {
			req, err := f.read()
			if err != nil {
				return
			}
			switch req.GetListSessions().GetUserId() {
			case "status":
				f.write(&pb.Response{Id: req.Id, Status: &pb.Status{Code: pb.Code_UNAVAILABLE, Message: "database down"}})
			case "no-result":
				f.write(&pb.Response{Id: req.Id, Status: &pb.Status{}})
			case "wrong-result":
				f.write(&pb.Response{Id: req.Id, Result: &pb.Response_Health{Health: &pb.HealthResponse{}}})
			}
		}
	})
	c := fakeClient(t, path)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := list(ctx, c, "status")
	var se *StatusError
	if !errors.As(err, &se) || se.Code != pb.Code_UNAVAILABLE || se.Message != "database down" || se.Call != "ListSessions" {
		t.Fatalf("got %v, want a *StatusError UNAVAILABLE", err)
	}
	if code, ok := StatusCode(err); !ok || code != pb.Code_UNAVAILABLE {
		t.Fatalf("StatusCode: %v %v", code, ok)
	}
	if err.Error() != "sessionsidecar: ListSessions: UNAVAILABLE: database down" {
		t.Fatalf("message: %q", err.Error())
	}
	for _, user := range []string{"no-result", "wrong-result"} {
		var te *TransportError
		_, err := list(ctx, c, user)
		if !errors.As(err, &te) {
			t.Fatalf("%s: got %v, want a *TransportError", user, err)
		}
		if _, ok := StatusCode(err); ok {
			t.Fatalf("%s: a malformed answer is not a status", user)
		}
	}
}

func TestFakeConnectionLevelErrorExplainsTheClose(t *testing.T) {
	path := startFake(t, func(_ int, f *fakeConn) {
		if _, err := f.read(); err != nil {
			return
		}
		f.write(&pb.Response{Status: &pb.Status{Code: pb.Code_RESOURCE_EXHAUSTED, Message: "frame length 9 exceeds the limit of 8 bytes"}})
	})
	c := fakeClient(t, path)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := list(ctx, c, "u")
	if !errors.Is(err, ErrConnectionLost) || !strings.Contains(err.Error(), "RESOURCE_EXHAUSTED") {
		t.Fatalf("got %v", err)
	}
	if _, ok := StatusCode(err); ok {
		t.Fatal("a connection-level error is not the call's status")
	}
}

func TestFakeWatchKeepsTheNewestSetThenEnds(t *testing.T) {
	path := startFake(t, func(_ int, f *fakeConn) {
		req, err := f.read()
		if err != nil || req.GetWatchSigningKeys() == nil {
			return
		}
		for i := 1; i <= 3; i++ {
			f.write(&pb.Response{Id: req.Id, Status: &pb.Status{}, Result: &pb.Response_WatchSigningKeys{
				WatchSigningKeys: &pb.GetSigningKeysResponse{JwksJson: fmt.Sprint(i)},
			}})
		}
		time.Sleep(200 * time.Millisecond)
		// then hang up
	})
	c := fakeClient(t, path)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	w, err := c.WatchSigningKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	time.Sleep(100 * time.Millisecond) // all three have arrived
	keys, err := w.Next(ctx)
	if err != nil || keys.JwksJson != "3" {
		t.Fatalf("got %v, %v; want the newest set", keys, err)
	}
	if _, err := w.Next(ctx); !errors.Is(err, ErrConnectionLost) {
		t.Fatalf("after the connection closed: got %v, want ErrConnectionLost", err)
	}
}

func TestFakeCloseFailsCallsInFlightAndLater(t *testing.T) {
	var got atomic.Int32
	path := startFake(t, func(_ int, f *fakeConn) {
		for {
			if _, err := f.read(); err != nil {
				return
			}
			got.Add(1)
		}
	})
	c := fakeClient(t, path)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { _, err := list(ctx, c, "u"); done <- err }()
	for got.Load() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	c.Close()
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("in flight at Close: %v", err)
	}
	if _, err := c.Health(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

func TestNoSidecarIsATransportError(t *testing.T) {
	t.Setenv(SocketEnv, "")
	if _, err := New(""); err == nil {
		t.Fatal("New without a path or $SESSION_SIDECAR_SOCKET succeeded")
	}
	c := fakeClient(t, filepath.Join(t.TempDir(), "missing.sock"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := c.Health(ctx)
	var te *TransportError
	if !errors.As(err, &te) || ctx.Err() != nil {
		t.Fatalf("got %v, want a *TransportError at once", err)
	}
	if _, err := Dial(ctx, c.SocketPath()); !errors.As(err, &te) {
		t.Fatalf("Dial: got %v", err)
	}
}

func TestOversizedRequestIsRefusedLocally(t *testing.T) {
	var got atomic.Int32
	path := startFake(t, func(_ int, f *fakeConn) {
		for {
			req, err := f.read()
			if err != nil {
				return
			}
			got.Add(1)
			f.write(echoList(req))
		}
	})
	c, err := NewWithOptions(Options{SocketPath: path, MaxRequestBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := list(ctx, c, strings.Repeat("x", 2000)); !errors.Is(err, ErrRequestTooLarge) {
		t.Fatalf("got %v", err)
	}
	if _, err := list(ctx, c, "small"); err != nil || got.Load() != 1 {
		t.Fatalf("got %v, %d requests reached the server", err, got.Load())
	}
}
