import Foundation
import Logging
import SessionCore
import SidecarServer
import Testing

@Suite("The socket file")
struct SocketFileTests {
  @Test func itHasTheConfiguredModeAndALiveOneIsNotTakenOver() async throws {
    try await InMemoryTestStore.with { db in
      try await withTestSidecar(store: db, adjust: { $0.sidecar.socketMode = 0o600 }) { sidecars in
        let path = sidecars[0].socketPath
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.uint16Value == 0o600)

        // A second sidecar configured with the same path refuses to start instead of stealing it.
        let config = TestSidecar.config(database: db, socketPath: path)
        let second = Sidecar(config: config, database: try await db.makeDatabase(), logger: Logger(label: "second"))
        try await second.prepare()
        await #expect(throws: (any Error).self) {
          try await second.run(cleanup: nil, signals: [])
        }
        // The first one still serves on its path.
        let client = try await sidecars[0].connect()
        #expect(try await client.call(Call.health).health.serving)
        await client.close()
      }
    }
  }
}
