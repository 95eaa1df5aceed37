import SessionStorage

/// Sessions and keys with every column filled in, including values that need the long-value fetch path.
public enum TestRecords {
  public static func session(
    _ handle: String, user: String = "user-1", createdAtMs: Int64 = 1_000, expiresAtMs: Int64 = 10_000,
    data: String = #"{"n":0}"#
  ) -> SessionRecord {
    SessionRecord(
      handle: handle, userID: user, refreshTokenHash2: String(repeating: "ab", count: 32),
      previousRefreshTokenHash2: nil, rotatedAtMs: nil, tokenFamilyKey: Array(0..<32),
      sessionDataJSON: data, accessTokenPayloadJSON: #"{"role":"admin","name":"Zoë 🐳"}"#, antiCsrfToken: nil,
      useStaticKey: false, createdAtMs: createdAtMs, expiresAtMs: expiresAtMs
    )
  }

  public static func key(
    _ kid: String, kind: SigningKeyKind = .dynamic, slotStartMs: Int64, expiresAtMs: Int64 = 100_000
  ) -> SigningKeyRecord {
    SigningKeyRecord(
      kid: kid, kind: kind, algorithm: "RS256", slotStartMs: slotStartMs,
      privateKey: Array("-----BEGIN PRIVATE KEY-----\n\(String(repeating: "A", count: 1_600))\n".utf8),
      sealed: kind == .static, publicKeyPEM: "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n",
      createdAtMs: slotStartMs, expiresAtMs: expiresAtMs
    )
  }
}
