/// Turns configuration text into a validated `SidecarConfig`.
///
/// Input is the file's scalars flattened to dotted keys (`tokens.accessToken.validity` → "3600") and the
/// process environment. Environment variables win over the file; SuperTokens' variable names are accepted.
/// Every problem is collected, each naming the key and its allowed range, so one run shows them all.
public struct ConfigLoader: Sendable {
  /// SuperTokens' environment variables and the keys they override.
  public static let environmentOverrides: [(variable: String, key: String)] = [
    ("ACCESS_TOKEN_DYNAMIC_SIGNING_KEY_UPDATE_INTERVAL", "tokens.accessToken.signingKey.updateInterval"),
    ("ACCESS_TOKEN_VALIDITY", "tokens.accessToken.validity"),
    // SuperTokens core's REFRESH_TOKEN_VALIDITY is in minutes (the file key is in hours).
    ("REFRESH_TOKEN_VALIDITY", "tokens.refreshToken.validityMinutes"),
    ("MYSQL_HOST", "mysql.host"),
    ("MYSQL_PORT", "mysql.port"),
    ("MYSQL_HOSTS", "mysql.hosts"),
    ("MYSQL_USER", "mysql.user"),
    ("MYSQL_PASSWORD", "mysql.password"),
    ("MYSQL_DATABASE", "mysql.database"),
    ("SIDECAR_SOCKET_PATH", "sidecar.socketPath"),
  ]

  public init() {}

  public func load(file: [String: String], environment: [String: String]) throws(ConfigurationError) -> SidecarConfig {
    var values = file.mapValues { (value: $0, source: "") }
    for (variable, key) in Self.environmentOverrides {
      if let value = environment[variable] { values[key] = (value, variable) }
    }
    if values["tokens.refreshToken.validityMinutes"] != nil { values["tokens.refreshToken.validity"] = nil }
    var reader = ConfigReader(values: values)
    let config = reader.read()
    if !reader.problems.isEmpty { throw ConfigurationError(problems: reader.problems) }
    return config
  }
}

/// Everything wrong with a configuration, one line per problem.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
  public var problems: [String]
  public var description: String { problems.joined(separator: "\n") }
}
