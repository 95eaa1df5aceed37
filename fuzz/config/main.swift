// Fuzz target `config`: compiled into module SessionCore with Sources/SessionCore/Config and Sessions/Cookies.swift
// only (the rest of SessionCore needs the store; these do not), linked with CronSchedule (scripts/fuzz.sh).
//
// Input: text, one `key=value` per line; `$NAME=value` sets environment variable NAME instead (the loader
// reads SuperTokens' names such as MYSQL_PASSWORD or ACCESS_TOKEN_VALIDITY). fuzz/config/dictionary lists
// every key and variable, so mutations reach them.
// Checks:
//   - ConfigLoader.load(file:environment:) either returns a config whose every value is in the range its
//     documentation promises (SidecarConfig: "every value here is in range"), or throws with at least one
//     problem; loading is deterministic;
//   - the MySQL password changes nothing but itself: not whether the config loads, not a problem message
//     (problems are printed and logged, so one that quoted it would leak it);
//   - LoopbackAddress(parsing:) on every value: an accepted address is a loopback IP literal (127.0.0.0/8 or
//     ::1) with a port in 1...65535 — the listener it configures "must never be reachable from other hosts",
//     and the host is handed to a resolver (ServerBootstrap.bind(host:port:)), so a host name would let DNS
//     choose the interface. Reported as finding LOOPBACK_HOSTNAME (fuzz/RESULTS.md);
//   - the Set-Cookie headers of an accepted config (CookieFactory, Sources/SessionCore/Sessions/Cookies.swift) have
//     exactly their attributes and no control characters. Reported as finding COOKIE_CTL (fuzz/RESULTS.md);
//   - TableName.isValid agrees with its documented alphabet;
//   - every problem is one line of printable ASCII, however the keys and values are spelled (QuotedText).
import CronSchedule

@_cdecl("LLVMFuzzerTestOneInput")
public func configFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  ConfigFuzz.run(UnsafeBufferPointer(start: data, count: size))
  return 0
}

enum ConfigFuzz {
  static let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

  static func run(_ input: UnsafeBufferPointer<UInt8>) {
    let text = String(decoding: input, as: UTF8.self)
    var file: [String: String] = [:]
    var environment: [String: String] = [:]
    for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
      guard let equals = line.firstIndex(of: "=") else { continue }
      let key = String(line[..<equals])
      let value = String(line[line.index(after: equals)...])
      if key.hasPrefix("$") { environment[String(key.dropFirst())] = value } else { file[key] = value }
    }

    for value in Array(file.values) + Array(environment.values) {
      checkLoopback(value)
      checkTableName(value)
    }

    let loader = ConfigLoader()
    let first = Result { () throws(ConfigurationError) in try loader.load(file: file, environment: environment) }
    let second = Result { () throws(ConfigurationError) in try loader.load(file: file, environment: environment) }
    switch (first, second) {
    case (.success(let a), .success(let b)): fuzzCheck(a == b, "two loads of the same input differ")
    case (.failure(let a), .failure(let b)): fuzzCheck(a == b, "two loads of the same input fail differently")
    default: fuzzCheck(false, "two loads of the same input disagree")
    }

    switch first {
    case .success(let config): checkRanges(config)
    case .failure(let error):
      fuzzCheck(!error.problems.isEmpty, "a ConfigurationError without problems")
      for problem in error.problems {
        fuzzCheck(isPrintableProblemLine(problem), "a problem is not one printable line: \(problem.debugDescription)")
      }
    }
    checkPasswordIsInert(first, file: file, environment: environment)
  }

  static func checkRanges(_ c: SidecarConfig) {
    fuzzCheck(!c.mysql.host.isEmpty, "mysql.host empty")
    fuzzCheck((1...65535).contains(c.mysql.port), "mysql.port \(c.mysql.port)")
    fuzzCheck(!c.mysql.user.isEmpty && !c.mysql.database.isEmpty, "mysql.user/database empty")
    fuzzCheck((1...1000).contains(c.mysql.connectionLimit), "mysql.connectionLimit")
    fuzzCheck(TableName.isValid(c.mysql.signingKeyTable), "signing key table \(c.mysql.signingKeyTable)")
    fuzzCheck(TableName.isValid(c.mysql.refreshTokenTable), "refresh token table \(c.mysql.refreshTokenTable)")
    fuzzCheck(c.mysql.unixSocket.map { !$0.isEmpty } ?? true, "empty unixSocket")
    fuzzCheck(c.mysql.tlsCAFile.map { !$0.isEmpty } ?? true, "empty tls.ca")
    fuzzCheck((1...720).contains(c.accessToken.signingKeyUpdateIntervalHours), "signingKey.updateInterval")
    fuzzCheck((10...86_400_000).contains(c.accessToken.validitySeconds), "accessToken.validity")
    fuzzCheck((50...60_000).contains(c.accessToken.revocationSyncIntervalMs), "revocationSyncInterval")
    fuzzCheck(
      (60...525_600).contains(c.refreshToken.validityMinutes), "refresh validity \(c.refreshToken.validityMinutes)")
    fuzzCheck(
      (try? CronExpression(parsing: c.refreshToken.removalCronjobInterval)) != nil,
      "removalCronjobInterval does not parse")
    let path = c.refreshToken.renewTokenPath
    fuzzCheck(
      path.hasPrefix("/") && !path.contains(where: { $0 == ";" || $0 == "," || $0.isWhitespace }),
      "renewTokenPath \(path.debugDescription)")
    fuzzCheck((0...300).contains(c.refreshToken.rotationGracePeriodSeconds), "rotationGracePeriod")
    fuzzCheck(levels.contains(c.loggingLevel), "logging.level \(c.loggingLevel)")
    fuzzCheck(["text", "json"].contains(c.loggingFormat), "logging.format \(c.loggingFormat)")
    fuzzCheck(
      !c.cookie.domain.isEmpty && !c.cookie.domain.contains(where: { $0 == ";" || $0 == "," || $0.isWhitespace }),
      "cookie.domain \(c.cookie.domain.debugDescription)")
    fuzzCheck(!c.sidecar.socketPath.isEmpty && c.sidecar.socketPath.utf8.count <= 90, "socketPath")
    fuzzCheck(c.sidecar.socketMode <= 0o777, "socketMode \(c.sidecar.socketMode)")
    fuzzCheck((1024...(64 << 20)).contains(c.sidecar.maxFrameBytes), "maxFrameBytes")
    fuzzCheck((1...65536).contains(c.sidecar.maxInFlightPerConnection), "maxInFlightPerConnection")
    fuzzCheck((512...(1 << 20)).contains(c.sidecar.maxAccessTokenBytes), "maxAccessTokenBytes")
    if let address = c.sidecar.httpAddress {
      fuzzCheck(LoopbackAddress(parsing: address) != nil, "http.address \(address.debugDescription) accepted")
    }
    fuzzCheck((0...600).contains(c.sidecar.drainTimeoutSeconds), "drainTimeoutSeconds")
    fuzzCheck((1...3600).contains(c.sidecar.readinessDatabaseWindowSeconds), "readinessDatabaseWindowSeconds")
    checkCookies(c)
    // The derived values the service uses must not overflow.
    _ = (c.accessTokenValidityMs, c.refreshTokenValidityMs, c.signingKeyUpdateIntervalMs, c.rotationGracePeriodMs)
  }

  /// The password is taken as it is: no other value, problem or message may depend on it (problems are
  /// printed and logged, so one that quoted it would leak it).
  static func checkPasswordIsInert(
    _ result: Result<SidecarConfig, ConfigurationError>, file: [String: String], environment: [String: String]
  ) {
    guard file["mysql.password"] != nil || environment["MYSQL_PASSWORD"] != nil else { return }
    var otherFile = file
    var otherEnvironment = environment
    if otherFile["mysql.password"] != nil { otherFile["mysql.password"] = "-" }
    if otherEnvironment["MYSQL_PASSWORD"] != nil { otherEnvironment["MYSQL_PASSWORD"] = "-" }
    let other = Result { () throws(ConfigurationError) in
      try ConfigLoader().load(file: otherFile, environment: otherEnvironment)
    }
    switch (result, other) {
    case (.success(var a), .success(var b)):
      (a.mysql.password, b.mysql.password) = ("", "")
      fuzzCheck(a == b, "the password changed another setting")
    case (.failure(let a), .failure(let b)):
      fuzzCheck(a == b, "the password changed the problems: \(a.problems) vs \(b.problems)")
    default:
      fuzzCheck(false, "the password decided whether the configuration loads")
    }
  }

  /// The Set-Cookie headers an accepted config produces go verbatim into the app's HTTP responses: they must
  /// be RFC 6265 cookies (no CTLs in any attribute: §4.1.1 path-value, domain-value) and valid HTTP field values
  /// (RFC 9110 §5.5), with exactly the attributes CookieFactory writes.
  static func checkCookies(_ c: SidecarConfig) {
    let factory = CookieFactory(
      domain: c.cookie.domain, secure: c.cookie.secure, renewTokenPath: c.refreshToken.renewTokenPath)
    for cookie in [
      factory.accessTokenCookie("eyJ.eyJ.sig", expiresAtMs: 1_800_000_000_000),
      factory.refreshTokenCookie("refresh", expiresAtMs: 1_800_000_000_000),
    ] {
      let attributes = cookie.header.split(separator: ";", omittingEmptySubsequences: false)
      fuzzCheck(
        attributes.count == (cookie.secure ? 7 : 6),
        "Set-Cookie has \(attributes.count) attributes: \(cookie.header.debugDescription)")
      fuzzCheck(
        !cookie.header.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }, finding: "COOKIE_CTL",
        "accepted configuration yields a Set-Cookie header with a control character: \(cookie.header.debugDescription)")
    }
  }

  static func checkLoopback(_ text: String) {
    guard let address = LoopbackAddress(parsing: text) else { return }
    fuzzCheck((1...65535).contains(address.port), "port \(address.port) from \(text.debugDescription)")
    fuzzCheck(
      address.host == "::1" || isLoopbackIPv4Literal(address.host), finding: "LOOPBACK_HOSTNAME",
      "LoopbackAddress(parsing: \(text.debugDescription)) accepts host \(address.host.debugDescription), "
        + "which is not a loopback IP literal (a resolver decides where it binds)")
  }

  /// Four octets 0...255 in plain decimal (digits only, no leading zero), the first 127: the one spelling that
  /// every address parser reads alike. getaddrinfo (what ServerBootstrap.bind(host:port:) calls) reads "010" as
  /// octal 8 and treats "08" or "+1" as no number at all, i.e. as a host name to look up.
  static func isLoopbackIPv4Literal(_ host: String) -> Bool {
    let parts = host.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 4, parts[0] == "127" else { return false }
    return parts.allSatisfy { part in
      part.allSatisfy { $0.isASCII && $0.isNumber } && UInt8(part).map { String($0) == part } == true
    }
  }

  static func checkTableName(_ text: String) {
    let expected =
      !text.isEmpty && text.utf8.count <= TableName.maxBaseLength
      && text.unicodeScalars.allSatisfy {
        $0.isASCII && ($0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0))
      }
    fuzzCheck(TableName.isValid(text) == expected, "TableName.isValid(\(text.debugDescription))")
  }
}
