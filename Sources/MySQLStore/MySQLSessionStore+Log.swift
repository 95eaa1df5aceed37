import SessionStorage

// The revocation log, signing keys and job claims: single statements, no transaction needed.
extension MySQLSessionStore {
  // MARK: Revocation log

  public func revocations(afterID: Int64, limit: Int) throws -> [RevocationRecord] {
    guard limit > 0 else { return [] }
    return try pool.withConnection(idempotent: true) { connection in
      try connection.select(queries.revocationsAfter, [.int(afterID), .int(Int64(limit))], operation: "revocations")
        .map(RevocationRecord.init)
    }
  }

  public func deleteExpiredRevocations(nowMs: Int64, limit: Int) throws -> Int {
    guard limit > 0 else { return 0 }
    return try pool.withConnection { connection in
      try connection.execute(
        queries.deleteExpiredRevocations, [.int(nowMs), .int(Int64(limit))], operation: "deleteExpiredRevocations"
      )
    }
  }

  // MARK: Signing keys

  public func signingKeys() throws -> [SigningKeyRecord] {
    try pool.withConnection(idempotent: true) { connection in
      try connection.select(queries.signingKeys, [], operation: "signingKeys").map(SigningKeyRecord.init)
    }
  }

  public func insertSigningKey(_ key: SigningKeyRecord) throws {
    do {
      try pool.withConnection { connection in
        try connection.execute(queries.insertSigningKey, key.columnValues, operation: "insertSigningKey")
      }
    } catch StoreError.duplicate {
      throw StoreError.duplicate("a signing key for slot \(key.slotStartMs) or with kid \(key.kid) already exists")
    }
  }

  public func latestRevocationID() throws -> Int64 {
    try pool.withConnection(idempotent: true) { connection in
      try connection.select(queries.latestRevocationID, [], operation: "latestRevocationID").first?.int(0) ?? 0
    }
  }

  public func expireSigningKey(kid: String, atMs: Int64) throws -> Bool {
    try pool.withConnection { connection in
      try connection.execute(queries.expireSigningKey, [.int(atMs), .text(kid)], operation: "expireSigningKey")
    } == 1
  }

  public func sealSigningKey(kid: String, sealedPrivateKey: [UInt8]) throws -> Bool {
    try pool.withConnection { connection in
      try connection.execute(
        queries.sealSigningKey, [.bytes(sealedPrivateKey), .text(kid)], operation: "sealSigningKey")
    } == 1
  }

  public func deleteExpiredSigningKeys(nowMs: Int64) throws -> Int {
    try pool.withConnection { connection in
      try connection.execute(queries.deleteExpiredSigningKeys, [.int(nowMs)], operation: "deleteExpiredSigningKeys")
    }
  }

  // MARK: Coordination

  /// A plain INSERT on the (job, scheduled_at_ms) primary key: the one caller whose row goes in has the run;
  /// every other gets a duplicate-key error, which means "already claimed". (INSERT IGNORE would do the same
  /// but would also turn other errors, such as a too-long job name, into silently truncated warnings.)
  public func claimJobRun(job: String, scheduledAtMs: Int64, claimant: String) throws -> Bool {
    try pool.withConnection { connection in
      do {
        try connection.execute(
          queries.claimJobRun, [.text(job), .int(scheduledAtMs), .text(claimant), .int(WallClock.nowMs())],
          operation: "claimJobRun"
        )
      } catch StoreError.duplicate {
        return false
      }
      // The claimant also clears this job's old claims, a bounded batch at a time. Best effort: the claim stands
      // even when this fails (a conflict here must not run the claim again, which would then find it taken).
      do {
        try connection.execute(
          queries.pruneJobRuns, [.text(job), .int(scheduledAtMs - Self.jobRunRetentionMs)], operation: "claimJobRun")
      } catch {
        logger.debug("pruning old job claims failed; the next claimant retries", metadata: ["mysql.error": "\(error)"])
      }
      return true
    }
  }
}
