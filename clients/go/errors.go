package sessionsidecar

import (
	"errors"
	"fmt"

	pb "sessionsidecar.dev/client/sessionsidecarv1"
)

// StatusError is a call the sidecar answered with a status other than OK: the call could not be carried out
// (INVALID_ARGUMENT, NOT_FOUND, UNAVAILABLE, ...). Session outcomes such as TRY_REFRESH_TOKEN are not errors;
// they are values in the typed result. Use errors.As to get at the code:
//
//	var se *sessionsidecar.StatusError
//	if errors.As(err, &se) && se.Code == sessionsidecarv1.Code_NOT_FOUND { ... }
type StatusError struct {
	// Call is the call that was refused ("CreateSession", ...).
	Call string
	// Code is gRPC's status code as sent by the sidecar.
	Code pb.Code
	// Message is the sidecar's human-readable message. The sidecar never puts a token, a hash or a key in it.
	Message string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("sessionsidecar: %s: %s: %s", e.Call, e.Code, e.Message)
}

// StatusCode returns the code of the *StatusError in err's chain, and false when there is none (a transport
// error, a context error, or nil).
func StatusCode(err error) (pb.Code, bool) {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code, true
	}
	return pb.Code_OK, false
}

var (
	// ErrClosed is returned by calls on a Client (or a KeyWatcher) after Close.
	ErrClosed = errors.New("sessionsidecar: client closed")

	// ErrConnectionLost is in the chain of the error of every call that was in flight, or of a key watch that
	// was open, when the connection to the sidecar dropped (the sidecar stopped or restarted, or the
	// connection broke). Whether the sidecar carried out such a call is unknown. The next call dials again.
	ErrConnectionLost = errors.New("connection to the sidecar lost")

	// ErrRequestTooLarge is returned, without sending anything, for a request whose encoding exceeds
	// Options.MaxRequestBytes (the sidecar would close the connection, failing every call in flight on it).
	ErrRequestTooLarge = errors.New("request exceeds the frame size limit")
)

// TransportError is a failure to talk to the sidecar at all: dialing the socket, writing or reading a frame,
// or a frame the client cannot decode. Unwrap gives the cause (a *net.OpError, io.EOF, ErrConnectionLost, ...).
type TransportError struct {
	// Call is the call that failed ("VerifySession", ...), or "dial".
	Call string
	// Err is the cause.
	Err error
}

func (e *TransportError) Error() string {
	return "sessionsidecar: " + e.Call + ": " + e.Err.Error()
}

func (e *TransportError) Unwrap() error { return e.Err }

// connLostError is what calls in flight get when the connection drops: it is ErrConnectionLost (errors.Is)
// and unwraps to the cause (io.EOF, a *net.OpError, or the connection-level error the sidecar sent before
// closing the connection).
type connLostError struct {
	cause error
}

func (e *connLostError) Error() string {
	if e.cause == nil {
		return ErrConnectionLost.Error()
	}
	return ErrConnectionLost.Error() + ": " + e.cause.Error()
}

func (e *connLostError) Is(target error) bool { return target == ErrConnectionLost }

func (e *connLostError) Unwrap() error { return e.cause }

// contextError wraps ctx.Err() so that errors.Is(err, context.DeadlineExceeded / context.Canceled) holds.
func contextError(call string, err error) error {
	return fmt.Errorf("sessionsidecar: %s: %w", call, err)
}
