import Foundation
import OpenSSLCrypto
import SessionCore
import SessionSidecarWire
import SessionStorage
import SessionToken
import SidecarClient
import TestSupport
import Testing

@Suite("Signing keys: rotation across sidecars, sealing at rest, the operator's key file")
struct SigningKeyTests {
  /// Four sidecars on one database rotate a one-minute key many times under a shared test clock: exactly one
  /// key per slot, and every unexpired token verifies on every sidecar at every step, around each rotation too.
  @Test(.enabled(if: TestMySQLServer.shouldRun, TestMySQLServer.skipReason))
  func fourSidecarsRotateExactlyOncePerSlotAndVerifyEachOthersTokens() async throws {
    let interval: Int64 = 60_000
    let policy = SigningKeyPolicy(
      intervalMs: interval, accessTokenValidityMs: 30_000, publishLeadMs: 5_000, prepareAheadMs: 15_000,
      retentionMarginMs: 5_000)
    let clock = TestClock(nowMs: 1_800_000_000_000)
    try await TestDatabase.with { db in
      try await withTestSidecar(
        4, store: db, clock: clock, keyPolicy: policy, adjust: { $0.accessToken.validitySeconds = 30 }
      ) { sidecars in
        var clients: [SidecarClient] = []
        for s in sidecars { clients.append(try await s.connect()) }
        var live: [(token: String, expiresAtMs: Int64)] = []
        let start = clock.nowMs()
        var step = 0
        while clock.nowMs() < start + 10 * interval {
          clock.advance(byMs: 2_500)
          step += 1
          // Every sidecar runs its key round, in a different order each step, two of them at once.
          let order = sidecars.indices.shuffled()
          try await withThrowingTaskGroup(of: Void.self) { group in
            for i in order.prefix(2) { group.addTask { try await sidecars[i].sidecar.rotation.synchronize() } }
            try await group.waitForAll()
          }
          for i in order.dropFirst(2) { try await sidecars[i].sidecar.rotation.synchronize() }

          let issuer = clients[step % clients.count]
          let created = try await issuer.call(Call.create(user: "rotating-user"))
          try #require(created.status.code == .ok, "\(created.status.message)")
          live.append((created.createSession.accessToken.token, created.createSession.accessToken.expiresAtMs))
          live.removeAll { $0.expiresAtMs <= clock.nowMs() }
          for (token, _) in live {
            for client in clients {
              let outcome = try await client.call(Call.verify(token)).verifySession
              #expect(outcome.outcome == .ok, "step \(step): \(outcome.reason)")
            }
          }
        }
        let keys = try db.connect().signingKeys().filter { $0.kind == .dynamic }
        #expect(Set(keys.map(\.slotStartMs)).count == keys.count, "one key per slot")
        #expect(keys.count >= 10)
        let staticKeys = try db.connect().signingKeys().filter { $0.kind == .static }
        #expect(staticKeys.count == 1, "one static key per database")
        for client in clients { await client.close() }
      }
    }
  }

  @Test(.enabled(if: TestMySQLServer.shouldRun, TestMySQLServer.skipReason))
  func privateKeysAreSealedAtRestWithAKeyEncryptionKey() async throws {
    try await TestDatabase.with { db in
      let sealer = try PrivateKeySealer(keyEncryptionKey: SecureRandom.bytes(32))
      try await withTestSidecar(store: db, sealer: sealer) { sidecars in
        let client = try await sidecars[0].connect()
        let created = try await client.call(Call.create(user: "sealed"))
        #expect(created.status.code == .ok)
        #expect(
          try await client.call(Call.verify(created.createSession.accessToken.token)).verifySession.outcome == .ok)
        await client.close()
      }
      let stored = try db.connect().signingKeys()
      #expect(!stored.isEmpty)
      for key in stored {
        #expect(key.sealed)
        #expect(!String(decoding: key.privateKey, as: UTF8.self).contains("PRIVATE KEY"))
      }
    }
  }

  @Test(.enabled(if: TestMySQLServer.shouldRun, TestMySQLServer.skipReason))
  func theOperatorsKeyFileSignsAndAReplacedKeyKeepsVerifying() async throws {
    let path = NSTemporaryDirectory() + "sidecar-user-key-\(UInt32.random(in: 0...UInt32.max)).pem"
    defer { try? FileManager.default.removeItem(atPath: path) }
    try RSAPrivateKey.generate().pkcs8PEM().write(toFile: path, atomically: true, encoding: .utf8)
    try await TestDatabase.with { db in
      try await withTestSidecar(store: db, adjust: { $0.accessToken.signingKeyFile = path }) {
        sidecars in
        let client = try await sidecars[0].connect()
        let first = try await client.call(Call.create(user: "u")).createSession.accessToken.token
        let firstKid = try #require(try jwtPart(first, 0)["kid"] as? String)
        #expect(firstKid.hasPrefix("s-file-"))

        try RSAPrivateKey.generate().pkcs8PEM().write(toFile: path, atomically: true, encoding: .utf8)
        try await sidecars[0].sidecar.rotation.synchronize()
        let second = try await client.call(Call.create(user: "u")).createSession.accessToken.token
        let secondKid = try #require(try jwtPart(second, 0)["kid"] as? String)
        #expect(secondKid.hasPrefix("s-file-") && secondKid != firstKid)
        #expect(try await client.call(Call.verify(first)).verifySession.outcome == .ok)
        #expect(try await client.call(Call.verify(second)).verifySession.outcome == .ok)
        let jwks = try await client.call(Call.signingKeys).getSigningKeys.jwksJson
        #expect(jwks.contains(firstKid) && jwks.contains(secondKid))
        await client.close()
      }
    }
  }
}
