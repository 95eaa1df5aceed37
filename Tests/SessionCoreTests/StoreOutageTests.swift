import SessionCore
import SessionStorage
import Testing

/// With the database gone, calls that need it answer `unavailable`; verification, which never touches it,
/// goes on.
@Suite("SessionService during a store outage")
struct StoreOutageTests {
  private func expectUnavailable(_ body: () throws -> Void, _ what: String) {
    do {
      try body()
      Issue.record("\(what) succeeded during an outage")
    } catch {
      guard case .unavailable(let message) = error as? SessionError else {
        Issue.record("\(what): expected unavailable, got \(error)")
        return
      }
      #expect(message.contains("database unavailable"), "\(what): \(message)")
    }
  }

  @Test func callsNeedingTheStoreAreUnavailableWhileVerifyWorks() throws {
    let h = try SessionHarness()
    let created = try h.create()
    h.store.simulateOutage(.unavailable("connection refused"))

    #expect(verifiedView(h.verify(created.accessToken)) != nil)
    #expect(!h.service.databaseReachable())
    expectUnavailable({ _ = try h.service.createSession(CreateSessionInput(userID: "u")) }, "create")
    expectUnavailable(
      { _ = try h.service.refreshSession(refreshToken: created.refreshToken, antiCsrfToken: "") }, "refresh")
    expectUnavailable({ _ = try h.service.getSession(handle: created.handle) }, "get")
    expectUnavailable({ _ = try h.service.listSessions(userID: "user-1") }, "list")
    expectUnavailable({ try h.service.updateSessionData(handle: created.handle, sessionDataJSON: "{}") }, "update data")
    expectUnavailable(
      { try h.service.updateAccessTokenPayload(handle: created.handle, payloadJSON: "{}") }, "update payload")
    expectUnavailable(
      { _ = try h.service.regenerateAccessToken(accessToken: created.accessToken, payloadJSON: "{}") }, "regenerate")
    expectUnavailable({ _ = try h.service.revokeSessions(handles: [created.handle]) }, "revoke handles")
    expectUnavailable({ _ = try h.service.revokeSessions(userID: "user-1") }, "revoke user")
    expectUnavailable({ _ = try h.service.sessionIsLive(handle: created.handle) }, "session is live")

    h.store.simulateOutage(nil)
    #expect(h.service.databaseReachable())
    #expect(try h.service.getSession(handle: created.handle).userID == "user-1")
    #expect(refreshed(try h.service.refreshSession(refreshToken: created.refreshToken, antiCsrfToken: "")) != nil)
  }

  /// A refresh that cannot issue tokens (no signing key loaded yet, as on a sidecar that is still starting)
  /// must not consume the refresh token: otherwise the client's retry after the grace period is taken for
  /// theft and the user's session is revoked.
  @Test func refreshThatCannotSignLeavesTheSessionUntouched() throws {
    let a = try SessionHarness()
    let created = try a.create()
    let before = try #require(try a.store.session(handle: created.handle))
    let starting = SessionService(
      config: a.config, store: a.store, keyRing: SigningKeyRing(policy: a.ring.policy), revocations: RevocationSet(),
      clock: a.clock, logger: quietLogger)
    do {
      _ = try starting.refreshSession(refreshToken: created.refreshToken, antiCsrfToken: "")
      Issue.record("refreshed without a signing key")
    } catch {
      guard case .unavailable = error else {
        Issue.record("expected unavailable, got \(error)")
        return
      }
    }
    #expect(try a.store.session(handle: created.handle) == before, "the failed refresh changed the stored session")
    a.clock.advance(byMs: 31_000)
    let retry = try a.service.refreshSession(refreshToken: created.refreshToken, antiCsrfToken: "")
    #expect(refreshed(retry)?.refreshToken != nil, "retry after the failed refresh: \(retry)")
  }

  @Test func otherStoreFailuresAreInternal() throws {
    let h = try SessionHarness()
    h.store.simulateOutage(.failed("deadlock"))
    do {
      _ = try h.service.listSessions(userID: "user-1")
      Issue.record("listed sessions from a failing store")
    } catch {
      guard case .internal(let message) = error else {
        Issue.record("expected internal, got \(error)")
        return
      }
      #expect(message.contains("deadlock"))
    }
  }

  @Test func keyRotationDuringAnOutageKeepsTheLoadedKeys() throws {
    let h = try SessionHarness()
    let created = try h.create()
    let before = h.ring.snapshot.keys.map(\.kid)
    h.store.simulateOutage(.unavailable("down"))
    #expect(throws: StoreError.unavailable("down")) { try h.rotation.synchronize() }
    #expect(h.ring.snapshot.keys.map(\.kid) == before)
    #expect(verifiedView(h.verify(created.accessToken)) != nil)
  }
}
