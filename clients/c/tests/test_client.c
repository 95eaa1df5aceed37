/*
 * test_client.c — tests of libsessionsidecar.
 *
 * Live tests run against the sidecar at $SESSION_SIDECAR_SOCKET (scripts/test-sidecar.sh); the restart test
 * needs $SESSION_SIDECAR_RESTART. Wire edge cases (timeouts, connection-level errors, out-of-order responses,
 * bad frames, a connection lost mid-call) run against a fake sidecar on a thread of this process, which gives
 * exact control over what comes back. `make test` runs this program under valgrind.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sessionsidecar.h"

/* ------------------------------------------------------------------------------------------------------- */
/* A tiny test harness                                                                                      */

static int n_passed, n_failed, n_skipped;
static bool current_failed, current_skipped;
static char user_prefix[64];

#define CHECK(cond) \
    do { \
        if (!(cond)) { \
            fprintf(stderr, "    FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            current_failed = true; \
        } \
    } while (0)

/* Check that a call succeeded; print the client's error otherwise. Evaluates to true on SS_OK. */
#define OK(c, expr) ok_check((c), (expr), #expr, __FILE__, __LINE__)

static bool ok_check(ss_client *c, ss_err e, const char *expr, const char *file, int line) {
    if (e == SS_OK) return true;
    fprintf(stderr, "    FAIL %s:%d: %s -> %s (wire %s): %s\n", file, line, expr, ss_err_name(e),
            ss_wire_code_name(ss_client_wire_code(c)), ss_client_errmsg(c));
    current_failed = true;
    return false;
}

static void skip(const char *why) {
    printf("    SKIPPED: %s\n", why);
    current_skipped = true;
}

static void run(const char *name, void (*test)(void)) {
    current_failed = current_skipped = false;
    printf("  %s\n", name);
    fflush(stdout);
    test();
    if (current_failed) {
        n_failed++;
        printf("  FAILED %s\n", name);
    } else if (current_skipped) {
        n_skipped++;
    } else {
        n_passed++;
    }
    fflush(stdout);
}

static const char *user(const char *suffix) {
    static char buf[8][128];
    static int next;
    char *b = buf[next++ % 8];
    snprintf(b, sizeof buf[0], "%s-%s", user_prefix, suffix);
    return b;
}

static bool contains(const char *haystack, const char *needle) {
    return haystack && needle && strstr(haystack, needle) != NULL;
}

static ss_client *live_client(void) {
    ss_client *c = ss_client_new(NULL, 10000);
    CHECK(c != NULL);
    return c;
}

/* ------------------------------------------------------------------------------------------------------- */
/* Live: the session lifecycle                                                                              */

static void test_create_verify_refresh_revoke(void) {
    ss_client *c = live_client();
    ss_create_options opt = {0};
    opt.access_token_payload_json = "{\"role\":\"admin\"}";
    opt.session_data_json = "{\"cart\":3}";
    ss_create_result *created = NULL;
    if (!OK(c, ss_create_session(c, user("life"), &opt, &created))) goto out;
    CHECK(*created->session.handle != '\0');
    CHECK(strcmp(created->session.user_id, user("life")) == 0);
    CHECK(*created->access_token.token != '\0');
    CHECK(*created->refresh_token.token != '\0');
    CHECK(created->access_token.expires_at_ms > 0);
    CHECK(strcmp(created->anti_csrf_token, "") == 0);
    CHECK(created->n_cookies == 2);
    bool access_cookie = false, refresh_cookie = false;
    for (size_t i = 0; i < created->n_cookies; i++) {
        const ss_cookie *k = &created->cookies[i];
        if (strcmp(k->name, "sAccessToken") == 0) access_cookie = strcmp(k->value, created->access_token.token) == 0;
        if (strcmp(k->name, "sRefreshToken") == 0)
            refresh_cookie = strcmp(k->value, created->refresh_token.token) == 0 && k->http_only;
        CHECK(contains(k->set_cookie_header, k->name));
    }
    CHECK(access_cookie && refresh_cookie);

    ss_verify_result *v = NULL;
    if (OK(c, ss_verify_session(c, created->access_token.token, NULL, &v))) {
        CHECK(v->outcome == SS_VERIFY_OK);
        CHECK(strcmp(v->reason, "") == 0);
        CHECK(v->has_session);
        CHECK(strcmp(v->session.handle, created->session.handle) == 0);
        CHECK(strcmp(v->session.user_id, user("life")) == 0);
        CHECK(contains(v->session.access_token_payload_json, "\"role\":\"admin\""));
    }
    ss_verify_result_free(v);

    ss_refresh_result *r = NULL;
    if (OK(c, ss_refresh_session(c, created->refresh_token.token, NULL, &r))) {
        CHECK(r->outcome == SS_REFRESH_OK);
        CHECK(r->has_access_token && r->has_refresh_token);
        CHECK(strcmp(r->refresh_token.token, created->refresh_token.token) != 0);
        CHECK(strcmp(r->session.handle, created->session.handle) == 0);
        CHECK(r->n_cookies == 2);
        ss_verify_result *v2 = NULL;
        if (OK(c, ss_verify_session(c, r->access_token.token, NULL, &v2))) CHECK(v2->outcome == SS_VERIFY_OK);
        ss_verify_result_free(v2);
    }

    const char *handles[] = {created->session.handle};
    ss_string_list *revoked = NULL;
    if (OK(c, ss_revoke_sessions(c, handles, 1, &revoked))) {
        CHECK(revoked->count == 1);
        CHECK(revoked->count == 1 && strcmp(revoked->items[0], created->session.handle) == 0);
    }
    ss_string_list_free(revoked);

    /* Refused now: strict verification, and the refresh token. */
    ss_verify_options strict = {0};
    strict.check_database = true;
    if (OK(c, ss_verify_session(c, created->access_token.token, &strict, &v))) {
        CHECK(v->outcome == SS_VERIFY_UNAUTHORISED);
        CHECK(*v->reason != '\0');
    }
    ss_verify_result_free(v);
    if (r) {
        ss_refresh_result *r2 = NULL;
        if (OK(c, ss_refresh_session(c, r->refresh_token.token, NULL, &r2))) {
            CHECK(r2->outcome == SS_REFRESH_UNAUTHORISED);
            CHECK(!r2->has_access_token);
        }
        ss_refresh_result_free(r2);
    }
    /* Revoking it again revokes nothing; the result may be ignored. */
    CHECK(OK(c, ss_revoke_sessions(c, handles, 1, NULL)));
    ss_refresh_result_free(r);
    ss_create_result_free(created);
out:
    ss_client_free(c);
}

static void test_refresh_grace_and_theft(void) {
    ss_client *c = live_client();
    ss_create_result *s = NULL;
    ss_refresh_result *r1 = NULL, *grace = NULL, *r2 = NULL, *theft = NULL, *after = NULL;
    if (!OK(c, ss_create_session(c, user("theft"), NULL, &s))) goto out;
    if (!OK(c, ss_refresh_session(c, s->refresh_token.token, NULL, &r1))) goto out;
    CHECK(r1->outcome == SS_REFRESH_OK && r1->has_refresh_token);
    /* The previous token inside the grace period: a new access token and the same new refresh token again. */
    if (OK(c, ss_refresh_session(c, s->refresh_token.token, NULL, &grace))) {
        CHECK(grace->outcome == SS_REFRESH_OK);
        CHECK(grace->has_access_token);
        CHECK(grace->has_refresh_token);
        CHECK(strcmp(grace->refresh_token.token, r1->refresh_token.token) == 0);
    }
    if (!OK(c, ss_refresh_session(c, r1->refresh_token.token, NULL, &r2))) goto out;
    CHECK(r2->outcome == SS_REFRESH_OK);
    /* Two generations old: theft, and the session is revoked. */
    if (OK(c, ss_refresh_session(c, s->refresh_token.token, NULL, &theft))) {
        CHECK(theft->outcome == SS_REFRESH_TOKEN_THEFT_DETECTED);
        CHECK(theft->has_session);
        CHECK(strcmp(theft->session.handle, s->session.handle) == 0);
        CHECK(strcmp(theft->session.user_id, user("theft")) == 0);
        CHECK(!theft->has_access_token);
    }
    if (OK(c, ss_refresh_session(c, r2->refresh_token.token, NULL, &after)))
        CHECK(after->outcome == SS_REFRESH_UNAUTHORISED);
out:
    ss_refresh_result_free(after);
    ss_refresh_result_free(theft);
    ss_refresh_result_free(r2);
    ss_refresh_result_free(grace);
    ss_refresh_result_free(r1);
    ss_create_result_free(s);
    ss_client_free(c);
}

static void test_anti_csrf_and_outcomes(void) {
    ss_client *c = live_client();
    ss_create_options opt = {0};
    opt.enable_anti_csrf = true;
    ss_create_result *s = NULL;
    ss_verify_result *v = NULL;
    if (!OK(c, ss_create_session(c, user("csrf"), &opt, &s))) goto out;
    CHECK(*s->anti_csrf_token != '\0');
    ss_verify_options vo = {0};
    vo.do_anti_csrf_check = true;
    vo.anti_csrf_token = s->anti_csrf_token;
    if (OK(c, ss_verify_session(c, s->access_token.token, &vo, &v))) CHECK(v->outcome == SS_VERIFY_OK);
    ss_verify_result_free(v);
    vo.anti_csrf_token = "wrong";
    if (OK(c, ss_verify_session(c, s->access_token.token, &vo, &v))) {
        CHECK(v->outcome == SS_VERIFY_TRY_REFRESH_TOKEN);
        CHECK(*v->reason != '\0');
    }
    ss_verify_result_free(v);
    /* A forged token is an outcome, not an error; the reason never repeats the token. */
    const char *forged = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXNlY3JldC14eXo";
    if (OK(c, ss_verify_session(c, forged, NULL, &v))) {
        CHECK(v->outcome == SS_VERIFY_UNAUTHORISED);
        CHECK(!contains(v->reason, "c2lnbmF0dXJl"));
        CHECK(!v->has_session || strcmp(v->session.handle, "") == 0);
    }
    ss_verify_result_free(v);
    v = NULL;
out:
    ss_create_result_free(s);
    ss_client_free(c);
}

/* ------------------------------------------------------------------------------------------------------- */
/* Live: every other call                                                                                   */

static void test_management_calls(void) {
    ss_client *c = live_client();
    const char *u = user("mgmt");
    ss_create_options opt = {0};
    opt.access_token_payload_json = "{\"plan\":\"free\"}";
    opt.session_data_json = "{\"theme\":\"dark\"}";
    ss_create_result *a = NULL, *b = NULL;
    ss_string_list *list = NULL, *revoked = NULL;
    ss_session_info *info = NULL;
    ss_regenerate_result *regen = NULL;
    ss_verify_result *v = NULL;
    if (!OK(c, ss_create_session(c, u, &opt, &a)) || !OK(c, ss_create_session(c, u, NULL, &b))) goto out;

    if (OK(c, ss_list_sessions(c, u, &list))) {
        CHECK(list->count == 2);
        bool found_a = false, found_b = false;
        for (size_t i = 0; i < list->count; i++) {
            found_a |= strcmp(list->items[i], a->session.handle) == 0;
            found_b |= strcmp(list->items[i], b->session.handle) == 0;
        }
        CHECK(found_a && found_b);
    }
    ss_string_list_free(list);
    list = NULL;

    if (OK(c, ss_get_session(c, a->session.handle, &info))) {
        CHECK(strcmp(info->session_handle, a->session.handle) == 0);
        CHECK(strcmp(info->user_id, u) == 0);
        CHECK(contains(info->session_data_json, "\"theme\""));
        CHECK(contains(info->access_token_payload_json, "\"plan\""));
        CHECK(!contains(info->access_token_payload_json, "sessionHandle")); /* the app's own claims only */
        CHECK(info->created_at_ms > 0 && info->expires_at_ms > info->created_at_ms);
    }
    ss_session_info_free(info);
    info = NULL;

    CHECK(OK(c, ss_update_session_data(c, a->session.handle, "{\"theme\":\"light\",\"n\":1}")));
    CHECK(OK(c, ss_update_access_token_payload(c, a->session.handle, "{\"plan\":\"pro\"}")));
    if (OK(c, ss_get_session(c, a->session.handle, &info))) {
        CHECK(contains(info->session_data_json, "light"));
        CHECK(contains(info->access_token_payload_json, "pro"));
    }
    ss_session_info_free(info);
    info = NULL;

    if (OK(c, ss_regenerate_access_token(c, a->access_token.token, "{\"plan\":\"team\"}", &regen))) {
        CHECK(regen->has_access_token);
        CHECK(regen->has_session && strcmp(regen->session.handle, a->session.handle) == 0);
        CHECK(regen->access_token.expires_at_ms == a->access_token.expires_at_ms);
        if (regen->has_access_token && OK(c, ss_verify_session(c, regen->access_token.token, NULL, &v))) {
            CHECK(v->outcome == SS_VERIFY_OK);
            CHECK(contains(v->session.access_token_payload_json, "\"plan\":\"team\""));
        }
        ss_verify_result_free(v);
    }

    /* NOT_FOUND is a status error with the wire code. */
    CHECK(ss_get_session(c, "no-such-handle", &info) == SS_ERR_STATUS);
    CHECK(ss_client_wire_code(c) == SS_CODE_NOT_FOUND);
    CHECK(info == NULL);
    CHECK(ss_update_session_data(c, "no-such-handle", "{}") == SS_ERR_STATUS);
    CHECK(ss_client_wire_code(c) == SS_CODE_NOT_FOUND);

    if (OK(c, ss_revoke_user_sessions(c, u, &revoked))) CHECK(revoked->count == 2);
    if (OK(c, ss_list_sessions(c, u, &list))) CHECK(list->count == 0);
out:
    ss_string_list_free(list);
    ss_string_list_free(revoked);
    ss_regenerate_result_free(regen);
    ss_create_result_free(a);
    ss_create_result_free(b);
    ss_client_free(c);
}

static void test_keys_watch_health(void) {
    ss_client *c = live_client();
    ss_key_set *keys = NULL, *watched = NULL;
    ss_health_result *h = NULL;
    if (OK(c, ss_health(c, &h))) {
        CHECK(h->serving);
        CHECK(h->database_reachable);
        CHECK(*h->version != '\0');
    }
    ss_health_result_free(h);

    if (OK(c, ss_get_signing_keys(c, &keys))) {
        CHECK(contains(keys->jwks_json, "\"keys\""));
        CHECK(keys->n_keys >= 1);
        CHECK(keys->cache_max_age_s > 0);
        for (size_t i = 0; i < keys->n_keys; i++) {
            CHECK(*keys->keys[i].kid != '\0');
            CHECK(strcmp(keys->keys[i].alg, "RS256") == 0);
            CHECK(keys->keys[i].kind == SS_KEY_DYNAMIC || keys->keys[i].kind == SS_KEY_STATIC);
            CHECK(contains(keys->keys[i].public_key_pem, "-----BEGIN"));
            CHECK(contains(keys->jwks_json, keys->keys[i].kid));
        }
    }

    /* The stream: the current set at once, then nothing until a key changes. */
    ss_client *w = live_client();
    uint64_t watch = 0;
    if (OK(w, ss_watch_signing_keys(w, &watch))) {
        CHECK(watch != 0);
        if (OK(w, ss_watch_next(w, watch, 5000, &watched))) {
            CHECK(watched->n_keys >= 1);
            CHECK(contains(watched->jwks_json, "\"keys\""));
        }
        ss_key_set_free(watched);
        watched = NULL;
        ss_err e = ss_watch_next(w, watch, 0, &watched);
        /* SS_OK only if a key changed this very moment; a timeout leaves the stream open. */
        CHECK(e == SS_ERR_TIMEOUT || e == SS_OK);
        if (e == SS_ERR_TIMEOUT) CHECK(watched == NULL && ss_pending(w) == 1);
        ss_key_set_free(watched);
        watched = NULL;
        /* Other calls share the connection with the stream. */
        if (OK(w, ss_health(w, &h))) CHECK(h->serving);
        ss_health_result_free(h);
        ss_abandon(w, watch);
        CHECK(ss_pending(w) == 0);
        CHECK(ss_watch_next(w, watch, 0, &watched) == SS_ERR_INVALID_ARGUMENT);
    }
    ss_client_free(w);
    ss_key_set_free(keys);
    ss_client_free(c);
}

/* ------------------------------------------------------------------------------------------------------- */
/* Live: bad calls                                                                                          */

static void test_bad_calls(void) {
    ss_client *c = live_client();
    ss_create_result *s = NULL;
    ss_regenerate_result *regen = NULL;
    ss_health_result *h = NULL;
    ss_error err;

    /* The sidecar refuses an empty user id: INVALID_ARGUMENT naming the field. */
    CHECK(ss_create_session(c, "", NULL, &s) == SS_ERR_STATUS);
    CHECK(s == NULL);
    ss_client_error(c, &err);
    CHECK(err.code == SS_ERR_STATUS);
    CHECK(err.wire_code == SS_CODE_INVALID_ARGUMENT);
    CHECK(err.request_id != 0);
    CHECK(contains(err.message, "user_id"));
    CHECK(contains(err.message, "INVALID_ARGUMENT"));
    printf("    empty user id -> %s\n", err.message);

    /* JSON that is not one object. */
    ss_create_options opt = {0};
    opt.access_token_payload_json = "[1,2]";
    CHECK(ss_create_session(c, user("bad"), &opt, &s) == SS_ERR_STATUS);
    CHECK(ss_client_wire_code(c) == SS_CODE_INVALID_ARGUMENT);
    opt.access_token_payload_json = "{\"sub\":\"impostor\"}"; /* a protected claim */
    CHECK(ss_create_session(c, user("bad"), &opt, &s) == SS_ERR_STATUS);
    CHECK(ss_client_wire_code(c) == SS_CODE_INVALID_ARGUMENT);

    /* Refused by the library, nothing sent. */
    CHECK(ss_create_session(c, NULL, NULL, &s) == SS_ERR_INVALID_ARGUMENT);
    CHECK(contains(ss_client_errmsg(c), "user_id"));
    CHECK(ss_create_session(c, "bad\xff\xfe", NULL, &s) == SS_ERR_INVALID_ARGUMENT);
    CHECK(contains(ss_client_errmsg(c), "UTF-8"));
    CHECK(ss_create_session(c, "x", NULL, NULL) == SS_ERR_INVALID_ARGUMENT);
    CHECK(ss_create_session(NULL, "x", NULL, &s) == SS_ERR_INVALID_ARGUMENT);
    CHECK(ss_revoke_sessions(c, NULL, 2, NULL) == SS_ERR_INVALID_ARGUMENT);
    size_t big = SS_MAX_REQUEST_BYTES + 16;
    char *huge = malloc(big + 1);
    if (huge) {
        memset(huge, 'a', big);
        huge[big] = '\0';
        CHECK(ss_verify_session(c, huge, NULL, NULL) == SS_ERR_INVALID_ARGUMENT);
        ss_verify_result *v = NULL;
        CHECK(ss_verify_session(c, huge, NULL, &v) == SS_ERR_INVALID_ARGUMENT);
        CHECK(contains(ss_client_errmsg(c), "frame limit"));
        free(huge);
    }

    /* A forged token for RegenerateAccessToken is UNAUTHENTICATED; the message never holds the token. */
    const char *forged = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImQtMSJ9.eyJzdWIiOiJ4In0.U0VDUkVULVRPS0VOLVNJR05BVFVSRQ";
    CHECK(ss_regenerate_access_token(c, forged, "{}", &regen) == SS_ERR_STATUS);
    CHECK(ss_client_wire_code(c) == SS_CODE_UNAUTHENTICATED);
    CHECK(!contains(ss_client_errmsg(c), "U0VDUkVU"));
    CHECK(!contains(ss_client_errmsg(c), "eyJzdWIi"));

    /* The connection survives every one of those. */
    if (OK(c, ss_health(c, &h))) CHECK(h->serving);
    CHECK(ss_client_errcode(c) == SS_OK && strcmp(ss_client_errmsg(c), "") == 0);
    CHECK(ss_client_reconnects(c) == 0);
    ss_health_result_free(h);
    ss_client_free(c);
}

static void test_connection_errors(void) {
    ss_health_result *h = NULL;
    ss_client *c = ss_client_new("/nonexistent/dir/sidecar.sock", 1000);
    CHECK(ss_health(c, &h) == SS_ERR_CONNECTION);
    CHECK(contains(ss_client_errmsg(c), "/nonexistent/dir/sidecar.sock"));
    CHECK(ss_client_connect(c) == SS_ERR_CONNECTION);
    ss_client_free(c);

    char longpath[200];
    memset(longpath, 'p', sizeof longpath - 1);
    longpath[0] = '/';
    longpath[sizeof longpath - 1] = '\0';
    c = ss_client_new(longpath, 1000);
    CHECK(ss_health(c, &h) == SS_ERR_INVALID_ARGUMENT);
    ss_client_free(c);

    /* NULL path: $SESSION_SIDECAR_SOCKET, and a clear error when it is unset. */
    char *saved = getenv(SS_SOCKET_ENV) ? strdup(getenv(SS_SOCKET_ENV)) : NULL;
    unsetenv(SS_SOCKET_ENV);
    c = ss_client_new(NULL, 1000);
    CHECK(ss_health(c, &h) == SS_ERR_INVALID_ARGUMENT);
    CHECK(contains(ss_client_errmsg(c), SS_SOCKET_ENV));
    ss_client_free(c);
    if (saved) {
        setenv(SS_SOCKET_ENV, saved, 1);
        c = ss_client_new(NULL, 0);
        CHECK(strcmp(ss_client_socket_path(c), saved) == 0);
        CHECK(ss_client_timeout(c) == SS_DEFAULT_TIMEOUT_MS);
        CHECK(!ss_client_connected(c));
        CHECK(OK(c, ss_client_connect(c)));
        CHECK(ss_client_connected(c));
        ss_client_disconnect(c);
        CHECK(!ss_client_connected(c));
        if (OK(c, ss_health(c, &h))) CHECK(h->serving);
        CHECK(ss_client_reconnects(c) == 1);
        ss_health_result_free(h);
        ss_client_free(c);
        free(saved);
    }
    CHECK(ss_health(NULL, &h) == SS_ERR_INVALID_ARGUMENT);
    ss_client_free(NULL);
    ss_health_result_free(NULL);
}

/* ------------------------------------------------------------------------------------------------------- */
/* Live: pipelining                                                                                         */

#define PIPELINED 1000

static void test_pipelining_1000(void) {
    ss_client *c = live_client();
    ss_create_result *s = NULL;
    uint64_t *ids = calloc(PIPELINED, sizeof *ids);
    if (!ids || !OK(c, ss_create_session(c, user("pipe"), NULL, &s))) goto out;

    /* A mix of calls, all sent before any is received. */
    for (int i = 0; i < PIPELINED; i++) {
        ss_err e;
        if (i % 100 == 7) e = ss_send_get_session(c, s->session.handle, &ids[i]);
        else if (i % 50 == 3) e = ss_send_health(c, &ids[i]);
        else e = ss_send_verify_session(c, s->access_token.token, NULL, &ids[i]);
        if (!OK(c, e)) goto out;
        CHECK(i == 0 || ids[i] > ids[i - 1]);
    }
    CHECK(ss_pending(c) == PIPELINED);
    CHECK(ss_client_reconnects(c) == 0);

    /* Received in reverse order: every other response is kept until asked for. */
    int verified = 0, healthy = 0, got = 0;
    for (int i = PIPELINED - 1; i >= 0; i--) {
        if (i % 100 == 7) {
            ss_session_info *info = NULL;
            if (OK(c, ss_recv_get_session(c, ids[i], &info)) && strcmp(info->user_id, user("pipe")) == 0) got++;
            ss_session_info_free(info);
        } else if (i % 50 == 3) {
            ss_health_result *h = NULL;
            if (OK(c, ss_recv_health(c, ids[i], &h)) && h->serving) healthy++;
            ss_health_result_free(h);
        } else {
            ss_verify_result *v = NULL;
            if (OK(c, ss_recv_verify_session(c, ids[i], &v)) && v->outcome == SS_VERIFY_OK &&
                strcmp(v->session.handle, s->session.handle) == 0)
                verified++;
            ss_verify_result_free(v);
        }
    }
    CHECK(got == 10);
    CHECK(healthy == 20);
    CHECK(verified == PIPELINED - 30);
    CHECK(ss_pending(c) == 0);
    CHECK(ss_client_reconnects(c) == 0);

    /* ss_wait: check without blocking, then wait; a received id is no longer pending. */
    uint64_t id = 0;
    if (OK(c, ss_send_health(c, &id))) {
        CHECK(OK(c, ss_wait(c, id, 5000)));
        CHECK(OK(c, ss_wait(c, id, 0)));
        ss_health_result *h = NULL;
        /* The wrong receive function is refused and leaves the request pending. */
        ss_verify_result *v = NULL;
        CHECK(ss_recv_verify_session(c, id, &v) == SS_ERR_INVALID_ARGUMENT);
        CHECK(ss_pending(c) == 1);
        CHECK(OK(c, ss_recv_health(c, id, &h)));
        ss_health_result_free(h);
        CHECK(ss_recv_health(c, id, &h) == SS_ERR_INVALID_ARGUMENT);
        CHECK(ss_wait(c, id, 0) == SS_ERR_INVALID_ARGUMENT);
    }
    /* Abandoned requests are dropped when their responses arrive. */
    for (int i = 0; i < 5; i++)
        if (OK(c, ss_send_verify_session(c, s->access_token.token, NULL, &id))) ss_abandon(c, id);
    CHECK(ss_pending(c) == 0);
    ss_health_result *h = NULL;
    if (OK(c, ss_health(c, &h))) CHECK(h->serving);
    ss_health_result_free(h);
out:
    free(ids);
    ss_create_result_free(s);
    ss_client_free(c);
}

/* ------------------------------------------------------------------------------------------------------- */
/* Live: the sidecar restarts                                                                               */

static void test_restart(void) {
    const char *restart = getenv("SESSION_SIDECAR_RESTART");
    if (!restart || !*restart) {
        skip("SESSION_SIDECAR_RESTART is not set (scripts/test-sidecar.sh env sets it): no restart test");
        return;
    }
    ss_client *c = live_client();
    ss_client *idle = live_client();
    ss_client *watcher = live_client();
    ss_create_result *s = NULL;
    ss_verify_result *v = NULL;
    ss_refresh_result *r = NULL;
    ss_create_result *s2 = NULL;
    ss_key_set *keys = NULL;
    ss_health_result *h = NULL;
    uint64_t watch = 0;
    if (!OK(c, ss_create_session(c, user("restart"), NULL, &s))) goto out;
    if (OK(c, ss_verify_session(c, s->access_token.token, NULL, &v))) CHECK(v->outcome == SS_VERIFY_OK);
    ss_verify_result_free(v);
    v = NULL;
    CHECK(OK(idle, ss_health(idle, &h)));
    ss_health_result_free(h);
    h = NULL;
    if (OK(watcher, ss_watch_signing_keys(watcher, &watch))) CHECK(OK(watcher, ss_watch_next(watcher, watch, 5000, &keys)));
    ss_key_set_free(keys);
    keys = NULL;

    printf("    restarting the sidecar...\n");
    fflush(stdout);
    int rc = system(restart);
    CHECK(rc == 0);

    /* The same clients, the same sessions (same database and keys). */
    if (OK(c, ss_verify_session(c, s->access_token.token, NULL, &v))) CHECK(v->outcome == SS_VERIFY_OK);
    CHECK(ss_client_reconnects(c) == 1);
    if (OK(c, ss_refresh_session(c, s->refresh_token.token, NULL, &r))) CHECK(r->outcome == SS_REFRESH_OK);
    CHECK(ss_client_reconnects(c) == 1);
    /* A mutation is the first call on the dropped connection: it reconnects before sending. */
    if (OK(idle, ss_create_session(idle, user("restart"), NULL, &s2))) CHECK(*s2->session.handle != '\0');
    CHECK(ss_client_reconnects(idle) == 1);
    /* A stream ends with its connection: the next read says so, then it can be opened again. */
    if (watch) {
        /* A draining sidecar ends the stream with a final UNAVAILABLE (14); a killed one just drops it. */
        ss_err e = ss_watch_next(watcher, watch, 5000, &keys);
        CHECK(e == SS_ERR_CONNECTION || (e == SS_ERR_STATUS && ss_client_wire_code(watcher) == 14));
        CHECK(keys == NULL);
        CHECK(ss_pending(watcher) == 0);
        if (OK(watcher, ss_watch_signing_keys(watcher, &watch)) && OK(watcher, ss_watch_next(watcher, watch, 5000, &keys)))
            CHECK(keys->n_keys >= 1);
    }
    if (OK(c, ss_revoke_user_sessions(c, user("restart"), NULL))) {
        ss_string_list *list = NULL;
        if (OK(c, ss_list_sessions(c, user("restart"), &list))) CHECK(list->count == 0);
        ss_string_list_free(list);
    }
out:
    ss_key_set_free(keys);
    ss_create_result_free(s2);
    ss_refresh_result_free(r);
    ss_verify_result_free(v);
    ss_create_result_free(s);
    ss_client_free(watcher);
    ss_client_free(idle);
    ss_client_free(c);
}

/* ------------------------------------------------------------------------------------------------------- */
/* A fake sidecar on a thread, for exact wire behaviour                                                     */

typedef struct fake {
    char path[108];
    int listen_fd;
    pthread_t thread;
    void (*script)(struct fake *);
    int requests_seen;   /* frames read by the script */
    int connections;     /* connections accepted */
    bool failed;         /* the script saw something wrong */
} fake;

static size_t put_varint(unsigned char *p, uint64_t v) {
    size_t n = 0;
    do {
        p[n] = (unsigned char)(v & 0x7F);
        v >>= 7;
        if (v) p[n] |= 0x80;
        n++;
    } while (v);
    return n;
}

static size_t put_bytes(unsigned char *p, unsigned field, const void *data, size_t len) {
    size_t n = put_varint(p, (uint64_t)field << 3 | 2);
    n += put_varint(p + n, len);
    memcpy(p + n, data, len);
    return n + len;
}

/* Response{id, status{code, message}} or, with code 0, Response{id, health{serving, version}}. */
static void send_response(fake *f, int fd, uint64_t id, int code, const char *text) {
    unsigned char inner[256], body[512], frame[600];
    size_t n = 0, m = 0;
    if (code == 0) {
        inner[n++] = 0x08; /* serving = true */
        inner[n++] = 0x01;
        n += put_bytes(inner + n, 2, text, strlen(text)); /* version */
    } else {
        inner[n++] = 0x08;
        n += put_varint(inner + n, (uint64_t)code);
        n += put_bytes(inner + n, 2, text, strlen(text)); /* message */
    }
    body[m++] = 0x08;
    m += put_varint(body + m, id);
    m += put_bytes(body + m, code == 0 ? 21 : 2, inner, n);
    frame[0] = (unsigned char)(m >> 24);
    frame[1] = (unsigned char)(m >> 16);
    frame[2] = (unsigned char)(m >> 8);
    frame[3] = (unsigned char)m;
    memcpy(frame + 4, body, m);
    if (write(fd, frame, m + 4) != (ssize_t)(m + 4)) f->failed = true;
}

static void send_raw(fake *f, int fd, const void *data, size_t len) {
    if (write(fd, data, len) != (ssize_t)len) f->failed = true;
}

static bool read_full(int fd, unsigned char *buf, size_t len) {
    size_t off = 0;
    while (off < len) {
        ssize_t n = read(fd, buf + off, len - off);
        if (n <= 0) return false;
        off += (size_t)n;
    }
    return true;
}

/* Read one request frame and return its id (field 1 comes first); 0 on EOF or a malformed frame. */
static uint64_t read_request(fake *f, int fd) {
    unsigned char head[4], body[4096];
    if (!read_full(fd, head, 4)) return 0;
    size_t len = (size_t)head[0] << 24 | (size_t)head[1] << 16 | (size_t)head[2] << 8 | head[3];
    if (len == 0 || len > sizeof body || !read_full(fd, body, len) || body[0] != 0x08) {
        f->failed = true;
        return 0;
    }
    uint64_t id = 0;
    for (size_t i = 1, shift = 0; i < len && shift < 64; i++, shift += 7) {
        id |= (uint64_t)(body[i] & 0x7F) << shift;
        if (!(body[i] & 0x80)) break;
    }
    f->requests_seen++;
    return id;
}

static int accept_within(fake *f, int timeout_ms) {
    struct pollfd p = {.fd = f->listen_fd, .events = POLLIN};
    if (poll(&p, 1, timeout_ms) <= 0) return -1;
    int fd = accept(f->listen_fd, NULL, NULL);
    if (fd >= 0) f->connections++;
    return fd;
}

static void *fake_main(void *arg) {
    fake *f = arg;
    f->script(f);
    return NULL;
}

static bool fake_start(fake *f, const char *name, void (*script)(fake *)) {
    memset(f, 0, sizeof *f);
    snprintf(f->path, sizeof f->path, "/tmp/ss-c-test-%ld-%s.sock", (long)getpid(), name);
    unlink(f->path);
    f->script = script;
    f->listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path, f->path, strlen(f->path) + 1);
    if (f->listen_fd < 0 || bind(f->listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        listen(f->listen_fd, 8) != 0) {
        CHECK(!"fake sidecar: cannot listen");
        return false;
    }
    if (script && pthread_create(&f->thread, NULL, fake_main, f) != 0) {
        CHECK(!"fake sidecar: cannot start its thread");
        script = NULL;
        f->script = NULL;
    }
    return true;
}

static void fake_stop(fake *f) {
    if (f->script) pthread_join(f->thread, NULL);
    close(f->listen_fd);
    unlink(f->path);
    CHECK(!f->failed);
}

/* Late answer: the first request is answered only after the client gave up (timeout). */
static void script_late(fake *f) {
    int fd = accept_within(f, 5000);
    if (fd < 0) {
        f->failed = true;
        return;
    }
    uint64_t first = read_request(f, fd);  /* the call that will time out */
    uint64_t second = read_request(f, fd); /* sent after the timeout */
    if (first != 1 || second != 2) f->failed = true;
    send_response(f, fd, first, 0, "late");
    send_response(f, fd, second, 0, "on-time");
    read_request(f, fd); /* EOF when the client closes */
    close(fd);
}

static void test_timeout(void) {
    fake f;
    if (!fake_start(&f, "late", script_late)) return;
    ss_client *c = ss_client_new(f.path, 150);
    ss_health_result *h = NULL;
    /* Nothing answers within 150 ms: SS_ERR_TIMEOUT, and the request is abandoned. */
    CHECK(ss_health(c, &h) == SS_ERR_TIMEOUT);
    CHECK(h == NULL);
    CHECK(contains(ss_client_errmsg(c), "timeout"));
    CHECK(ss_pending(c) == 0);
    CHECK(ss_client_connected(c));
    /* The late answer to request 1 is discarded; request 2 gets its own. */
    ss_client_set_timeout(c, 5000);
    uint64_t id = 0;
    if (OK(c, ss_send_health(c, &id))) {
        CHECK(id == 2);
        if (OK(c, ss_recv_health(c, id, &h))) CHECK(strcmp(h->version, "on-time") == 0);
    }
    ss_health_result_free(h);
    CHECK(ss_pending(c) == 0);
    ss_client_free(c);
    fake_stop(&f);
}

/* Responses in reverse order, then a connection-level error (id 0). */
static void script_reverse(fake *f) {
    int fd = accept_within(f, 5000);
    if (fd < 0) {
        f->failed = true;
        return;
    }
    uint64_t ids[3];
    for (int i = 0; i < 3; i++) ids[i] = read_request(f, fd);
    for (int i = 2; i >= 0; i--) {
        char version[32];
        snprintf(version, sizeof version, "v%llu", (unsigned long long)ids[i]);
        send_response(f, fd, ids[i], 0, version);
    }
    uint64_t next = read_request(f, fd);
    (void)next;
    send_response(f, fd, 0, SS_CODE_INVALID_ARGUMENT, "frame that is not a decodable Request");
    uint64_t after = read_request(f, fd);
    send_response(f, fd, after, SS_CODE_UNAVAILABLE, "database unreachable");
    read_request(f, fd);
    close(fd);
}

static void test_out_of_order_and_connection_error(void) {
    fake f;
    if (!fake_start(&f, "reverse", script_reverse)) return;
    ss_client *c = ss_client_new(f.path, 5000);
    uint64_t ids[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) CHECK(OK(c, ss_send_health(c, &ids[i])));
    for (int i = 0; i < 3; i++) {
        ss_health_result *h = NULL;
        char want[32];
        snprintf(want, sizeof want, "v%llu", (unsigned long long)ids[i]);
        if (OK(c, ss_recv_health(c, ids[i], &h))) CHECK(strcmp(h->version, want) == 0);
        ss_health_result_free(h);
    }
    /* A Response with id 0 is reported to the waiting call, with its wire code, as request 0. */
    ss_health_result *h = NULL;
    CHECK(ss_health(c, &h) == SS_ERR_STATUS);
    ss_error err;
    ss_client_error(c, &err);
    CHECK(err.wire_code == SS_CODE_INVALID_ARGUMENT);
    CHECK(err.request_id == 0);
    CHECK(contains(err.message, "connection-level"));
    /* A status error on a call. */
    CHECK(ss_health(c, &h) == SS_ERR_STATUS);
    ss_client_error(c, &err);
    CHECK(err.wire_code == SS_CODE_UNAVAILABLE);
    CHECK(err.request_id != 0);
    CHECK(contains(err.message, "UNAVAILABLE: database unreachable"));
    ss_client_free(c);
    fake_stop(&f);
}

/* Bad frames: an undecodable one, an oversized one, then an id-0 error and a close, each on its own connection. */
static void script_bad_frames(fake *f) {
    static const unsigned char garbage[] = {0, 0, 0, 3, 0x0A, 0xFF, 0xFF};
    static const unsigned char oversized[] = {0xFF, 0xFF, 0xFF, 0xFF, 0x08};
    for (int round = 0; round < 3; round++) {
        int fd = accept_within(f, 5000);
        if (fd < 0) {
            f->failed = true;
            return;
        }
        read_request(f, fd);
        if (round == 0) send_raw(f, fd, garbage, sizeof garbage);
        else if (round == 1) send_raw(f, fd, oversized, sizeof oversized);
        else {
            send_response(f, fd, 0, SS_CODE_RESOURCE_EXHAUSTED, "frame length 9999999 exceeds the limit");
            close(fd);
            continue;
        }
        read_request(f, fd); /* EOF: the client dropped the connection */
        close(fd);
    }
}

static void test_protocol_errors(void) {
    fake f;
    if (!fake_start(&f, "bad", script_bad_frames)) return;
    ss_client *c = ss_client_new(f.path, 5000);
    ss_health_result *h = NULL;
    CHECK(ss_health(c, &h) == SS_ERR_PROTOCOL);
    CHECK(contains(ss_client_errmsg(c), "decodable"));
    CHECK(!ss_client_connected(c));
    CHECK(ss_health(c, &h) == SS_ERR_PROTOCOL);
    CHECK(contains(ss_client_errmsg(c), "exceeds"));
    CHECK(h == NULL);
    /* What the sidecar does with a frame over its limit: an id-0 status, then it closes. */
    CHECK(ss_health(c, &h) == SS_ERR_STATUS);
    CHECK(ss_client_wire_code(c) == SS_CODE_RESOURCE_EXHAUSTED);
    CHECK(contains(ss_client_errmsg(c), "exceeds the limit"));
    ss_client_free(c);
    fake_stop(&f);
    CHECK(f.connections == 3);
}

/* The connection dies while a call is in flight. */
static void script_drop_then_answer(fake *f) {
    /* 1: a read-only call loses its connection: the client reconnects once and sends it again. */
    int fd = accept_within(f, 5000);
    if (fd < 0) {
        f->failed = true;
        return;
    }
    read_request(f, fd);
    close(fd);
    fd = accept_within(f, 5000);
    if (fd < 0) {
        f->failed = true;
        return;
    }
    uint64_t id = read_request(f, fd);
    send_response(f, fd, id, 0, "after-reconnect");
    /* 2: a mutation loses its connection: it fails, and is not sent again. */
    read_request(f, fd);
    close(fd);
    fd = accept_within(f, 5000); /* the next call's reconnection */
    if (fd < 0) {
        f->failed = true;
        return;
    }
    id = read_request(f, fd);
    send_response(f, fd, id, 0, "third");
    read_request(f, fd);
    close(fd);
}

static void test_connection_lost_mid_call(void) {
    fake f;
    if (!fake_start(&f, "drop", script_drop_then_answer)) return;
    ss_client *c = ss_client_new(f.path, 5000);
    ss_health_result *h = NULL;
    if (OK(c, ss_health(c, &h))) CHECK(strcmp(h->version, "after-reconnect") == 0);
    ss_health_result_free(h);
    h = NULL;
    CHECK(ss_client_reconnects(c) == 1);
    CHECK(ss_update_session_data(c, "handle", "{}") == SS_ERR_CONNECTION);
    CHECK(contains(ss_client_errmsg(c), "closed"));
    CHECK(ss_client_reconnects(c) == 1);
    if (OK(c, ss_health(c, &h))) CHECK(strcmp(h->version, "third") == 0);
    CHECK(ss_client_reconnects(c) == 2);
    ss_health_result_free(h);
    ss_client_free(c);
    fake_stop(&f);
    CHECK(f.requests_seen == 4);
}

/* ------------------------------------------------------------------------------------------------------- */

int main(void) {
    snprintf(user_prefix, sizeof user_prefix, "c-client-%ld", (long)getpid());
    printf("libsessionsidecar tests\n");

    printf("wire behaviour (fake sidecar):\n");
    run("timeout, then a late response is discarded", test_timeout);
    run("out-of-order responses, connection-level error, status error", test_out_of_order_and_connection_error);
    run("undecodable and oversized frames, id-0 error then close", test_protocol_errors);
    run("connection lost mid-call: read-only resent, mutation not", test_connection_lost_mid_call);

    const char *socket_path = getenv(SS_SOCKET_ENV);
    if (!socket_path || !*socket_path) {
        printf("FAILED: " SS_SOCKET_ENV " is not set: start a sidecar with scripts/test-sidecar.sh and eval its env\n");
        return 1;
    }
    printf("live sidecar at %s:\n", socket_path);
    run("connection errors and the socket path", test_connection_errors);
    run("create -> verify -> refresh -> revoke -> refused", test_create_verify_refresh_revoke);
    run("refresh grace period and theft detection", test_refresh_grace_and_theft);
    run("anti-CSRF and verify outcomes", test_anti_csrf_and_outcomes);
    run("list, get, update data, update payload, regenerate, revoke by user", test_management_calls);
    run("signing keys, watch, health", test_keys_watch_health);
    run("bad calls", test_bad_calls);
    run("1000 pipelined requests on one connection", test_pipelining_1000);
    run("sidecar restart: clients reconnect", test_restart);

    printf("%d passed, %d failed, %d skipped\n", n_passed, n_failed, n_skipped);
    return n_failed == 0 ? 0 : 1;
}
