import Foundation
import SessionCore
import SidecarClient
import SidecarServer
import TestSupport
import Testing

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// A plain HTTP GET against the loopback listener.
func httpGet(_ url: String, headers: [String: String] = [:], method: String = "GET") async throws -> (
  Int, [String: String], String
) {
  var request = URLRequest(url: try #require(URL(string: url)))
  request.httpMethod = method
  for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
  let (data, response) = try await URLSession.shared.data(for: request)
  let http = try #require(response as? HTTPURLResponse)
  var fields: [String: String] = [:]
  for (name, value) in http.allHeaderFields { fields["\(name)".lowercased()] = "\(value)" }
  return (http.statusCode, fields, String(decoding: data, as: UTF8.self))
}

@Suite("Metrics, health and readiness on the loopback listener")
struct ObservabilityTests {
  static func port() -> Int { Int.random(in: 40_000...59_000) }

  @Test func metricsCountRequestsByCallAndOutcome() async throws {
    let port = Self.port()
    try await InMemoryTestStore.with { db in
      try await withTestSidecar(store: db, adjust: { $0.sidecar.httpAddress = "127.0.0.1:\(port)" }) {
        sidecars in
        let client = try await sidecars[0].connect()
        let created = try await client.createSession(userID: "metrics-user")
        for _ in 0..<3 { _ = try await client.verifySession(accessToken: created.accessToken.token) }
        _ = try await client.verifySession(accessToken: "not.a.token")
        let (status, headers, body) = try await httpGet("http://127.0.0.1:\(port)/metrics")
        #expect(status == 200)
        #expect(headers["content-type"]?.hasPrefix("text/plain") == true)
        #expect(body.contains(#"session_sidecar_requests_total{call="CreateSession",outcome="ok"} 1"#))
        #expect(body.contains(#"session_sidecar_requests_total{call="VerifySession",outcome="ok"} 3"#))
        #expect(body.contains(#"session_sidecar_requests_total{call="VerifySession",outcome="unauthorised"} 1"#))
        #expect(body.contains(#"session_sidecar_request_duration_seconds_count{call="CreateSession"} 1"#))
        #expect(body.contains("session_sidecar_connections_open 1"))
        #expect(!body.contains(created.accessToken.token))
        await client.close()
      }
    }
  }

  /// The cache's counters and its size reach /metrics with the 2-second gauge round: one token verified three
  /// times is one miss, two hits and one entry.
  @Test func metricsShowTheVerifiedTokenCache() async throws {
    let port = Self.port()
    try await InMemoryTestStore.with { db in
      try await withTestSidecar(store: db, adjust: { $0.sidecar.httpAddress = "127.0.0.1:\(port)" }) {
        sidecars in
        let client = try await sidecars[0].connect()
        let created = try await client.createSession(userID: "cache-metrics-user")
        for _ in 0..<3 { _ = try await client.verifySession(accessToken: created.accessToken.token) }
        let expected = [
          "session_sidecar_verify_cache_entries 1", "session_sidecar_verify_cache_hits_total 2",
          "session_sidecar_verify_cache_misses_total 1",
        ]
        var body = ""
        for _ in 0..<40 {
          body = try await httpGet("http://127.0.0.1:\(port)/metrics").2
          if expected.allSatisfy({ body.contains($0) }) { break }
          try await Task.sleep(for: .milliseconds(250))
        }
        for line in expected { #expect(body.contains(line), "\(line)") }
        await client.close()
      }
    }
  }

  @Test func readinessFollowsTheDatabaseAndTheKeys() async throws {
    let port = Self.port()
    let store = InMemoryTestStore()
    try await withTestSidecar(store: store, adjust: { $0.sidecar.httpAddress = "127.0.0.1:\(port)" }) {
      sidecars in
      let base = "http://127.0.0.1:\(port)"
      #expect(try await httpGet(base + "/healthz").0 == 200)
      #expect(try await httpGet(base + "/readyz").0 == 200)
      // The database goes away; once its last answer is older than the window, the sidecar is not ready.
      store.store.simulateOutage(.unavailable("down"))
      sidecars[0].clock.advance(byMs: 11_000)
      let (status, _, reason) = try await httpGet(base + "/readyz")
      #expect(status == 503)
      #expect(reason.contains("the database has not answered for"))
      #expect(try await httpGet(base + "/healthz").0 == 200, "liveness does not depend on the database")
      let client = try await sidecars[0].connect()
      #expect(try await client.health().databaseReachable == false)
      store.store.simulateOutage(nil)
      await client.close()
    }
  }
}

@Suite("Forward-auth for gateways: GET /auth/verify")
struct ForwardAuthTests {
  @Test func aValidSessionPassesWithItsUserAndClaimsAndOthersAreRefused() async throws {
    let port = ObservabilityTests.port()
    try await InMemoryTestStore.with { db in
      try await withTestSidecar(
        store: db,
        adjust: {
          $0.sidecar.httpAddress = "127.0.0.1:\(port)"
          $0.accessToken.validitySeconds = 60
        }
      ) { sidecars in
        let url = "http://127.0.0.1:\(port)/auth/verify"
        let client = try await sidecars[0].connect()
        let created = try await client.createSession(
          userID: "gateway-user", accessTokenPayloadJSON: #"{"role":"admin"}"#)
        let token = created.accessToken.token

        let (ok, headers, body) = try await httpGet(url, headers: ["Authorization": "Bearer \(token)"])
        #expect(ok == 200)
        #expect(headers["x-session-user-id"] == "gateway-user")
        #expect(headers["x-session-handle"] == created.session.handle)
        #expect(headers["x-session-payload"] == "eyJyb2xlIjoiYWRtaW4ifQ")  // base64url of {"role":"admin"}
        #expect(body.isEmpty)

        let (cookie, cookieHeaders, _) = try await httpGet(url, headers: ["Cookie": "a=b; sAccessToken=\(token)"])
        #expect(cookie == 200)
        #expect(cookieHeaders["x-session-user-id"] == "gateway-user")

        let (forged, forgedHeaders, forgedBody) = try await httpGet(url, headers: ["Authorization": "Bearer a.b.c"])
        #expect(forged == 401)
        #expect(forgedHeaders["x-session-outcome"] == "unauthorised")
        #expect(forgedBody == #"{"message":"unauthorised"}"#)
        #expect(try await httpGet(url).0 == 401)

        sidecars[0].clock.advance(byMs: 61_000)
        let (expired, expiredHeaders, expiredBody) = try await httpGet(
          url, headers: ["Cookie": "sAccessToken=\(token)"])
        #expect(expired == 401)
        #expect(expiredHeaders["x-session-outcome"] == "try-refresh-token")
        #expect(expiredBody == #"{"message":"try refresh token"}"#)
        await client.close()
      }
    }
  }

  @Test func antiCsrfIsCheckedForUnsafeOriginalMethods() async throws {
    let port = ObservabilityTests.port()
    try await InMemoryTestStore.with { db in
      try await withTestSidecar(store: db, adjust: { $0.sidecar.httpAddress = "127.0.0.1:\(port)" }) {
        sidecars in
        let url = "http://127.0.0.1:\(port)/auth/verify"
        let client = try await sidecars[0].connect()
        let created = try await client.createSession(userID: "csrf-user", enableAntiCsrf: true)
        let bearer = "Bearer \(created.accessToken.token)"
        #expect(try await httpGet(url, headers: ["Authorization": bearer, "X-Original-Method": "GET"]).0 == 200)
        let (post, postHeaders, _) = try await httpGet(
          url, headers: ["Authorization": bearer, "X-Original-Method": "POST"])
        #expect(post == 401)
        #expect(postHeaders["x-session-outcome"] == "try-refresh-token")
        let withToken = try await httpGet(
          url, headers: ["Authorization": bearer, "X-Forwarded-Method": "DELETE", "anti-csrf": created.antiCsrfToken])
        #expect(withToken.0 == 200)
        #expect(try await httpGet(url, headers: ["Authorization": bearer], method: "POST").0 == 401)
        await client.close()
      }
    }
  }
}
