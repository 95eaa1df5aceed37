import Foundation
import SessionCore
import SessionSidecarWire
import SessionToken
import SidecarClient
import Testing

@Suite("Publishing keys: the WatchSigningKeys stream and the JWKS file feed offline verifiers")
struct KeyPublishingTests {
  @Test(.timeLimit(.minutes(3))) func theStreamDeliversEachChangeAndAnOfflineVerifierFollowsIt() async throws {
    try await InMemoryTestStore.with { db in
      let jwksPath = NSTemporaryDirectory() + "sidecar-jwks-\(UInt32.random(in: 0...UInt32.max)).json"
      defer { try? FileManager.default.removeItem(atPath: jwksPath) }
      try await withTestSidecar(store: db, adjust: { $0.sidecar.jwksFile = jwksPath }) { sidecars in
        let sidecar = sidecars[0]
        let client = try await sidecar.connect()
        var updates = try await client.watchSigningKeys().makeAsyncIterator()
        let first = try #require(try await updates.next())
        #expect(first.keys.count >= 2)

        // The file holds the same set, so a process that only reads files verifies offline.
        let fileJSON = try String(contentsOfFile: jwksPath, encoding: .utf8)
        #expect(fileJSON == first.jwksJson)
        let offline = try OfflineAccessTokenVerifier(jwksJSON: fileJSON)
        let token = try await client.call(Call.create(user: "offline")).createSession.accessToken.token
        guard case .valid(let verified) = offline.verify(token, nowMs: sidecar.clock.nowMs()) else {
          Issue.record("the offline verifier refused a token the sidecar issued")
          return
        }
        #expect(verified.claims.subject == "offline")

        // A new key (as `keys rotate` makes one) reaches the stream and the file.
        sidecar.clock.advance(byMs: 1000)
        let now = sidecar.clock.nowMs()
        #expect(try await sidecar.sidecar.rotation.create(kind: .dynamic, slotStartMs: now + 60_000, nowMs: now))
        try await sidecar.sidecar.rotation.synchronize()
        let second = try #require(try await updates.next())
        #expect(second.keys.count == first.keys.count + 1)
        #expect(second.keys.contains { $0.kid == "d-\(now)" })
        var fileUpdated = false
        for _ in 0..<50 where !fileUpdated {
          fileUpdated = (try? String(contentsOfFile: jwksPath, encoding: .utf8)) == second.jwksJson
          if !fileUpdated { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(fileUpdated)
        try offline.update(jwksJSON: second.jwksJson)
        #expect(throws: (any Error).self) { try offline.update(jwksJSON: "{not json") }
        guard case .valid = offline.verify(token, nowMs: sidecar.clock.nowMs()) else {
          Issue.record("a malformed update replaced the key set")
          return
        }
        await client.close()
      }
    }
  }
}

@Suite("The JWKS file is written safely")
struct JWKSFileTests {
  @Test func aSymlinkPlantedAtThePathIsReplacedNotFollowed() async throws {
    let directory = NSTemporaryDirectory() + "sidecar-jwks-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let victim = directory + "/victim"
    try "do not overwrite".write(toFile: victim, atomically: true, encoding: .utf8)
    let path = directory + "/jwks.json"
    try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: victim)
    try await InMemoryTestStore.with { db in
      try await withTestSidecar(store: db, adjust: { $0.sidecar.jwksFile = path }) { _ in
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "do not overwrite")
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect(attributes[.type] as? FileAttributeType == .typeRegular)
        #expect((attributes[.posixPermissions] as? NSNumber)?.uint16Value == 0o644)
        #expect(try String(contentsOfFile: path, encoding: .utf8).contains("\"keys\""))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix(".jwks-") }
        #expect(leftovers.isEmpty)
      }
    }
  }
}
