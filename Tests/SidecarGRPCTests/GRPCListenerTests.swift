import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import SessionCore
import SessionSidecarWire
import Testing

@testable import SidecarGRPC

/// The gRPC listener in process: every call of the contract, its statuses, the key stream and its drain, gRPC
/// health, Envoy's ext_authz, and the socket file. Runs on the in-memory store (no MariaDB).
@Suite("gRPC listener")
struct GRPCListenerTests {
  @Test func everyUnaryCallAnswers() async throws {
    try await withGRPCSidecar { _, client in
      let sidecar = Sessionsidecar_V1_SessionSidecar.Client(wrapping: client)
      let created = try await sidecar.createSession(
        .with {
          $0.userID = "u1"
          $0.accessTokenPayloadJson = #"{"role":"admin"}"#
          $0.sessionDataJson = #"{"cart":1}"#
          $0.enableAntiCsrf = true
        })
      let handle = created.session.handle
      #expect(created.session.userID == "u1" && !created.antiCsrfToken.isEmpty && !created.cookies.isEmpty)

      let verified = try await sidecar.verifySession(
        .with {
          $0.accessToken = created.accessToken.token
          $0.antiCsrfToken = created.antiCsrfToken
          $0.doAntiCsrfCheck = true
        })
      #expect(verified.outcome == .ok && verified.session.handle == handle)

      let refreshed = try await sidecar.refreshSession(
        .with {
          $0.refreshToken = created.refreshToken.token
          $0.antiCsrfToken = created.antiCsrfToken
        })
      #expect(refreshed.outcome == .ok && refreshed.session.handle == handle)

      _ = try await sidecar.updateSessionData(
        .with {
          $0.sessionHandle = handle
          $0.sessionDataJson = #"{"cart":2}"#
        })
      _ = try await sidecar.updateAccessTokenPayload(
        .with {
          $0.sessionHandle = handle
          $0.accessTokenPayloadJson = #"{"role":"user"}"#
        })
      let stored = try await sidecar.getSession(.with { $0.sessionHandle = handle })
      #expect(stored.userID == "u1" && stored.sessionDataJson.contains("2"))
      #expect(stored.accessTokenPayloadJson.contains("user"))

      let regenerated = try await sidecar.regenerateAccessToken(
        .with {
          $0.accessToken = refreshed.accessToken.token
          $0.accessTokenPayloadJson = #"{"role":"owner"}"#
        })
      #expect(regenerated.hasAccessToken && regenerated.session.accessTokenPayloadJson.contains("owner"))

      let listed = try await sidecar.listSessions(.with { $0.userID = "u1" })
      #expect(listed.sessionHandles == [handle])
      let keys = try await sidecar.getSigningKeys(.init())
      #expect(!keys.keys.isEmpty && keys.jwksJson.contains("\"keys\""))
      let health = try await sidecar.health(.init())
      #expect(health.serving && health.version == SidecarVersion.current)

      let revoked = try await sidecar.revokeSessions(.with { $0.sessionHandles.handles = [handle] })
      #expect(revoked.revokedSessionHandles == [handle])
      let afterRevoke = try await sidecar.verifySession(
        .with {
          $0.accessToken = regenerated.accessToken.token
          $0.checkDatabase = true
        })
      #expect(afterRevoke.outcome == .unauthorised)
    }
  }

  /// Session outcomes are results; a call that cannot be carried out is a gRPC status with the wire's code.
  @Test func failuresAreGRPCStatuses() async throws {
    try await withGRPCSidecar { _, client in
      let sidecar = Sessionsidecar_V1_SessionSidecar.Client(wrapping: client)
      let garbage = try await sidecar.verifySession(.with { $0.accessToken = "not.a.token" })
      #expect(garbage.outcome == .unauthorised)

      let emptyUser = await #expect(throws: RPCError.self) { try await sidecar.createSession(.init()) }
      #expect(emptyUser?.code == .invalidArgument)
      let emptyToken = await #expect(throws: RPCError.self) { try await sidecar.verifySession(.init()) }
      #expect(emptyToken?.code == .invalidArgument)
      let unknown = await #expect(throws: RPCError.self) {
        try await sidecar.getSession(.with { $0.sessionHandle = "no-such-handle" })
      }
      #expect(unknown?.code == .notFound)
      let noTarget = await #expect(throws: RPCError.self) { try await sidecar.revokeSessions(.init()) }
      #expect(noTarget?.code == .invalidArgument)
    }
  }

  /// A request message longer than sidecar.maxFrameBytes is refused before the call runs. (grpc-swift's transport
  /// resets the stream without a status, so the client's code is its own: UNAVAILABLE here.)
  @Test func requestLargerThanTheFrameLimitIsRefused() async throws {
    try await withGRPCSidecar(adjust: { $0.sidecar.maxFrameBytes = 1024 }) { _, client in
      let sidecar = Sessionsidecar_V1_SessionSidecar.Client(wrapping: client)
      await #expect(throws: RPCError.self) {
        try await sidecar.createSession(
          .with {
            $0.userID = "too-large"
            $0.sessionDataJson = #"{"blob":""# + String(repeating: "x", count: 4096) + #""}"#
          })
      }
      let listed = try await sidecar.listSessions(.with { $0.userID = "too-large" })
      #expect(listed.sessionHandles.isEmpty)
      let fits = try await sidecar.createSession(.with { $0.userID = "fits" })
      #expect(fits.session.userID == "fits")
    }
  }

  @Test func watchSigningKeysStreamsTheKeySetAndEndsAtTheDrain() async throws {
    try await withGRPCSidecar { test, client in
      let sidecar = Sessionsidecar_V1_SessionSidecar.Client(wrapping: client)
      let current = try await sidecar.getSigningKeys(.init())
      let ending = await #expect(throws: RPCError.self) {
        try await sidecar.watchSigningKeys(.init()) { response in
          var received = 0
          for try await keys in response.messages {
            received += 1
            #expect(keys.jwksJson == current.jwksJson)
            if received == 1 { Task { await test.sidecar.shutdown() } }
          }
          Issue.record("the stream ended without a status")
        }
      }
      #expect(ending?.code == .unavailable)
      #expect(ending?.message == "the sidecar is shutting down")
    }
  }

  @Test func healthReportsServing() async throws {
    try await withGRPCSidecar { _, client in
      let health = Grpc_Health_V1_Health.Client(wrapping: client)
      for service in ["", "sessionsidecar.v1.SessionSidecar", "envoy.service.auth.v3.Authorization"] {
        let answer = try await health.check(.with { $0.service = service })
        #expect(answer.status == .serving, "service \"\(service)\"")
      }
      let unknown = await #expect(throws: RPCError.self) {
        try await health.check(.with { $0.service = "no.such.Service" })
      }
      #expect(unknown?.code == .notFound)
      let first = try await health.watch(.init()) { response -> Grpc_Health_V1_HealthCheckResponse.ServingStatus? in
        for try await status in response.messages { return status.status }
        return nil
      }
      #expect(first == .serving)
    }
  }

  @Test func extAuthzAllowsAValidSessionAndRefusesTheRest() async throws {
    let clock = TestClock(nowMs: SystemClock().nowMs())
    try await withGRPCSidecar(clock: clock) { _, client in
      let sidecar = Sessionsidecar_V1_SessionSidecar.Client(wrapping: client)
      let authorization = Envoy_Service_Auth_V3_Authorization.Client(wrapping: client)
      let plain = try await sidecar.createSession(.with { $0.userID = "u1" })
      let guarded = try await sidecar.createSession(
        .with {
          $0.userID = "u2"
          $0.enableAntiCsrf = true
        })
      func check(_ method: String, _ headers: [String: String]) async throws -> Envoy_Service_Auth_V3_CheckResponse {
        try await authorization.check(
          .with {
            $0.attributes.request.http.method = method
            $0.attributes.request.http.headers = headers
          })
      }

      let bearer = try await check("GET", ["authorization": "Bearer \(plain.accessToken.token)"])
      #expect(bearer.status.code == 0)
      guard case .okResponse(let ok) = bearer.httpResponse else {
        Issue.record("no ok_response: \(bearer)")
        return
      }
      let set = Dictionary(uniqueKeysWithValues: ok.headers.map { ($0.header.key, $0.header.value) })
      #expect(set["x-session-user-id"] == "u1" && set["x-session-handle"] == plain.session.handle)
      let cookie = try await check("GET", ["cookie": "theme=dark; sAccessToken=\(plain.accessToken.token)"])
      #expect(cookie.status.code == 0)

      let absent = try await check("GET", [:])
      #expect(absent.status.code == 16 && absent.deniedResponse.body == #"{"message":"unauthorised"}"#)
      let forged = try await check("GET", ["authorization": "Bearer \(plain.accessToken.token)x"])
      #expect(forged.status.code == 16 && forged.deniedResponse.status.code == .unauthorized)

      let token = ["authorization": "Bearer \(guarded.accessToken.token)"]
      #expect(try await check("GET", token).status.code == 0)
      let postWithout = try await check("POST", token)
      #expect(postWithout.deniedResponse.body == #"{"message":"try refresh token"}"#)
      let postWith = try await check("POST", token.merging(["anti-csrf": guarded.antiCsrfToken]) { $1 })
      #expect(postWith.status.code == 0)

      clock.advance(byMs: SidecarConfig().accessTokenValidityMs + 1000)
      let expired = try await check("GET", ["authorization": "Bearer \(plain.accessToken.token)"])
      #expect(expired.status.code == 16)
      #expect(expired.deniedResponse.headers.contains { $0.header.value == "try-refresh-token" })
    }
  }

  /// Bound in a private directory and renamed into place with sidecar.socketMode; removed when it stops.
  @Test func socketFileHasTheSocketModeAndIsRemovedAtStop() async throws {
    var path = ""
    try await withGRPCSidecar(adjust: { $0.sidecar.socketMode = 0o600 }) { test, client in
      path = test.grpcSocketPath
      let attributes = try FileManager.default.attributesOfItem(atPath: path)
      #expect((attributes[.posixPermissions] as? NSNumber)?.uint16Value == 0o600)
      #expect(attributes[.type] as? FileAttributeType == .typeSocket)
      let health = Grpc_Health_V1_Health.Client(wrapping: client)
      #expect(try await health.check(.init()).status == .serving)
    }
    #expect(!FileManager.default.fileExists(atPath: path))
  }

  /// `sidecar.grpc.address` serves the same services on loopback TCP, beside the Unix socket.
  @Test func loopbackAddressServesTheSameServices() async throws {
    let port = Int.random(in: 30_000...39_999)
    try await withGRPCSidecar(adjust: { $0.sidecar.grpcAddress = "127.0.0.1:\(port)" }) { test, _ in
      #expect(test.listeners.map(\.endpoint.description) == ["unix:\(test.grpcSocketPath)", "127.0.0.1:\(port)"])
      try await withGRPCClient(
        transport: .http2NIOPosix(target: .ipv4(host: "127.0.0.1", port: port), transportSecurity: .plaintext)
      ) { client in
        let health = Grpc_Health_V1_Health.Client(wrapping: client)
        #expect(try await health.check(.init()).status == .serving)
        let sidecar = Sessionsidecar_V1_SessionSidecar.Client(wrapping: client)
        let created = try await sidecar.createSession(.with { $0.userID = "over-tcp" })
        let verified = try await sidecar.verifySession(.with { $0.accessToken = created.accessToken.token })
        #expect(verified.outcome == .ok && verified.session.userID == "over-tcp")
      }
    }
  }

  /// A peer the allow-lists do not name is closed before HTTP/2 starts: its calls fail UNAVAILABLE.
  @Test func peerNotAllowedIsRefused() async throws {
    try await withGRPCSidecar(adjust: {
      $0.sidecar.allowedUIDs = [getuid() &+ 4242]
      $0.sidecar.allowedGIDs = [getgid() &+ 4242]
    }) { _, client in
      let health = Grpc_Health_V1_Health.Client(wrapping: client)
      var options = CallOptions.defaults
      options.waitForReady = false
      let refused = await #expect(throws: RPCError.self) { try await health.check(.init(), options: options) }
      #expect(refused?.code == .unavailable)
    }
  }
}
