/*
 * sessionsidecar.h — C client for the SessionSidecar.
 *
 * One `ss_client` is one Unix-socket connection to the sidecar speaking the wire contract
 * proto/sessionsidecar/v1/sidecar.proto (4-byte big-endian length + one protobuf message per frame).
 *
 * CALLS. Every call of the contract has a blocking function (`ss_create_session`, `ss_verify_session`, ...)
 * and, for pipelining, a pair `ss_send_<call>` (returns the request id) / `ss_recv_<call>` (waits for that id).
 * Many requests may be in flight on one connection; responses arriving for other ids are kept until asked for.
 *
 * RESULTS AND ERRORS. A function returns SS_OK or an `ss_err`. Session outcomes (TRY_REFRESH_TOKEN,
 * UNAUTHORISED, TOKEN_THEFT_DETECTED) are *values* in a result returned with SS_OK, never errors. On an error the
 * client keeps the code, the wire (gRPC) code for SS_ERR_STATUS and a message: `ss_client_errmsg()`,
 * `ss_client_wire_code()`, `ss_client_error()`. Messages never contain a token.
 *
 * OWNERSHIP. A result (`ss_*_result`, `ss_string_list`, `ss_session_info`, `ss_key_set`) is allocated by the
 * library and owned by the caller, who frees it with its `*_free` function (NULL is accepted). Every string in a
 * result belongs to the result, stays valid until it is freed, is NUL-terminated and is never NULL (an absent
 * string is ""); an array is NULL exactly when its count is 0. On an error `*out` is set to NULL. Strings passed *to* the library are only read during the
 * call; NULL means "" where the argument is optional.
 *
 * THREADS. A client is not thread-safe: use one client per thread (they are independent), or serialise every
 * call on a client with your own mutex. The library has no global state.
 *
 * RECONNECTING. A call made after the connection dropped (for example the sidecar restarted) reconnects once
 * before failing. A request that may have reached the sidecar is resent only when it is read-only (verify, list,
 * get, signing keys, health); requests in flight when a connection dies fail with SS_ERR_CONNECTION.
 */
#ifndef SESSIONSIDECAR_H
#define SESSIONSIDECAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && defined(SESSIONSIDECAR_BUILDING)
#define SS_API __attribute__((visibility("default")))
#else
#define SS_API
#endif

#define SESSIONSIDECAR_VERSION "0.1.0"

/* Environment variable naming the socket when `ss_client_new` is given NULL. */
#define SS_SOCKET_ENV "SESSION_SIDECAR_SOCKET"
/* Per-call timeout used when `ss_client_new` is given 0. */
#define SS_DEFAULT_TIMEOUT_MS 10000
/* A timeout value meaning "wait forever". */
#define SS_NO_TIMEOUT (-1)
/* The sidecar's frame limit (sidecar.maxFrameBytes default): larger requests are refused before sending. */
#define SS_MAX_REQUEST_BYTES (4u * 1024u * 1024u)
/* Largest response frame the client accepts. */
#define SS_MAX_RESPONSE_BYTES (16u * 1024u * 1024u)

/* ------------------------------------------------------------------------------------------------------- */
/* Errors                                                                                                   */

typedef enum ss_err {
    SS_OK = 0,
    SS_ERR_CONNECTION = 1,       /* could not connect, or the connection broke before the response came */
    SS_ERR_TIMEOUT = 2,          /* the call's timeout passed (the sidecar may still carry the request out) */
    SS_ERR_STATUS = 3,           /* the sidecar answered with a non-OK status: see ss_client_wire_code() */
    SS_ERR_PROTOCOL = 4,         /* the sidecar broke the wire contract (bad frame, wrong result) */
    SS_ERR_NOMEM = 5,            /* out of memory */
    SS_ERR_INVALID_ARGUMENT = 6  /* refused by the library before sending (NULL, invalid UTF-8, too large...) */
} ss_err;

/* gRPC status codes as carried by `Response.status.code` (sessionsidecar.v1.Code). */
typedef enum ss_wire_code {
    SS_CODE_OK = 0,
    SS_CODE_INVALID_ARGUMENT = 3,
    SS_CODE_DEADLINE_EXCEEDED = 4,
    SS_CODE_NOT_FOUND = 5,
    SS_CODE_PERMISSION_DENIED = 7,
    SS_CODE_RESOURCE_EXHAUSTED = 8,
    SS_CODE_FAILED_PRECONDITION = 9,
    SS_CODE_UNIMPLEMENTED = 12,
    SS_CODE_INTERNAL = 13,
    SS_CODE_UNAVAILABLE = 14,
    SS_CODE_UNAUTHENTICATED = 16
} ss_wire_code;

/* The last error of a client. `message` belongs to the client and is valid until its next call. */
typedef struct ss_error {
    ss_err code;
    int wire_code;        /* the sidecar's status code for SS_ERR_STATUS, else 0 */
    uint64_t request_id;  /* the request concerned (0: none, or a connection-level error from the sidecar) */
    const char *message;  /* never NULL; "" after success */
} ss_error;

SS_API const char *ss_err_name(ss_err code);       /* "SS_ERR_TIMEOUT", ... */
SS_API const char *ss_wire_code_name(int wire_code); /* "INVALID_ARGUMENT", ... or "UNKNOWN" */

/* ------------------------------------------------------------------------------------------------------- */
/* The client                                                                                               */

typedef struct ss_client ss_client;

/*
 * Create a client. `socket_path` NULL (or "") means $SESSION_SIDECAR_SOCKET. `timeout_ms` bounds every call (connect,
 * send and wait): > 0 milliseconds, 0 = SS_DEFAULT_TIMEOUT_MS, SS_NO_TIMEOUT = wait forever. Nothing is
 * connected yet (the first call connects; or call ss_client_connect). Returns NULL only when out of memory. A
 * missing or too long path is reported by the first call as SS_ERR_INVALID_ARGUMENT.
 */
SS_API ss_client *ss_client_new(const char *socket_path, int timeout_ms);
/* Close the connection and free the client and everything still buffered in it. NULL is accepted. */
SS_API void ss_client_free(ss_client *client);
/* Connect now (a no-op when connected). */
SS_API ss_err ss_client_connect(ss_client *client);
/* Close the connection; in-flight requests fail with SS_ERR_CONNECTION, the next call reconnects. */
SS_API void ss_client_disconnect(ss_client *client);
/* Change the per-call timeout (same convention as ss_client_new). */
SS_API void ss_client_set_timeout(ss_client *client, int timeout_ms);
SS_API int ss_client_timeout(const ss_client *client);
SS_API const char *ss_client_socket_path(const ss_client *client); /* "" when none */
SS_API bool ss_client_connected(const ss_client *client);
/* How many times the client connected again after its first connection. */
SS_API unsigned long ss_client_reconnects(const ss_client *client);

/* The last error (SS_OK and "" after a successful call). */
SS_API ss_err ss_client_errcode(const ss_client *client);
SS_API int ss_client_wire_code(const ss_client *client);
SS_API const char *ss_client_errmsg(const ss_client *client);
SS_API void ss_client_error(const ss_client *client, ss_error *out);

/* ------------------------------------------------------------------------------------------------------- */
/* Results                                                                                                  */

typedef struct ss_session {
    const char *handle;
    const char *user_id;
    const char *access_token_payload_json; /* the token's whole payload, a JSON object */
    int64_t expires_at_ms;                 /* when the access token expires */
} ss_session;

typedef struct ss_token {
    const char *token;
    int64_t expires_at_ms;
} ss_token;

typedef struct ss_cookie {
    const char *name;
    const char *value;
    const char *path;
    const char *domain;
    int64_t expires_at_ms;
    bool http_only;
    bool secure;
    const char *same_site;
    const char *set_cookie_header; /* the complete value of a Set-Cookie header */
} ss_cookie;

typedef struct ss_create_result {
    ss_session session;
    ss_token access_token;
    ss_token refresh_token;
    const char *anti_csrf_token; /* "" unless enable_anti_csrf */
    const ss_cookie *cookies;
    size_t n_cookies;
} ss_create_result;

typedef enum ss_verify_outcome {
    SS_VERIFY_UNSPECIFIED = 0, /* never sent by the sidecar; never a valid session */
    SS_VERIFY_OK = 1,
    SS_VERIFY_TRY_REFRESH_TOKEN = 2,
    SS_VERIFY_UNAUTHORISED = 3
} ss_verify_outcome;

typedef struct ss_verify_result {
    ss_verify_outcome outcome;
    const char *reason; /* why not OK (e.g. "access token expired"); "" when OK */
    bool has_session;
    ss_session session; /* all "" / 0 when !has_session */
} ss_verify_result;

typedef enum ss_refresh_outcome {
    SS_REFRESH_UNSPECIFIED = 0,
    SS_REFRESH_OK = 1,
    SS_REFRESH_UNAUTHORISED = 2,
    SS_REFRESH_TOKEN_THEFT_DETECTED = 3
} ss_refresh_outcome;

typedef struct ss_refresh_result {
    ss_refresh_outcome outcome;
    const char *reason;
    bool has_session;           /* OK: the refreshed session; THEFT: the revoked session's handle and user */
    ss_session session;
    bool has_access_token;
    ss_token access_token;
    bool has_refresh_token;     /* false inside the rotation grace period: keep the current refresh token */
    ss_token refresh_token;
    const char *anti_csrf_token;
    const ss_cookie *cookies;
    size_t n_cookies;
} ss_refresh_result;

/* Session handles (RevokeSessions, ListSessions). */
typedef struct ss_string_list {
    const char *const *items;
    size_t count;
} ss_string_list;

/* GetSession. */
typedef struct ss_session_info {
    const char *session_handle;
    const char *user_id;
    const char *session_data_json;
    const char *access_token_payload_json; /* the app's own claims only */
    int64_t created_at_ms;
    int64_t expires_at_ms;                 /* when the session (its refresh token) expires */
} ss_session_info;

typedef struct ss_regenerate_result {
    bool has_session;
    ss_session session;
    bool has_access_token; /* false when the given token had expired: only the stored payload changed */
    ss_token access_token;
    const ss_cookie *cookies;
    size_t n_cookies;
} ss_regenerate_result;

typedef enum ss_key_kind {
    SS_KEY_UNSPECIFIED = 0,
    SS_KEY_DYNAMIC = 1,
    SS_KEY_STATIC = 2
} ss_key_kind;

typedef struct ss_signing_key {
    const char *kid;
    const char *alg;
    ss_key_kind kind;
    const char *public_key_pem;
    int64_t created_at_ms;
    int64_t expires_at_ms;
} ss_signing_key;

typedef struct ss_key_set {
    const char *jwks_json; /* an RFC 7517 JWK Set */
    const ss_signing_key *keys;
    size_t n_keys;
    int64_t cache_max_age_s;
} ss_key_set;

typedef struct ss_health_result {
    bool serving;
    const char *version;
    bool database_reachable;
} ss_health_result;

SS_API void ss_create_result_free(ss_create_result *result);
SS_API void ss_verify_result_free(ss_verify_result *result);
SS_API void ss_refresh_result_free(ss_refresh_result *result);
SS_API void ss_string_list_free(ss_string_list *list);
SS_API void ss_session_info_free(ss_session_info *info);
SS_API void ss_regenerate_result_free(ss_regenerate_result *result);
SS_API void ss_key_set_free(ss_key_set *keys);
SS_API void ss_health_result_free(ss_health_result *health);

SS_API const char *ss_verify_outcome_name(ss_verify_outcome outcome);
SS_API const char *ss_refresh_outcome_name(ss_refresh_outcome outcome);

/* ------------------------------------------------------------------------------------------------------- */
/* Options                                                                                                  */

typedef struct ss_create_options {
    const char *access_token_payload_json; /* a JSON object; its members become claims. NULL/"" = {} */
    const char *session_data_json;         /* a JSON object kept server-side. NULL/"" = {} */
    bool enable_anti_csrf;
    bool use_static_key;
} ss_create_options;

typedef struct ss_verify_options {
    const char *anti_csrf_token; /* NULL = "" */
    bool do_anti_csrf_check;
    bool check_database; /* ask MySQL whether the session still exists (strict revocation) */
} ss_verify_options;

/* ------------------------------------------------------------------------------------------------------- */
/* Blocking calls: each sends one request and waits (within the client's timeout) for its response.        */
/* `options` may be NULL (all defaults). `out` receives a result to free; where noted it may be NULL.      */

SS_API ss_err ss_create_session(ss_client *client, const char *user_id, const ss_create_options *options,
                                ss_create_result **out);
SS_API ss_err ss_verify_session(ss_client *client, const char *access_token, const ss_verify_options *options,
                                ss_verify_result **out);
SS_API ss_err ss_refresh_session(ss_client *client, const char *refresh_token, const char *anti_csrf_token,
                                 ss_refresh_result **out);
/* Revoke the given sessions; `revoked` (may be NULL) receives the handles actually revoked. */
SS_API ss_err ss_revoke_sessions(ss_client *client, const char *const *handles, size_t n_handles,
                                 ss_string_list **revoked);
/* Revoke every session of a user; `revoked` may be NULL. */
SS_API ss_err ss_revoke_user_sessions(ss_client *client, const char *user_id, ss_string_list **revoked);
SS_API ss_err ss_list_sessions(ss_client *client, const char *user_id, ss_string_list **out);
SS_API ss_err ss_get_session(ss_client *client, const char *session_handle, ss_session_info **out);
SS_API ss_err ss_update_session_data(ss_client *client, const char *session_handle, const char *session_data_json);
SS_API ss_err ss_update_access_token_payload(ss_client *client, const char *session_handle,
                                             const char *access_token_payload_json);
SS_API ss_err ss_regenerate_access_token(ss_client *client, const char *access_token,
                                         const char *access_token_payload_json, ss_regenerate_result **out);
SS_API ss_err ss_get_signing_keys(ss_client *client, ss_key_set **out);
SS_API ss_err ss_health(ss_client *client, ss_health_result **out);

/*
 * WatchSigningKeys: `ss_watch_signing_keys` opens the stream and gives its id; `ss_watch_next` returns the next
 * key set (the current set first, then one each time it changes). `timeout_ms` >= 0 bounds this wait (0 = do
 * not block), SS_NO_TIMEOUT waits forever; SS_ERR_TIMEOUT leaves the stream open. The stream lasts as long as
 * the connection: after SS_ERR_CONNECTION open it again. `ss_abandon(client, id)` stops reading it (the sidecar
 * keeps it until the connection closes; at most 8 per connection), so a dedicated client is best.
 */
SS_API ss_err ss_watch_signing_keys(ss_client *client, uint64_t *watch_id);
SS_API ss_err ss_watch_next(ss_client *client, uint64_t watch_id, int timeout_ms, ss_key_set **out);

/* ------------------------------------------------------------------------------------------------------- */
/* Pipelining: send now, receive later. Ids start at 1 and only increase, across reconnections.            */
/* Every id sent must be received with the ss_recv_* function of the same call, or abandoned.               */

SS_API ss_err ss_send_create_session(ss_client *client, const char *user_id, const ss_create_options *options,
                                     uint64_t *id);
SS_API ss_err ss_send_verify_session(ss_client *client, const char *access_token,
                                     const ss_verify_options *options, uint64_t *id);
SS_API ss_err ss_send_refresh_session(ss_client *client, const char *refresh_token, const char *anti_csrf_token,
                                      uint64_t *id);
SS_API ss_err ss_send_revoke_sessions(ss_client *client, const char *const *handles, size_t n_handles,
                                      uint64_t *id);
SS_API ss_err ss_send_revoke_user_sessions(ss_client *client, const char *user_id, uint64_t *id);
SS_API ss_err ss_send_list_sessions(ss_client *client, const char *user_id, uint64_t *id);
SS_API ss_err ss_send_get_session(ss_client *client, const char *session_handle, uint64_t *id);
SS_API ss_err ss_send_update_session_data(ss_client *client, const char *session_handle,
                                          const char *session_data_json, uint64_t *id);
SS_API ss_err ss_send_update_access_token_payload(ss_client *client, const char *session_handle,
                                                  const char *access_token_payload_json, uint64_t *id);
SS_API ss_err ss_send_regenerate_access_token(ss_client *client, const char *access_token,
                                              const char *access_token_payload_json, uint64_t *id);
SS_API ss_err ss_send_get_signing_keys(ss_client *client, uint64_t *id);
SS_API ss_err ss_send_health(ss_client *client, uint64_t *id);

/*
 * Wait until the response for `id` has arrived (responses for other ids are kept meanwhile). `timeout_ms` >= 0
 * bounds the wait (0 = only check), SS_NO_TIMEOUT waits forever. SS_OK means the matching ss_recv_* will not
 * block. A timeout loses nothing.
 */
SS_API ss_err ss_wait(ss_client *client, uint64_t id, int timeout_ms);
/* Forget a request: its response is discarded when it arrives. Unknown ids are ignored. */
SS_API void ss_abandon(ss_client *client, uint64_t id);
/* Number of requests sent and not yet received or abandoned. */
SS_API size_t ss_pending(const ss_client *client);

/*
 * Receive the response to `id` (waiting at most the client's timeout). Any outcome other than SS_ERR_TIMEOUT
 * consumes the id; after SS_ERR_TIMEOUT it can be received again later.
 */
SS_API ss_err ss_recv_create_session(ss_client *client, uint64_t id, ss_create_result **out);
SS_API ss_err ss_recv_verify_session(ss_client *client, uint64_t id, ss_verify_result **out);
SS_API ss_err ss_recv_refresh_session(ss_client *client, uint64_t id, ss_refresh_result **out);
SS_API ss_err ss_recv_revoke_sessions(ss_client *client, uint64_t id, ss_string_list **revoked); /* both revokes; may be NULL */
SS_API ss_err ss_recv_list_sessions(ss_client *client, uint64_t id, ss_string_list **out);
SS_API ss_err ss_recv_get_session(ss_client *client, uint64_t id, ss_session_info **out);
SS_API ss_err ss_recv_update_session_data(ss_client *client, uint64_t id);
SS_API ss_err ss_recv_update_access_token_payload(ss_client *client, uint64_t id);
SS_API ss_err ss_recv_regenerate_access_token(ss_client *client, uint64_t id, ss_regenerate_result **out);
SS_API ss_err ss_recv_get_signing_keys(ss_client *client, uint64_t id, ss_key_set **out);
SS_API ss_err ss_recv_health(ss_client *client, uint64_t id, ss_health_result **out);

#ifdef __cplusplus
}
#endif

#endif /* SESSIONSIDECAR_H */
