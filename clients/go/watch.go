package sessionsidecar

import (
	"context"
	"errors"
	"sync"

	pb "sessionsidecar.dev/client/sessionsidecarv1"
)

// KeyWatcher follows the sidecar's signing keys (WatchSigningKeys): the key set at once, then again each time
// it changes. Next returns them; when the stream ends (the connection to the sidecar closed, the sidecar
// refused the stream, or Close) Next returns an error. A KeyWatcher does not reconnect: after an error,
// start a new one with Client.WatchSigningKeys.
//
// Each key set is complete, so a KeyWatcher keeps only the newest one not yet returned: a consumer that is
// slower than the changes skips intermediate sets, never the latest.
//
// A KeyWatcher has a connection of its own. The protocol has no message that ends a stream, so closing that
// connection is how Close stops the sidecar's stream (and frees one of the 8 streams the sidecar allows per
// connection); it also keeps the Client's connection free of streams.
type KeyWatcher struct {
	client *Client
	cn     *conn
	st     *watchState
	once   sync.Once
}

type watchState struct {
	mu     sync.Mutex
	latest *pb.GetSigningKeysResponse
	err    error
	notify chan struct{} // buffered 1: "something changed"
	cn     *conn         // the watch's own connection, closed when the stream ends
}

func (s *watchState) signal() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// push takes one response of the stream (called by the connection's reader: never blocks).
func (s *watchState) push(resp *pb.Response) {
	if st := resp.GetStatus(); st.GetCode() != pb.Code_OK {
		s.end(&StatusError{Call: "WatchSigningKeys", Code: st.GetCode(), Message: st.GetMessage()})
		return
	}
	keys := resp.GetWatchSigningKeys()
	if keys == nil {
		keys = resp.GetGetSigningKeys()
	}
	if keys == nil {
		s.end(errors.New("the sidecar answered OK without a key set"))
		return
	}
	s.mu.Lock()
	if s.err == nil {
		s.latest = keys
	}
	s.mu.Unlock()
	s.signal()
}

// end records why the stream ended (the first reason wins).
func (s *watchState) end(err error) {
	var se *StatusError
	switch {
	case errors.Is(err, ErrClosed), errors.As(err, &se):
	default:
		err = &TransportError{Call: "WatchSigningKeys", Err: err}
	}
	s.mu.Lock()
	first := s.err == nil
	if first {
		s.err = err
	}
	s.mu.Unlock()
	s.signal()
	if first {
		s.cn.close() // no-op when the connection already failed
	}
}

// WatchSigningKeys opens a key watch on a connection of its own (ctx bounds the dial and the sending of the
// request only). Call Next for the key sets and Close when done.
func (c *Client) WatchSigningKeys(ctx context.Context) (*KeyWatcher, error) {
	const call = "WatchSigningKeys"
	if err := ctx.Err(); err != nil {
		return nil, contextError(call, err)
	}
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	id := c.nextID.Add(1)
	frame, err := encodeFrame(&pb.Request{
		Id:   id,
		Call: &pb.Request_WatchSigningKeys{WatchSigningKeys: &pb.WatchSigningKeysRequest{}},
	}, c.opts.MaxRequestBytes)
	if err != nil {
		return nil, &TransportError{Call: call, Err: err}
	}
	cn, err := c.dial(ctx, call)
	if err != nil {
		return nil, err
	}
	w := &KeyWatcher{client: c, cn: cn, st: &watchState{notify: make(chan struct{}, 1), cn: cn}}
	if err := cn.send(ctx, id, frame, &pending{watch: w.st}); err != nil {
		cn.close()
		if ctx.Err() != nil {
			return nil, contextError(call, ctx.Err())
		}
		return nil, &TransportError{Call: call, Err: err}
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		w.close()
		return nil, ErrClosed
	}
	c.watchers[w] = struct{}{}
	c.mu.Unlock()
	return w, nil
}

// Next returns the newest key set not yet returned, waiting for one when there is none. It returns an error
// once the stream has ended: a *TransportError wrapping ErrConnectionLost when the connection closed
// (the sidecar stopped or restarted), a *StatusError when the sidecar refused the stream (e.g.
// RESOURCE_EXHAUSTED), ErrClosed after Close; or the context's error (the watch goes on).
func (w *KeyWatcher) Next(ctx context.Context) (*pb.GetSigningKeysResponse, error) {
	for {
		w.st.mu.Lock()
		if keys := w.st.latest; keys != nil {
			w.st.latest = nil
			w.st.mu.Unlock()
			return keys, nil
		}
		err := w.st.err
		w.st.mu.Unlock()
		if err != nil {
			return nil, err
		}
		select {
		case <-w.st.notify:
		case <-ctx.Done():
			return nil, contextError("WatchSigningKeys", ctx.Err())
		}
	}
}

// Close ends the watch and its connection. Next then returns ErrClosed.
func (w *KeyWatcher) Close() error {
	w.client.mu.Lock()
	if w.client.watchers != nil {
		delete(w.client.watchers, w)
	}
	w.client.mu.Unlock()
	w.close()
	return nil
}

func (w *KeyWatcher) close() {
	w.once.Do(func() {
		w.st.end(ErrClosed)
		w.cn.close()
	})
}
