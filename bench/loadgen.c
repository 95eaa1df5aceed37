/*
 * loadgen — a load generator for the SessionSidecar wire protocol (and for bench/floor_server.c).
 *
 * One process, one thread, epoll over C non-blocking Unix-socket connections. Frames are a 4-byte
 * big-endian length and one protobuf Request / Response (proto/sessionsidecar/v1/sidecar.proto).
 *
 *   loadgen create  --socket S --count N [--out FILE] [--conns C] [--inflight K] [--seconds T]
 *   loadgen verify  --socket S --tokens FILE [--set unique|repeat] [--pool N] [--conns C] [--inflight K]
 *                   [--seconds T] [--warmup W] [--rate R] [--check-database]
 *   loadgen refresh --socket S --tokens FILE [--out FILE] [--conns C] [--inflight K] [--seconds T] [--warmup W]
 *
 * Every run prints one JSON line of results on stdout; progress and problems go to stderr. The exit status
 * is 0 when every measured request got status OK and the expected outcome, 1 otherwise, 2 on a usage error.
 * See bench/README.md for what each field means.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sessionsidecar/v1/sidecar.pb-c.h"

#define MAX_FRAME (64u << 20)
#define DRAIN_TIMEOUT_NS (30ull * 1000000000ull)

/* ------------------------------------------------------------------------------------------------------ */
/* Small helpers */

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "loadgen: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(2);
}

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) die("out of memory (%zu bytes)", n);
  return p;
}

static void *xrealloc(void *p, size_t n) {
  p = realloc(p, n ? n : 1);
  if (!p) die("out of memory (%zu bytes)", n);
  return p;
}

static char *xstrdup(const char *s) {
  char *d = strdup(s);
  if (!d) die("out of memory");
  return d;
}

static inline uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static size_t put_varint(uint8_t *p, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    p[n++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  p[n++] = (uint8_t)v;
  return n;
}

static bool get_varint(const uint8_t **p, const uint8_t *end, uint64_t *out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*p >= end) return false;
    uint8_t b = *(*p)++;
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *out = v;
      return true;
    }
  }
  return false;
}

/* Skips one field's value of the given wire type. */
static bool skip_field(const uint8_t **p, const uint8_t *end, unsigned wire) {
  uint64_t n;
  switch (wire) {
  case 0: return get_varint(p, end, &n);
  case 1: if (end - *p < 8) return false; *p += 8; return true;
  case 2:
    if (!get_varint(p, end, &n) || (uint64_t)(end - *p) < n) return false;
    *p += n;
    return true;
  case 5: if (end - *p < 4) return false; *p += 4; return true;
  default: return false;
  }
}

/* The first varint field `field` of a message, or `dflt`. */
static bool find_varint(const uint8_t *p, const uint8_t *end, unsigned field, uint64_t *out) {
  while (p < end) {
    uint64_t key;
    if (!get_varint(&p, end, &key)) return false;
    unsigned f = (unsigned)(key >> 3), wire = (unsigned)(key & 7);
    if (f == field && wire == 0) return get_varint(&p, end, out);
    if (!skip_field(&p, end, wire)) return false;
  }
  return false;
}

/*
 * The few fields of a Response that the verify path needs, without allocating: id (1), status.code (2.1) and
 * the outcome of the verify_session result (11.1). An absent status is code 0 (OK); an absent outcome is 0.
 */
struct min_response {
  uint64_t id;
  uint64_t code;
  uint64_t outcome;
  bool has_verify;
};

static bool parse_min_response(const uint8_t *p, size_t len, struct min_response *r) {
  const uint8_t *end = p + len;
  memset(r, 0, sizeof *r);
  while (p < end) {
    uint64_t key;
    if (!get_varint(&p, end, &key)) return false;
    unsigned f = (unsigned)(key >> 3), wire = (unsigned)(key & 7);
    if (f == 1 && wire == 0) {
      if (!get_varint(&p, end, &r->id)) return false;
    } else if ((f == 2 || f == 11) && wire == 2) {
      uint64_t n;
      if (!get_varint(&p, end, &n) || (uint64_t)(end - p) < n) return false;
      uint64_t v = 0;
      find_varint(p, p + n, 1, &v);
      if (f == 2) r->code = v;
      else {
        r->outcome = v;
        r->has_verify = true;
      }
      p += n;
    } else if (!skip_field(&p, end, wire)) {
      return false;
    }
  }
  return true;
}

/* ------------------------------------------------------------------------------------------------------ */
/* Options */

enum mode { MODE_CREATE, MODE_VERIFY, MODE_REFRESH };

static struct {
  enum mode mode;
  const char *socket_path;
  const char *tokens_path;
  const char *out_path;
  const char *label;
  const char *set; /* unique | repeat */
  long pool;       /* tokens used (verify); 0 = all in the file (unique) / 2000 (repeat) */
  long count;      /* create: how many */
  int conns;
  int inflight;
  double seconds;
  double warmup;
  double rate; /* requests per second in total; 0 = closed loop */
  bool check_database;
  bool quiet;
  const char *latency_log; /* every measured request: intended send (ns from start), latency, service time */
} opt = {
    .set = "unique",
    .conns = 1,
    .inflight = 1,
    .seconds = 5,
    .warmup = 1,
    .label = "",
};

static void usage(void) {
  fprintf(stderr,
          "usage:\n"
          "  loadgen create  --socket S --count N [--out FILE] [--conns C] [--inflight K] [--seconds T]\n"
          "  loadgen verify  --socket S --tokens FILE [--set unique|repeat] [--pool N] [--conns C]\n"
          "                  [--inflight K] [--seconds T] [--warmup W] [--rate R] [--check-database]\n"
          "  loadgen refresh --socket S --tokens FILE [--out FILE] [--conns C] [--inflight K] [--seconds T]\n"
          "                  [--warmup W]\n"
          "common: --label TEXT (copied into the JSON line), --quiet,\n"
          "        --latency-log FILE (one line per measured request: scheduled send in ms since the start,\n"
          "        latency in us, service time in us)\n"
          "--rate R: open loop, R requests/s in total spread round-robin over the connections, sent at their\n"
          "          scheduled times whatever is outstanding (up to --inflight per connection, default 4096 then);\n"
          "          latency is measured from the scheduled send time.\n");
  exit(2);
}

static double parse_double(const char *name, const char *v) {
  char *end;
  double d = strtod(v, &end);
  if (*v == 0 || *end != 0 || !isfinite(d) || d < 0) die("%s: not a non-negative number: %s", name, v);
  return d;
}

static long parse_long(const char *name, const char *v, long min, long max) {
  char *end;
  long n = strtol(v, &end, 10);
  if (*v == 0 || *end != 0 || n < min || n > max) die("%s: expected an integer in %ld...%ld, got %s", name, min, max, v);
  return n;
}

static void parse_args(int argc, char **argv) {
  if (argc < 2) usage();
  if (!strcmp(argv[1], "create")) opt.mode = MODE_CREATE;
  else if (!strcmp(argv[1], "verify")) opt.mode = MODE_VERIFY;
  else if (!strcmp(argv[1], "refresh")) opt.mode = MODE_REFRESH;
  else usage();
  bool inflight_given = false, seconds_given = false;
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
#define VALUE() (i + 1 < argc ? argv[++i] : (die("%s needs a value", a), (char *)NULL))
    if (!strcmp(a, "--socket")) opt.socket_path = VALUE();
    else if (!strcmp(a, "--tokens")) opt.tokens_path = VALUE();
    else if (!strcmp(a, "--out")) opt.out_path = VALUE();
    else if (!strcmp(a, "--label")) opt.label = VALUE();
    else if (!strcmp(a, "--set")) opt.set = VALUE();
    else if (!strcmp(a, "--pool")) opt.pool = parse_long(a, VALUE(), 1, 100000000);
    else if (!strcmp(a, "--count")) opt.count = parse_long(a, VALUE(), 1, 100000000);
    else if (!strcmp(a, "--conns")) opt.conns = (int)parse_long(a, VALUE(), 1, 1024);
    else if (!strcmp(a, "--inflight")) {
      opt.inflight = (int)parse_long(a, VALUE(), 1, 65536);
      inflight_given = true;
    } else if (!strcmp(a, "--seconds")) {
      opt.seconds = parse_double(a, VALUE());
      seconds_given = true;
    }
    else if (!strcmp(a, "--warmup")) opt.warmup = parse_double(a, VALUE());
    else if (!strcmp(a, "--rate")) opt.rate = parse_double(a, VALUE());
    else if (!strcmp(a, "--check-database")) opt.check_database = true;
    else if (!strcmp(a, "--quiet")) opt.quiet = true;
    else if (!strcmp(a, "--latency-log")) opt.latency_log = VALUE();
    else if (!strcmp(a, "-h") || !strcmp(a, "--help")) usage();
    else die("unknown option %s (--help)", a);
#undef VALUE
  }
  if (!opt.socket_path) die("--socket is required");
  if (opt.mode != MODE_CREATE && !opt.tokens_path) die("--tokens is required");
  if (opt.mode == MODE_CREATE && !opt.count) die("--count is required for create");
  if (opt.mode == MODE_CREATE) {
    opt.warmup = 0;
    if (!seconds_given) opt.seconds = 0; /* create: until --count, unless --seconds limits it */
  }
  if (strcmp(opt.set, "unique") && strcmp(opt.set, "repeat")) die("--set must be unique or repeat");
  if (opt.rate > 0 && !inflight_given) opt.inflight = 4096;
  if (opt.mode != MODE_CREATE && opt.seconds <= 0) die("--seconds must be > 0");
}

/* ------------------------------------------------------------------------------------------------------ */
/* Tokens */

struct session_tokens {
  char *access;
  char *refresh;
  bool busy; /* refresh: a request for this session is outstanding */
};

static struct session_tokens *sessions;
static long n_sessions;

static void load_tokens(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) die("%s: %s", path, strerror(errno));
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  long alloc = 0;
  while ((len = getline(&line, &cap, f)) > 0) {
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
    if (len == 0) continue;
    char *tab = strchr(line, '\t');
    if (tab) *tab = 0;
    if (n_sessions == alloc) {
      alloc = alloc ? alloc * 2 : 1024;
      sessions = xrealloc(sessions, (size_t)alloc * sizeof *sessions);
    }
    sessions[n_sessions].access = xstrdup(line);
    sessions[n_sessions].refresh = xstrdup(tab ? tab + 1 : "");
    sessions[n_sessions].busy = false;
    n_sessions++;
  }
  free(line);
  fclose(f);
  if (n_sessions == 0) die("%s: no tokens", path);
}

static void write_tokens(const char *path) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  if (!f) die("%s: %s", tmp, strerror(errno));
  for (long i = 0; i < n_sessions; i++) {
    if (!sessions[i].access || !sessions[i].access[0]) continue;
    fprintf(f, "%s\t%s\n", sessions[i].access, sessions[i].refresh ? sessions[i].refresh : "");
  }
  if (fclose(f) != 0 || rename(tmp, path) != 0) die("%s: %s", path, strerror(errno));
}

/* Pre-encoded `verify_session` fields (tag 11, length, VerifySessionRequest) of the verify pool. */
static uint8_t *verify_arena;
static size_t *verify_off, *verify_len;
static long verify_n;

static void prepare_verify_pool(void) {
  long n = opt.pool;
  if (!strcmp(opt.set, "repeat") && n == 0) n = 2000;
  if (n == 0 || n > n_sessions) {
    if (n > n_sessions)
      fprintf(stderr, "loadgen: --pool %ld is more than the %ld tokens in %s; using %ld\n", n, n_sessions,
              opt.tokens_path, n_sessions);
    n = n_sessions;
  }
  verify_n = n;
  verify_off = xmalloc((size_t)n * sizeof *verify_off);
  verify_len = xmalloc((size_t)n * sizeof *verify_len);
  size_t total = 0;
  for (long i = 0; i < n; i++) total += strlen(sessions[i].access) + 32;
  verify_arena = xmalloc(total);
  size_t at = 0;
  for (long i = 0; i < n; i++) {
    Sessionsidecar__V1__VerifySessionRequest v = SESSIONSIDECAR__V1__VERIFY_SESSION_REQUEST__INIT;
    v.access_token = sessions[i].access;
    v.check_database = opt.check_database;
    size_t inner = sessionsidecar__v1__verify_session_request__get_packed_size(&v);
    verify_off[i] = at;
    verify_arena[at++] = (11 << 3) | 2;
    at += put_varint(verify_arena + at, inner);
    sessionsidecar__v1__verify_session_request__pack(&v, verify_arena + at);
    at += inner;
    verify_len[i] = at - verify_off[i];
  }
}

/* ------------------------------------------------------------------------------------------------------ */
/* Connections and outstanding requests */

struct buf {
  uint8_t *data;
  size_t len, off, cap;
};

static void buf_reserve(struct buf *b, size_t extra) {
  if (b->off > 0 && b->off == b->len) b->off = b->len = 0;
  if (b->len + extra <= b->cap) return;
  if (b->off > 0) {
    memmove(b->data, b->data + b->off, b->len - b->off);
    b->len -= b->off;
    b->off = 0;
    if (b->len + extra <= b->cap) return;
  }
  size_t cap = b->cap ? b->cap : 65536;
  while (cap < b->len + extra) cap *= 2;
  b->data = xrealloc(b->data, cap);
  b->cap = cap;
}

struct conn {
  int fd;
  int index;
  int outstanding;
  uint64_t measured_ok; /* per connection, to see whether connections are served fairly */
  bool want_out;
  struct buf in, out;
};

struct slot {
  uint64_t id; /* 0 = free */
  uint64_t t_intended;
  uint64_t t_sent;
  long item; /* token / session index */
  int conn;
};

static struct conn *conns;
static int epfd, timer_fd = -1;
static struct slot *slots;
static uint64_t slot_mask;
static uint64_t next_id = 1;
static long total_outstanding;

/* Results */
static uint64_t *lat, *svc_lat;
static size_t n_lat, cap_lat;
static uint64_t measured_ok, measured_not_ok, measured_errors, measured_total;
static uint64_t all_completed, all_errors, all_not_ok;
static uint64_t t_start, t_warm, t_end;
static bool stop_sending;
static char first_error[512];
static uint64_t code_counts[32];
static uint64_t outcome_counts[8];

static uint64_t backlog_events;
static bool connection_lost; /* the server closed or reset a connection */
static volatile sig_atomic_t interrupted;
static void on_signal(int sig) {
  (void)sig;
  interrupted = 1;
}

static int connect_unix(const char *path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket: %s", strerror(errno));
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof sa.sun_path) die("socket path too long: %s", path);
  strcpy(sa.sun_path, path);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) die("connect %s: %s", path, strerror(errno));
  int fl = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, fl | O_NONBLOCK);
  return fd;
}

static void conn_update_events(struct conn *c, bool want_out) {
  if (c->want_out == want_out) return;
  struct epoll_event ev = {.events = EPOLLIN | (want_out ? EPOLLOUT : 0), .data.u32 = (uint32_t)c->index};
  if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0) die("epoll_ctl: %s", strerror(errno));
  c->want_out = want_out;
}

static void conn_flush(struct conn *c) {
  while (c->out.len > c->out.off) {
    ssize_t n = write(c->fd, c->out.data + c->out.off, c->out.len - c->out.off);
    if (n > 0) {
      c->out.off += (size_t)n;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      conn_update_events(c, true);
      return;
    } else if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
      connection_lost = true;
      c->out.off = c->out.len = 0;
      return;
    } else {
      die("write to %s: %s", opt.socket_path, n < 0 ? strerror(errno) : "short write");
    }
  }
  c->out.off = c->out.len = 0;
  conn_update_events(c, false);
}

static void note_error(const char *fmt, ...) {
  if (first_error[0]) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(first_error, sizeof first_error, fmt, ap);
  va_end(ap);
  fprintf(stderr, "loadgen: first error: %s\n", first_error);
}

/* Appends one Request frame: field 1 (id) then `body` (an already-encoded oneof call field). */
static void append_frame(struct conn *c, uint64_t id, const uint8_t *body, size_t body_len) {
  uint8_t head[16];
  size_t h = 0;
  head[h++] = 0x08;
  h += put_varint(head + h, id);
  uint32_t len = (uint32_t)(h + body_len);
  buf_reserve(&c->out, 4 + len);
  uint8_t *p = c->out.data + c->out.len;
  p[0] = (uint8_t)(len >> 24);
  p[1] = (uint8_t)(len >> 16);
  p[2] = (uint8_t)(len >> 8);
  p[3] = (uint8_t)len;
  memcpy(p + 4, head, h);
  memcpy(p + 4 + h, body, body_len);
  c->out.len += 4 + len;
}

/* Packs a Request with protobuf-c (create, refresh) and appends it. */
static void append_request(struct conn *c, Sessionsidecar__V1__Request *req) {
  size_t n = sessionsidecar__v1__request__get_packed_size(req);
  buf_reserve(&c->out, 4 + n);
  uint8_t *p = c->out.data + c->out.len;
  p[0] = (uint8_t)(n >> 24);
  p[1] = (uint8_t)(n >> 16);
  p[2] = (uint8_t)(n >> 8);
  p[3] = (uint8_t)n;
  sessionsidecar__v1__request__pack(req, p + 4);
  c->out.len += 4 + n;
}

/* ------------------------------------------------------------------------------------------------------ */
/* Modes: what to send and how to read the answer */

static long verify_cursor;
static long create_sent, create_done;
static long refresh_cursor;
static char user_prefix[64];

/* Picks the next item to send; -1 when nothing can be sent now. */
static long next_item(void) {
  switch (opt.mode) {
  case MODE_VERIFY: {
    long i = verify_cursor;
    verify_cursor = verify_cursor + 1 == verify_n ? 0 : verify_cursor + 1;
    return i;
  }
  case MODE_CREATE:
    if (create_sent >= opt.count) return -1;
    return create_sent++;
  case MODE_REFRESH:
    for (long tries = 0; tries < n_sessions; tries++) {
      long i = refresh_cursor;
      refresh_cursor = refresh_cursor + 1 == n_sessions ? 0 : refresh_cursor + 1;
      if (!sessions[i].busy && sessions[i].refresh[0]) {
        sessions[i].busy = true;
        return i;
      }
    }
    return -1;
  }
  return -1;
}

static void append_item(struct conn *c, uint64_t id, long item) {
  switch (opt.mode) {
  case MODE_VERIFY:
    append_frame(c, id, verify_arena + verify_off[item], verify_len[item]);
    break;
  case MODE_CREATE: {
    char user[96];
    snprintf(user, sizeof user, "%s-%ld", user_prefix, item);
    Sessionsidecar__V1__CreateSessionRequest cr = SESSIONSIDECAR__V1__CREATE_SESSION_REQUEST__INIT;
    cr.user_id = user;
    cr.access_token_payload_json = "{\"role\":\"bench\",\"tenant\":\"t-1\"}";
    Sessionsidecar__V1__Request req = SESSIONSIDECAR__V1__REQUEST__INIT;
    req.id = id;
    req.call_case = SESSIONSIDECAR__V1__REQUEST__CALL_CREATE_SESSION;
    req.create_session = &cr;
    append_request(c, &req);
    break;
  }
  case MODE_REFRESH: {
    Sessionsidecar__V1__RefreshSessionRequest rr = SESSIONSIDECAR__V1__REFRESH_SESSION_REQUEST__INIT;
    rr.refresh_token = sessions[item].refresh;
    Sessionsidecar__V1__Request req = SESSIONSIDECAR__V1__REQUEST__INIT;
    req.id = id;
    req.call_case = SESSIONSIDECAR__V1__REQUEST__CALL_REFRESH_SESSION;
    req.refresh_session = &rr;
    append_request(c, &req);
    break;
  }
  }
}

/* Returns 1 when the answer is what the call should give (status OK, outcome OK), 0 for a session outcome
   that is not OK, -1 for a status that is not OK or an answer that cannot be read. */
static int handle_answer(const uint8_t *p, size_t len, struct slot *s) {
  if (opt.mode == MODE_VERIFY) {
    struct min_response r;
    if (!parse_min_response(p, len, &r)) {
      note_error("undecodable response frame");
      return -1;
    }
    code_counts[r.code < 32 ? r.code : 31]++;
    if (r.code != 0) {
      note_error("verify: status code %" PRIu64, r.code);
      return -1;
    }
    outcome_counts[r.outcome < 8 ? r.outcome : 7]++;
    if (!r.has_verify || r.outcome != 1) {
      note_error("verify: outcome %" PRIu64 " (1 is OK)", r.outcome);
      return 0;
    }
    return 1;
  }
  Sessionsidecar__V1__Response *resp = sessionsidecar__v1__response__unpack(NULL, len, p);
  if (!resp) {
    note_error("undecodable response frame");
    return -1;
  }
  int result = -1;
  uint64_t code = resp->status ? (uint64_t)resp->status->code : 0;
  code_counts[code < 32 ? code : 31]++;
  if (code != 0) {
    note_error("%s: status %" PRIu64 " %s", opt.mode == MODE_CREATE ? "create" : "refresh", code,
               resp->status && resp->status->message ? resp->status->message : "");
  } else if (opt.mode == MODE_CREATE) {
    if (resp->result_case == SESSIONSIDECAR__V1__RESPONSE__RESULT_CREATE_SESSION && resp->create_session->access_token &&
        resp->create_session->refresh_token) {
      sessions[s->item].access = xstrdup(resp->create_session->access_token->token);
      sessions[s->item].refresh = xstrdup(resp->create_session->refresh_token->token);
      outcome_counts[1]++;
      result = 1;
    } else {
      note_error("create: status OK without tokens");
    }
  } else { /* refresh */
    Sessionsidecar__V1__RefreshSessionResponse *rr =
        resp->result_case == SESSIONSIDECAR__V1__RESPONSE__RESULT_REFRESH_SESSION ? resp->refresh_session : NULL;
    if (!rr) {
      note_error("refresh: status OK without a refresh_session result");
    } else {
      outcome_counts[rr->outcome < 8 ? rr->outcome : 7]++;
      if (rr->outcome == SESSIONSIDECAR__V1__REFRESH_SESSION_RESPONSE__OUTCOME__OK) {
        if (rr->refresh_token && rr->refresh_token->token[0]) {
          free(sessions[s->item].refresh);
          sessions[s->item].refresh = xstrdup(rr->refresh_token->token);
        }
        if (rr->access_token && rr->access_token->token[0]) {
          free(sessions[s->item].access);
          sessions[s->item].access = xstrdup(rr->access_token->token);
        }
        result = 1;
      } else {
        note_error("refresh: outcome %d (%s)", (int)rr->outcome, rr->reason ? rr->reason : "");
        /* A refresh token that failed is not retried. */
        sessions[s->item].refresh[0] = 0;
        result = 0;
      }
    }
  }
  if (opt.mode == MODE_REFRESH) sessions[s->item].busy = false;
  sessionsidecar__v1__response__free_unpacked(resp, NULL);
  return result;
}

static FILE *latency_log;

static void record_latency(uint64_t t_intended, uint64_t total, uint64_t service) {
  if (n_lat == cap_lat) {
    cap_lat = cap_lat ? cap_lat * 2 : 65536;
    lat = xrealloc(lat, cap_lat * sizeof *lat);
    svc_lat = xrealloc(svc_lat, cap_lat * sizeof *svc_lat);
  }
  lat[n_lat] = total;
  svc_lat[n_lat] = service;
  n_lat++;
  if (latency_log)
    fprintf(latency_log, "%.3f %.1f %.1f\n", (double)(t_intended - t_start) / 1e6, (double)total / 1e3,
            (double)service / 1e3);
}

static bool try_send(struct conn *c, uint64_t t_intended, uint64_t now) {
  if (c->outstanding >= opt.inflight) return false;
  struct slot *s = &slots[next_id & slot_mask];
  /* A very old request may still hold this slot: skip ids until a free one (the ring is 4x what may be out). */
  for (uint64_t tries = 0; s->id != 0; tries++) {
    if (tries > slot_mask) return false;
    next_id++;
    s = &slots[next_id & slot_mask];
  }
  long item = next_item();
  if (item < 0) return false;
  uint64_t id = next_id++;
  s->id = id;
  s->t_intended = t_intended;
  s->t_sent = now;
  s->item = item;
  s->conn = c->index;
  append_item(c, id, item);
  c->outstanding++;
  total_outstanding++;
  return true;
}

/* Reads what the socket has and handles every complete frame. Returns false when the peer closed. */
static bool conn_read(struct conn *c) {
  for (;;) {
    buf_reserve(&c->in, 65536);
    ssize_t n = read(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len);
    if (n > 0) {
      c->in.len += (size_t)n;
    } else if (n == 0) {
      return false;
    } else if (errno == EINTR) {
      continue;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      break;
    } else if (errno == ECONNRESET) {
      return false;
    } else {
      die("read from %s: %s", opt.socket_path, strerror(errno));
    }
    uint64_t now = now_ns();
    while (c->in.len - c->in.off >= 4) {
      const uint8_t *p = c->in.data + c->in.off;
      uint32_t len = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
      if (len > MAX_FRAME) die("response frame of %u bytes", len);
      if (c->in.len - c->in.off < 4 + (size_t)len) {
        buf_reserve(&c->in, 4 + (size_t)len);
        break;
      }
      p += 4;
      uint64_t id = 0;
      find_varint(p, p + len, 1, &id);
      struct slot *s = id ? &slots[id & slot_mask] : NULL;
      if (!s || s->id != id) {
        /* id 0: a connection-level error; anything else: not ours */
        struct min_response r;
        parse_min_response(p, len, &r);
        note_error("response with unknown id %" PRIu64 " (status %" PRIu64 ")", id, r.code);
        all_errors++;
        measured_errors++;
        c->in.off += 4 + len;
        continue;
      }
      int result = handle_answer(p, len, s);
      all_completed++;
      if (result < 0) all_errors++;
      if (result == 0) all_not_ok++;
      if (s->t_intended >= t_warm && s->t_intended < t_end) {
        measured_total++;
        if (result > 0) {
          measured_ok++;
          c->measured_ok++;
        }
        else if (result == 0) measured_not_ok++;
        else measured_errors++;
        record_latency(s->t_intended, now - s->t_intended, now - s->t_sent);
      }
      if (opt.mode == MODE_CREATE) create_done++;
      s->id = 0;
      c->outstanding--;
      total_outstanding--;
      c->in.off += 4 + len;
    }
    if (c->in.off == c->in.len) c->in.off = c->in.len = 0;
  }
  return true;
}

/* ------------------------------------------------------------------------------------------------------ */
/* Statistics and output */

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* Nearest-rank percentile in microseconds. */
static double pct_us(uint64_t *v, size_t n, double q) {
  if (n == 0) return 0;
  size_t rank = (size_t)ceil(q * (double)n);
  if (rank < 1) rank = 1;
  if (rank > n) rank = n;
  return (double)v[rank - 1] / 1000.0;
}

static void json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\') fprintf(f, "\\%c", ch);
    else if (ch < 0x20) fprintf(f, "\\u%04x", ch);
    else fputc(ch, f);
  }
  fputc('"', f);
}

static void print_result(double window_s, uint64_t lost) {
  qsort(lat, n_lat, sizeof *lat, cmp_u64);
  qsort(svc_lat, n_lat, sizeof *svc_lat, cmp_u64);
  double mean = 0;
  for (size_t i = 0; i < n_lat; i++) mean += (double)lat[i];
  mean = n_lat ? mean / (double)n_lat / 1000.0 : 0;
  const char *mode = opt.mode == MODE_CREATE ? "create" : opt.mode == MODE_VERIFY ? "verify" : "refresh";
  FILE *f = stdout;
  fprintf(f, "{\"mode\":\"%s\",\"label\":", mode);
  json_string(f, opt.label);
  fprintf(f, ",\"socket\":");
  json_string(f, opt.socket_path);
  if (opt.mode == MODE_VERIFY) {
    fprintf(f, ",\"set\":\"%s\",\"pool\":%ld,\"check_database\":%s", opt.set, verify_n,
            opt.check_database ? "true" : "false");
  } else if (opt.mode == MODE_REFRESH) {
    fprintf(f, ",\"pool\":%ld", n_sessions);
  } else {
    fprintf(f, ",\"count\":%ld", opt.count);
  }
  fprintf(f, ",\"conns\":%d,\"inflight\":%d,\"open_loop\":%s,\"rate_target\":%.1f", opt.conns, opt.inflight,
          opt.rate > 0 ? "true" : "false", opt.rate);
  fprintf(f, ",\"seconds\":%.3f,\"warmup\":%.3f", window_s, opt.warmup);
  fprintf(f, ",\"requests\":%" PRIu64 ",\"ok\":%" PRIu64 ",\"not_ok\":%" PRIu64 ",\"errors\":%" PRIu64
             ",\"lost\":%" PRIu64,
          measured_total, measured_ok, measured_not_ok, measured_errors, lost);
  fprintf(f, ",\"per_s\":%.1f", window_s > 0 ? (double)measured_ok / window_s : 0.0);
  fprintf(f, ",\"mean_us\":%.1f,\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f",
          mean, pct_us(lat, n_lat, 0.50), pct_us(lat, n_lat, 0.90), pct_us(lat, n_lat, 0.99),
          pct_us(lat, n_lat, 0.999), n_lat ? (double)lat[n_lat - 1] / 1000.0 : 0.0);
  if (opt.rate > 0) {
    fprintf(f, ",\"service_p50_us\":%.1f,\"service_p99_us\":%.1f,\"service_p999_us\":%.1f",
            pct_us(svc_lat, n_lat, 0.50), pct_us(svc_lat, n_lat, 0.99), pct_us(svc_lat, n_lat, 0.999));
    fprintf(f, ",\"backlogged\":%" PRIu64, backlog_events);
  }
  fprintf(f, ",\"per_conn_ok\":[");
  for (int i = 0; i < opt.conns; i++) fprintf(f, "%s%" PRIu64, i ? "," : "", conns[i].measured_ok);
  fprintf(f, "]");
  fprintf(f, ",\"status_codes\":{");
  bool first = true;
  for (int i = 0; i < 32; i++)
    if (code_counts[i]) {
      fprintf(f, "%s\"%d\":%" PRIu64, first ? "" : ",", i, code_counts[i]);
      first = false;
    }
  fprintf(f, "},\"outcomes\":{");
  first = true;
  for (int i = 0; i < 8; i++)
    if (outcome_counts[i]) {
      fprintf(f, "%s\"%d\":%" PRIu64, first ? "" : ",", i, outcome_counts[i]);
      first = false;
    }
  fprintf(f, "},\"first_error\":");
  json_string(f, first_error);
  fprintf(f, "}\n");
  fflush(f);
}

/* ------------------------------------------------------------------------------------------------------ */

static void arm_timer(uint64_t at_ns) {
  struct itimerspec its = {0};
  its.it_value.tv_sec = (time_t)(at_ns / 1000000000ull);
  its.it_value.tv_nsec = (long)(at_ns % 1000000000ull);
  if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0) its.it_value.tv_nsec = 1;
  if (timerfd_settime(timer_fd, TFD_TIMER_ABSTIME, &its, NULL) != 0) die("timerfd_settime: %s", strerror(errno));
}

int main(int argc, char **argv) {
  parse_args(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);

  if (opt.mode == MODE_CREATE) {
    n_sessions = opt.count;
    sessions = xmalloc((size_t)n_sessions * sizeof *sessions);
    memset(sessions, 0, (size_t)n_sessions * sizeof *sessions);
    snprintf(user_prefix, sizeof user_prefix, "bench-%ld-%d", (long)time(NULL), (int)getpid());
  } else {
    load_tokens(opt.tokens_path);
    if (opt.mode == MODE_VERIFY) prepare_verify_pool();
  }

  if (opt.latency_log) {
    latency_log = fopen(opt.latency_log, "w");
    if (!latency_log) die("%s: %s", opt.latency_log, strerror(errno));
  }
  uint64_t max_outstanding = (uint64_t)opt.conns * (uint64_t)opt.inflight;
  uint64_t ring = 1024;
  while (ring < 4 * max_outstanding) ring <<= 1;
  slots = xmalloc(ring * sizeof *slots);
  memset(slots, 0, ring * sizeof *slots);
  slot_mask = ring - 1;

  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) die("epoll_create1: %s", strerror(errno));
  conns = xmalloc((size_t)opt.conns * sizeof *conns);
  memset(conns, 0, (size_t)opt.conns * sizeof *conns);
  for (int i = 0; i < opt.conns; i++) {
    conns[i].fd = connect_unix(opt.socket_path);
    conns[i].index = i;
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, conns[i].fd, &ev) != 0) die("epoll_ctl: %s", strerror(errno));
  }
  bool open_loop = opt.rate > 0;
  if (open_loop) {
    timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (timer_fd < 0) die("timerfd_create: %s", strerror(errno));
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 0xffffffffu};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, timer_fd, &ev) != 0) die("epoll_ctl: %s", strerror(errno));
  }

  t_start = now_ns();
  t_warm = t_start + (uint64_t)(opt.warmup * 1e9);
  t_end = opt.seconds > 0 ? t_warm + (uint64_t)(opt.seconds * 1e9) : UINT64_MAX;
  if (opt.mode == MODE_CREATE && opt.seconds <= 0) t_end = UINT64_MAX;
  double interval_ns = open_loop ? 1e9 / opt.rate : 0;
  uint64_t sched_k = 0; /* open loop: index of the next scheduled request */
  int rr_conn = 0;
  uint64_t last_progress = t_start;

  if (!open_loop) {
    for (int i = 0; i < opt.conns; i++) {
      uint64_t now = now_ns();
      while (try_send(&conns[i], now, now)) {
      }
      conn_flush(&conns[i]);
    }
  }

  struct epoll_event events[64];
  bool peer_closed = false;
  for (;;) {
    uint64_t now = now_ns();
    if (interrupted) {
      note_error("interrupted");
      break;
    }
    if (!stop_sending && (now >= t_end || (opt.mode == MODE_CREATE && create_sent >= opt.count))) stop_sending = true;
    if (stop_sending && total_outstanding == 0) break;
    if (stop_sending && now > t_end && now - t_end > DRAIN_TIMEOUT_NS && t_end != UINT64_MAX) break;

    if (open_loop && !stop_sending) {
      /* Send everything that is due, round-robin over the connections. */
      bool sent_any = false, backlogged = false;
      for (;;) {
        uint64_t due = t_start + (uint64_t)((double)sched_k * interval_ns);
        if (due > now || due >= t_end) break;
        struct conn *c = &conns[rr_conn];
        if (!try_send(c, due, now)) { /* backlog: stays due, measured from its scheduled time */
          backlogged = true;
          break;
        }
        sched_k++;
        rr_conn = rr_conn + 1 == opt.conns ? 0 : rr_conn + 1;
        sent_any = true;
      }
      if (sent_any)
        for (int i = 0; i < opt.conns; i++)
          if (conns[i].out.len > conns[i].out.off && !conns[i].want_out) conn_flush(&conns[i]);
      /* Backlogged: the next answer wakes us (no timer, or it would spin). */
      uint64_t due = t_start + (uint64_t)((double)sched_k * interval_ns);
      if (backlogged) backlog_events++;
      arm_timer(backlogged ? now + 1000000ull : (due < t_end ? due : t_end));
    }

    int timeout_ms = 100;
    int n = epoll_wait(epfd, events, 64, timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait: %s", strerror(errno));
    }
    for (int e = 0; e < n; e++) {
      uint32_t idx = events[e].data.u32;
      if (idx == 0xffffffffu) {
        uint64_t expirations;
        if (read(timer_fd, &expirations, sizeof expirations) < 0 && errno != EAGAIN) die("timerfd read");
        continue;
      }
      struct conn *c = &conns[idx];
      if (events[e].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        if (!conn_read(c)) connection_lost = true;
      }
      if (events[e].events & EPOLLOUT) conn_flush(c);
      if (!open_loop && !stop_sending) {
        uint64_t t = now_ns();
        if (t < t_end)
          while (try_send(c, t, t)) {
          }
      }
      if (c->out.len > c->out.off && !c->want_out) conn_flush(c);
    }
    if (connection_lost) {
      peer_closed = true;
      note_error("the server closed a connection");
      break;
    }
    if (!opt.quiet && now_ns() - last_progress > 5000000000ull && opt.mode == MODE_CREATE) {
      last_progress = now_ns();
      fprintf(stderr, "loadgen: created %ld of %ld\n", create_done, opt.count);
    }
  }

  uint64_t finished = now_ns();
  double window_s;
  if (opt.mode == MODE_CREATE) {
    window_s = (double)(finished - t_start) / 1e9;
  } else {
    uint64_t end = t_end < finished ? t_end : finished;
    window_s = end > t_warm ? (double)(end - t_warm) / 1e9 : 0;
  }
  uint64_t lost = (uint64_t)total_outstanding;
  if (lost) note_error("%" PRIu64 " requests got no answer", lost);
  print_result(window_s, lost);

  if (latency_log && fclose(latency_log) != 0) die("%s: %s", opt.latency_log, strerror(errno));
  if (opt.out_path && opt.mode != MODE_VERIFY) write_tokens(opt.out_path);
  for (int i = 0; i < opt.conns; i++) close(conns[i].fd);
  bool clean = measured_errors == 0 && measured_not_ok == 0 && lost == 0 && !peer_closed && !interrupted &&
               measured_total > 0;
  return clean ? 0 : 1;
}
