import Foundation
import SessionCore
import SessionSidecarWire
import SidecarClient
import TestSupport
import Testing

@Suite("Refresh, revocation and session management through the socket, on one and two sidecars")
struct LifecycleTests {
  @Test(.enabled(if: TestMySQLServer.shouldRun, TestMySQLServer.skipReason))
  func refreshRotatesAndReuseOfAnOlderTokenIsTheft() async throws {
    try await TestDatabase.with { db in
      try await withTestSidecar(store: db) { sidecars in
        let client = try await sidecars[0].connect()
        let created = try await client.call(Call.create(user: "alice", payload: #"{"tier":"gold"}"#)).createSession
        let first = created.refreshToken.token

        let second = try await client.call(Call.refresh(first)).refreshSession
        #expect(second.outcome == .ok)
        #expect(second.hasRefreshToken && second.refreshToken.token != first)
        #expect(second.session.accessTokenPayloadJson.contains(#""tier":"gold""#))
        #expect(try await client.call(Call.verify(second.accessToken.token)).verifySession.outcome == .ok)

        // The previous token inside the grace period: accepted with the same new refresh token, nothing revoked.
        let tab = try await client.call(Call.refresh(first)).refreshSession
        #expect(tab.outcome == .ok)
        #expect(tab.refreshToken.token == second.refreshToken.token)
        #expect(tab.cookies.map(\.name) == ["sAccessToken", "sRefreshToken"])

        let third = try await client.call(Call.refresh(second.refreshToken.token)).refreshSession
        #expect(third.outcome == .ok)

        // `first` is now two rotations old: theft.
        let theft = try await client.call(Call.refresh(first)).refreshSession
        #expect(theft.outcome == .tokenTheftDetected)
        #expect(theft.session.handle == created.session.handle)
        #expect(theft.session.userID == "alice")
        let after = try await client.call(Call.refresh(third.refreshToken.token)).refreshSession
        #expect(after.outcome == .unauthorised)

        let garbage = try await client.call(Call.refresh("not-a-refresh-token")).refreshSession
        #expect(garbage.outcome == .unauthorised)
        await client.close()
      }
    }
  }

  @Test(.enabled(if: TestMySQLServer.shouldRun, TestMySQLServer.skipReason)) func antiCsrfIsEnforcedOnVerifyAndRefresh()
    async throws
  {
    try await TestDatabase.with { db in
      try await withTestSidecar(store: db) { sidecars in
        let client = try await sidecars[0].connect()
        let created = try await client.call(Call.create(user: "bob", antiCsrf: true)).createSession
        #expect(!created.antiCsrfToken.isEmpty)
        let token = created.accessToken.token
        #expect(
          try await client.call(Call.verify(token, antiCsrf: "wrong", check: true)).verifySession.outcome
            == .tryRefreshToken)
        #expect(try await client.call(Call.verify(token, check: true)).verifySession.outcome == .tryRefreshToken)
        #expect(
          try await client.call(Call.verify(token, antiCsrf: created.antiCsrfToken, check: true))
            .verifySession.outcome == .ok)
        #expect(
          try await client.call(Call.refresh(created.refreshToken.token, antiCsrf: "wrong")).refreshSession
            .outcome == .unauthorised)
        let refreshed = try await client.call(Call.refresh(created.refreshToken.token, antiCsrf: created.antiCsrfToken))
        #expect(refreshed.refreshSession.outcome == .ok)
        await client.close()
      }
    }
  }

  @Test(.enabled(if: TestMySQLServer.shouldRun, TestMySQLServer.skipReason))
  func sessionDataAndPayloadCanBeReadAndChanged() async throws {
    try await TestDatabase.with { db in
      try await withTestSidecar(store: db) { sidecars in
        let client = try await sidecars[0].connect()
        let created = try await client.call(Call.create(user: "carol", data: #"{"cart":3}"#)).createSession
        let handle = created.session.handle

        var get = WireRequest()
        get.getSession.sessionHandle = handle
        let stored = try await client.call(get).getSession
        #expect(stored.userID == "carol" && stored.sessionDataJson == #"{"cart":3}"# && stored.createdAtMs > 0)

        var update = WireRequest()
        update.updateSessionData.sessionHandle = handle
        update.updateSessionData.sessionDataJson = #"{"cart":4}"#
        #expect(try await client.call(update).status.code == .ok)
        #expect(try await client.call(get).getSession.sessionDataJson == #"{"cart":4}"#)

        var payload = WireRequest()
        payload.updateAccessTokenPayload.sessionHandle = handle
        payload.updateAccessTokenPayload.accessTokenPayloadJson = #"{"plan":"pro"}"#
        #expect(try await client.call(payload).status.code == .ok)
        let refreshed = try await client.call(Call.refresh(created.refreshToken.token)).refreshSession
        #expect(try jwtPart(refreshed.accessToken.token, 1)["plan"] as? String == "pro")

        var regenerate = WireRequest()
        regenerate.regenerateAccessToken.accessToken = refreshed.accessToken.token
        regenerate.regenerateAccessToken.accessTokenPayloadJson = #"{"plan":"max"}"#
        let regenerated = try await client.call(regenerate).regenerateAccessToken
        #expect(try jwtPart(regenerated.accessToken.token, 1)["plan"] as? String == "max")
        #expect(regenerated.accessToken.expiresAtMs == refreshed.accessToken.expiresAtMs)

        var missing = WireRequest()
        missing.getSession.sessionHandle = "00000000-0000-4000-8000-000000000000"
        #expect(try await client.call(missing).status.code == .notFound)
        await client.close()
      }
    }
  }

  @Test(.enabled(if: TestMySQLServer.shouldRun, TestMySQLServer.skipReason)) func revocationByHandleAndByUser()
    async throws
  {
    try await TestDatabase.with { db in
      try await withTestSidecar(store: db) { sidecars in
        let client = try await sidecars[0].connect()
        var handles: [String] = []
        for _ in 0..<3 { handles.append(try await client.call(Call.create(user: "dave")).createSession.session.handle) }
        var list = WireRequest()
        list.listSessions.userID = "dave"
        #expect(Set(try await client.call(list).listSessions.sessionHandles) == Set(handles))

        let one = try await client.call(Call.revoke(handles: [handles[0], "00000000-0000-4000-8000-000000000000"]))
        #expect(one.revokeSessions.revokedSessionHandles == [handles[0]])
        let rest = try await client.call(Call.revoke(user: "dave")).revokeSessions.revokedSessionHandles
        #expect(Set(rest) == Set(handles[1...]))
        #expect(try await client.call(list).listSessions.sessionHandles.isEmpty)
        await client.close()
      }
    }
  }

  @Test(.enabled(if: TestMySQLServer.shouldRun, TestMySQLServer.skipReason))
  func checkDatabaseRefusesARevokedSessionsToken() async throws {
    try await TestDatabase.with { db in
      try await withTestSidecar(store: db) { sidecars in
        let client = try await sidecars[0].connect()
        let created = try await client.call(Call.create(user: "erin")).createSession
        #expect(
          try await client.call(Call.verify(created.accessToken.token, checkDatabase: true)).verifySession.outcome
            == .ok)
        _ = try await client.call(Call.revoke(handles: [created.session.handle]))
        // Without blacklisting the token stays valid until it expires; the per-call check refuses it.
        #expect(try await client.call(Call.verify(created.accessToken.token)).verifySession.outcome == .ok)
        let checked = try await client.call(Call.verify(created.accessToken.token, checkDatabase: true)).verifySession
        #expect(checked.outcome == .unauthorised)
        #expect(checked.reason == "session revoked")
        await client.close()
      }
    }
  }

  @Test(.enabled(if: TestMySQLServer.shouldRun, TestMySQLServer.skipReason))
  func aRevocationOnOneSidecarIsEnforcedOnTheOther() async throws {
    try await TestDatabase.with { db in
      try await withTestSidecar(
        2, store: db,
        adjust: {
          $0.accessToken.blacklisting = true
          $0.accessToken.revocationSyncIntervalMs = 100
        }
      ) { sidecars in
        let a = try await sidecars[0].connect()
        let b = try await sidecars[1].connect()
        let created = try await a.call(Call.create(user: "frank")).createSession
        // Tokens from A verify on B: both load every key from the shared database.
        #expect(try await b.call(Call.verify(created.accessToken.token)).verifySession.outcome == .ok)
        _ = try await a.call(Call.revoke(handles: [created.session.handle]))
        // The sidecar that revoked enforces it at once.
        #expect(try await a.call(Call.verify(created.accessToken.token)).verifySession.outcome == .unauthorised)
        // The other one within its sync interval; poll (bounded) rather than assert on time.
        var outcome = Sessionsidecar_V1_VerifySessionResponse.Outcome.ok
        for _ in 0..<100 where outcome == .ok {
          try await Task.sleep(for: .milliseconds(50))
          outcome = try await b.call(Call.verify(created.accessToken.token)).verifySession.outcome
        }
        #expect(outcome == .unauthorised)
        await a.close()
        await b.close()
      }
    }
  }

  @Test(.enabled(if: TestMySQLServer.shouldRun, TestMySQLServer.skipReason))
  func concurrentRefreshesAcrossTwoSidecarsYieldOneRotation() async throws {
    try await TestDatabase.with { db in
      try await withTestSidecar(2, store: db) { sidecars in
        let a = try await sidecars[0].connect()
        let b = try await sidecars[1].connect()
        let created = try await a.call(Call.create(user: "gina")).createSession
        let token = created.refreshToken.token
        let responses = try await withThrowingTaskGroup(of: Sessionsidecar_V1_RefreshSessionResponse.self) { group in
          for i in 0..<16 {
            group.addTask { try await (i % 2 == 0 ? a : b).call(Call.refresh(token)).refreshSession }
          }
          return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(responses.allSatisfy { $0.outcome == .ok })
        // Exactly one refresh rotates; the rest are inside the grace period and get that same new token.
        #expect(Set(responses.map(\.refreshToken.token)).count == 1, "one live branch")
        #expect(!responses.contains { $0.refreshToken.token == token })
        // The one live branch continues; the session was not revoked.
        let next = try #require(responses.first).refreshToken.token
        #expect(try await b.call(Call.refresh(next)).refreshSession.outcome == .ok)
        await a.close()
        await b.close()
      }
    }
  }
}
