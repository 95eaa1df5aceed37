import Foundation
import OpenSSLCrypto
import SessionStorage
import SessionToken
import Synchronization

/// A private key the operator manages in a PEM file (`tokens.accessToken.signingKey.file`, the seed's
/// `signingKey.get`). When set, it signs every access token. The file is re-read when it changes; a replaced
/// key stays published until every token it signed has expired, so replacing the file logs nobody out.
public final class UserSigningKeyFile: Sendable {
  private struct State {
    var fingerprint: String?
    var current: LoadedSigningKey?
    /// Keys replaced by a newer file, with the instant their last token expires.
    var retired: [(key: LoadedSigningKey, until: Int64)] = []
  }

  public let path: String
  private let accessTokenValidityMs: Int64
  private let state = Mutex(State())

  public init(path: String, accessTokenValidityMs: Int64) {
    self.path = path
    self.accessTokenValidityMs = accessTokenValidityMs
  }

  /// Re-reads the file when its size or modification time changed. Returns true when the key changed.
  /// Throws when the file cannot be read or holds no usable RSA private key (the previous key stays).
  @discardableResult
  public func reload(nowMs: Int64) throws(SigningKeyError) -> Bool {
    let attributes = try? FileManager.default.attributesOfItem(atPath: path)
    guard let attributes, let modified = attributes[.modificationDate] as? Date else {
      throw .keyFileUnreadable(path: path)
    }
    let fingerprint = "\(modified.timeIntervalSince1970)/\(attributes[.size] ?? 0)"
    guard state.withLock({ $0.fingerprint != fingerprint }) else { return false }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw .keyFileUnreadable(path: path)
    }
    let key: RSAPrivateKey
    let publicPEM: String
    do {
      key = try RSAPrivateKey(pem: String(decoding: data, as: UTF8.self))
      publicPEM = try key.publicKey.spkiPEM()
    } catch {
      throw .keyFileNotAnRSAKey(path: path)
    }
    // The kid names the public key, so every sidecar reading the same file agrees on it.
    let kid = "s-file-" + Hex.encode(Array(SHA256.hash(publicPEM).prefix(8)))
    let loaded = LoadedSigningKey(
      kid: kid, kind: .static, algorithm: "RS256", slotStartMs: 0, createdAtMs: nowMs, expiresAtMs: Int64.max,
      publicKeyPEM: publicPEM, privateKey: key,
      verificationKey: VerificationKey(kid: kid, publicKey: key.publicKey, algorithm: "RS256"), isUserSupplied: true)
    return state.withLock { state in
      state.fingerprint = fingerprint
      guard state.current?.kid != kid else { return false }
      if let previous = state.current {
        state.retired.append((previous, nowMs + accessTokenValidityMs + 60_000))
      }
      state.current = loaded
      return true
    }
  }

  /// The key that signs, then replaced keys whose tokens may still be unexpired.
  public func keys(nowMs: Int64) -> [LoadedSigningKey] {
    state.withLock { state in
      state.retired.removeAll { $0.until <= nowMs }
      return (state.current.map { [$0] } ?? []) + state.retired.map(\.key)
    }
  }
}
