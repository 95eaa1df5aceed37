import Foundation
import Logging
import SessionCore
import SessionSidecarWire
import SessionStorage
import SidecarClient
import SidecarServer
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// Bounded resources and who may talk to the sidecar: each limit answers with a clear status and never
/// disturbs other connections.
@Suite("Limits and access on the socket")
struct LimitsAndAccessTests {
  @Test func connectionsBeyondTheLimitGetAnErrorAndTheOthersAreServed() async throws {
    try await InMemoryTestStore.with { db in
      try await withTestSidecar(store: db, adjust: { $0.sidecar.maxConnections = 2 }) { sidecars in
        let first = try await sidecars[0].connect()
        let second = try await sidecars[0].connect()
        #expect(try await first.health().serving)
        let third = try await sidecars[0].connect()
        let refused = try await third.awaitResponse(id: 0)
        #expect(refused.status.code == .resourceExhausted)
        #expect(refused.status.message.contains("sidecar.maxConnections"))
        await third.awaitConnectionClose()
        #expect(try await second.health().serving)
        await first.close()
        await second.close()
      }
    }
  }

  @Test(.timeLimit(.minutes(3)))
  func idleConnectionsAndHalfSentFramesAreClosedButKeyStreamsStay() async throws {
    try await InMemoryTestStore.with { db in
      try await withTestSidecar(store: db, adjust: { $0.sidecar.idleTimeoutSeconds = 1 }) { sidecars in
        let watcher = try await sidecars[0].connect()
        var keys = try await watcher.watchSigningKeys().makeAsyncIterator()
        #expect(try await keys.next() != nil)
        let idle = try await sidecars[0].connect()
        let halfSent = try await sidecars[0].connect()
        try await halfSent.sendRaw([0, 0, 0, 50, 1, 2])
        await idle.awaitConnectionClose()
        await halfSent.awaitConnectionClose()
        #expect(watcher.isOpen, "a connection with an open key stream is waiting by design, not idle")
        await watcher.close()
      }
    }
  }

  @Test func oneRevokeNamesAtMostTheConfiguredNumberOfHandles() async throws {
    try await InMemoryTestStore.with { db in
      try await withTestSidecar(store: db, adjust: { $0.sidecar.maxRevokeHandles = 2 }) { sidecars in
        let client = try await sidecars[0].connect()
        await #expect(throws: SidecarCallError.self) {
          _ = try await client.revokeSessions(handles: ["a", "b", "c"])
        }
        let response = try await client.call(Call.revoke(handles: ["a", "b", "c"]))
        #expect(response.status.code == .resourceExhausted)
        #expect(response.status.message.contains("sidecar.maxRevokeHandles"))
        #expect(try await client.call(Call.revoke(handles: ["a", "b"])).status.code == .ok)
        await client.close()
      }
    }
  }

  @Test func theLargestLegitimateRequestFitsTheDefaultFrameLimit() async throws {
    #expect(SidecarConfig().sidecar.maxFrameBytes == 256 * 1024)
    try await InMemoryTestStore.with { db in
      try await withTestSidecar(store: db) { sidecars in
        let client = try await sidecars[0].connect()
        let big = #"{"blob":""# + String(repeating: "x", count: 64 * 1024 - 12) + #""}"#
        let created = try await client.createSession(
          userID: String(repeating: "u", count: 255), sessionDataJSON: big)
        #expect(!created.session.handle.isEmpty)
        await client.close()
      }
    }
  }

  @Test func aPeerOutsideTheAllowListsIsRefusedAndOneInsideIsServed() async throws {
    let me = getuid()
    try await InMemoryTestStore.with { db in
      try await withTestSidecar(store: db, adjust: { $0.sidecar.allowedUIDs = [me &+ 1] }) { sidecars in
        let client = try await sidecars[0].connect()
        let refused = try await client.awaitResponse(id: 0)
        #expect(refused.status.code == .permissionDenied)
        await client.awaitConnectionClose()
      }
    }
    try await InMemoryTestStore.with { db in
      try await withTestSidecar(store: db, adjust: { $0.sidecar.allowedUIDs = [me] }) { sidecars in
        let client = try await sidecars[0].connect()
        #expect(try await client.health().serving)
        await client.close()
      }
    }
  }

  @Test func theReadOnlySocketVerifiesButCreatesAndRevokesNothing() async throws {
    let readOnlyPath = TestSidecar.socketPath()
    try await InMemoryTestStore.with { db in
      try await withTestSidecar(
        store: db,
        adjust: {
          $0.sidecar.readOnlySocketPath = readOnlyPath
          $0.sidecar.socketGroup = String(getgid())
        }
      ) { sidecars in
        let writer = try await sidecars[0].connect()
        let created = try await writer.createSession(userID: "reader")
        let reader = try await SidecarClient.connect(socketPath: readOnlyPath, defaultTimeout: .seconds(120))
        #expect(try await reader.verifySession(accessToken: created.accessToken.token).outcome == .ok)
        #expect(try await reader.signingKeys().keys.isEmpty == false)
        #expect(try await reader.health().serving)
        for request in [Call.create(user: "x"), Call.revoke(user: "reader"), Call.refresh(created.refreshToken.token)] {
          let response = try await reader.call(request)
          #expect(response.status.code == .permissionDenied)
          #expect(response.status.message.contains("read-only"))
        }
        #expect(try await writer.listSessions(userID: "reader") == [created.session.handle])
        let group = try FileManager.default.attributesOfItem(atPath: sidecars[0].socketPath)[.groupOwnerAccountID]
        #expect((group as? NSNumber)?.uint32Value == getgid())
        await reader.close()
        await writer.close()
      }
    }
  }
}

@Suite("A global cap on database work")
struct QueuedDatabaseWorkTests {
  @Test(.timeLimit(.minutes(3)))
  func callsBeyondTheCapAreRefusedWhileVerifyGoesOn() async throws {
    let store = GatedStore()
    let socketPath = TestSidecar.socketPath()
    var config = TestSidecar.config(database: InMemoryTestStore(), socketPath: socketPath)
    config.sidecar.maxQueuedDatabaseCalls = 1
    let database = try await SessionDatabase.open(requestThreads: 2) { store }
    let sidecar = Sidecar(config: config, database: database, logger: Logger(label: "queued-work"))
    try await sidecar.prepare()
    let running = Task { try await sidecar.run(cleanup: nil, signals: []) }
    try await sidecar.waitUntilListening()
    let client = try await SidecarClient.connect(socketPath: socketPath, defaultTimeout: .seconds(120))
    let keys = try await client.signingKeys()
    let first = Task { try await client.createSession(userID: "first") }
    await store.waitForInsert()
    // The one allowed database call waits in the store: the next one is refused at once, on any connection.
    let other = try await SidecarClient.connect(socketPath: socketPath, defaultTimeout: .seconds(120))
    let refused = try await other.call(Call.create(user: "second"))
    #expect(refused.status.code == .resourceExhausted)
    #expect(refused.status.message.contains("sidecar.maxQueuedDatabaseCalls"))
    #expect(try await other.signingKeys().keys.count == keys.keys.count, "calls without the database go on")
    store.open()
    #expect(try await first.value.session.userID == "first")
    await client.close()
    await other.close()
    await sidecar.shutdown()
    try await running.value
  }
}
