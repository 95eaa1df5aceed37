import CronSchedule

/// Reads typed, range-checked values out of flattened configuration, collecting problems as it goes.
struct ConfigReader {
  private var values: [String: (value: String, source: String)]
  private(set) var problems: [String] = []

  init(values: [String: (value: String, source: String)]) { self.values = values }

  mutating func read() -> SidecarConfig {
    var c = SidecarConfig()
    string("mysql.host", into: &c.mysql.host)
    int("mysql.port", 1...65535, into: &c.mysql.port)
    string("mysql.user", required: true, into: &c.mysql.user)
    string("mysql.password", required: true, allowEmpty: true, into: &c.mysql.password)
    int("mysql.connectionLimit", 1...1000, into: &c.mysql.connectionLimit)
    string("mysql.database", required: true, into: &c.mysql.database)
    tableName("mysql.tables.signingKey", into: &c.mysql.signingKeyTable)
    tableName("mysql.tables.refreshTokens", into: &c.mysql.refreshTokenTable)
    optionalString("mysql.unixSocket", into: &c.mysql.unixSocket)
    hostList("mysql.hosts", defaultPort: c.mysql.port, into: &c.mysql.hosts)
    if !c.mysql.hosts.isEmpty {
      if values["mysql.host"] != nil || values["mysql.port"] != nil {
        problem("mysql.hosts", "replaces mysql.host and mysql.port: set either mysql.hosts or those two")
      }
      if c.mysql.unixSocket != nil {
        problem("mysql.hosts", "connects over TCP: it excludes mysql.unixSocket")
      }
    }
    if let raw = values["mysql.tls.mode"]?.value {
      if let mode = MySQLTLSMode(rawValue: raw) {
        c.mysql.tlsMode = mode
      } else {
        let modes = MySQLTLSMode.allCases.map(\.rawValue).joined(separator: ", ")
        problem("mysql.tls.mode", "\(QuotedText.quoted(raw)) is not one of \(modes)")
      }
    }
    optionalString("mysql.tls.ca", into: &c.mysql.tlsCAFile)

    bool("tokens.accessToken.signingKey.dynamic", into: &c.accessToken.dynamicSigningKey)
    int(
      "tokens.accessToken.signingKey.updateInterval", 1...720, unit: "hours",
      into: &c.accessToken.signingKeyUpdateIntervalHours)
    optionalString("tokens.accessToken.signingKey.file", into: &c.accessToken.signingKeyFile)
    int("tokens.accessToken.validity", 10...86_400_000, unit: "seconds", into: &c.accessToken.validitySeconds)
    bool("tokens.accessToken.blacklisting", into: &c.accessToken.blacklisting)
    int(
      "tokens.accessToken.revocationSyncInterval", 50...60_000, unit: "milliseconds",
      into: &c.accessToken.revocationSyncIntervalMs)

    var refreshHours = c.refreshToken.validityMinutes / 60
    int("tokens.refreshToken.validity", 1...8760, unit: "hours", into: &refreshHours)
    c.refreshToken.validityMinutes = refreshHours * 60
    int("tokens.refreshToken.validityMinutes", 60...525_600, unit: "minutes", into: &c.refreshToken.validityMinutes)
    string("tokens.refreshToken.removalCronjobInterval", into: &c.refreshToken.removalCronjobInterval)
    do {
      _ = try CronExpression(parsing: c.refreshToken.removalCronjobInterval)
    } catch {
      problem("tokens.refreshToken.removalCronjobInterval", error.description)
    }
    string("tokens.refreshToken.renewTokenPath", required: true, into: &c.refreshToken.renewTokenPath)
    if let path = values["tokens.refreshToken.renewTokenPath"]?.value, !path.isEmpty,
      !path.hasPrefix("/") || path.contains(where: { $0 == ";" || $0 == "," || $0.isWhitespace })
        || Self.hasControlCharacter(path)
    {
      problem(
        "tokens.refreshToken.renewTokenPath",
        "must be a URL path starting with / (no ';', ',', spaces or control characters)")
    }
    int(
      "tokens.refreshToken.rotationGracePeriod", 0...300, unit: "seconds",
      into: &c.refreshToken.rotationGracePeriodSeconds)

    string("logging.level", into: &c.loggingLevel)
    let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
    if !levels.contains(c.loggingLevel) {
      problem("logging.level", "\(QuotedText.quoted(c.loggingLevel)) is not one of \(levels.joined(separator: ", "))")
    }
    string("logging.format", into: &c.loggingFormat)
    if !["text", "json"].contains(c.loggingFormat) {
      problem("logging.format", "\(QuotedText.quoted(c.loggingFormat)) is not one of text, json")
    }

    string("cookie.domain", required: true, into: &c.cookie.domain)
    if c.cookie.domain.contains(where: { $0 == ";" || $0 == "," || $0.isWhitespace })
      || Self.hasControlCharacter(c.cookie.domain)
    {
      problem("cookie.domain", "must be a bare domain name (no ';', ',', spaces or control characters)")
    }
    bool("cookie.secure", into: &c.cookie.secure)

    string("sidecar.socketPath", into: &c.sidecar.socketPath)
    if c.sidecar.socketPath.utf8.count > 90 {
      problem(
        "sidecar.socketPath",
        "is longer than 90 bytes (Unix socket paths are limited to 107, and the socket is bound beside it first)")
    }
    socketMode("sidecar.socketMode", into: &c.sidecar.socketMode)
    int("sidecar.maxFrameBytes", 1024...(64 << 20), unit: "bytes", into: &c.sidecar.maxFrameBytes)
    int("sidecar.maxConnections", 1...1_000_000, into: &c.sidecar.maxConnections)
    int("sidecar.verifyCache.maxEntries", 0...10_000_000, into: &c.sidecar.verifyCacheMaxEntries)
    int(
      "sidecar.verifyCache.maxBytes", (1 << 20)...(1 << 34), unit: "bytes", into: &c.sidecar.verifyCacheMaxBytes)
    int("sidecar.idleTimeoutSeconds", 1...86_400, unit: "seconds", into: &c.sidecar.idleTimeoutSeconds)
    int("sidecar.maxRevokeHandles", 1...100_000, into: &c.sidecar.maxRevokeHandles)
    int("sidecar.maxQueuedDatabaseCalls", 1...1_000_000, into: &c.sidecar.maxQueuedDatabaseCalls)
    optionalString("sidecar.socketGroup", into: &c.sidecar.socketGroup)
    ids("sidecar.allowedUIDs", into: &c.sidecar.allowedUIDs)
    ids("sidecar.allowedGIDs", into: &c.sidecar.allowedGIDs)
    optionalString("sidecar.readOnlySocketPath", into: &c.sidecar.readOnlySocketPath)
    if let path = c.sidecar.readOnlySocketPath, path.utf8.count > 90 || path == c.sidecar.socketPath {
      problem("sidecar.readOnlySocketPath", "must be at most 90 bytes and differ from sidecar.socketPath")
    }
    int("sidecar.maxInFlightPerConnection", 1...65536, into: &c.sidecar.maxInFlightPerConnection)
    int("sidecar.maxAccessTokenBytes", 512...(1 << 20), unit: "bytes", into: &c.sidecar.maxAccessTokenBytes)
    optionalString("sidecar.jwksFile", into: &c.sidecar.jwksFile)
    optionalString("sidecar.http.address", into: &c.sidecar.httpAddress)
    if let address = c.sidecar.httpAddress, LoopbackAddress(parsing: address) == nil {
      problem(
        "sidecar.http.address",
        "\(QuotedText.quoted(address)) is not a loopback host:port (e.g. 127.0.0.1:8080 or [::1]:8080)")
    }
    readGRPC(into: &c.sidecar)
    optionalString("sidecar.keyEncryptionKeyFile", into: &c.sidecar.keyEncryptionKeyFile)
    bool("sidecar.allowUnsealedKeys", into: &c.sidecar.allowUnsealedKeys)
    int("sidecar.drainTimeoutSeconds", 0...600, unit: "seconds", into: &c.sidecar.drainTimeoutSeconds)
    int(
      "sidecar.readinessDatabaseWindowSeconds", 1...3600, unit: "seconds",
      into: &c.sidecar.readinessDatabaseWindowSeconds)

    for key in values.keys.sorted() where !Self.knownKeys.contains(key) {
      problem(key, "unknown key")
    }
    return c
  }

  static let knownKeys: Set<String> = [
    "mysql.host", "mysql.port", "mysql.user", "mysql.password", "mysql.connectionLimit", "mysql.database",
    "mysql.tables.signingKey", "mysql.tables.refreshTokens", "mysql.unixSocket", "mysql.tls.mode", "mysql.tls.ca",
    "mysql.hosts", "tokens.accessToken.signingKey.dynamic", "tokens.accessToken.signingKey.updateInterval",
    "tokens.accessToken.signingKey.file", "tokens.accessToken.validity", "tokens.accessToken.blacklisting",
    "tokens.accessToken.revocationSyncInterval", "tokens.refreshToken.validity",
    "tokens.refreshToken.validityMinutes", "tokens.refreshToken.removalCronjobInterval",
    "tokens.refreshToken.renewTokenPath", "tokens.refreshToken.rotationGracePeriod", "logging.level",
    "cookie.domain", "cookie.secure", "sidecar.socketPath", "sidecar.socketMode", "sidecar.maxFrameBytes",
    "sidecar.maxInFlightPerConnection", "sidecar.maxAccessTokenBytes", "sidecar.jwksFile", "sidecar.http.address",
    "sidecar.keyEncryptionKeyFile", "sidecar.allowUnsealedKeys", "sidecar.maxConnections",
    "sidecar.verifyCache.maxEntries", "sidecar.verifyCache.maxBytes",
    "sidecar.idleTimeoutSeconds", "sidecar.maxRevokeHandles", "sidecar.maxQueuedDatabaseCalls", "sidecar.socketGroup",
    "sidecar.allowedUIDs", "sidecar.allowedGIDs", "sidecar.readOnlySocketPath", "sidecar.drainTimeoutSeconds",
    "sidecar.readinessDatabaseWindowSeconds", "sidecar.grpc.socketPath", "sidecar.grpc.address",
    "logging.format",
  ]

  /// `sidecar.grpc.*`: a third socket path that must not collide with the other two, and a loopback address. A TCP
  /// peer has no credentials to check, so the address is refused while the allow-lists are set.
  private mutating func readGRPC(into sidecar: inout SidecarConfig.Sidecar) {
    optionalString("sidecar.grpc.socketPath", into: &sidecar.grpcSocketPath)
    if let path = sidecar.grpcSocketPath,
      path.utf8.count > 90 || path == sidecar.socketPath || path == sidecar.readOnlySocketPath
    {
      problem(
        "sidecar.grpc.socketPath", "must be at most 90 bytes and differ from sidecar.socketPath and readOnlySocketPath")
    }
    optionalString("sidecar.grpc.address", into: &sidecar.grpcAddress)
    if let address = sidecar.grpcAddress {
      if LoopbackAddress(parsing: address) == nil {
        problem(
          "sidecar.grpc.address",
          "\(QuotedText.quoted(address)) is not a loopback host:port (e.g. 127.0.0.1:50051 or [::1]:50051)")
      } else if !sidecar.allowedUIDs.isEmpty || !sidecar.allowedGIDs.isEmpty {
        problem(
          "sidecar.grpc.address",
          "cannot be used with sidecar.allowedUIDs / allowedGIDs: a TCP peer has no uid or gid to check "
            + "(use sidecar.grpc.socketPath)")
      } else if let http = sidecar.httpAddress.flatMap(LoopbackAddress.init(parsing:)),
        http == LoopbackAddress(parsing: address)
      {
        problem("sidecar.grpc.address", "must differ from sidecar.http.address")
      }
    }
  }

  // MARK: Typed readers

  private func name(_ key: String) -> String {
    guard let source = values[key]?.source, !source.isEmpty else { return QuotedText.key(key) }
    return "\(source) (\(QuotedText.key(key)))"
  }

  private mutating func problem(_ key: String, _ message: String) {
    problems.append(QuotedText.escaped("\(name(key)): \(message)"))
  }

  private mutating func string(
    _ key: String, required: Bool = false, allowEmpty: Bool = false, into target: inout String
  ) {
    guard let raw = values[key]?.value else {
      if required { problem(key, "required key is missing") }
      return
    }
    if raw.isEmpty && !allowEmpty {
      problem(key, "must not be empty")
      return
    }
    target = raw
  }

  private mutating func optionalString(_ key: String, into target: inout String?) {
    guard let raw = values[key]?.value, !raw.isEmpty else { return }
    target = raw
  }

  private mutating func int(_ key: String, _ range: ClosedRange<Int>, unit: String = "", into target: inout Int) {
    guard let raw = values[key]?.value else { return }
    let suffix = unit.isEmpty ? "" : " (\(unit))"
    guard let value = Int(raw) else {
      problem(
        key,
        "\(QuotedText.quoted(raw)) is not a whole number; allowed range \(range.lowerBound)...\(range.upperBound)\(suffix)"
      )
      return
    }
    guard range.contains(value) else {
      problem(key, "\(value) is out of range; allowed range \(range.lowerBound)...\(range.upperBound)\(suffix)")
      return
    }
    target = value
  }

  /// Control characters (C0, DEL) would break the Set-Cookie header the value goes into.
  static func hasControlCharacter(_ text: String) -> Bool {
    text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F || (0x80..<0xA0).contains($0.value) }
  }

  /// A list of numeric ids: a YAML list (flattened to "1,2") or a comma-separated string.
  private mutating func ids(_ key: String, into target: inout [UInt32]) {
    guard let raw = values[key]?.value, !raw.isEmpty else { return }
    var parsed: [UInt32] = []
    for part in raw.split(separator: ",") {
      let text = part.trimmingCharacters(in: .whitespaces)
      guard let id = UInt32(text) else {
        problem(key, "\(QuotedText.quoted(text)) is not a numeric user or group id")
        return
      }
      parsed.append(id)
    }
    target = parsed
  }

  /// A list of `host:port` (a YAML list, flattened to "a:1,b:2", or a comma-separated string).
  private mutating func hostList(_ key: String, defaultPort: Int, into target: inout [HostPort]) {
    guard let raw = values[key]?.value, !raw.isEmpty else { return }
    var parsed: [HostPort] = []
    for part in raw.split(separator: ",") {
      let text = part.trimmingCharacters(in: .whitespaces)
      guard let endpoint = HostPort(parsing: Substring(text), defaultPort: defaultPort) else {
        problem(key, "\(QuotedText.quoted(text)) is not host:port (e.g. db1.internal:3306 or [fd00::1]:3306)")
        return
      }
      parsed.append(endpoint)
    }
    target = parsed
  }

  private mutating func bool(_ key: String, into target: inout Bool) {
    guard let raw = values[key]?.value else { return }
    switch raw.lowercased() {
    case "true", "yes", "on", "1": target = true
    case "false", "no", "off", "0": target = false
    default: problem(key, "\(QuotedText.quoted(raw)) is not a boolean; allowed: true or false")
    }
  }

  private mutating func tableName(_ key: String, into target: inout String) {
    guard let raw = values[key]?.value else { return }
    guard TableName.isValid(raw) else {
      problem(
        key, "\(QuotedText.quoted(raw)) is not a valid table name; allowed: [A-Za-z0-9_]{1,\(TableName.maxBaseLength)}")
      return
    }
    target = raw
  }

  private mutating func socketMode(_ key: String, into target: inout UInt16) {
    guard let raw = values[key]?.value else { return }
    guard let mode = UInt16(raw, radix: 8), mode <= 0o777 else {
      problem(key, "\(QuotedText.quoted(raw)) is not an octal file mode; allowed range 0000...0777")
      return
    }
    target = mode
  }
}

/// Table names go into SQL text, so they are held to a strict alphabet. Derived tables append a suffix of
/// up to 11 characters (`_revocation`), so a configured name leaves room for it within MySQL's 64.
public enum TableName {
  public static let maxBaseLength = 53

  public static func isValid(_ name: String) -> Bool {
    !name.isEmpty && name.utf8.count <= maxBaseLength
      && name.utf8.allSatisfy {
        ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 95
      }
  }
}
