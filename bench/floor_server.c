/*
 * floor_server — the least a verify server of this protocol can do per request, to measure the sidecar against.
 *
 * It speaks the sidecar's framing on a Unix socket (4-byte big-endian length, then one protobuf message) and,
 * for every request frame: reads the request id (field 1, a varint; nothing else of the request is decoded),
 * does one RSA-2048 PKCS#1 v1.5 SHA-256 verification with OpenSSL (EVP_DigestVerify of a fixed 492-byte message,
 * about the size of an access token's signing input, against a fixed key, so SHA-256 of it is included), and
 * answers a fixed Response: { id, status {} (OK), verify_session { outcome: OK } }. One thread per connection;
 * every complete frame of one read is answered, and the answers go out in one write (as the sidecar flushes once
 * per burst). The key pair is generated at start.
 *
 *   floor_server --socket PATH [--init-each]
 *
 * --init-each: EVP_DigestVerifyInit for every request instead of copying an initialised context (slower; for
 * comparison). Runs until SIGINT/SIGTERM; removes its socket file on exit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#define MAX_FRAME (4u << 20)
#define MESSAGE_LEN 492

static EVP_PKEY *pkey;
static unsigned char message[MESSAGE_LEN];
static unsigned char signature[512];
static size_t signature_len;
static bool init_each;
static const char *socket_path;

static void die(const char *what) {
  fprintf(stderr, "floor_server: %s", what);
  if (errno) fprintf(stderr, ": %s", strerror(errno));
  fprintf(stderr, "\n");
  ERR_print_errors_fp(stderr);
  exit(1);
}

static void setup_key(void) {
  pkey = EVP_RSA_gen(2048);
  if (!pkey) die("EVP_RSA_gen");
  /* A JWT-like signing input: base64url-ish header.payload. */
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (size_t i = 0; i < MESSAGE_LEN; i++) message[i] = (unsigned char)alphabet[(i * 7 + 3) % 64];
  message[36] = '.';
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  signature_len = sizeof signature;
  if (!ctx || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pkey) != 1 ||
      EVP_DigestSign(ctx, signature, &signature_len, message, MESSAGE_LEN) != 1)
    die("signing the fixed message");
  EVP_MD_CTX_free(ctx);
}

struct verifier {
  EVP_MD_CTX *template_ctx; /* initialised once for verification */
  EVP_MD_CTX *ctx;
};

static void verifier_init(struct verifier *v) {
  v->template_ctx = EVP_MD_CTX_new();
  v->ctx = EVP_MD_CTX_new();
  if (!v->template_ctx || !v->ctx) die("EVP_MD_CTX_new");
  EVP_PKEY_CTX *pctx = NULL;
  if (EVP_DigestVerifyInit(v->template_ctx, &pctx, EVP_sha256(), NULL, pkey) != 1) die("EVP_DigestVerifyInit");
  if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) die("set_rsa_padding");
}

static void verifier_free(struct verifier *v) {
  EVP_MD_CTX_free(v->template_ctx);
  EVP_MD_CTX_free(v->ctx);
}

/* One verification; aborts if it fails (it never should: a fixed, valid signature). */
static void verify_once(struct verifier *v) {
  if (init_each) {
    EVP_MD_CTX_reset(v->ctx);
    if (EVP_DigestVerifyInit(v->ctx, NULL, EVP_sha256(), NULL, pkey) != 1) die("EVP_DigestVerifyInit");
  } else if (EVP_MD_CTX_copy_ex(v->ctx, v->template_ctx) != 1) {
    die("EVP_MD_CTX_copy_ex");
  }
  if (EVP_DigestVerify(v->ctx, signature, signature_len, message, MESSAGE_LEN) != 1) die("EVP_DigestVerify failed");
}

static bool get_varint(const unsigned char **p, const unsigned char *end, uint64_t *out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*p >= end) return false;
    unsigned char b = *(*p)++;
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *out = v;
      return true;
    }
  }
  return false;
}

/* The request's id: field 1 (varint). Other fields are skipped without being looked at. */
static uint64_t request_id(const unsigned char *p, size_t len) {
  const unsigned char *end = p + len;
  while (p < end) {
    uint64_t key, n;
    if (!get_varint(&p, end, &key)) return 0;
    unsigned wire = (unsigned)(key & 7);
    if ((key >> 3) == 1 && wire == 0) return get_varint(&p, end, &n) ? n : 0;
    switch (wire) {
    case 0: if (!get_varint(&p, end, &n)) return 0; break;
    case 1: if (end - p < 8) return 0; p += 8; break;
    case 2: if (!get_varint(&p, end, &n) || (uint64_t)(end - p) < n) return 0; p += n; break;
    case 5: if (end - p < 4) return 0; p += 4; break;
    default: return 0;
    }
  }
  return 0;
}

/* Response { id = 1; status = 2 {} ; verify_session = 11 { outcome = 1 } } with its frame header. */
static size_t put_response(unsigned char *out, uint64_t id) {
  unsigned char body[32];
  size_t n = 0;
  body[n++] = 0x08;
  do {
    unsigned char b = id & 0x7f;
    id >>= 7;
    body[n++] = b | (id ? 0x80 : 0);
  } while (id);
  body[n++] = 0x12; /* status, empty: code OK */
  body[n++] = 0x00;
  body[n++] = 0x5a; /* verify_session, 2 bytes */
  body[n++] = 0x02;
  body[n++] = 0x08; /* outcome = OK */
  body[n++] = 0x01;
  out[0] = (unsigned char)(n >> 24);
  out[1] = (unsigned char)(n >> 16);
  out[2] = (unsigned char)(n >> 8);
  out[3] = (unsigned char)n;
  memcpy(out + 4, body, n);
  return 4 + n;
}

static bool write_all(int fd, const unsigned char *p, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    len -= (size_t)n;
  }
  return true;
}

static void *serve_connection(void *arg) {
  int fd = (int)(intptr_t)arg;
  struct verifier v;
  verifier_init(&v);
  size_t cap = 1 << 16, len = 0;
  unsigned char *in = malloc(cap);
  size_t out_cap = 1 << 16;
  unsigned char *out = malloc(out_cap);
  if (!in || !out) die("out of memory");
  for (;;) {
    if (len == cap) {
      cap *= 2;
      in = realloc(in, cap);
      if (!in) die("out of memory");
    }
    ssize_t n = read(fd, in + len, cap - len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    len += (size_t)n;
    size_t off = 0, out_len = 0;
    bool close_now = false;
    while (len - off >= 4) {
      uint32_t flen = (uint32_t)in[off] << 24 | (uint32_t)in[off + 1] << 16 | (uint32_t)in[off + 2] << 8 | in[off + 3];
      if (flen == 0 || flen > MAX_FRAME) {
        close_now = true;
        break;
      }
      if (len - off < 4 + (size_t)flen) {
        if (4 + (size_t)flen > cap) {
          /* grow so the whole frame fits after the move below */
          while (cap < 4 + (size_t)flen) cap *= 2;
          in = realloc(in, cap);
          if (!in) die("out of memory");
        }
        break;
      }
      uint64_t id = request_id(in + off + 4, flen);
      verify_once(&v);
      if (out_len + 32 > out_cap) {
        out_cap *= 2;
        out = realloc(out, out_cap);
        if (!out) die("out of memory");
      }
      out_len += put_response(out + out_len, id);
      off += 4 + flen;
    }
    if (out_len && !write_all(fd, out, out_len)) break;
    if (close_now) break;
    memmove(in, in + off, len - off);
    len -= off;
  }
  free(in);
  free(out);
  verifier_free(&v);
  close(fd);
  return NULL;
}

static void on_signal(int sig) {
  if (socket_path) unlink(socket_path);
  signal(sig, SIG_DFL);
  raise(sig);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--socket") && i + 1 < argc) socket_path = argv[++i];
    else if (!strcmp(argv[i], "--init-each")) init_each = true;
    else {
      fprintf(stderr, "usage: floor_server --socket PATH [--init-each]\n");
      return 2;
    }
  }
  if (!socket_path) {
    fprintf(stderr, "usage: floor_server --socket PATH [--init-each]\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  setup_key();
  {
    /* Self-check before serving. */
    struct verifier v;
    verifier_init(&v);
    verify_once(&v);
    verifier_free(&v);
  }
  int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (lfd < 0) die("socket");
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(socket_path) >= sizeof sa.sun_path) {
    errno = 0;
    die("socket path too long");
  }
  strcpy(sa.sun_path, socket_path);
  unlink(socket_path);
  /* Bind under a temporary name, then rename: the socket appears only once it listens. */
  char tmp[sizeof sa.sun_path + 16];
  snprintf(tmp, sizeof tmp, "%s.%d", socket_path, (int)getpid());
  if (strlen(tmp) < sizeof sa.sun_path) {
    strcpy(sa.sun_path, tmp);
    unlink(tmp);
  }
  if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0) die("bind");
  if (listen(lfd, 128) != 0) die("listen");
  if (strcmp(sa.sun_path, socket_path) != 0 && rename(sa.sun_path, socket_path) != 0) die("rename");
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  fprintf(stderr, "floor_server: listening on %s (RSA-2048, %s)\n", socket_path,
          init_each ? "EVP_DigestVerifyInit per request" : "copy of an initialised context per request");
  for (;;) {
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      die("accept");
    }
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, serve_connection, (void *)(intptr_t)fd) != 0) {
      close(fd);
    }
    pthread_attr_destroy(&attr);
  }
}
