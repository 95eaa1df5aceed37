// Package sessionsidecar is the Go client of SessionSidecar: length-prefixed protobuf over the sidecar's Unix
// domain socket (docs/protocol.md). A Client holds one connection, shared by any number of goroutines: every
// call gets its own request id, many calls are in flight at once (pipelining), and a reader goroutine hands
// each response to the call it answers, in whatever order the sidecar finishes them.
//
// Every call takes a context.Context: its deadline or cancellation ends that call (the connection and the
// other calls on it are not affected). When the sidecar stops or restarts, the calls in flight fail with an
// error that is ErrConnectionLost (errors.Is) and the next call dials again.
//
// Results are the generated messages of package sessionsidecarv1. Session outcomes (TRY_REFRESH_TOKEN,
// UNAUTHORISED, TOKEN_THEFT_DETECTED) are values in those results, not errors; a call the sidecar refused
// (a non-OK status) is a *StatusError; failing to reach the sidecar is a *TransportError.
package sessionsidecar

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"

	pb "sessionsidecar.dev/client/sessionsidecarv1"
)

// SocketEnv is the environment variable that names the socket when no path is given.
const SocketEnv = "SESSION_SIDECAR_SOCKET"

// Options configure a Client. The zero value of every field but SocketPath means its default.
type Options struct {
	// SocketPath is the sidecar's Unix socket (sidecar.socketPath); empty means $SESSION_SIDECAR_SOCKET.
	SocketPath string
	// DialTimeout bounds each connection attempt, besides the call's context. Default 5 s.
	DialTimeout time.Duration
	// MaxRequestBytes refuses, before sending, a request whose encoding is larger: the sidecar would answer
	// it by closing the connection. Default 4 MiB, the sidecar's default sidecar.maxFrameBytes.
	MaxRequestBytes int
	// MaxResponseBytes is the largest response frame accepted; a larger one closes the connection.
	// Default 64 MiB.
	MaxResponseBytes int
}

// Client is a connection to one sidecar, safe for concurrent use by many goroutines. It dials lazily (at the
// first call, or in Dial) and again at the first call after the connection dropped. Close it when done.
type Client struct {
	path string
	opts Options

	nextID  atomic.Uint64
	dialSem chan struct{} // one dial at a time; callers wait for it with their context

	mu       sync.Mutex
	cur      *conn
	closed   bool
	watchers map[*KeyWatcher]struct{}
}

// New returns a Client for the socket at socketPath (empty: $SESSION_SIDECAR_SOCKET) without connecting;
// the first call dials. It fails only when no socket path is known.
func New(socketPath string) (*Client, error) {
	return NewWithOptions(Options{SocketPath: socketPath})
}

// NewWithOptions is New with Options.
func NewWithOptions(opts Options) (*Client, error) {
	if opts.SocketPath == "" {
		opts.SocketPath = os.Getenv(SocketEnv)
	}
	if opts.SocketPath == "" {
		return nil, fmt.Errorf("sessionsidecar: no socket path: pass one or set %s", SocketEnv)
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 5 * time.Second
	}
	if opts.MaxRequestBytes <= 0 {
		opts.MaxRequestBytes = 4 << 20
	}
	if opts.MaxResponseBytes <= 0 {
		opts.MaxResponseBytes = 64 << 20
	}
	return &Client{
		path:     opts.SocketPath,
		opts:     opts,
		dialSem:  make(chan struct{}, 1),
		watchers: make(map[*KeyWatcher]struct{}),
	}, nil
}

// Dial is New followed by connecting at once, so that a missing or dead sidecar shows up here.
func Dial(ctx context.Context, socketPath string) (*Client, error) {
	c, err := New(socketPath)
	if err != nil {
		return nil, err
	}
	if _, err := c.getConn(ctx, "dial"); err != nil {
		return nil, err
	}
	return c, nil
}

// SocketPath is the socket this client dials.
func (c *Client) SocketPath() string { return c.path }

// Close closes the connection and every KeyWatcher of this client. Calls in flight, and calls made later,
// fail with ErrClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	cur := c.cur
	c.cur = nil
	watchers := c.watchers
	c.watchers = nil
	c.mu.Unlock()
	if cur != nil {
		cur.close()
	}
	for w := range watchers {
		w.close()
	}
	return nil
}

func (c *Client) dial(ctx context.Context, call string) (*conn, error) {
	dctx, cancel := context.WithTimeout(ctx, c.opts.DialTimeout)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(dctx, "unix", c.path)
	if err != nil {
		if ctx.Err() != nil {
			return nil, contextError(call, ctx.Err())
		}
		return nil, &TransportError{Call: call, Err: err}
	}
	return newConn(nc, c.opts.MaxResponseBytes), nil
}

// getConn returns the live connection, dialing one when there is none.
func (c *Client) getConn(ctx context.Context, call string) (*conn, error) {
	current := func() (*conn, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.closed {
			return nil, ErrClosed
		}
		if c.cur != nil && c.cur.alive() {
			return c.cur, nil
		}
		return nil, nil
	}
	if cn, err := current(); cn != nil || err != nil {
		return cn, err
	}
	select {
	case c.dialSem <- struct{}{}:
	case <-ctx.Done():
		return nil, contextError(call, ctx.Err())
	}
	defer func() { <-c.dialSem }()
	// Another caller may have dialed while this one waited.
	if cn, err := current(); cn != nil || err != nil {
		return cn, err
	}
	cn, err := c.dial(ctx, call)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		cn.close()
		return nil, ErrClosed
	}
	c.cur = cn
	c.mu.Unlock()
	return cn, nil
}

// forget drops cn as the current connection (it failed), so that the next call dials.
func (c *Client) forget(cn *conn) {
	c.mu.Lock()
	if c.cur == cn {
		c.cur = nil
	}
	c.mu.Unlock()
}

// roundTrip sends req and waits for its response. A request that was never written before its connection
// dropped is sent once more on a new connection; one that was written is not (the sidecar may have carried
// it out), its caller gets ErrConnectionLost.
func (c *Client) roundTrip(ctx context.Context, call string, req *pb.Request) (*pb.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, contextError(call, err)
	}
	id := c.nextID.Add(1)
	req.Id = id
	frame, err := encodeFrame(req, c.opts.MaxRequestBytes)
	if err != nil {
		return nil, fmt.Errorf("sessionsidecar: %s: %w", call, err)
	}
	for attempt := 0; ; attempt++ {
		cn, err := c.getConn(ctx, call)
		if err != nil {
			return nil, err
		}
		p := &pending{ch: make(chan result, 1)}
		if err := cn.send(ctx, id, frame, p); err != nil {
			switch {
			case ctx.Err() != nil:
				return nil, contextError(call, ctx.Err())
			case errors.Is(err, ErrClosed):
				return nil, ErrClosed
			}
			c.forget(cn)
			if attempt == 0 {
				continue // nothing was written
			}
			return nil, &TransportError{Call: call, Err: err}
		}
		select {
		case r := <-p.ch:
			if r.err == nil {
				return r.resp, nil
			}
			if errors.Is(r.err, ErrClosed) {
				return nil, ErrClosed
			}
			c.forget(cn)
			if attempt == 0 && p.state.CompareAndSwap(stateQueued, stateAbandoned) {
				continue // the connection dropped before this request was written
			}
			return nil, &TransportError{Call: call, Err: r.err}
		case <-ctx.Done():
			p.state.CompareAndSwap(stateQueued, stateAbandoned)
			cn.unregister(id)
			return nil, contextError(call, ctx.Err())
		}
	}
}

// unary runs one call and returns its typed result, or a *StatusError for a non-OK status.
func unary[T proto.Message](ctx context.Context, c *Client, call string, req *pb.Request,
	get func(*pb.Response) T) (T, error) {
	var zero T
	resp, err := c.roundTrip(ctx, call, req)
	if err != nil {
		return zero, err
	}
	if st := resp.GetStatus(); st.GetCode() != pb.Code_OK {
		return zero, &StatusError{Call: call, Code: st.GetCode(), Message: st.GetMessage()}
	}
	result := get(resp)
	if !result.ProtoReflect().IsValid() {
		return zero, &TransportError{Call: call, Err: errors.New("the sidecar answered OK without this call's result")}
	}
	return result, nil
}

// orNew returns m, or a new empty message when m is nil.
func orNew[T any](m *T) *T {
	if m == nil {
		return new(T)
	}
	return m
}

// CreateSession creates a session for in.UserId and issues its access token, refresh token, anti-CSRF token
// (when asked) and cookies.
func (c *Client) CreateSession(ctx context.Context, in *pb.CreateSessionRequest) (*pb.CreateSessionResponse, error) {
	req := &pb.Request{Call: &pb.Request_CreateSession{CreateSession: orNew(in)}}
	return unary(ctx, c, "CreateSession", req, (*pb.Response).GetCreateSession)
}

// VerifySession checks an access token. The result's Outcome is OK, TRY_REFRESH_TOKEN or UNAUTHORISED
// (with a Reason); only OK comes with a usable Session. Without CheckDatabase the sidecar answers from memory.
func (c *Client) VerifySession(ctx context.Context, in *pb.VerifySessionRequest) (*pb.VerifySessionResponse, error) {
	req := &pb.Request{Call: &pb.Request_VerifySession{VerifySession: orNew(in)}}
	return unary(ctx, c, "VerifySession", req, (*pb.Response).GetVerifySession)
}

// RefreshSession rotates a refresh token. The result's Outcome is OK, UNAUTHORISED or TOKEN_THEFT_DETECTED
// (the session was revoked). On OK, RefreshToken is nil when an earlier refresh token was used inside the
// rotation grace period: keep the current one.
func (c *Client) RefreshSession(ctx context.Context, in *pb.RefreshSessionRequest) (*pb.RefreshSessionResponse, error) {
	req := &pb.Request{Call: &pb.Request_RefreshSession{RefreshSession: orNew(in)}}
	return unary(ctx, c, "RefreshSession", req, (*pb.Response).GetRefreshSession)
}

// RevokeSessions revokes sessions by handle or all of a user's sessions, and returns the handles revoked.
// RevokeSessionHandles and RevokeUserSessions build the request.
func (c *Client) RevokeSessions(ctx context.Context, in *pb.RevokeSessionsRequest) (*pb.RevokeSessionsResponse, error) {
	req := &pb.Request{Call: &pb.Request_RevokeSessions{RevokeSessions: orNew(in)}}
	return unary(ctx, c, "RevokeSessions", req, (*pb.Response).GetRevokeSessions)
}

// RevokeSessionHandles revokes the sessions with these handles.
func (c *Client) RevokeSessionHandles(ctx context.Context, handles ...string) (*pb.RevokeSessionsResponse, error) {
	return c.RevokeSessions(ctx, &pb.RevokeSessionsRequest{
		Target: &pb.RevokeSessionsRequest_SessionHandles{SessionHandles: &pb.SessionHandles{Handles: handles}},
	})
}

// RevokeUserSessions revokes every session of userID.
func (c *Client) RevokeUserSessions(ctx context.Context, userID string) (*pb.RevokeSessionsResponse, error) {
	return c.RevokeSessions(ctx, &pb.RevokeSessionsRequest{
		Target: &pb.RevokeSessionsRequest_UserId{UserId: userID},
	})
}

// ListSessions returns the handles of in.UserId's live sessions.
func (c *Client) ListSessions(ctx context.Context, in *pb.ListSessionsRequest) (*pb.ListSessionsResponse, error) {
	req := &pb.Request{Call: &pb.Request_ListSessions{ListSessions: orNew(in)}}
	return unary(ctx, c, "ListSessions", req, (*pb.Response).GetListSessions)
}

// GetSession returns a session's user, data and app claims; NOT_FOUND when it does not exist or expired.
func (c *Client) GetSession(ctx context.Context, in *pb.GetSessionRequest) (*pb.GetSessionResponse, error) {
	req := &pb.Request{Call: &pb.Request_GetSession{GetSession: orNew(in)}}
	return unary(ctx, c, "GetSession", req, (*pb.Response).GetGetSession)
}

// UpdateSessionData replaces a session's server-side data (a JSON object).
func (c *Client) UpdateSessionData(ctx context.Context, in *pb.UpdateSessionDataRequest) (*pb.UpdateSessionDataResponse, error) {
	req := &pb.Request{Call: &pb.Request_UpdateSessionData{UpdateSessionData: orNew(in)}}
	return unary(ctx, c, "UpdateSessionData", req, (*pb.Response).GetUpdateSessionData)
}

// UpdateAccessTokenPayload replaces the app's claims that the session's next access token will carry.
func (c *Client) UpdateAccessTokenPayload(ctx context.Context, in *pb.UpdateAccessTokenPayloadRequest) (*pb.UpdateAccessTokenPayloadResponse, error) {
	req := &pb.Request{Call: &pb.Request_UpdateAccessTokenPayload{UpdateAccessTokenPayload: orNew(in)}}
	return unary(ctx, c, "UpdateAccessTokenPayload", req, (*pb.Response).GetUpdateAccessTokenPayload)
}

// RegenerateAccessToken issues a new access token with the same expiry and a new payload; AccessToken is nil
// in the result when the given token had expired (only the stored payload changed). UNAUTHENTICATED for a
// forged or malformed token.
func (c *Client) RegenerateAccessToken(ctx context.Context, in *pb.RegenerateAccessTokenRequest) (*pb.RegenerateAccessTokenResponse, error) {
	req := &pb.Request{Call: &pb.Request_RegenerateAccessToken{RegenerateAccessToken: orNew(in)}}
	return unary(ctx, c, "RegenerateAccessToken", req, (*pb.Response).GetRegenerateAccessToken)
}

// GetSigningKeys returns the public keys (a JWK Set and the keys one by one) and how long they may be cached.
func (c *Client) GetSigningKeys(ctx context.Context) (*pb.GetSigningKeysResponse, error) {
	req := &pb.Request{Call: &pb.Request_GetSigningKeys{GetSigningKeys: &pb.GetSigningKeysRequest{}}}
	return unary(ctx, c, "GetSigningKeys", req, (*pb.Response).GetGetSigningKeys)
}

// Health reports whether the sidecar serves, its version and whether it reaches its database.
func (c *Client) Health(ctx context.Context) (*pb.HealthResponse, error) {
	req := &pb.Request{Call: &pb.Request_Health{Health: &pb.HealthRequest{}}}
	return unary(ctx, c, "Health", req, (*pb.Response).GetHealth)
}
