#!/usr/bin/env python3
"""Writes the seed corpora fuzz/<target>/corpus/ (deterministically, except the RSA signatures' inputs are
fixed too, so the files only change when this script does). Tokens are signed with the fuzz key in
fuzz/TokenKeys.swift through the openssl command. Run from anywhere: python3 fuzz/make_corpus.py"""

import base64
import json
import os
import re
import shutil
import struct
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    directory = os.path.join(HERE, target, "corpus")
    os.makedirs(directory, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(directory, name), "wb") as handle:
        handle.write(data)


def reset(target):
    shutil.rmtree(os.path.join(HERE, target, "corpus"), ignore_errors=True)


# --- protobuf, by hand (sidecar.proto) -------------------------------------------------------------------------
def varint(value):
    out = bytearray()
    value &= (1 << 64) - 1
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_varint(number, value):
    return varint(number << 3) + varint(value)


def field_bytes(number, payload):
    if isinstance(payload, str):
        payload = payload.encode()
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def frame(body):
    return struct.pack(">I", len(body)) + body


def wire_corpus():
    reset("wire")
    verify = field_bytes(1, "eyJhbGciOiJSUzI1NiJ9.e30.c2ln") + field_bytes(2, "csrf") + field_varint(3, 1)
    create = (
        field_bytes(1, "user-1")
        + field_bytes(2, '{"role":"admin"}')
        + field_bytes(3, "{}")
        + field_varint(4, 1)
    )
    requests = {
        "verify": field_varint(1, 1) + field_bytes(11, verify),
        "create": field_varint(1, 2) + field_bytes(10, create),
        "refresh": field_varint(1, 3) + field_bytes(12, field_bytes(1, "refresh-token") + field_bytes(2, "csrf")),
        "revoke_handles": field_varint(1, 4)
        + field_bytes(13, field_bytes(1, field_bytes(1, "h-1") + field_bytes(1, "h-2"))),
        "revoke_user": field_varint(1, 5) + field_bytes(13, field_bytes(2, "user-1")),
        "list": field_varint(1, 6) + field_bytes(14, field_bytes(1, "user-1")),
        "get": field_varint(1, 7) + field_bytes(15, field_bytes(1, "h-1")),
        "update_data": field_varint(1, 8) + field_bytes(16, field_bytes(1, "h-1") + field_bytes(2, '{"a":1}')),
        "update_payload": field_varint(1, 9) + field_bytes(17, field_bytes(1, "h-1") + field_bytes(2, '{"b":2}')),
        "regenerate": field_varint(1, 10) + field_bytes(18, field_bytes(1, "a.b.c") + field_bytes(2, "{}")),
        "signing_keys": field_varint(1, 11) + field_bytes(19, b""),
        "watch": field_varint(1, 12) + field_bytes(20, b""),
        "health": field_varint(1, 13) + field_bytes(21, b""),
        "reserved_id": field_bytes(21, b""),
        "no_call": field_varint(1, 14),
        "unknown_call": field_varint(1, 15) + field_bytes(99, b"future"),
        "id_max": field_varint(1, (1 << 64) - 1) + field_bytes(21, b""),
    }
    for control, (name, body) in enumerate(requests.items()):
        # control & 3 == 3: the server's default cap, so every realistic frame fits.
        write("wire", "request_" + name, bytes([(control << 2) | 3]) + frame(body))
    # A pipelined stream of several requests, cut in the middle of the last.
    stream = b"".join(frame(body) for body in requests.values())
    write("wire", "pipelined", bytes([0x07]) + stream)
    write("wire", "pipelined_partial", bytes([0x0B]) + stream + frame(requests["create"])[:9])
    write("wire", "zero_length", bytes([0x03]) + frame(requests["health"]) + b"\x00\x00\x00\x00" + b"rest")
    write("wire", "over_cap_1024", bytes([0x02]) + struct.pack(">I", 1025) + b"\x01\x02\x03")
    write("wire", "over_cap_max", bytes([0x03]) + b"\xff\xff\xff\xff")
    write("wire", "small_cap_16", bytes([0x00]) + frame(requests["verify"]))
    # Responses as the server writes them (a client decodes these).
    session = (
        field_bytes(1, "h-1") + field_bytes(2, "user-1") + field_bytes(3, "{}") + field_varint(4, 1_800_000_000_000)
    )
    signing_key = field_bytes(1, "d-1") + field_bytes(2, "RS256") + field_varint(3, 1)
    responses = {
        "verify_ok": field_varint(1, 1)
        + field_bytes(2, field_varint(1, 0))
        + field_bytes(11, field_varint(1, 1) + field_bytes(3, session)),
        "not_found": field_varint(1, 7) + field_bytes(2, field_varint(1, 5) + field_bytes(2, "session not found")),
        "unknown_code": field_varint(1, 8) + field_bytes(2, field_varint(1, 99) + field_bytes(2, "?")),
        "keys": field_varint(1, 11)
        + field_bytes(19, field_bytes(1, '{"keys":[]}') + field_bytes(2, signing_key) + field_varint(3, 60)),
    }
    for name, body in responses.items():
        write("wire", "response_" + name, bytes([0x03]) + frame(body))


# --- tokens ------------------------------------------------------------------------------------------------------
def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def fuzz_key_pem():
    source = open(os.path.join(HERE, "TokenKeys.swift")).read()
    match = re.search(r"-----BEGIN RSA PRIVATE KEY-----.*?-----END RSA PRIVATE KEY-----", source, re.S)
    return "\n".join(line.strip() for line in match.group(0).splitlines()) + "\n"


def sign(message, key_path):
    return subprocess.run(
        ["openssl", "dgst", "-sha256", "-sign", key_path], input=message.encode(), capture_output=True, check=True
    ).stdout


KID = "d-1700000000000"
HEADER = '{"alg":"RS256","typ":"JWT","kid":"%s","version":"5"}' % KID


def payload(exp=2_000_000_000, extra=""):
    return (
        '{"sub":"user-1","exp":%d,"iat":1700000000,"sessionHandle":"h-1","refreshTokenHash1":"r1",'
        '"parentRefreshTokenHash1":null,"antiCsrfToken":null%s}' % (exp, extra)
    )


def token_corpora():
    for target in ("jwt", "jwt_signed", "json"):
        reset(target)
    with tempfile.TemporaryDirectory() as directory:
        key_path = os.path.join(directory, "key.pem")
        with open(key_path, "w") as handle:
            handle.write(fuzz_key_pem())

        def signed(header, body):
            signing_input = b64(header) + "." + b64(body)
            return signing_input + "." + b64(sign(signing_input, key_path))

        valid = signed(HEADER, payload())
        tokens = {
            "valid": valid,
            "expired": signed(HEADER, payload(exp=1_700_000_100)),
            "custom_claims": signed(HEADER, payload(extra=',"role":"admin","tenant":{"id":7,"tags":["a","\\u00e9"]}')),
            "csrf": signed(HEADER, payload().replace('"antiCsrfToken":null', '"antiCsrfToken":"csrf-1"')),
            "exp_overflow": signed(HEADER, payload(exp=9_223_372_036_854_775)),
            "missing_claim": signed(HEADER, '{"sub":"user-1","exp":2000000000}'),
            "other_kid": signed(HEADER.replace(KID, "s-fuzz-other"), payload()),
            "ps256_kid": signed(HEADER.replace(KID, "s-fuzz-ps256"), payload()),
            "unknown_kid": signed(HEADER.replace(KID, "d-1"), payload()),
            "alg_none": b64('{"alg":"none","kid":"%s"}' % KID) + "." + b64(payload()) + ".",
            "hs256": b64('{"alg":"HS256","kid":"%s"}' % KID) + "." + b64(payload()) + ".AAAA",
            "jku": signed('{"alg":"RS256","kid":"%s","jku":"https://example.com/jwks"}' % KID, payload()),
            "duplicate_alg": signed('{"alg":"RS256","alg":"none","kid":"%s"}' % KID, payload()),
            "padded": valid + "==",
            "two_segments": valid.rsplit(".", 1)[0],
        }
        for name, token in tokens.items():
            write("jwt", name, token)

        # jwt_signed: control byte, then payload (even) or header 0x00 payload (odd); bit 1 adds the tamper check.
        write("jwt_signed", "payload_valid", b"\x02" + payload().encode())
        write("jwt_signed", "payload_expired", b"\x00" + payload(exp=1_700_000_100).encode())
        write("jwt_signed", "payload_custom", b"\x00" + payload(extra=',"role":"admin","n":-0,"f":1.5e3').encode())
        escaped_subject = payload().replace('"user-1"', '"\\ud83d\\ude00\\n\\u0000"')
        write("jwt_signed", "payload_escapes", b"\x00" + escaped_subject.encode())
        write("jwt_signed", "payload_overflow", b"\x00" + payload(exp=9_223_372_036_854_775_807).encode())
        write("jwt_signed", "payload_not_object", b"\x00[1,2,3]")
        write("jwt_signed", "payload_empty", b"\x00")
        write("jwt_signed", "header_signer", b"\x03" + HEADER.encode() + b"\x00" + payload().encode())
        headers = {
            "header_minimal": '{"kid":"%s","alg":"RS256"}' % KID,
            "header_crit": '{"alg":"RS256","kid":"%s","crit":["exp"]}' % KID,
            "header_kid_escaped": '{"alg":"RS256","kid":"d-\\u00317"}',
            "header_ps256_key": '{"alg":"RS256","kid":"s-fuzz-ps256"}',
        }
        for name, header in headers.items():
            write("jwt_signed", name, b"\x01" + header.encode() + b"\x00" + payload().encode())

        # json: token parts, claims, JWKS, and the strict scanner's edge cases.
        public_numbers = subprocess.run(
            ["openssl", "rsa", "-in", key_path, "-noout", "-modulus"], capture_output=True, check=True, text=True
        ).stdout.strip().split("=", 1)[1]
        modulus = bytes.fromhex(public_numbers)
        jwks = {"keys": [{"kty": "RSA", "kid": KID, "n": b64(modulus), "e": "AQAB", "alg": "RS256", "use": "sig"}]}
        documents = {
            "header": HEADER,
            "payload": payload(),
            "payload_custom": payload(extra=',"role":"admin","tenant":{"id":7,"tags":["a","b"]}'),
            "custom_claims": '{"role":"admin","perms":["read","write"],"n":1.5e-3,"ok":true,"none":null}',
            "protected_claim": '{"sub":"someone-else"}',
            "jwks": json.dumps(jwks, separators=(",", ":")),
            "jwks_ops": json.dumps({"keys": [dict(jwks["keys"][0], key_ops=["verify"])]}),
            "jwks_ec": '{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}]}',
            "jwks_private": json.dumps({"keys": [dict(jwks["keys"][0], d="AQAB")]}),
            "duplicate": '{"a":1,"a":2}',
            "duplicate_escaped": '{"a":1,"\\u0061":2}',
            "surrogates": '["\\ud83d\\ude00","\\u00e9","\\/"]',
            "lone_surrogate": '["\\ud800"]',
            "utf8": '{"k":"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"}',
            "bad_utf8": b'{"k":"\xc0\xaf"}',
            "numbers": "[0,-0,12,-12,1.0,1e5,1E+5,1e-5,-0.5e-10,"
            "9223372036854775807,-9223372036854775808,9223372036854775808]",
            "bad_numbers": '[01]',
            "deep_ok": "[" * 64 + "]" * 64,
            "deep_too": "[" * 65 + "]" * 65,
            "scalar": '  "text"  ',
            "trailing": '{} x',
            "empty": "",
            "whitespace": " \t\r\n",
        }
        for name, text in documents.items():
            write("json", name, text)


# --- configuration -------------------------------------------------------------------------------------------------
def config_corpora():
    reset("config")
    reset("config_yaml")
    minimal = {
        "mysql.user": "sidecar",
        "mysql.password": "hunter2-canary",
        "mysql.database": "sessions",
        "tokens.refreshToken.renewTokenPath": "/auth/session/refresh",
        "cookie.domain": "example.com",
    }
    full = dict(minimal)
    full.update(
        {
            "mysql.host": "db.internal",
            "mysql.port": "3306",
            "mysql.connectionLimit": "50",
            "mysql.tables.signingKey": "signing_key",
            "mysql.tables.refreshTokens": "refresh_token",
            "mysql.tls.mode": "verify-identity",
            "mysql.tls.ca": "/etc/ssl/ca.pem",
            "tokens.accessToken.signingKey.dynamic": "true",
            "tokens.accessToken.signingKey.updateInterval": "24",
            "tokens.accessToken.validity": "3600",
            "tokens.accessToken.blacklisting": "yes",
            "tokens.accessToken.revocationSyncInterval": "1000",
            "tokens.refreshToken.validity": "2400",
            "tokens.refreshToken.removalCronjobInterval": "0 0 0 1-31/7 * *",
            "tokens.refreshToken.rotationGracePeriod": "30",
            "logging.level": "info",
            "logging.format": "json",
            "cookie.secure": "on",
            "sidecar.socketPath": "/run/session-sidecar/sidecar.sock",
            "sidecar.socketMode": "0660",
            "sidecar.maxFrameBytes": "262144",
            "sidecar.maxInFlightPerConnection": "256",
            "sidecar.maxAccessTokenBytes": "16384",
            "sidecar.http.address": "127.0.0.1:8080",
            "sidecar.drainTimeoutSeconds": "10",
            "sidecar.readinessDatabaseWindowSeconds": "10",
        }
    )

    def lines(values):
        return "".join("%s=%s\n" % item for item in values.items())

    write("config", "minimal", lines(minimal))
    write("config", "full", lines(full))
    environment = "$MYSQL_PASSWORD=from-env\n$ACCESS_TOKEN_VALIDITY=900\n$REFRESH_TOKEN_VALIDITY=1440\n$MYSQL_PORT=3307\n"
    write("config", "environment", lines(minimal) + environment)
    write("config", "ipv6_http", lines(dict(minimal, **{"sidecar.http.address": "[::1]:9090"})))
    problems = {
        "mysql.port": "0",
        "mysql.tables.signingKey": "drop table;",
        "cookie.domain": "a b",
        "logging.level": "loud",
        "unknown.key": "1",
        "tokens.refreshToken.removalCronjobInterval": "* * *",
        "sidecar.socketMode": "999",
    }
    write("config", "problems", lines(problems))
    write("config", "empty", "")
    # Findings fixed since (fuzz/RESULTS.md), kept as seeds so they stay fixed.
    hostname = {"sidecar.http.address": "127.evil.example.com:8080"}
    write("config", "regression-loopback-hostname", lines(dict(minimal, **hostname)))
    write("config", "regression-cookie-ctl", lines(dict(minimal, **{"cookie.domain": "example.com\x07"})))
    not_a_literal = {"sidecar.http.address": "127.0.0.08:8080"}
    write("config", "regression-loopback-not-a-literal", lines(dict(minimal, **not_a_literal)))

    yaml_minimal = """mysql:
  user: sidecar
  password: hunter2-canary
  database: sessions
tokens:
  refreshToken:
    renewTokenPath: /auth/session/refresh
cookie:
  domain: example.com
"""
    yaml_full = """# session-sidecar configuration
mysql:
  host: db.internal
  port: 3306
  user: sidecar
  password: "hunter2-canary"
  connectionLimit: 50
  database: sessions
  tables:
    signingKey: signing_key
    refreshTokens: refresh_token
  tls:
    mode: verify-identity
    ca: /etc/ssl/ca.pem
tokens:
  accessToken:
    signingKey:
      dynamic: true
      updateInterval: 24
    validity: 3600
    blacklisting: false
    revocationSyncInterval: 1000
  refreshToken:
    validity: 2400
    removalCronjobInterval: "0 0 0 1-31/7 * *"
    renewTokenPath: /auth/session/refresh
    rotationGracePeriod: 30
logging:
  level: info
  format: text
cookie:
  domain: example.com
  secure: true
sidecar:
  socketPath: /run/session-sidecar/sidecar.sock
  socketMode: "0660"
  maxFrameBytes: 262144
  http:
    address: 127.0.0.1:8080
  jwksFile: ~
"""
    write("config_yaml", "minimal", yaml_minimal)
    write("config_yaml", "full", yaml_full)
    write(
        "config_yaml",
        "flow",
        "{mysql: {user: u, password: 'hunter2-canary', database: d}, cookie: {domain: example.com},"
        " tokens: {refreshToken: {renewTokenPath: /r}}}\n",
    )
    write("config_yaml", "list", yaml_minimal + "sidecar:\n  allowedUIDs: [1000, 1001]\n")
    write("config_yaml", "alias", "base: &b\n  user: u\nmysql: *b\n")
    write("config_yaml", "duplicate", "mysql:\n  user: a\n  user: b\n")
    write("config_yaml", "bad_indent", "mysql:\n  user: a\n password: hunter2-canary\n")
    write("config_yaml", "tab", "mysql:\n\tuser: a\n")
    write("config_yaml", "not_mapping", "- a\n- b\n")
    write("config_yaml", "multi_document", yaml_minimal + "---\nx: 1\n")
    write("config_yaml", "nulls", "mysql:\n  user: null\n  password: ~\n  database:\n  host: 'null'\n")
    write("config_yaml", "block_scalar", "cookie:\n  domain: |\n    example.com\n")
    write("config_yaml", "empty", "")
    dotted = "mysql:\n  user: sidecar\n  password: pw\n  database: sessions\nmysql.user: root\n"
    write("config_yaml", "regression-dotted-duplicate", dotted)
    # A duplicated key that starts with a combining mark (U+035C), and one with a newline: problems quote keys
    # escaped, one printable line each.
    marked = "tokens:\n  \u035cssToken: 1\n  \u035cssToken: 2\n" + '"a\\nb": 1\n"a\\nb": 2\n'
    write("config_yaml", "regression-marked-duplicate", marked)


# --- cron ------------------------------------------------------------------------------------------------------
def cron_corpus():
    reset("cron")
    # 2023, the epoch, just before it, 2000-02-29, 2100.
    instants = [1_700_000_000_000, 0, -1, 951_782_400_000, 4_102_444_800_000]
    expressions = [
        "0 0 0 1-31/7 * *",
        "* * * * * *",
        "*/15 * * * * *",
        "0 30 9 * * MON-FRI",
        "0 0 0 29 2 *",
        "0 0 0 31 2 *",
        "0 0 12 ? JAN,jul SUN",
        "0 0 0 1,15 * 7",
        "5/10 0-59/20 1-3 * * ?",
        "0 0 0 13 * FRI",
        "59 59 23 31 DEC *",
        "0 0 0 1 1 * extra",
        "60 * * * * *",
        "* * * ? * ?",
        "a-b * * * * *",
    ]
    for index, expression in enumerate(expressions):
        instant = instants[index % len(instants)]
        write("cron", "expr_%02d" % index, struct.pack("<q", instant) + expression.encode())


if __name__ == "__main__":
    wire_corpus()
    token_corpora()
    config_corpora()
    cron_corpus()
