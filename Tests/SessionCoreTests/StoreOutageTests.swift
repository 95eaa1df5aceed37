import SessionCore
import SessionStorage
import Testing

/// With the database gone, calls that need it answer `unavailable`; verification, which never touches it,
/// goes on.
@Suite("SessionService during a store outage")
struct StoreOutageTests {
  private func expectUnavailable(_ body: () async throws -> Void, _ what: String) async {
    do {
      try await body()
      Issue.record("\(what) succeeded during an outage")
    } catch {
      guard case .databaseUnavailable(let message) = error as? SessionError else {
        Issue.record("\(what): expected unavailable, got \(error)")
        return
      }
      #expect(message.contains("connection refused"), "\(what): \(message)")
    }
  }

  @Test func callsNeedingTheStoreAreUnavailableWhileVerifyWorks() async throws {
    let h = try await SessionHarness()
    let created = try await h.create()
    h.store.simulateOutage(.unavailable("connection refused"))

    #expect(verifiedView(h.verify(created.accessToken)) != nil)
    await #expect(throws: StoreError.self) { try await h.database.run { try $0.ping() } }
    await expectUnavailable({ _ = try await h.service.createSession(CreateSessionInput(userID: "u")) }, "create")
    await expectUnavailable(
      { _ = try await h.service.refreshSession(refreshToken: created.refreshToken, antiCsrfToken: "") }, "refresh")
    await expectUnavailable({ _ = try await h.service.getSession(handle: created.handle) }, "get")
    await expectUnavailable({ _ = try await h.service.listSessions(userID: "user-1") }, "list")
    await expectUnavailable(
      { try await h.service.updateSessionData(handle: created.handle, sessionDataJSON: "{}") }, "update data")
    await expectUnavailable(
      { try await h.service.updateAccessTokenPayload(handle: created.handle, payloadJSON: "{}") }, "update payload")
    await expectUnavailable(
      { _ = try await h.service.regenerateAccessToken(accessToken: created.accessToken, payloadJSON: "{}") },
      "regenerate")
    await expectUnavailable({ _ = try await h.service.revokeSessions(handles: [created.handle]) }, "revoke handles")
    await expectUnavailable({ _ = try await h.service.revokeSessions(userID: "user-1") }, "revoke user")
    await expectUnavailable({ _ = try await h.service.sessionIsLive(handle: created.handle) }, "session is live")

    h.store.simulateOutage(nil)
    try await h.database.run { try $0.ping() }
    #expect(try await h.service.getSession(handle: created.handle).userID == "user-1")
    #expect(refreshed(try await h.service.refreshSession(refreshToken: created.refreshToken, antiCsrfToken: "")) != nil)
  }

  /// A refresh that cannot issue tokens (no signing key loaded yet, as on a sidecar that is still starting)
  /// must not consume the refresh token: otherwise the client's retry after the grace period is taken for
  /// theft and the user's session is revoked.
  @Test func refreshThatCannotSignLeavesTheSessionUntouched() async throws {
    let a = try await SessionHarness()
    let created = try await a.create()
    let before = try #require(try a.store.session(handle: created.handle))
    let starting = SessionService(
      config: a.config, database: a.database, keyRing: SigningKeyRing(policy: a.ring.policy),
      revocations: RevocationSet(),
      clock: a.clock, logger: quietLogger)
    do {
      _ = try await starting.refreshSession(refreshToken: created.refreshToken, antiCsrfToken: "")
      Issue.record("refreshed without a signing key")
    } catch {
      guard case .noSigningKey = error else {
        Issue.record("expected unavailable, got \(error)")
        return
      }
    }
    #expect(try a.store.session(handle: created.handle) == before, "the failed refresh changed the stored session")
    a.clock.advance(byMs: 31_000)
    let retry = try await a.service.refreshSession(refreshToken: created.refreshToken, antiCsrfToken: "")
    #expect(refreshed(retry)?.refreshToken != nil, "retry after the failed refresh: \(retry)")
  }

  @Test func otherStoreFailuresAreInternal() async throws {
    let h = try await SessionHarness()
    h.store.simulateOutage(.failed("deadlock"))
    do {
      _ = try await h.service.listSessions(userID: "user-1")
      Issue.record("listed sessions from a failing store")
    } catch {
      guard case .databaseFailed(let message) = error else {
        Issue.record("expected internal, got \(error)")
        return
      }
      #expect(message.contains("deadlock"))
    }
  }

  @Test func keyRotationDuringAnOutageKeepsTheLoadedKeys() async throws {
    let h = try await SessionHarness()
    let created = try await h.create()
    let before = h.ring.snapshot.keys.map(\.kid)
    h.store.simulateOutage(.unavailable("down"))
    await #expect(throws: StoreError.unavailable("down")) { try await h.rotation.synchronize() }
    #expect(h.ring.snapshot.keys.map(\.kid) == before)
    #expect(verifiedView(h.verify(created.accessToken)) != nil)
  }
}
