/*
 * example.c — create a session, verify its access token, refresh it, revoke it.
 *
 *   SESSION_SIDECAR_SOCKET=/run/session-sidecar/sidecar.sock ./build/example [user-id]
 */
#include <stdio.h>
#include <stdlib.h>

#include "sessionsidecar.h"

static int fail(ss_client *sidecar, const char *what) {
    ss_error err;
    ss_client_error(sidecar, &err);
    fprintf(stderr, "%s failed: %s (wire %s): %s\n", what, ss_err_name(err.code), ss_wire_code_name(err.wire_code),
            err.message);
    ss_client_free(sidecar);
    return 1;
}

int main(int argc, char **argv) {
    const char *user_id = argc > 1 ? argv[1] : "example-user";

    /* NULL: the socket path comes from $SESSION_SIDECAR_SOCKET; 0: the default timeout (10 s per call). */
    ss_client *sidecar = ss_client_new(NULL, 0);
    if (!sidecar) return 1;

    /* Create: the payload's members become claims of the access token. */
    ss_create_options options = {0};
    options.access_token_payload_json = "{\"role\":\"admin\"}";
    ss_create_result *created = NULL;
    if (ss_create_session(sidecar, user_id, &options, &created) != SS_OK) return fail(sidecar, "create");
    printf("created session %s for %s\n", created->session.handle, created->session.user_id);
    /* cookies[i].set_cookie_header is the complete Set-Cookie value to send (it holds a token: never log it). */
    for (size_t i = 0; i < created->n_cookies; i++)
        printf("  cookie %s (path %s)\n", created->cookies[i].name, created->cookies[i].path);

    /* Verify: the outcome is a value (OK, TRY_REFRESH_TOKEN, UNAUTHORISED), not an error. */
    ss_verify_result *verified = NULL;
    if (ss_verify_session(sidecar, created->access_token.token, NULL, &verified) != SS_OK) {
        ss_create_result_free(created);
        return fail(sidecar, "verify");
    }
    printf("verify: %s, payload %s\n", ss_verify_outcome_name(verified->outcome),
           verified->session.access_token_payload_json);
    ss_verify_result_free(verified);

    /* Refresh: rotates the refresh token. */
    ss_refresh_result *refreshed = NULL;
    if (ss_refresh_session(sidecar, created->refresh_token.token, NULL, &refreshed) != SS_OK) {
        ss_create_result_free(created);
        return fail(sidecar, "refresh");
    }
    printf("refresh: %s, new refresh token: %s\n", ss_refresh_outcome_name(refreshed->outcome),
           refreshed->has_refresh_token ? "yes" : "no");
    ss_refresh_result_free(refreshed);

    /* Revoke by handle; `revoked` lists what was actually revoked. */
    const char *handles[] = {created->session.handle};
    ss_string_list *revoked = NULL;
    if (ss_revoke_sessions(sidecar, handles, 1, &revoked) != SS_OK) {
        ss_create_result_free(created);
        return fail(sidecar, "revoke");
    }
    printf("revoked %zu session(s)\n", revoked->count);
    ss_string_list_free(revoked);

    /* With check_database the revoked session is refused at once. */
    ss_verify_options strict = {0};
    strict.check_database = true;
    if (ss_verify_session(sidecar, created->access_token.token, &strict, &verified) != SS_OK) {
        ss_create_result_free(created);
        return fail(sidecar, "verify after revoke");
    }
    printf("verify after revoke: %s (%s)\n", ss_verify_outcome_name(verified->outcome), verified->reason);
    int status = verified->outcome == SS_VERIFY_OK ? 1 : 0;
    ss_verify_result_free(verified);

    ss_create_result_free(created);
    ss_client_free(sidecar);
    return status;
}
