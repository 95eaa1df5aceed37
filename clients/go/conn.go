package sessionsidecar

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"

	"google.golang.org/protobuf/proto"

	pb "sessionsidecar.dev/client/sessionsidecarv1"
)

// A call's request goes through these states; the writer moves it from queued to written, a caller that
// gives up before that moves it to abandoned and the writer skips it. A call whose request was never written
// when the connection dropped is retried once on a new connection: the sidecar cannot have seen it.
const (
	stateQueued int32 = iota
	stateWritten
	stateAbandoned
)

// pending is one request id waiting for its response(s).
type pending struct {
	state atomic.Int32
	// ch receives the single response of a unary call, or the error that ended the connection. Buffered (1)
	// and written at most once, so the reader never blocks on a slow caller.
	ch chan result
	// watch is set for a WatchSigningKeys stream: it gets every response on the id.
	watch *watchState
}

type result struct {
	resp *pb.Response
	err  error
}

type outFrame struct {
	buf []byte
	p   *pending
}

// conn is one connection to the sidecar: a writer goroutine that sends queued frames (several per write
// when they pile up), and a reader goroutine that hands each response to the pending id it answers.
type conn struct {
	nc       net.Conn
	maxFrame int
	queue    chan outFrame
	done     chan struct{} // closed once the connection has failed or was closed

	mu      sync.Mutex
	pending map[uint64]*pending
	err     error // why the connection ended; set once, before done is closed
	// connStatus is the last connection-level status (a Response with id 0) the sidecar sent; it explains
	// a close that follows it.
	connStatus error
}

func newConn(nc net.Conn, maxResponseBytes int) *conn {
	c := &conn{
		nc:       nc,
		maxFrame: maxResponseBytes,
		queue:    make(chan outFrame, 256),
		done:     make(chan struct{}),
		pending:  make(map[uint64]*pending),
	}
	go c.writeLoop()
	go c.readLoop()
	return c
}

func (c *conn) alive() bool {
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

// fail ends the connection once: every pending id gets a connLostError (or closedErr), the socket is closed.
func (c *conn) fail(cause error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	if cause != ErrClosed {
		if c.connStatus != nil && (errors.Is(cause, io.EOF) || errors.Is(cause, net.ErrClosed)) {
			cause = c.connStatus
		}
		cause = &connLostError{cause: cause}
	}
	c.err = cause
	waiting := c.pending
	c.pending = make(map[uint64]*pending)
	close(c.done)
	c.mu.Unlock()
	_ = c.nc.Close()
	for _, p := range waiting {
		if p.watch != nil {
			p.watch.end(cause)
		} else {
			p.ch <- result{err: cause}
		}
	}
}

func (c *conn) close() { c.fail(ErrClosed) }

func (c *conn) failure() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *conn) register(id uint64, p *pending) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err
	}
	c.pending[id] = p
	return nil
}

func (c *conn) unregister(id uint64) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

// encodeFrame marshals req behind its 4-byte big-endian length.
func encodeFrame(req *pb.Request, maxRequest int) ([]byte, error) {
	size := proto.Size(req)
	if size > maxRequest {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrRequestTooLarge, size, maxRequest)
	}
	buf := make([]byte, 4, 4+size)
	buf, err := proto.MarshalOptions{}.MarshalAppend(buf, req)
	if err != nil {
		return nil, err
	}
	binary.BigEndian.PutUint32(buf[:4], uint32(len(buf)-4))
	return buf, nil
}

// send registers p under id and queues the frame. On error the id is unregistered again and nothing was
// written.
func (c *conn) send(ctx context.Context, id uint64, frame []byte, p *pending) error {
	if err := c.register(id, p); err != nil {
		return err
	}
	select {
	case c.queue <- outFrame{buf: frame, p: p}:
		return nil
	case <-ctx.Done():
		c.unregister(id)
		return ctx.Err()
	case <-c.done:
		c.unregister(id)
		return c.failure()
	}
}

func (c *conn) writeLoop() {
	w := bufio.NewWriterSize(c.nc, 64<<10)
	write := func(f outFrame) error {
		if f.p != nil && !f.p.state.CompareAndSwap(stateQueued, stateWritten) {
			return nil // the caller gave up before the frame was sent
		}
		_, err := w.Write(f.buf)
		return err
	}
	for {
		var f outFrame
		select {
		case f = <-c.queue:
		case <-c.done:
			return
		}
		err := write(f)
		// Take whatever else is queued into the same write.
	drain:
		for err == nil && w.Buffered() < 256<<10 {
			select {
			case f = <-c.queue:
				err = write(f)
			default:
				break drain
			}
		}
		if err == nil {
			err = w.Flush()
		}
		if err != nil {
			c.fail(err)
			return
		}
	}
}

func (c *conn) readLoop() {
	r := bufio.NewReaderSize(c.nc, 64<<10)
	var header [4]byte
	var body []byte
	for {
		if _, err := io.ReadFull(r, header[:]); err != nil {
			c.fail(err)
			return
		}
		n := int(binary.BigEndian.Uint32(header[:]))
		if n > c.maxFrame {
			c.fail(fmt.Errorf("response frame of %d bytes exceeds the client's limit of %d bytes", n, c.maxFrame))
			return
		}
		if cap(body) < n {
			body = make([]byte, n)
		}
		body = body[:n]
		if _, err := io.ReadFull(r, body); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			c.fail(err)
			return
		}
		resp := new(pb.Response)
		if err := proto.Unmarshal(body, resp); err != nil {
			// The framing is intact but the message is not a Response: nothing can be trusted after it.
			c.fail(fmt.Errorf("undecodable response frame: %w", err))
			return
		}
		c.dispatch(resp)
	}
}

func (c *conn) dispatch(resp *pb.Response) {
	id := resp.GetId()
	if id == 0 {
		// A connection-level error (a frame the sidecar could not take). This client never sends one, so it
		// is only kept to explain the close that usually follows.
		// Not a *StatusError: it answers no call of this client.
		st := resp.GetStatus()
		c.mu.Lock()
		c.connStatus = fmt.Errorf("the sidecar reported a connection-level error: %s: %s", st.GetCode(), st.GetMessage())
		c.mu.Unlock()
		return
	}
	c.mu.Lock()
	p := c.pending[id]
	if p != nil && p.watch == nil {
		delete(c.pending, id)
	}
	c.mu.Unlock()
	switch {
	case p == nil:
		// The caller gave up (context) before the answer came: drop it.
	case p.watch != nil:
		p.watch.push(resp)
	default:
		p.ch <- result{resp: resp}
	}
}
