/*
 * libsessionsidecar: the SessionSidecar wire protocol over a Unix socket, on libprotobuf-c.
 *
 * Layout: the connection (connect, probe, drop), framing (write with concurrent reads, read and dispatch), the
 * table of requests in flight (sorted by id, since ids only increase), the call machinery (send / wait / take),
 * conversion of protobuf-c responses into the public result structs, and the public functions.
 *
 * Results keep the unpacked protobuf-c `Response` alive and point into it; a "box" holds the public struct as
 * its first member, then the response and at most one array, so one free function releases everything.
 */
#define _POSIX_C_SOURCE 200809L
#define SESSIONSIDECAR_BUILDING 1

#include "sessionsidecar.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sessionsidecar/v1/sidecar.pb-c.h"

typedef Sessionsidecar__V1__Request PbRequest;
typedef Sessionsidecar__V1__Response PbResponse;

/* The result case of each call equals its request case (same field numbers). */
enum {
    CALL_CREATE = SESSIONSIDECAR__V1__REQUEST__CALL_CREATE_SESSION,
    CALL_VERIFY = SESSIONSIDECAR__V1__REQUEST__CALL_VERIFY_SESSION,
    CALL_REFRESH = SESSIONSIDECAR__V1__REQUEST__CALL_REFRESH_SESSION,
    CALL_REVOKE = SESSIONSIDECAR__V1__REQUEST__CALL_REVOKE_SESSIONS,
    CALL_LIST = SESSIONSIDECAR__V1__REQUEST__CALL_LIST_SESSIONS,
    CALL_GET = SESSIONSIDECAR__V1__REQUEST__CALL_GET_SESSION,
    CALL_UPDATE_DATA = SESSIONSIDECAR__V1__REQUEST__CALL_UPDATE_SESSION_DATA,
    CALL_UPDATE_PAYLOAD = SESSIONSIDECAR__V1__REQUEST__CALL_UPDATE_ACCESS_TOKEN_PAYLOAD,
    CALL_REGENERATE = SESSIONSIDECAR__V1__REQUEST__CALL_REGENERATE_ACCESS_TOKEN,
    CALL_KEYS = SESSIONSIDECAR__V1__REQUEST__CALL_GET_SIGNING_KEYS,
    CALL_WATCH = SESSIONSIDECAR__V1__REQUEST__CALL_WATCH_SIGNING_KEYS,
    CALL_HEALTH = SESSIONSIDECAR__V1__REQUEST__CALL_HEALTH
};

static const char *call_name(int call) {
    switch (call) {
    case CALL_CREATE: return "CreateSession";
    case CALL_VERIFY: return "VerifySession";
    case CALL_REFRESH: return "RefreshSession";
    case CALL_REVOKE: return "RevokeSessions";
    case CALL_LIST: return "ListSessions";
    case CALL_GET: return "GetSession";
    case CALL_UPDATE_DATA: return "UpdateSessionData";
    case CALL_UPDATE_PAYLOAD: return "UpdateAccessTokenPayload";
    case CALL_REGENERATE: return "RegenerateAccessToken";
    case CALL_KEYS: return "GetSigningKeys";
    case CALL_WATCH: return "WatchSigningKeys";
    case CALL_HEALTH: return "Health";
    case 0: return "no result";
    default: return "an unknown result";
    }
}

/* Calls that change nothing: resent once when the connection dies while they are in flight. */
static bool call_is_read_only(int call) {
    return call == CALL_VERIFY || call == CALL_LIST || call == CALL_GET || call == CALL_KEYS ||
           call == CALL_HEALTH;
}

/* ------------------------------------------------------------------------------------------------------- */
/* The client                                                                                               */

typedef struct rnode {
    PbResponse *resp;
    struct rnode *next;
} rnode;

typedef struct entry {
    uint64_t id;
    int call;          /* the request's call case = the expected result case */
    ss_err lost;       /* SS_OK, or why the connection carrying it died before its response */
    bool stream;       /* WatchSigningKeys: many responses on one id */
    bool abandoned;    /* discard responses when they arrive */
    rnode *head, *tail;
} entry;

#define READ_CHUNK 65536u
#define MSG_CAP 512

struct ss_client {
    char *path;                 /* NULL when none was given nor found in the environment */
    bool path_too_long;
    int fd;                     /* -1 when not connected */
    int timeout_ms;             /* > 0, or SS_NO_TIMEOUT */
    bool ever_connected;
    unsigned long reconnects;
    uint64_t next_id;

    entry *entries;             /* sorted by id */
    size_t n_entries, cap_entries;

    unsigned char *rbuf;
    size_t rstart, rend, rcap;
    unsigned char *wbuf;
    size_t wcap;

    bool conn_err_pending;      /* a Response with id 0 arrived and nobody has been told yet */
    int conn_err_code;
    char conn_err_msg[MSG_CAP];
    char drop_msg[MSG_CAP];     /* why the last connection died */

    ss_err err;
    int wire_code;
    uint64_t err_id;
    char msg[MSG_CAP];
};

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

static ss_err set_err(ss_client *c, ss_err code, int wire, uint64_t id, const char *fmt, ...) PRINTF_LIKE(5, 6);

static ss_err set_err(ss_client *c, ss_err code, int wire, uint64_t id, const char *fmt, ...) {
    va_list ap;
    c->err = code;
    c->wire_code = wire;
    c->err_id = id;
    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof c->msg, fmt, ap);
    va_end(ap);
    return code;
}

static ss_err ok(ss_client *c) {
    c->err = SS_OK;
    c->wire_code = 0;
    c->err_id = 0;
    c->msg[0] = '\0';
    return SS_OK;
}

static int normalise_timeout(int timeout_ms) {
    if (timeout_ms == 0) return SS_DEFAULT_TIMEOUT_MS;
    if (timeout_ms < 0) return SS_NO_TIMEOUT;
    return timeout_ms;
}

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A deadline is an absolute monotonic time in ms, or -1 for none. */
static int64_t deadline_in(int timeout_ms) {
    return timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
}

static int remaining_ms(int64_t deadline) {
    if (deadline < 0) return -1;
    int64_t left = deadline - now_ms();
    if (left <= 0) return 0;
    return left > INT_MAX ? INT_MAX : (int)left;
}

ss_client *ss_client_new(const char *socket_path, int timeout_ms) {
    ss_client *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->fd = -1;
    c->next_id = 1;
    c->timeout_ms = normalise_timeout(timeout_ms);
    if (!socket_path || !*socket_path) socket_path = getenv(SS_SOCKET_ENV);
    if (socket_path && *socket_path) {
        size_t n = strlen(socket_path);
        c->path = malloc(n + 1);
        if (!c->path) {
            free(c);
            return NULL;
        }
        memcpy(c->path, socket_path, n + 1);
        c->path_too_long = n >= sizeof(((struct sockaddr_un *)0)->sun_path);
    }
    return c;
}

static void free_queue(entry *e) {
    rnode *n = e->head;
    while (n) {
        rnode *next = n->next;
        sessionsidecar__v1__response__free_unpacked(n->resp, NULL);
        free(n);
        n = next;
    }
    e->head = e->tail = NULL;
}

void ss_client_free(ss_client *c) {
    if (!c) return;
    if (c->fd >= 0) close(c->fd);
    for (size_t i = 0; i < c->n_entries; i++) free_queue(&c->entries[i]);
    free(c->entries);
    free(c->rbuf);
    free(c->wbuf);
    free(c->path);
    free(c);
}

/* ------------------------------------------------------------------------------------------------------- */
/* The table of requests in flight                                                                          */

static entry *find_entry(ss_client *c, uint64_t id) {
    size_t lo = 0, hi = c->n_entries;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->entries[mid].id < id) lo = mid + 1;
        else hi = mid;
    }
    return lo < c->n_entries && c->entries[lo].id == id ? &c->entries[lo] : NULL;
}

static bool add_entry(ss_client *c, uint64_t id, int call, bool stream) {
    if (c->n_entries == c->cap_entries) {
        size_t cap = c->cap_entries ? c->cap_entries * 2 : 64;
        entry *grown = realloc(c->entries, cap * sizeof *grown);
        if (!grown) return false;
        c->entries = grown;
        c->cap_entries = cap;
    }
    /* Ids only increase, so appending keeps the table sorted. */
    entry *e = &c->entries[c->n_entries++];
    memset(e, 0, sizeof *e);
    e->id = id;
    e->call = call;
    e->stream = stream;
    return true;
}

static void remove_entry(ss_client *c, entry *e) {
    free_queue(e);
    size_t index = (size_t)(e - c->entries);
    memmove(e, e + 1, (c->n_entries - index - 1) * sizeof *e);
    c->n_entries--;
}

/* ------------------------------------------------------------------------------------------------------- */
/* Connection                                                                                               */

/* Close the connection; requests waiting on it are marked lost with `why`. */
static void drop_connection(ss_client *c, ss_err why, const char *fmt, ...) PRINTF_LIKE(3, 4);

static void drop_connection(ss_client *c, ss_err why, const char *fmt, ...) {
    char why_text[MSG_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why_text, sizeof why_text, fmt, ap);
    va_end(ap);
    if (c->conn_err_pending) /* the sidecar said why before closing (e.g. a frame over its limit) */
        snprintf(c->drop_msg, sizeof c->drop_msg, "%.200s (the sidecar reported %s: %.200s)", why_text,
                 ss_wire_code_name(c->conn_err_code), c->conn_err_msg);
    else
        snprintf(c->drop_msg, sizeof c->drop_msg, "%s", why_text);
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
    c->rstart = c->rend = 0;
    c->conn_err_pending = false;
    size_t i = 0;
    while (i < c->n_entries) {
        entry *e = &c->entries[i];
        if (e->abandoned) {
            remove_entry(c, e);
            continue;
        }
        if (e->lost == SS_OK) e->lost = why;
        i++;
    }
}

static ss_err do_connect(ss_client *c, int64_t deadline) {
    if (!c->path)
        return set_err(c, SS_ERR_INVALID_ARGUMENT, 0, 0,
                       "no socket path: pass one to ss_client_new or set " SS_SOCKET_ENV);
    if (c->path_too_long)
        return set_err(c, SS_ERR_INVALID_ARGUMENT, 0, 0, "socket path is longer than a Unix socket address allows");

    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path, c->path, strlen(c->path) + 1);

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return set_err(c, SS_ERR_CONNECTION, 0, 0, "socket(): %s", strerror(errno));

    for (;;) {
        if (connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0) break;
        int e = errno;
        if (e == EINTR) continue;
        if (e == EAGAIN) {
            /* The listen backlog is full: try again shortly, within the deadline. */
            int left = remaining_ms(deadline);
            if (left == 0) {
                close(fd);
                return set_err(c, SS_ERR_TIMEOUT, 0, 0, "timed out connecting to %s (backlog full)", c->path);
            }
            poll(NULL, 0, left < 0 || left > 5 ? 5 : left);
            continue;
        }
        if (e == EINPROGRESS) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            int r;
            do r = poll(&p, 1, remaining_ms(deadline));
            while (r < 0 && errno == EINTR);
            if (r == 0) {
                close(fd);
                return set_err(c, SS_ERR_TIMEOUT, 0, 0, "timed out connecting to %s", c->path);
            }
            int soerr = 0;
            socklen_t len = sizeof soerr;
            if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0) soerr = errno;
            if (soerr == 0) break;
            e = soerr;
        }
        close(fd);
        return set_err(c, SS_ERR_CONNECTION, 0, 0, "cannot connect to %s: %s", c->path, strerror(e));
    }
    c->fd = fd;
    c->rstart = c->rend = 0;
    if (c->ever_connected) c->reconnects++;
    c->ever_connected = true;
    return SS_OK;
}

/* ------------------------------------------------------------------------------------------------------- */
/* Reading and dispatching responses                                                                        */

static void dispatch(ss_client *c, PbResponse *resp) {
    if (resp->id == 0) {
        /* A connection-level error: told to whoever waits next. */
        c->conn_err_pending = true;
        c->conn_err_code = resp->status ? (int)resp->status->code : (int)SS_CODE_INTERNAL;
        snprintf(c->conn_err_msg, sizeof c->conn_err_msg, "%s",
                 resp->status && resp->status->message && *resp->status->message ? resp->status->message
                                                                                   : "(no message)");
        sessionsidecar__v1__response__free_unpacked(resp, NULL);
        return;
    }
    entry *e = find_entry(c, resp->id);
    if (!e || e->abandoned || e->lost != SS_OK) {
        if (e && e->abandoned && !e->stream) remove_entry(c, e);
        sessionsidecar__v1__response__free_unpacked(resp, NULL);
        return;
    }
    rnode *n = malloc(sizeof *n);
    if (!n) {
        sessionsidecar__v1__response__free_unpacked(resp, NULL);
        e->lost = SS_ERR_NOMEM;
        return;
    }
    n->resp = resp;
    n->next = NULL;
    if (e->tail) e->tail->next = n;
    else e->head = n;
    e->tail = n;
}

static bool ensure_rbuf(ss_client *c, size_t need) {
    /* Make room for `need` bytes from rstart on. */
    if (c->rstart > 0 && c->rcap - c->rstart < need) {
        memmove(c->rbuf, c->rbuf + c->rstart, c->rend - c->rstart);
        c->rend -= c->rstart;
        c->rstart = 0;
    }
    if (c->rcap - c->rstart >= need) return true;
    size_t cap = c->rcap ? c->rcap : READ_CHUNK;
    while (cap - c->rstart < need) cap *= 2;
    unsigned char *grown = realloc(c->rbuf, cap);
    if (!grown) return false;
    c->rbuf = grown;
    c->rcap = cap;
    return true;
}

static ss_err process_frames(ss_client *c) {
    while (c->rend - c->rstart >= 4) {
        const unsigned char *h = c->rbuf + c->rstart;
        uint32_t len = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | (uint32_t)h[3];
        if (len > SS_MAX_RESPONSE_BYTES) {
            drop_connection(c, SS_ERR_PROTOCOL, "response frame of %lu bytes exceeds the client's limit of %lu",
                            (unsigned long)len, (unsigned long)SS_MAX_RESPONSE_BYTES);
            return SS_ERR_PROTOCOL;
        }
        if (c->rend - c->rstart < 4 + (size_t)len) {
            if (!ensure_rbuf(c, 4 + (size_t)len)) {
                drop_connection(c, SS_ERR_NOMEM, "out of memory buffering a response");
                return SS_ERR_NOMEM;
            }
            break;
        }
        PbResponse *resp = sessionsidecar__v1__response__unpack(NULL, len, c->rbuf + c->rstart + 4);
        c->rstart += 4 + (size_t)len;
        if (!resp) {
            drop_connection(c, SS_ERR_PROTOCOL, "received a frame that is not a decodable Response");
            return SS_ERR_PROTOCOL;
        }
        dispatch(c, resp);
    }
    if (c->rstart == c->rend) c->rstart = c->rend = 0;
    return SS_OK;
}

/* One recv() of what is available, then dispatch every complete frame. Errors drop the connection. */
static ss_err read_available(ss_client *c) {
    if (!ensure_rbuf(c, (c->rend - c->rstart) + READ_CHUNK / 4)) {
        drop_connection(c, SS_ERR_NOMEM, "out of memory buffering a response");
        return SS_ERR_NOMEM;
    }
    ssize_t n;
    do n = recv(c->fd, c->rbuf + c->rend, c->rcap - c->rend, 0);
    while (n < 0 && errno == EINTR);
    if (n > 0) {
        c->rend += (size_t)n;
        return process_frames(c);
    }
    if (n == 0) {
        drop_connection(c, SS_ERR_CONNECTION, "the sidecar closed the connection");
        return SS_ERR_CONNECTION;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) return SS_OK;
    drop_connection(c, SS_ERR_CONNECTION, "read from the sidecar failed: %s", strerror(errno));
    return SS_ERR_CONNECTION;
}

/* Read everything already waiting, without blocking; notices a connection the sidecar closed. */
static void drain_ready(ss_client *c) {
    while (c->fd >= 0) {
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        int r = poll(&p, 1, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return;
        if (read_available(c) != SS_OK) return;
    }
}

static ss_err ensure_connected(ss_client *c, int64_t deadline) {
    if (c->fd >= 0) drain_ready(c);
    if (c->fd >= 0) return SS_OK;
    return do_connect(c, deadline);
}

/* ------------------------------------------------------------------------------------------------------- */
/* Writing                                                                                                  */

/*
 * Write c->wbuf[0..len) entirely. While the socket is full, responses are read (the sidecar stops reading a
 * client that does not read its responses). A failure closes the connection; the frame is then incomplete, so
 * the sidecar never saw the request.
 */
static ss_err write_frame(ss_client *c, size_t len, int64_t deadline) {
    size_t off = 0;
    while (off < len) {
        if (c->fd < 0) return SS_ERR_CONNECTION;
        ssize_t n = send(c->fd, c->wbuf + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd p = {.fd = c->fd, .events = POLLOUT | POLLIN};
            int r = poll(&p, 1, remaining_ms(deadline));
            if (r < 0 && errno == EINTR) continue;
            if (r == 0 && remaining_ms(deadline) == 0) {
                if (off > 0) drop_connection(c, SS_ERR_TIMEOUT, "timed out in the middle of sending a request");
                return set_err(c, SS_ERR_TIMEOUT, 0, 0, "timed out sending a request (the sidecar is not reading)");
            }
            if (r > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
                ss_err e = read_available(c);
                if (e != SS_OK) return set_err(c, e, 0, 0, "%s", c->drop_msg);
            }
            continue;
        }
        int e = n < 0 ? errno : EPIPE;
        drop_connection(c, SS_ERR_CONNECTION, "write to the sidecar failed: %s", strerror(e));
        return set_err(c, SS_ERR_CONNECTION, 0, 0, "%s", c->drop_msg);
    }
    return SS_OK;
}

/* ------------------------------------------------------------------------------------------------------- */
/* Sending, waiting, taking                                                                                 */

static ss_err send_request(ss_client *c, PbRequest *req, bool stream, int64_t deadline, uint64_t *id_out) {
    int call = (int)req->call_case;
    req->id = c->next_id++;
    size_t size = sessionsidecar__v1__request__get_packed_size(req);
    if (size > SS_MAX_REQUEST_BYTES)
        return set_err(c, SS_ERR_INVALID_ARGUMENT, 0, 0, "%s request of %zu bytes exceeds the %u-byte frame limit",
                       call_name(call), size, SS_MAX_REQUEST_BYTES);
    if (c->wcap < size + 4) {
        unsigned char *grown = realloc(c->wbuf, size + 4);
        if (!grown) return set_err(c, SS_ERR_NOMEM, 0, 0, "out of memory encoding a request");
        c->wbuf = grown;
        c->wcap = size + 4;
    }
    c->wbuf[0] = (unsigned char)(size >> 24);
    c->wbuf[1] = (unsigned char)(size >> 16);
    c->wbuf[2] = (unsigned char)(size >> 8);
    c->wbuf[3] = (unsigned char)size;
    sessionsidecar__v1__request__pack(req, c->wbuf + 4);

    for (int attempt = 0;; attempt++) {
        ss_err e = ensure_connected(c, deadline);
        if (e != SS_OK) return e;
        if (!add_entry(c, req->id, call, stream))
            return set_err(c, SS_ERR_NOMEM, 0, 0, "out of memory tracking a request");
        e = write_frame(c, size + 4, deadline);
        if (e == SS_OK) break;
        entry *en = find_entry(c, req->id);
        if (en) remove_entry(c, en);
        /* The frame did not get through whole, so the sidecar never saw it: reconnect once and send again. */
        if (e == SS_ERR_CONNECTION && attempt == 0) continue;
        return e;
    }
    *id_out = req->id;
    return ok(c);
}

/* Wait until `id` has a response queued, or fail. Errors leave the entry in place for the caller to settle. */
static ss_err wait_for(ss_client *c, uint64_t id, int64_t deadline) {
    for (;;) {
        entry *e = find_entry(c, id);
        if (!e || e->abandoned)
            return set_err(c, SS_ERR_INVALID_ARGUMENT, 0, id, "request %llu is not pending", (unsigned long long)id);
        if (e->head) return SS_OK;
        if (e->lost != SS_OK)
            return set_err(c, e->lost, 0, id, "no response to request %llu: %s", (unsigned long long)id,
                           c->drop_msg);
        if (c->conn_err_pending) {
            c->conn_err_pending = false;
            return set_err(c, SS_ERR_STATUS, c->conn_err_code, 0, "connection-level error from the sidecar: %s",
                           c->conn_err_msg);
        }
        if (c->fd < 0) /* not reachable: dropping marks every entry lost */
            return set_err(c, SS_ERR_CONNECTION, 0, id, "not connected");
        int left = remaining_ms(deadline);
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        int r = poll(&p, 1, left);
        if (r < 0) {
            if (errno == EINTR) continue;
            drop_connection(c, SS_ERR_CONNECTION, "poll() failed: %s", strerror(errno));
            continue;
        }
        if (r == 0) {
            if (remaining_ms(deadline) == 0)
                return set_err(c, SS_ERR_TIMEOUT, 0, id, "no response to request %llu within the timeout",
                               (unsigned long long)id);
            continue;
        }
        read_available(c); /* an error drops the connection and marks the entry lost */
    }
}

/*
 * Take the next response of `id` and check it: status OK and the result of the expected call. On success the
 * caller owns *out. SS_ERR_TIMEOUT keeps the request pending; every other outcome settles a unary request.
 */
static ss_err take(ss_client *c, uint64_t id, int expected, int64_t deadline, PbResponse **out) {
    *out = NULL;
    entry *e = find_entry(c, id);
    if (e && !e->abandoned && e->call != expected)
        return set_err(c, SS_ERR_INVALID_ARGUMENT, 0, id, "request %llu is a %s call, not %s",
                       (unsigned long long)id, call_name(e->call), call_name(expected));
    ss_err err = wait_for(c, id, deadline);
    if (err == SS_ERR_TIMEOUT) return err;
    e = find_entry(c, id);
    if (err != SS_OK) {
        if (e && !e->abandoned) {
            if (e->lost != SS_OK) remove_entry(c, e);
            else e->abandoned = true; /* a connection-level error: drop its response if it ever comes */
        }
        return err;
    }
    rnode *n = e->head;
    PbResponse *resp = n->resp;
    e->head = n->next;
    if (!e->head) e->tail = NULL;
    free(n);
    bool stream = e->stream;
    if (!stream) remove_entry(c, e);

    if (resp->status && resp->status->code != SESSIONSIDECAR__V1__CODE__OK) {
        set_err(c, SS_ERR_STATUS, (int)resp->status->code, id, "%s: %s",
                ss_wire_code_name((int)resp->status->code),
                resp->status->message && *resp->status->message ? resp->status->message : "(no message)");
        sessionsidecar__v1__response__free_unpacked(resp, NULL);
        if (stream && (e = find_entry(c, id))) remove_entry(c, e); /* a failed stream is over */
        return SS_ERR_STATUS;
    }
    if ((int)resp->result_case != expected) {
        set_err(c, SS_ERR_PROTOCOL, 0, id, "response to request %llu carries %s, expected %s",
                (unsigned long long)id, call_name((int)resp->result_case), call_name(expected));
        sessionsidecar__v1__response__free_unpacked(resp, NULL);
        return SS_ERR_PROTOCOL;
    }
    *out = resp;
    return ok(c);
}

/* A blocking call: send, then wait within one timeout; resend once a read-only call lost with its connection. */
static ss_err call(ss_client *c, PbRequest *req, PbResponse **out) {
    int call = (int)req->call_case;
    int64_t deadline = deadline_in(c->timeout_ms);
    for (int attempt = 0;; attempt++) {
        uint64_t id;
        unsigned long reconnects = c->reconnects;
        ss_err e = send_request(c, req, false, deadline, &id);
        if (e != SS_OK) return e;
        bool reconnected_already = c->reconnects != reconnects;
        e = take(c, id, call, deadline, out);
        if (e == SS_ERR_TIMEOUT) {
            ss_abandon(c, id);
            return e;
        }
        if (e == SS_ERR_CONNECTION && attempt == 0 && !reconnected_already && call_is_read_only(call)) continue;
        return e;
    }
}

/* ------------------------------------------------------------------------------------------------------- */
/* Arguments                                                                                                */

static bool utf8_valid(const char *str) {
    const unsigned char *s = (const unsigned char *)str;
    while (*s) {
        unsigned char b = *s;
        if (b < 0x80) {
            s++;
            continue;
        }
        int n;
        uint32_t cp;
        if (b >= 0xC2 && b <= 0xDF) n = 1, cp = b & 0x1F;
        else if (b >= 0xE0 && b <= 0xEF) n = 2, cp = b & 0x0F;
        else if (b >= 0xF0 && b <= 0xF4) n = 3, cp = b & 0x07;
        else return false;
        for (int i = 1; i <= n; i++) {
            if ((s[i] & 0xC0) != 0x80) return false;
            cp = cp << 6 | (s[i] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        s += n + 1;
    }
    return true;
}

/* Check a string argument; NULL becomes "" when optional. Never echoes the value (it may be a token). */
static bool arg(ss_client *c, const char **s, const char *name, bool required) {
    if (!*s) {
        if (required) {
            set_err(c, SS_ERR_INVALID_ARGUMENT, 0, 0, "%s is NULL", name);
            return false;
        }
        *s = "";
    }
    if (!utf8_valid(*s)) {
        set_err(c, SS_ERR_INVALID_ARGUMENT, 0, 0, "%s is not valid UTF-8", name);
        return false;
    }
    return true;
}

static bool out_arg(ss_client *c, const void *out, const char *name) {
    if (out) return true;
    set_err(c, SS_ERR_INVALID_ARGUMENT, 0, 0, "%s is NULL", name);
    return false;
}

#define CLIENT_OR_FAIL(c) \
    do { \
        if (!(c)) return SS_ERR_INVALID_ARGUMENT; \
    } while (0)

/* ------------------------------------------------------------------------------------------------------- */
/* Building requests (one builder per call, shared by the blocking and the pipelined functions)            */

/* Every sub-message of every call, on the caller's stack. */
typedef struct req_space {
    PbRequest req;
    union {
        Sessionsidecar__V1__CreateSessionRequest create;
        Sessionsidecar__V1__VerifySessionRequest verify;
        Sessionsidecar__V1__RefreshSessionRequest refresh;
        Sessionsidecar__V1__RevokeSessionsRequest revoke;
        Sessionsidecar__V1__ListSessionsRequest list;
        Sessionsidecar__V1__GetSessionRequest get;
        Sessionsidecar__V1__UpdateSessionDataRequest update_data;
        Sessionsidecar__V1__UpdateAccessTokenPayloadRequest update_payload;
        Sessionsidecar__V1__RegenerateAccessTokenRequest regenerate;
        Sessionsidecar__V1__GetSigningKeysRequest keys;
        Sessionsidecar__V1__WatchSigningKeysRequest watch;
        Sessionsidecar__V1__HealthRequest health;
    } m;
    Sessionsidecar__V1__SessionHandles handles;
} req_space;

static void req_init(req_space *s) {
    sessionsidecar__v1__request__init(&s->req);
}

static bool build_create(ss_client *c, req_space *s, const char *user_id, const ss_create_options *o) {
    const char *payload = o ? o->access_token_payload_json : NULL;
    const char *data = o ? o->session_data_json : NULL;
    if (!arg(c, &user_id, "user_id", true) || !arg(c, &payload, "access_token_payload_json", false) ||
        !arg(c, &data, "session_data_json", false))
        return false;
    req_init(s);
    sessionsidecar__v1__create_session_request__init(&s->m.create);
    s->m.create.user_id = (char *)user_id;
    s->m.create.access_token_payload_json = (char *)payload;
    s->m.create.session_data_json = (char *)data;
    s->m.create.enable_anti_csrf = o && o->enable_anti_csrf;
    s->m.create.use_static_key = o && o->use_static_key;
    s->req.call_case = SESSIONSIDECAR__V1__REQUEST__CALL_CREATE_SESSION;
    s->req.create_session = &s->m.create;
    return true;
}

static bool build_verify(ss_client *c, req_space *s, const char *token, const ss_verify_options *o) {
    const char *csrf = o ? o->anti_csrf_token : NULL;
    if (!arg(c, &token, "access_token", true) || !arg(c, &csrf, "anti_csrf_token", false)) return false;
    req_init(s);
    sessionsidecar__v1__verify_session_request__init(&s->m.verify);
    s->m.verify.access_token = (char *)token;
    s->m.verify.anti_csrf_token = (char *)csrf;
    s->m.verify.do_anti_csrf_check = o && o->do_anti_csrf_check;
    s->m.verify.check_database = o && o->check_database;
    s->req.call_case = SESSIONSIDECAR__V1__REQUEST__CALL_VERIFY_SESSION;
    s->req.verify_session = &s->m.verify;
    return true;
}

static bool build_refresh(ss_client *c, req_space *s, const char *token, const char *csrf) {
    if (!arg(c, &token, "refresh_token", true) || !arg(c, &csrf, "anti_csrf_token", false)) return false;
    req_init(s);
    sessionsidecar__v1__refresh_session_request__init(&s->m.refresh);
    s->m.refresh.refresh_token = (char *)token;
    s->m.refresh.anti_csrf_token = (char *)csrf;
    s->req.call_case = SESSIONSIDECAR__V1__REQUEST__CALL_REFRESH_SESSION;
    s->req.refresh_session = &s->m.refresh;
    return true;
}

static bool build_revoke(ss_client *c, req_space *s, const char *const *handles, size_t n) {
    if (n > 0 && !handles) {
        set_err(c, SS_ERR_INVALID_ARGUMENT, 0, 0, "handles is NULL");
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        const char *h = handles[i];
        if (!arg(c, &h, "a session handle", true)) return false;
    }
    req_init(s);
    sessionsidecar__v1__revoke_sessions_request__init(&s->m.revoke);
    sessionsidecar__v1__session_handles__init(&s->handles);
    s->handles.n_handles = n;
    s->handles.handles = (char **)(uintptr_t)handles;
    s->m.revoke.target_case = SESSIONSIDECAR__V1__REVOKE_SESSIONS_REQUEST__TARGET_SESSION_HANDLES;
    s->m.revoke.session_handles = &s->handles;
    s->req.call_case = SESSIONSIDECAR__V1__REQUEST__CALL_REVOKE_SESSIONS;
    s->req.revoke_sessions = &s->m.revoke;
    return true;
}

static bool build_revoke_user(ss_client *c, req_space *s, const char *user_id) {
    if (!arg(c, &user_id, "user_id", true)) return false;
    req_init(s);
    sessionsidecar__v1__revoke_sessions_request__init(&s->m.revoke);
    s->m.revoke.target_case = SESSIONSIDECAR__V1__REVOKE_SESSIONS_REQUEST__TARGET_USER_ID;
    s->m.revoke.user_id = (char *)user_id;
    s->req.call_case = SESSIONSIDECAR__V1__REQUEST__CALL_REVOKE_SESSIONS;
    s->req.revoke_sessions = &s->m.revoke;
    return true;
}

static bool build_list(ss_client *c, req_space *s, const char *user_id) {
    if (!arg(c, &user_id, "user_id", true)) return false;
    req_init(s);
    sessionsidecar__v1__list_sessions_request__init(&s->m.list);
    s->m.list.user_id = (char *)user_id;
    s->req.call_case = SESSIONSIDECAR__V1__REQUEST__CALL_LIST_SESSIONS;
    s->req.list_sessions = &s->m.list;
    return true;
}

static bool build_get(ss_client *c, req_space *s, const char *handle) {
    if (!arg(c, &handle, "session_handle", true)) return false;
    req_init(s);
    sessionsidecar__v1__get_session_request__init(&s->m.get);
    s->m.get.session_handle = (char *)handle;
    s->req.call_case = SESSIONSIDECAR__V1__REQUEST__CALL_GET_SESSION;
    s->req.get_session = &s->m.get;
    return true;
}

static bool build_update_data(ss_client *c, req_space *s, const char *handle, const char *data) {
    if (!arg(c, &handle, "session_handle", true) || !arg(c, &data, "session_data_json", false)) return false;
    req_init(s);
    sessionsidecar__v1__update_session_data_request__init(&s->m.update_data);
    s->m.update_data.session_handle = (char *)handle;
    s->m.update_data.session_data_json = (char *)data;
    s->req.call_case = SESSIONSIDECAR__V1__REQUEST__CALL_UPDATE_SESSION_DATA;
    s->req.update_session_data = &s->m.update_data;
    return true;
}

static bool build_update_payload(ss_client *c, req_space *s, const char *handle, const char *payload) {
    if (!arg(c, &handle, "session_handle", true) || !arg(c, &payload, "access_token_payload_json", false))
        return false;
    req_init(s);
    sessionsidecar__v1__update_access_token_payload_request__init(&s->m.update_payload);
    s->m.update_payload.session_handle = (char *)handle;
    s->m.update_payload.access_token_payload_json = (char *)payload;
    s->req.call_case = SESSIONSIDECAR__V1__REQUEST__CALL_UPDATE_ACCESS_TOKEN_PAYLOAD;
    s->req.update_access_token_payload = &s->m.update_payload;
    return true;
}

static bool build_regenerate(ss_client *c, req_space *s, const char *token, const char *payload) {
    if (!arg(c, &token, "access_token", true) || !arg(c, &payload, "access_token_payload_json", false))
        return false;
    req_init(s);
    sessionsidecar__v1__regenerate_access_token_request__init(&s->m.regenerate);
    s->m.regenerate.access_token = (char *)token;
    s->m.regenerate.access_token_payload_json = (char *)payload;
    s->req.call_case = SESSIONSIDECAR__V1__REQUEST__CALL_REGENERATE_ACCESS_TOKEN;
    s->req.regenerate_access_token = &s->m.regenerate;
    return true;
}

static void build_keys(req_space *s) {
    req_init(s);
    sessionsidecar__v1__get_signing_keys_request__init(&s->m.keys);
    s->req.call_case = SESSIONSIDECAR__V1__REQUEST__CALL_GET_SIGNING_KEYS;
    s->req.get_signing_keys = &s->m.keys;
}

static void build_watch(req_space *s) {
    req_init(s);
    sessionsidecar__v1__watch_signing_keys_request__init(&s->m.watch);
    s->req.call_case = SESSIONSIDECAR__V1__REQUEST__CALL_WATCH_SIGNING_KEYS;
    s->req.watch_signing_keys = &s->m.watch;
}

static void build_health(req_space *s) {
    req_init(s);
    sessionsidecar__v1__health_request__init(&s->m.health);
    s->req.call_case = SESSIONSIDECAR__V1__REQUEST__CALL_HEALTH;
    s->req.health = &s->m.health;
}

/* ------------------------------------------------------------------------------------------------------- */
/* Results                                                                                                  */

#define DEFINE_BOX(T, name) \
    typedef struct name##_box { \
        T pub; /* first: a pointer to pub is a pointer to the box */ \
        PbResponse *resp; \
        void *array; \
    } name##_box; \
    void name##_free(T *p) { \
        if (!p) return; \
        name##_box *b = (name##_box *)(void *)p; \
        if (b->resp) sessionsidecar__v1__response__free_unpacked(b->resp, NULL); \
        free(b->array); \
        free(b); \
    }

DEFINE_BOX(ss_create_result, ss_create_result)
DEFINE_BOX(ss_verify_result, ss_verify_result)
DEFINE_BOX(ss_refresh_result, ss_refresh_result)
DEFINE_BOX(ss_string_list, ss_string_list)
DEFINE_BOX(ss_session_info, ss_session_info)
DEFINE_BOX(ss_regenerate_result, ss_regenerate_result)
DEFINE_BOX(ss_key_set, ss_key_set)
DEFINE_BOX(ss_health_result, ss_health_result)

static const char *S(const char *s) {
    return s ? s : "";
}

static bool conv_session(ss_session *o, const Sessionsidecar__V1__Session *s) {
    o->handle = S(s ? s->handle : NULL);
    o->user_id = S(s ? s->user_id : NULL);
    o->access_token_payload_json = S(s ? s->access_token_payload_json : NULL);
    o->expires_at_ms = s ? s->expires_at_ms : 0;
    return s != NULL;
}

static bool conv_token(ss_token *o, const Sessionsidecar__V1__Token *t) {
    o->token = S(t ? t->token : NULL);
    o->expires_at_ms = t ? t->expires_at_ms : 0;
    return t != NULL;
}

/* NULL with *failed set when out of memory; NULL for no cookies. */
static ss_cookie *conv_cookies(Sessionsidecar__V1__Cookie **in, size_t n, bool *failed) {
    if (n == 0) return NULL;
    ss_cookie *out = calloc(n, sizeof *out);
    if (!out) {
        *failed = true;
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        const Sessionsidecar__V1__Cookie *k = in[i];
        out[i].name = S(k->name);
        out[i].value = S(k->value);
        out[i].path = S(k->path);
        out[i].domain = S(k->domain);
        out[i].expires_at_ms = k->expires_at_ms;
        out[i].http_only = k->http_only;
        out[i].secure = k->secure;
        out[i].same_site = S(k->same_site);
        out[i].set_cookie_header = S(k->set_cookie_header);
    }
    return out;
}

static ss_err nomem_result(ss_client *c, PbResponse *resp) {
    sessionsidecar__v1__response__free_unpacked(resp, NULL);
    return set_err(c, SS_ERR_NOMEM, 0, 0, "out of memory building a result");
}

#define NEW_BOX(type, b, c, resp) \
    type##_box *b = calloc(1, sizeof *b); \
    if (!b) return nomem_result(c, resp); \
    b->resp = resp

static ss_err to_create(ss_client *c, PbResponse *resp, ss_create_result **out) {
    NEW_BOX(ss_create_result, b, c, resp);
    const Sessionsidecar__V1__CreateSessionResponse *r = resp->create_session;
    bool failed = false;
    conv_session(&b->pub.session, r->session);
    conv_token(&b->pub.access_token, r->access_token);
    conv_token(&b->pub.refresh_token, r->refresh_token);
    b->pub.anti_csrf_token = S(r->anti_csrf_token);
    b->array = conv_cookies(r->cookies, r->n_cookies, &failed);
    b->pub.cookies = b->array;
    b->pub.n_cookies = r->n_cookies;
    if (failed) {
        ss_create_result_free(&b->pub);
        return set_err(c, SS_ERR_NOMEM, 0, 0, "out of memory building a result");
    }
    *out = &b->pub;
    return SS_OK;
}

static ss_err to_verify(ss_client *c, PbResponse *resp, ss_verify_result **out) {
    NEW_BOX(ss_verify_result, b, c, resp);
    const Sessionsidecar__V1__VerifySessionResponse *r = resp->verify_session;
    b->pub.outcome = (ss_verify_outcome)r->outcome;
    b->pub.reason = S(r->reason);
    b->pub.has_session = conv_session(&b->pub.session, r->session);
    *out = &b->pub;
    return SS_OK;
}

static ss_err to_refresh(ss_client *c, PbResponse *resp, ss_refresh_result **out) {
    NEW_BOX(ss_refresh_result, b, c, resp);
    const Sessionsidecar__V1__RefreshSessionResponse *r = resp->refresh_session;
    bool failed = false;
    b->pub.outcome = (ss_refresh_outcome)r->outcome;
    b->pub.reason = S(r->reason);
    b->pub.has_session = conv_session(&b->pub.session, r->session);
    b->pub.has_access_token = conv_token(&b->pub.access_token, r->access_token);
    b->pub.has_refresh_token = conv_token(&b->pub.refresh_token, r->refresh_token);
    b->pub.anti_csrf_token = S(r->anti_csrf_token);
    b->array = conv_cookies(r->cookies, r->n_cookies, &failed);
    b->pub.cookies = b->array;
    b->pub.n_cookies = r->n_cookies;
    if (failed) {
        ss_refresh_result_free(&b->pub);
        return set_err(c, SS_ERR_NOMEM, 0, 0, "out of memory building a result");
    }
    *out = &b->pub;
    return SS_OK;
}

static ss_err to_string_list(ss_client *c, PbResponse *resp, char **items, size_t n, ss_string_list **out) {
    NEW_BOX(ss_string_list, b, c, resp);
    b->pub.items = (const char *const *)items;
    b->pub.count = n;
    *out = &b->pub;
    return SS_OK;
}

static ss_err to_session_info(ss_client *c, PbResponse *resp, ss_session_info **out) {
    NEW_BOX(ss_session_info, b, c, resp);
    const Sessionsidecar__V1__GetSessionResponse *r = resp->get_session;
    b->pub.session_handle = S(r->session_handle);
    b->pub.user_id = S(r->user_id);
    b->pub.session_data_json = S(r->session_data_json);
    b->pub.access_token_payload_json = S(r->access_token_payload_json);
    b->pub.created_at_ms = r->created_at_ms;
    b->pub.expires_at_ms = r->expires_at_ms;
    *out = &b->pub;
    return SS_OK;
}

static ss_err to_regenerate(ss_client *c, PbResponse *resp, ss_regenerate_result **out) {
    NEW_BOX(ss_regenerate_result, b, c, resp);
    const Sessionsidecar__V1__RegenerateAccessTokenResponse *r = resp->regenerate_access_token;
    bool failed = false;
    b->pub.has_session = conv_session(&b->pub.session, r->session);
    b->pub.has_access_token = conv_token(&b->pub.access_token, r->access_token);
    b->array = conv_cookies(r->cookies, r->n_cookies, &failed);
    b->pub.cookies = b->array;
    b->pub.n_cookies = r->n_cookies;
    if (failed) {
        ss_regenerate_result_free(&b->pub);
        return set_err(c, SS_ERR_NOMEM, 0, 0, "out of memory building a result");
    }
    *out = &b->pub;
    return SS_OK;
}

static ss_err to_key_set(ss_client *c, PbResponse *resp, const Sessionsidecar__V1__GetSigningKeysResponse *r,
                         ss_key_set **out) {
    NEW_BOX(ss_key_set, b, c, resp);
    b->pub.jwks_json = S(r->jwks_json);
    b->pub.cache_max_age_s = r->cache_max_age_s;
    b->pub.n_keys = r->n_keys;
    if (r->n_keys > 0) {
        ss_signing_key *keys = calloc(r->n_keys, sizeof *keys);
        if (!keys) {
            ss_key_set_free(&b->pub);
            return set_err(c, SS_ERR_NOMEM, 0, 0, "out of memory building a result");
        }
        for (size_t i = 0; i < r->n_keys; i++) {
            const Sessionsidecar__V1__SigningKey *k = r->keys[i];
            keys[i].kid = S(k->kid);
            keys[i].alg = S(k->alg);
            keys[i].kind = (ss_key_kind)k->kind;
            keys[i].public_key_pem = S(k->public_key_pem);
            keys[i].created_at_ms = k->created_at_ms;
            keys[i].expires_at_ms = k->expires_at_ms;
        }
        b->array = keys;
        b->pub.keys = keys;
    }
    *out = &b->pub;
    return SS_OK;
}

static ss_err to_health(ss_client *c, PbResponse *resp, ss_health_result **out) {
    NEW_BOX(ss_health_result, b, c, resp);
    const Sessionsidecar__V1__HealthResponse *r = resp->health;
    b->pub.serving = r->serving;
    b->pub.version = S(r->version);
    b->pub.database_reachable = r->database_reachable;
    *out = &b->pub;
    return SS_OK;
}

/* A oneof result that is set but carries a NULL message cannot come out of protobuf-c; guard anyway. */
static ss_err check_result_present(ss_client *c, PbResponse *resp, const void *sub) {
    if (sub) return SS_OK;
    sessionsidecar__v1__response__free_unpacked(resp, NULL);
    return set_err(c, SS_ERR_PROTOCOL, 0, 0, "response carries an empty result");
}

/* Converters from a checked response, shared by blocking and pipelined receives. */
static ss_err finish_create(ss_client *c, PbResponse *r, ss_create_result **out) {
    ss_err e = check_result_present(c, r, r->create_session);
    return e != SS_OK ? e : to_create(c, r, out);
}
static ss_err finish_verify(ss_client *c, PbResponse *r, ss_verify_result **out) {
    ss_err e = check_result_present(c, r, r->verify_session);
    return e != SS_OK ? e : to_verify(c, r, out);
}
static ss_err finish_refresh(ss_client *c, PbResponse *r, ss_refresh_result **out) {
    ss_err e = check_result_present(c, r, r->refresh_session);
    return e != SS_OK ? e : to_refresh(c, r, out);
}
static ss_err finish_revoke(ss_client *c, PbResponse *r, ss_string_list **out) {
    ss_err e = check_result_present(c, r, r->revoke_sessions);
    if (e != SS_OK) return e;
    if (!out) {
        sessionsidecar__v1__response__free_unpacked(r, NULL);
        return SS_OK;
    }
    return to_string_list(c, r, r->revoke_sessions->revoked_session_handles,
                          r->revoke_sessions->n_revoked_session_handles, out);
}
static ss_err finish_list(ss_client *c, PbResponse *r, ss_string_list **out) {
    ss_err e = check_result_present(c, r, r->list_sessions);
    return e != SS_OK ? e
                      : to_string_list(c, r, r->list_sessions->session_handles, r->list_sessions->n_session_handles,
                                       out);
}
static ss_err finish_get(ss_client *c, PbResponse *r, ss_session_info **out) {
    ss_err e = check_result_present(c, r, r->get_session);
    return e != SS_OK ? e : to_session_info(c, r, out);
}
static ss_err finish_empty(ss_client *c, PbResponse *r) {
    (void)c;
    sessionsidecar__v1__response__free_unpacked(r, NULL);
    return SS_OK;
}
static ss_err finish_regenerate(ss_client *c, PbResponse *r, ss_regenerate_result **out) {
    ss_err e = check_result_present(c, r, r->regenerate_access_token);
    return e != SS_OK ? e : to_regenerate(c, r, out);
}
static ss_err finish_keys(ss_client *c, PbResponse *r, ss_key_set **out) {
    ss_err e = check_result_present(c, r, r->get_signing_keys);
    return e != SS_OK ? e : to_key_set(c, r, r->get_signing_keys, out);
}
static ss_err finish_watch(ss_client *c, PbResponse *r, ss_key_set **out) {
    ss_err e = check_result_present(c, r, r->watch_signing_keys);
    return e != SS_OK ? e : to_key_set(c, r, r->watch_signing_keys, out);
}
static ss_err finish_health(ss_client *c, PbResponse *r, ss_health_result **out) {
    ss_err e = check_result_present(c, r, r->health);
    return e != SS_OK ? e : to_health(c, r, out);
}

/* ------------------------------------------------------------------------------------------------------- */
/* Public: client, errors                                                                                   */

ss_err ss_client_connect(ss_client *c) {
    CLIENT_OR_FAIL(c);
    ss_err e = ensure_connected(c, deadline_in(c->timeout_ms));
    return e == SS_OK ? ok(c) : e;
}

void ss_client_disconnect(ss_client *c) {
    if (c && c->fd >= 0) drop_connection(c, SS_ERR_CONNECTION, "the application closed the connection");
}

void ss_client_set_timeout(ss_client *c, int timeout_ms) {
    if (c) c->timeout_ms = normalise_timeout(timeout_ms);
}

int ss_client_timeout(const ss_client *c) {
    return c ? c->timeout_ms : 0;
}

const char *ss_client_socket_path(const ss_client *c) {
    return c && c->path ? c->path : "";
}

bool ss_client_connected(const ss_client *c) {
    return c && c->fd >= 0;
}

unsigned long ss_client_reconnects(const ss_client *c) {
    return c ? c->reconnects : 0;
}

ss_err ss_client_errcode(const ss_client *c) {
    return c ? c->err : SS_ERR_INVALID_ARGUMENT;
}

int ss_client_wire_code(const ss_client *c) {
    return c ? c->wire_code : 0;
}

const char *ss_client_errmsg(const ss_client *c) {
    return c ? c->msg : "client is NULL";
}

void ss_client_error(const ss_client *c, ss_error *out) {
    if (!out) return;
    out->code = ss_client_errcode(c);
    out->wire_code = ss_client_wire_code(c);
    out->request_id = c ? c->err_id : 0;
    out->message = ss_client_errmsg(c);
}

const char *ss_err_name(ss_err code) {
    switch (code) {
    case SS_OK: return "SS_OK";
    case SS_ERR_CONNECTION: return "SS_ERR_CONNECTION";
    case SS_ERR_TIMEOUT: return "SS_ERR_TIMEOUT";
    case SS_ERR_STATUS: return "SS_ERR_STATUS";
    case SS_ERR_PROTOCOL: return "SS_ERR_PROTOCOL";
    case SS_ERR_NOMEM: return "SS_ERR_NOMEM";
    case SS_ERR_INVALID_ARGUMENT: return "SS_ERR_INVALID_ARGUMENT";
    }
    return "SS_ERR_UNKNOWN";
}

const char *ss_wire_code_name(int code) {
    switch (code) {
    case SS_CODE_OK: return "OK";
    case SS_CODE_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case SS_CODE_DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case SS_CODE_NOT_FOUND: return "NOT_FOUND";
    case SS_CODE_PERMISSION_DENIED: return "PERMISSION_DENIED";
    case SS_CODE_RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case SS_CODE_FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case SS_CODE_UNIMPLEMENTED: return "UNIMPLEMENTED";
    case SS_CODE_INTERNAL: return "INTERNAL";
    case SS_CODE_UNAVAILABLE: return "UNAVAILABLE";
    case SS_CODE_UNAUTHENTICATED: return "UNAUTHENTICATED";
    }
    return "UNKNOWN";
}

const char *ss_verify_outcome_name(ss_verify_outcome o) {
    switch (o) {
    case SS_VERIFY_UNSPECIFIED: return "UNSPECIFIED";
    case SS_VERIFY_OK: return "OK";
    case SS_VERIFY_TRY_REFRESH_TOKEN: return "TRY_REFRESH_TOKEN";
    case SS_VERIFY_UNAUTHORISED: return "UNAUTHORISED";
    }
    return "UNKNOWN";
}

const char *ss_refresh_outcome_name(ss_refresh_outcome o) {
    switch (o) {
    case SS_REFRESH_UNSPECIFIED: return "UNSPECIFIED";
    case SS_REFRESH_OK: return "OK";
    case SS_REFRESH_UNAUTHORISED: return "UNAUTHORISED";
    case SS_REFRESH_TOKEN_THEFT_DETECTED: return "TOKEN_THEFT_DETECTED";
    }
    return "UNKNOWN";
}

/* ------------------------------------------------------------------------------------------------------- */
/* Public: pipelining                                                                                       */

ss_err ss_wait(ss_client *c, uint64_t id, int timeout_ms) {
    CLIENT_OR_FAIL(c);
    ss_err e = wait_for(c, id, timeout_ms < 0 ? -1 : now_ms() + timeout_ms);
    if (e == SS_OK) return ok(c);
    if (e != SS_ERR_TIMEOUT && e != SS_ERR_INVALID_ARGUMENT) {
        /* settle it as ss_recv_* would: the error is reported now */
        entry *en = find_entry(c, id);
        if (en) {
            if (en->lost != SS_OK) remove_entry(c, en);
            else en->abandoned = true;
        }
    }
    return e;
}

void ss_abandon(ss_client *c, uint64_t id) {
    if (!c) return;
    entry *e = find_entry(c, id);
    if (!e) return;
    if ((!e->stream && e->head) || e->lost != SS_OK || c->fd < 0) {
        remove_entry(c, e);
        return;
    }
    free_queue(e);
    e->abandoned = true;
}

size_t ss_pending(const ss_client *c) {
    size_t n = 0;
    if (!c) return 0;
    for (size_t i = 0; i < c->n_entries; i++)
        if (!c->entries[i].abandoned) n++;
    return n;
}

#define SEND_PROLOGUE(c, id) \
    CLIENT_OR_FAIL(c); \
    if (!out_arg(c, id, "id")) return SS_ERR_INVALID_ARGUMENT; \
    *(id) = 0; \
    req_space s

#define SEND(c, id) send_request(c, &s.req, false, deadline_in((c)->timeout_ms), id)

ss_err ss_send_create_session(ss_client *c, const char *user_id, const ss_create_options *o, uint64_t *id) {
    SEND_PROLOGUE(c, id);
    return build_create(c, &s, user_id, o) ? SEND(c, id) : c->err;
}

ss_err ss_send_verify_session(ss_client *c, const char *token, const ss_verify_options *o, uint64_t *id) {
    SEND_PROLOGUE(c, id);
    return build_verify(c, &s, token, o) ? SEND(c, id) : c->err;
}

ss_err ss_send_refresh_session(ss_client *c, const char *token, const char *csrf, uint64_t *id) {
    SEND_PROLOGUE(c, id);
    return build_refresh(c, &s, token, csrf) ? SEND(c, id) : c->err;
}

ss_err ss_send_revoke_sessions(ss_client *c, const char *const *handles, size_t n, uint64_t *id) {
    SEND_PROLOGUE(c, id);
    return build_revoke(c, &s, handles, n) ? SEND(c, id) : c->err;
}

ss_err ss_send_revoke_user_sessions(ss_client *c, const char *user_id, uint64_t *id) {
    SEND_PROLOGUE(c, id);
    return build_revoke_user(c, &s, user_id) ? SEND(c, id) : c->err;
}

ss_err ss_send_list_sessions(ss_client *c, const char *user_id, uint64_t *id) {
    SEND_PROLOGUE(c, id);
    return build_list(c, &s, user_id) ? SEND(c, id) : c->err;
}

ss_err ss_send_get_session(ss_client *c, const char *handle, uint64_t *id) {
    SEND_PROLOGUE(c, id);
    return build_get(c, &s, handle) ? SEND(c, id) : c->err;
}

ss_err ss_send_update_session_data(ss_client *c, const char *handle, const char *data, uint64_t *id) {
    SEND_PROLOGUE(c, id);
    return build_update_data(c, &s, handle, data) ? SEND(c, id) : c->err;
}

ss_err ss_send_update_access_token_payload(ss_client *c, const char *handle, const char *payload, uint64_t *id) {
    SEND_PROLOGUE(c, id);
    return build_update_payload(c, &s, handle, payload) ? SEND(c, id) : c->err;
}

ss_err ss_send_regenerate_access_token(ss_client *c, const char *token, const char *payload, uint64_t *id) {
    SEND_PROLOGUE(c, id);
    return build_regenerate(c, &s, token, payload) ? SEND(c, id) : c->err;
}

ss_err ss_send_get_signing_keys(ss_client *c, uint64_t *id) {
    SEND_PROLOGUE(c, id);
    build_keys(&s);
    return SEND(c, id);
}

ss_err ss_send_health(ss_client *c, uint64_t *id) {
    SEND_PROLOGUE(c, id);
    build_health(&s);
    return SEND(c, id);
}

ss_err ss_watch_signing_keys(ss_client *c, uint64_t *id) {
    SEND_PROLOGUE(c, id);
    build_watch(&s);
    return send_request(c, &s.req, true, deadline_in(c->timeout_ms), id);
}

ss_err ss_watch_next(ss_client *c, uint64_t id, int timeout_ms, ss_key_set **out) {
    CLIENT_OR_FAIL(c);
    if (!out_arg(c, out, "out")) return SS_ERR_INVALID_ARGUMENT;
    *out = NULL;
    PbResponse *r;
    ss_err e = take(c, id, CALL_WATCH, timeout_ms < 0 ? -1 : now_ms() + timeout_ms, &r);
    return e != SS_OK ? e : finish_watch(c, r, out);
}

/* Receive: take with the client's timeout, then convert. */
#define RECV(c, id, call_case, finish, out) \
    CLIENT_OR_FAIL(c); \
    if (!out_arg(c, out, "out")) return SS_ERR_INVALID_ARGUMENT; \
    *(out) = NULL; \
    PbResponse *r; \
    ss_err e = take(c, id, call_case, deadline_in((c)->timeout_ms), &r); \
    return e != SS_OK ? e : finish(c, r, out)

ss_err ss_recv_create_session(ss_client *c, uint64_t id, ss_create_result **out) {
    RECV(c, id, CALL_CREATE, finish_create, out);
}

ss_err ss_recv_verify_session(ss_client *c, uint64_t id, ss_verify_result **out) {
    RECV(c, id, CALL_VERIFY, finish_verify, out);
}

ss_err ss_recv_refresh_session(ss_client *c, uint64_t id, ss_refresh_result **out) {
    RECV(c, id, CALL_REFRESH, finish_refresh, out);
}

ss_err ss_recv_revoke_sessions(ss_client *c, uint64_t id, ss_string_list **out) {
    CLIENT_OR_FAIL(c);
    if (out) *out = NULL;
    PbResponse *r;
    ss_err e = take(c, id, CALL_REVOKE, deadline_in(c->timeout_ms), &r);
    return e != SS_OK ? e : finish_revoke(c, r, out);
}

ss_err ss_recv_list_sessions(ss_client *c, uint64_t id, ss_string_list **out) {
    RECV(c, id, CALL_LIST, finish_list, out);
}

ss_err ss_recv_get_session(ss_client *c, uint64_t id, ss_session_info **out) {
    RECV(c, id, CALL_GET, finish_get, out);
}

ss_err ss_recv_update_session_data(ss_client *c, uint64_t id) {
    CLIENT_OR_FAIL(c);
    PbResponse *r;
    ss_err e = take(c, id, CALL_UPDATE_DATA, deadline_in(c->timeout_ms), &r);
    return e != SS_OK ? e : finish_empty(c, r);
}

ss_err ss_recv_update_access_token_payload(ss_client *c, uint64_t id) {
    CLIENT_OR_FAIL(c);
    PbResponse *r;
    ss_err e = take(c, id, CALL_UPDATE_PAYLOAD, deadline_in(c->timeout_ms), &r);
    return e != SS_OK ? e : finish_empty(c, r);
}

ss_err ss_recv_regenerate_access_token(ss_client *c, uint64_t id, ss_regenerate_result **out) {
    RECV(c, id, CALL_REGENERATE, finish_regenerate, out);
}

ss_err ss_recv_get_signing_keys(ss_client *c, uint64_t id, ss_key_set **out) {
    RECV(c, id, CALL_KEYS, finish_keys, out);
}

ss_err ss_recv_health(ss_client *c, uint64_t id, ss_health_result **out) {
    RECV(c, id, CALL_HEALTH, finish_health, out);
}

/* ------------------------------------------------------------------------------------------------------- */
/* Public: blocking calls                                                                                   */

#define BLOCKING(c, build, finish, out) \
    PbResponse *r; \
    req_space s; \
    if (!(build)) return c->err; \
    ss_err e = call(c, &s.req, &r); \
    return e != SS_OK ? e : finish(c, r, out)

#define BLOCKING_PROLOGUE(c, out) \
    CLIENT_OR_FAIL(c); \
    if (!out_arg(c, out, "out")) return SS_ERR_INVALID_ARGUMENT; \
    *(out) = NULL

ss_err ss_create_session(ss_client *c, const char *user_id, const ss_create_options *o, ss_create_result **out) {
    BLOCKING_PROLOGUE(c, out);
    BLOCKING(c, build_create(c, &s, user_id, o), finish_create, out);
}

ss_err ss_verify_session(ss_client *c, const char *token, const ss_verify_options *o, ss_verify_result **out) {
    BLOCKING_PROLOGUE(c, out);
    BLOCKING(c, build_verify(c, &s, token, o), finish_verify, out);
}

ss_err ss_refresh_session(ss_client *c, const char *token, const char *csrf, ss_refresh_result **out) {
    BLOCKING_PROLOGUE(c, out);
    BLOCKING(c, build_refresh(c, &s, token, csrf), finish_refresh, out);
}

ss_err ss_revoke_sessions(ss_client *c, const char *const *handles, size_t n, ss_string_list **revoked) {
    CLIENT_OR_FAIL(c);
    if (revoked) *revoked = NULL;
    BLOCKING(c, build_revoke(c, &s, handles, n), finish_revoke, revoked);
}

ss_err ss_revoke_user_sessions(ss_client *c, const char *user_id, ss_string_list **revoked) {
    CLIENT_OR_FAIL(c);
    if (revoked) *revoked = NULL;
    BLOCKING(c, build_revoke_user(c, &s, user_id), finish_revoke, revoked);
}

ss_err ss_list_sessions(ss_client *c, const char *user_id, ss_string_list **out) {
    BLOCKING_PROLOGUE(c, out);
    BLOCKING(c, build_list(c, &s, user_id), finish_list, out);
}

ss_err ss_get_session(ss_client *c, const char *handle, ss_session_info **out) {
    BLOCKING_PROLOGUE(c, out);
    BLOCKING(c, build_get(c, &s, handle), finish_get, out);
}

ss_err ss_update_session_data(ss_client *c, const char *handle, const char *data) {
    CLIENT_OR_FAIL(c);
    PbResponse *r;
    req_space s;
    if (!build_update_data(c, &s, handle, data)) return c->err;
    ss_err e = call(c, &s.req, &r);
    return e != SS_OK ? e : finish_empty(c, r);
}

ss_err ss_update_access_token_payload(ss_client *c, const char *handle, const char *payload) {
    CLIENT_OR_FAIL(c);
    PbResponse *r;
    req_space s;
    if (!build_update_payload(c, &s, handle, payload)) return c->err;
    ss_err e = call(c, &s.req, &r);
    return e != SS_OK ? e : finish_empty(c, r);
}

ss_err ss_regenerate_access_token(ss_client *c, const char *token, const char *payload, ss_regenerate_result **out) {
    BLOCKING_PROLOGUE(c, out);
    BLOCKING(c, build_regenerate(c, &s, token, payload), finish_regenerate, out);
}

ss_err ss_get_signing_keys(ss_client *c, ss_key_set **out) {
    BLOCKING_PROLOGUE(c, out);
    BLOCKING(c, (build_keys(&s), true), finish_keys, out);
}

ss_err ss_health(ss_client *c, ss_health_result **out) {
    BLOCKING_PROLOGUE(c, out);
    BLOCKING(c, (build_health(&s), true), finish_health, out);
}
