/// Whether a key rotates on the configured interval or is the database's one long-lived key.
public enum SigningKeyKind: String, Sendable, Equatable {
  case dynamic
  case `static`
}

/// One signing key as stored: a row of the `signing_key` table.
///
/// `slotStartMs` is unique in the table: a dynamic key owns the rotation slot that starts there (it signs from
/// that instant), and the static key owns slot 0. Inserting a key for a slot that already has one fails with
/// `StoreError.duplicate`, which is how many sidecars on one database agree on exactly one key per slot.
public struct SigningKeyRecord: Sendable, Equatable {
  /// `d-<createdAtMillis>` for a dynamic key, `s-<id>` for the static key.
  public var kid: String
  public var kind: SigningKeyKind
  /// JOSE algorithm name; "RS256" for every key this version makes.
  public var algorithm: String
  public var slotStartMs: Int64
  /// The private key: PKCS#8 PEM bytes, or an AES-256-GCM sealed box of them when `sealed` is true.
  public var privateKey: [UInt8]
  public var sealed: Bool
  public var publicKeyPEM: String
  public var createdAtMs: Int64
  /// After this instant no token the key signed is valid; the key may be deleted.
  public var expiresAtMs: Int64

  public init(
    kid: String, kind: SigningKeyKind, algorithm: String, slotStartMs: Int64, privateKey: [UInt8], sealed: Bool,
    publicKeyPEM: String, createdAtMs: Int64, expiresAtMs: Int64
  ) {
    self.kid = kid
    self.kind = kind
    self.algorithm = algorithm
    self.slotStartMs = slotStartMs
    self.privateKey = privateKey
    self.sealed = sealed
    self.publicKeyPEM = publicKeyPEM
    self.createdAtMs = createdAtMs
    self.expiresAtMs = expiresAtMs
  }
}

/// One entry of the revocation log: a session revoked on some sidecar, to be enforced by all of them until
/// every access token of that session has expired.
public struct RevocationRecord: Sendable, Equatable {
  /// Increasing id assigned by the store; sidecars read the log from the last id they saw.
  public var id: Int64
  public var sessionHandle: String
  public var revokedAtMs: Int64
  /// After this instant no access token of the session is valid; the entry may be deleted.
  public var expiresAtMs: Int64

  public init(id: Int64, sessionHandle: String, revokedAtMs: Int64, expiresAtMs: Int64) {
    self.id = id
    self.sessionHandle = sessionHandle
    self.revokedAtMs = revokedAtMs
    self.expiresAtMs = expiresAtMs
  }
}
