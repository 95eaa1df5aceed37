// Command basic walks one session through its life on a running sidecar: create, verify, refresh, revoke,
// then verify again (refused). Usage: basic [-socket PATH] [-user ID]; the socket defaults to
// $SESSION_SIDECAR_SOCKET.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	sessionsidecar "sessionsidecar.dev/client"
	pb "sessionsidecar.dev/client/sessionsidecarv1"
)

func main() {
	socket := flag.String("socket", "", "the sidecar's Unix socket (default $SESSION_SIDECAR_SOCKET)")
	user := flag.String("user", fmt.Sprintf("example-%d", time.Now().UnixNano()), "the user id of the session")
	flag.Parse()
	if err := run(*socket, *user); err != nil {
		var se *sessionsidecar.StatusError
		if errors.As(err, &se) {
			fmt.Fprintf(os.Stderr, "the sidecar refused %s (%s): %s\n", se.Call, se.Code, se.Message)
		} else {
			fmt.Fprintln(os.Stderr, err)
		}
		os.Exit(1)
	}
}

func run(socket, user string) error {
	client, err := sessionsidecar.New(socket)
	if err != nil {
		return err
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	created, err := client.CreateSession(ctx, &pb.CreateSessionRequest{
		UserId: user, AccessTokenPayloadJson: `{"role":"admin"}`,
	})
	if err != nil {
		return err
	}
	fmt.Printf("created  session %s for %s\n", created.Session.Handle, created.Session.UserId)
	for _, cookie := range created.Cookies {
		fmt.Printf("         Set-Cookie: %s=…; Path=%s\n", cookie.Name, cookie.Path) // never log the value
	}

	verified, err := client.VerifySession(ctx, &pb.VerifySessionRequest{AccessToken: created.AccessToken.Token})
	if err != nil {
		return err
	}
	fmt.Printf("verify   %s user=%s\n", verified.Outcome, verified.Session.GetUserId())
	if verified.Outcome != pb.VerifySessionResponse_OK {
		return fmt.Errorf("verify: %s: %s", verified.Outcome, verified.Reason)
	}

	refreshed, err := client.RefreshSession(ctx, &pb.RefreshSessionRequest{RefreshToken: created.RefreshToken.Token})
	if err != nil {
		return err
	}
	fmt.Printf("refresh  %s, new access token expires %s\n", refreshed.Outcome,
		time.UnixMilli(refreshed.AccessToken.GetExpiresAtMs()).UTC().Format(time.RFC3339))
	if refreshed.Outcome != pb.RefreshSessionResponse_OK {
		return fmt.Errorf("refresh: %s: %s", refreshed.Outcome, refreshed.Reason)
	}

	revoked, err := client.RevokeSessionHandles(ctx, created.Session.Handle)
	if err != nil {
		return err
	}
	fmt.Printf("revoke   %d session(s)\n", len(revoked.RevokedSessionHandles))

	// Without blacklisting, an access token stays valid until it expires unless the call checks the database.
	after, err := client.VerifySession(ctx, &pb.VerifySessionRequest{
		AccessToken: refreshed.AccessToken.Token, CheckDatabase: true,
	})
	if err != nil {
		return err
	}
	fmt.Printf("verify   %s (%s)\n", after.Outcome, after.Reason)
	if after.Outcome == pb.VerifySessionResponse_OK {
		return errors.New("a revoked session still verified with the database check")
	}
	return nil
}
