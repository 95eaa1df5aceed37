package sessionsidecar

// Tests against a live sidecar at $SESSION_SIDECAR_SOCKET (scripts/test-sidecar.sh start, then eval its env).
// They skip when it is unset; `make test` refuses to run without it.

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	pb "sessionsidecar.dev/client/sessionsidecarv1"
)

func liveClient(t *testing.T) *Client {
	t.Helper()
	if os.Getenv(SocketEnv) == "" {
		t.Skip("SESSION_SIDECAR_SOCKET is not set: start a sidecar (scripts/test-sidecar.sh start DIR; " +
			"eval \"$(scripts/test-sidecar.sh env DIR)\") to run the live tests")
	}
	c, err := New("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newUser(t *testing.T) string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return "go-test-" + hex.EncodeToString(b[:])
}

func claims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %d parts", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func mustCreate(ctx context.Context, t *testing.T, c *Client, in *pb.CreateSessionRequest) *pb.CreateSessionResponse {
	t.Helper()
	created, err := c.CreateSession(ctx, in)
	if err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	if created.Session.GetHandle() == "" || created.AccessToken.GetToken() == "" || created.RefreshToken.GetToken() == "" {
		t.Fatalf("CreateSession: incomplete result: handle %q", created.Session.GetHandle())
	}
	return created
}

func mustVerify(ctx context.Context, t *testing.T, c *Client, in *pb.VerifySessionRequest,
	want pb.VerifySessionResponse_Outcome) *pb.VerifySessionResponse {
	t.Helper()
	verified, err := c.VerifySession(ctx, in)
	if err != nil {
		t.Fatalf("VerifySession: %v", err)
	}
	if verified.Outcome != want {
		t.Fatalf("VerifySession: %v (%s), want %v", verified.Outcome, verified.Reason, want)
	}
	return verified
}

func mustRefresh(ctx context.Context, t *testing.T, c *Client, in *pb.RefreshSessionRequest,
	want pb.RefreshSessionResponse_Outcome) *pb.RefreshSessionResponse {
	t.Helper()
	refreshed, err := c.RefreshSession(ctx, in)
	if err != nil {
		t.Fatalf("RefreshSession: %v", err)
	}
	if refreshed.Outcome != want {
		t.Fatalf("RefreshSession: %v (%s), want %v", refreshed.Outcome, refreshed.Reason, want)
	}
	return refreshed
}

func wantStatus(t *testing.T, what string, err error, code pb.Code) {
	t.Helper()
	var se *StatusError
	if !errors.As(err, &se) || se.Code != code {
		t.Fatalf("%s: got %v, want a *StatusError %v", what, err, code)
	}
}

// create → verify → refresh → verify → revoke → verify refused (database check) and refresh refused.
func TestLiveSessionLifecycle(t *testing.T) {
	c := liveClient(t)
	ctx := testContext(t)
	user := newUser(t)

	created := mustCreate(ctx, t, c, &pb.CreateSessionRequest{UserId: user, AccessTokenPayloadJson: `{"role":"admin"}`})
	if created.Session.UserId != user {
		t.Fatalf("session user %q", created.Session.UserId)
	}
	verified := mustVerify(ctx, t, c, &pb.VerifySessionRequest{AccessToken: created.AccessToken.Token}, pb.VerifySessionResponse_OK)
	if verified.Session.GetUserId() != user || verified.Session.GetHandle() != created.Session.Handle {
		t.Fatalf("verified session %v", verified.Session)
	}
	if !strings.Contains(verified.Session.AccessTokenPayloadJson, `"role"`) {
		t.Fatalf("payload %s", verified.Session.AccessTokenPayloadJson)
	}

	refreshed := mustRefresh(ctx, t, c, &pb.RefreshSessionRequest{RefreshToken: created.RefreshToken.Token}, pb.RefreshSessionResponse_OK)
	if refreshed.AccessToken.GetToken() == "" || refreshed.RefreshToken.GetToken() == "" ||
		refreshed.RefreshToken.Token == created.RefreshToken.Token {
		t.Fatal("RefreshSession did not rotate the tokens")
	}
	mustVerify(ctx, t, c, &pb.VerifySessionRequest{AccessToken: refreshed.AccessToken.Token, CheckDatabase: true}, pb.VerifySessionResponse_OK)

	revoked, err := c.RevokeSessionHandles(ctx, created.Session.Handle)
	if err != nil {
		t.Fatal(err)
	}
	if len(revoked.RevokedSessionHandles) != 1 || revoked.RevokedSessionHandles[0] != created.Session.Handle {
		t.Fatalf("revoked %v", revoked.RevokedSessionHandles)
	}
	mustVerify(ctx, t, c, &pb.VerifySessionRequest{AccessToken: refreshed.AccessToken.Token, CheckDatabase: true}, pb.VerifySessionResponse_UNAUTHORISED)
	mustRefresh(ctx, t, c, &pb.RefreshSessionRequest{RefreshToken: refreshed.RefreshToken.Token}, pb.RefreshSessionResponse_UNAUTHORISED)
}

// Every call of the contract, with its outcomes and statuses.
func TestLiveEveryCall(t *testing.T) {
	c := liveClient(t)
	ctx := testContext(t)
	user := newUser(t)

	health, err := c.Health(ctx)
	if err != nil || !health.Serving || !health.DatabaseReachable || health.Version == "" {
		t.Fatalf("Health: %v, %v", health, err)
	}

	keys, err := c.GetSigningKeys(ctx)
	if err != nil || len(keys.Keys) == 0 || keys.CacheMaxAgeS < 1 {
		t.Fatalf("GetSigningKeys: %v, %v", keys, err)
	}
	var jwks struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal([]byte(keys.JwksJson), &jwks); err != nil || len(jwks.Keys) != len(keys.Keys) {
		t.Fatalf("jwks_json: %v, %d keys", err, len(jwks.Keys))
	}

	// CreateSession with payload, data and anti-CSRF; VerifySession with and without the anti-CSRF check.
	created := mustCreate(ctx, t, c, &pb.CreateSessionRequest{
		UserId: user, AccessTokenPayloadJson: `{"role":"a"}`, SessionDataJson: `{"cart":1}`, EnableAntiCsrf: true,
	})
	if created.AntiCsrfToken == "" || len(created.Cookies) == 0 || created.Cookies[0].SetCookieHeader == "" {
		t.Fatal("CreateSession: no anti-CSRF token or cookies")
	}
	access := created.AccessToken.Token
	mustVerify(ctx, t, c, &pb.VerifySessionRequest{AccessToken: access, AntiCsrfToken: created.AntiCsrfToken, DoAntiCsrfCheck: true}, pb.VerifySessionResponse_OK)
	mustVerify(ctx, t, c, &pb.VerifySessionRequest{AccessToken: access, AntiCsrfToken: "wrong", DoAntiCsrfCheck: true}, pb.VerifySessionResponse_TRY_REFRESH_TOKEN)
	mustVerify(ctx, t, c, &pb.VerifySessionRequest{AccessToken: "not-a-token"}, pb.VerifySessionResponse_UNAUTHORISED)

	// ListSessions, GetSession.
	second := mustCreate(ctx, t, c, &pb.CreateSessionRequest{UserId: user})
	listed, err := c.ListSessions(ctx, &pb.ListSessionsRequest{UserId: user})
	if err != nil || len(listed.SessionHandles) != 2 {
		t.Fatalf("ListSessions: %v, %v", listed, err)
	}
	got, err := c.GetSession(ctx, &pb.GetSessionRequest{SessionHandle: created.Session.Handle})
	if err != nil || got.UserId != user || got.SessionDataJson != `{"cart":1}` || !strings.Contains(got.AccessTokenPayloadJson, `"a"`) ||
		got.CreatedAtMs == 0 || got.ExpiresAtMs <= got.CreatedAtMs {
		t.Fatalf("GetSession: %v, %v", got, err)
	}

	// UpdateSessionData, UpdateAccessTokenPayload (seen by GetSession and by the next access token).
	if _, err := c.UpdateSessionData(ctx, &pb.UpdateSessionDataRequest{SessionHandle: created.Session.Handle, SessionDataJson: `{"cart":2}`}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateAccessTokenPayload(ctx, &pb.UpdateAccessTokenPayloadRequest{SessionHandle: created.Session.Handle, AccessTokenPayloadJson: `{"role":"b"}`}); err != nil {
		t.Fatal(err)
	}
	got, err = c.GetSession(ctx, &pb.GetSessionRequest{SessionHandle: created.Session.Handle})
	if err != nil || got.SessionDataJson != `{"cart":2}` || !strings.Contains(got.AccessTokenPayloadJson, `"b"`) {
		t.Fatalf("GetSession after updates: %v, %v", got, err)
	}
	_, err = c.UpdateSessionData(ctx, &pb.UpdateSessionDataRequest{SessionHandle: "00000000-0000-0000-0000-000000000000", SessionDataJson: `{}`})
	wantStatus(t, "UpdateSessionData of an unknown handle", err, pb.Code_NOT_FOUND)
	_, err = c.UpdateSessionData(ctx, &pb.UpdateSessionDataRequest{SessionHandle: created.Session.Handle, SessionDataJson: `[1]`})
	wantStatus(t, "UpdateSessionData with a JSON array", err, pb.Code_INVALID_ARGUMENT)

	// RegenerateAccessToken: same expiry, new payload; a forged token is UNAUTHENTICATED, and its error
	// message does not carry the token.
	regenerated, err := c.RegenerateAccessToken(ctx, &pb.RegenerateAccessTokenRequest{AccessToken: access, AccessTokenPayloadJson: `{"role":"c"}`})
	if err != nil || regenerated.AccessToken.GetToken() == "" {
		t.Fatalf("RegenerateAccessToken: %v", err)
	}
	if claims(t, regenerated.AccessToken.Token)["role"] != "c" || regenerated.AccessToken.ExpiresAtMs != created.AccessToken.ExpiresAtMs {
		t.Fatal("RegenerateAccessToken: payload or expiry")
	}
	forged := access[:len(access)-4] + "AAAA"
	if forged == access {
		forged = access[:len(access)-4] + "BBBB"
	}
	_, err = c.RegenerateAccessToken(ctx, &pb.RegenerateAccessTokenRequest{AccessToken: forged, AccessTokenPayloadJson: `{}`})
	wantStatus(t, "RegenerateAccessToken with a forged token", err, pb.Code_UNAUTHENTICATED)
	for _, part := range strings.Split(forged, ".") {
		if len(part) > 8 && strings.Contains(err.Error(), part) {
			t.Fatalf("the error message carries the token: %q", err.Error())
		}
	}

	// RefreshSession: rotation with the anti-CSRF token, then theft detection two rotations back.
	first := mustRefresh(ctx, t, c, &pb.RefreshSessionRequest{RefreshToken: created.RefreshToken.Token, AntiCsrfToken: created.AntiCsrfToken}, pb.RefreshSessionResponse_OK)
	if claims(t, first.AccessToken.Token)["role"] != "c" {
		t.Fatal("the refreshed token lost the regenerated payload")
	}
	secondRefresh := mustRefresh(ctx, t, c, &pb.RefreshSessionRequest{RefreshToken: first.RefreshToken.Token, AntiCsrfToken: first.AntiCsrfToken}, pb.RefreshSessionResponse_OK)
	theft := mustRefresh(ctx, t, c, &pb.RefreshSessionRequest{RefreshToken: created.RefreshToken.Token, AntiCsrfToken: created.AntiCsrfToken}, pb.RefreshSessionResponse_TOKEN_THEFT_DETECTED)
	if theft.Session.GetHandle() != created.Session.Handle || theft.AccessToken != nil {
		t.Fatalf("theft result %v", theft.Session)
	}
	_, err = c.GetSession(ctx, &pb.GetSessionRequest{SessionHandle: created.Session.Handle})
	wantStatus(t, "GetSession of a session revoked for theft", err, pb.Code_NOT_FOUND)
	mustVerify(ctx, t, c, &pb.VerifySessionRequest{AccessToken: secondRefresh.AccessToken.Token, AntiCsrfToken: secondRefresh.AntiCsrfToken, DoAntiCsrfCheck: true, CheckDatabase: true}, pb.VerifySessionResponse_UNAUTHORISED)

	// RevokeSessions by user.
	revoked, err := c.RevokeUserSessions(ctx, user)
	if err != nil || len(revoked.RevokedSessionHandles) != 1 || revoked.RevokedSessionHandles[0] != second.Session.Handle {
		t.Fatalf("RevokeUserSessions: %v, %v", revoked, err)
	}
	_, err = c.RevokeSessions(ctx, &pb.RevokeSessionsRequest{})
	wantStatus(t, "RevokeSessions without a target", err, pb.Code_INVALID_ARGUMENT)

	// WatchSigningKeys: the current set first; Close ends it.
	w, err := c.WatchSigningKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	watched, err := w.Next(ctx)
	if err != nil || len(watched.Keys) == 0 {
		t.Fatalf("WatchSigningKeys: %v, %v", watched, err)
	}
	after, err := c.GetSigningKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if kids(watched) != kids(keys) && kids(watched) != kids(after) {
		t.Fatalf("watched kids %s, GetSigningKeys %s / %s", kids(watched), kids(keys), kids(after))
	}
	w.Close()
	if _, err := w.Next(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("Next after Close: %v", err)
	}
}

func kids(keys *pb.GetSigningKeysResponse) string {
	var out []string
	for _, k := range keys.Keys {
		out = append(out, k.Kid)
	}
	return strings.Join(out, ",")
}

// More watchers than the 8 streams the sidecar allows per connection: each has its own connection.
func TestLiveManyWatchers(t *testing.T) {
	c := liveClient(t)
	ctx := testContext(t)
	for i := 0; i < 12; i++ {
		w, err := c.WatchSigningKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Next(ctx); err != nil {
			t.Fatalf("watcher %d: %v", i, err)
		}
		w.Close()
	}
	// And the client's connection carries calls meanwhile.
	if _, err := c.Health(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestLiveInvalidArgument(t *testing.T) {
	c := liveClient(t)
	ctx := testContext(t)
	_, err := c.CreateSession(ctx, &pb.CreateSessionRequest{UserId: ""})
	wantStatus(t, "CreateSession with an empty user id", err, pb.Code_INVALID_ARGUMENT)
	var se *StatusError
	errors.As(err, &se)
	if se.Call != "CreateSession" || se.Message == "" {
		t.Fatalf("StatusError %+v", se)
	}
	_, err = c.CreateSession(ctx, nil)
	wantStatus(t, "CreateSession(nil)", err, pb.Code_INVALID_ARGUMENT)
	_, err = c.CreateSession(ctx, &pb.CreateSessionRequest{UserId: strings.Repeat("u", 256)})
	wantStatus(t, "CreateSession with a 256-byte user id", err, pb.Code_INVALID_ARGUMENT)
	_, err = c.CreateSession(ctx, &pb.CreateSessionRequest{UserId: newUser(t), AccessTokenPayloadJson: `{"sub":"x"}`})
	wantStatus(t, "CreateSession with a protected claim", err, pb.Code_INVALID_ARGUMENT)
	// The connection is unaffected.
	if _, err := c.Health(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestLiveContextTimeout(t *testing.T) {
	c := liveClient(t)
	ctx := testContext(t)
	if _, err := c.Health(ctx); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	before := c.cur
	c.mu.Unlock()

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.ListSessions(canceled, &pb.ListSessionsRequest{UserId: "x"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled: %v", err)
	}
	// Deadlines shorter than a database round trip, on calls in flight: each ends with DeadlineExceeded
	// (or, rarely, an answer in time), and never disturbs the connection.
	var wg sync.WaitGroup
	var mu sync.Mutex
	timedOut := 0
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			short, cancel := context.WithTimeout(ctx, 50*time.Microsecond)
			defer cancel()
			_, err := c.ListSessions(short, &pb.ListSessionsRequest{UserId: "go-timeout"})
			if err != nil && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("short deadline: %v", err)
			}
			if err != nil {
				mu.Lock()
				timedOut++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if timedOut == 0 {
		t.Fatal("no call with a 50 µs deadline timed out")
	}
	if _, err := c.Health(ctx); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	after := c.cur
	c.mu.Unlock()
	if before != after {
		t.Fatal("timeouts replaced the connection")
	}
}

// 1,000 requests from 50 goroutines, pipelined on the one connection; each answer must be its own call's.
func TestLivePipelining(t *testing.T) {
	c := liveClient(t)
	ctx := testContext(t)
	const sessions, goroutines, perGoroutine = 20, 50, 20
	created := make([]*pb.CreateSessionResponse, sessions)
	for i := range created {
		created[i] = mustCreate(ctx, t, c, &pb.CreateSessionRequest{UserId: newUser(t)})
	}
	c.mu.Lock()
	conn := c.cur
	c.mu.Unlock()

	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*perGoroutine)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < perGoroutine; i++ {
				s := created[(g*perGoroutine+i)%sessions]
				var err error
				switch i % 10 {
				case 0: // a MySQL call among the verifications
					var got *pb.GetSessionResponse
					got, err = c.GetSession(ctx, &pb.GetSessionRequest{SessionHandle: s.Session.Handle})
					if err == nil && got.UserId != s.Session.UserId {
						err = fmt.Errorf("GetSession for %s answered %s", s.Session.UserId, got.UserId)
					}
				default:
					var v *pb.VerifySessionResponse
					v, err = c.VerifySession(ctx, &pb.VerifySessionRequest{AccessToken: s.AccessToken.Token})
					if err == nil && (v.Outcome != pb.VerifySessionResponse_OK || v.Session.GetUserId() != s.Session.UserId) {
						err = fmt.Errorf("VerifySession for %s answered %v %s", s.Session.UserId, v.Outcome, v.Session.GetUserId())
					}
				}
				errs <- err
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != goroutines*perGoroutine {
		t.Fatalf("%d answers", n)
	}
	c.mu.Lock()
	same := c.cur == conn
	c.mu.Unlock()
	if !same {
		t.Fatal("the requests did not all go over one connection")
	}
	t.Logf("%d pipelined requests in %v", n, time.Since(start))
	for _, s := range created {
		if _, err := c.RevokeUserSessions(ctx, s.Session.UserId); err != nil {
			t.Fatal(err)
		}
	}
}

// The sidecar restarts while calls are in flight: they end (answered, UNAVAILABLE while the sidecar drains,
// or a clear transport error; never hanging), an open key watch ends with ErrConnectionLost, and the next call dials again and finds
// the same sessions (same database, same keys).
func TestLiveRestart(t *testing.T) {
	c := liveClient(t)
	restart := os.Getenv("SESSION_SIDECAR_RESTART")
	if restart == "" {
		t.Skip("SESSION_SIDECAR_RESTART is not set (scripts/test-sidecar.sh env sets it)")
	}
	ctx := testContext(t)
	created := mustCreate(ctx, t, c, &pb.CreateSessionRequest{UserId: newUser(t)})
	w, err := c.WatchSigningKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Next(ctx); err != nil {
		t.Fatal(err)
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	answered, unavailable, failed := 0, 0, 0
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				call, cancel := context.WithTimeout(ctx, 20*time.Second)
				_, err := c.VerifySession(call, &pb.VerifySessionRequest{AccessToken: created.AccessToken.Token, CheckDatabase: true})
				cancel()
				var te *TransportError
				code, isStatus := StatusCode(err)
				switch {
				case err == nil:
					mu.Lock()
					answered++
					mu.Unlock()
				case errors.As(err, &te):
					mu.Lock()
					failed++
					mu.Unlock()
					time.Sleep(10 * time.Millisecond)
				case isStatus && code == pb.Code_UNAVAILABLE: // "the sidecar is shutting down", while it drains
					mu.Lock()
					unavailable++
					mu.Unlock()
					time.Sleep(10 * time.Millisecond)
				default:
					t.Errorf("a call during the restart: %v", err)
					return
				}
			}
		}()
	}
	time.Sleep(200 * time.Millisecond)
	out, err := exec.Command("sh", "-c", restart).CombinedOutput()
	if err != nil {
		close(stop)
		wg.Wait()
		t.Fatalf("restart: %v\n%s", err, out)
	}
	close(stop)
	wg.Wait()
	t.Logf("during the restart: %d calls answered, %d UNAVAILABLE (draining), %d failed with a transport error",
		answered, unavailable, failed)

	// A draining sidecar ends the stream with a final UNAVAILABLE status; a killed one just drops it.
	_, err = w.Next(ctx)
	if code, isStatus := StatusCode(err); !errors.Is(err, ErrConnectionLost) && !(isStatus && code == pb.Code_UNAVAILABLE) {
		t.Fatalf("the key watch across the restart: got %v, want UNAVAILABLE or ErrConnectionLost", err)
	}
	// The sidecar is back (the restart command waits for its socket): the next call dials again.
	var verified *pb.VerifySessionResponse
	deadline := time.Now().Add(10 * time.Second)
	for {
		verified, err = c.VerifySession(ctx, &pb.VerifySessionRequest{AccessToken: created.AccessToken.Token, CheckDatabase: true})
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil || verified.Outcome != pb.VerifySessionResponse_OK {
		t.Fatalf("after the restart: %v, %v", verified, err)
	}
	mustRefresh(ctx, t, c, &pb.RefreshSessionRequest{RefreshToken: created.RefreshToken.Token}, pb.RefreshSessionResponse_OK)
	w2, err := c.WatchSigningKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	if _, err := w2.Next(ctx); err != nil {
		t.Fatal(err)
	}
}

// go test -run - -bench Live: VerifySession pipelined from many goroutines on the one connection.
func BenchmarkLiveVerifyPipelined(b *testing.B) {
	if os.Getenv(SocketEnv) == "" {
		b.Skip("SESSION_SIDECAR_SOCKET is not set")
	}
	c, err := New("")
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	created, err := c.CreateSession(ctx, &pb.CreateSessionRequest{UserId: "go-bench"})
	if err != nil {
		b.Fatal(err)
	}
	defer c.RevokeUserSessions(ctx, "go-bench")
	in := &pb.VerifySessionRequest{AccessToken: created.AccessToken.Token}
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.VerifySession(ctx, in); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
