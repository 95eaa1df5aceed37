import SessionStorage

// How records map to the columns of `StoreQueries.sessionColumns` and `StoreQueries.signingKeyColumns`.

extension SessionRecord {
  init(row: MySQLRow) throws {
    self.init(
      handle: try row.string(0), userID: try row.string(1), refreshTokenHash2: try row.string(2),
      previousRefreshTokenHash2: try row.optionalString(3), rotatedAtMs: try row.optionalInt(4),
      tokenFamilyKey: try row.bytes(5), sessionDataJSON: try row.string(6), accessTokenPayloadJSON: try row.string(7),
      antiCsrfToken: try row.optionalString(8), useStaticKey: try row.bool(9), createdAtMs: try row.int(10),
      expiresAtMs: try row.int(11), refreshGeneration: try row.int(12), lastAccessTokenExpiresAtMs: try row.int(13)
    )
  }

  /// Every column but `handle`, in `StoreQueries.updateSession`'s SET order.
  var mutableColumnValues: [MySQLValue] {
    [
      .text(userID), .text(refreshTokenHash2), previousRefreshTokenHash2.map(MySQLValue.text) ?? .null,
      rotatedAtMs.map(MySQLValue.int) ?? .null, .bytes(tokenFamilyKey), .text(sessionDataJSON),
      .text(accessTokenPayloadJSON), antiCsrfToken.map(MySQLValue.text) ?? .null, .int(useStaticKey ? 1 : 0),
      .int(createdAtMs), .int(expiresAtMs), .int(refreshGeneration), .int(lastAccessTokenExpiresAtMs),
    ]
  }

  var columnValues: [MySQLValue] { [.text(handle)] + mutableColumnValues }
}

extension SigningKeyRecord {
  init(row: MySQLRow) throws {
    let kindName = try row.string(1)
    guard let kind = SigningKeyKind(rawValue: kindName) else {
      throw StoreError.failed("signing key \(try row.string(0)) has unknown kind '\(kindName)'")
    }
    self.init(
      kid: try row.string(0), kind: kind, algorithm: try row.string(2), slotStartMs: try row.int(3),
      privateKey: try row.bytes(4), sealed: try row.bool(5), publicKeyPEM: try row.string(6),
      createdAtMs: try row.int(7), expiresAtMs: try row.int(8)
    )
  }

  var columnValues: [MySQLValue] {
    [
      .text(kid), .text(kind.rawValue), .text(algorithm), .int(slotStartMs), .bytes(privateKey),
      .int(sealed ? 1 : 0), .text(publicKeyPEM), .int(createdAtMs), .int(expiresAtMs),
    ]
  }
}

extension RevocationRecord {
  init(row: MySQLRow) throws {
    self.init(
      id: try row.int(0), sessionHandle: try row.string(1), revokedAtMs: try row.int(2), expiresAtMs: try row.int(3))
  }
}
