import SessionCore
import Testing

@Suite("ConfigLoader")
struct ConfigLoaderTests {
  /// The problems a load reports; empty when it succeeds.
  private func problems(_ file: [String: String], environment: [String: String] = [:]) -> [String] {
    do {
      _ = try ConfigLoader().load(file: file, environment: environment)
      return []
    } catch {
      return error.problems
    }
  }

  @Test func defaultsMatchTheSeed() throws {
    let config = try testConfig()
    #expect(config.mysql.host == "localhost")
    #expect(config.mysql.port == 3306)
    #expect(config.mysql.connectionLimit == 50)
    #expect(config.mysql.signingKeyTable == "signing_key")
    #expect(config.mysql.refreshTokenTable == "refresh_token")
    #expect(config.accessToken.dynamicSigningKey)
    #expect(config.accessToken.signingKeyUpdateIntervalHours == 24)
    #expect(config.accessToken.validitySeconds == 3600)
    #expect(!config.accessToken.blacklisting)
    #expect(config.refreshToken.validityMinutes == 2400 * 60)
    #expect(config.refreshToken.removalCronjobInterval == "0 0 0 1-31/7 * *")
    #expect(config.refreshToken.rotationGracePeriodSeconds == 30)
    #expect(config.cookie.secure)
    #expect(config.sidecar.socketMode == 0o660)
    #expect(config.loggingLevel == "info")
    #expect(config.mysql.user == "sidecar")
    #expect(config.mysql.database == "sessions")
    #expect(config.refreshToken.renewTokenPath == "/auth/session/refresh")
    #expect(config.cookie.domain == "example.com")
    #expect(config.accessTokenValidityMs == 3_600_000)
    #expect(config.signingKeyUpdateIntervalMs == 86_400_000)
    #expect(config.refreshTokenValidityMs == 2400 * 3_600_000)
    #expect(config.rotationGracePeriodMs == 30_000)
  }

  @Test("mysql.hosts: a list of host:port, IPv6 in brackets, a bare host on mysql's default port")
  func mysqlHostsAreParsed() throws {
    let config = try testConfig(["mysql.hosts": "db1.internal:3307, [fd00::2]:3306,db3"])
    #expect(
      config.mysql.hosts == [
        HostPort(host: "db1.internal", port: 3307), HostPort(host: "fd00::2", port: 3306),
        HostPort(host: "db3", port: 3306),
      ])
    let fromEnvironment = try ConfigLoader().load(
      file: requiredConfigKeys, environment: ["MYSQL_HOSTS": "127.0.0.1:33071,127.0.0.1:33072"])
    #expect(fromEnvironment.mysql.hosts.map(\.port) == [33071, 33072])
  }

  @Test(
    "mysql.hosts refuses what is not host:port, and beside mysql.host, mysql.port or mysql.unixSocket",
    arguments: [
      ["mysql.hosts": "db1:0"], ["mysql.hosts": "db1:65536"], ["mysql.hosts": "db1:x"], ["mysql.hosts": "a:1:2"],
      ["mysql.hosts": "[fd00::1"], ["mysql.hosts": ":3306"], ["mysql.hosts": "db1:3306", "mysql.host": "db0"],
      ["mysql.hosts": "db1:3306", "mysql.port": "3306"], ["mysql.hosts": "db1:3306", "mysql.unixSocket": "/s.sock"],
    ])
  func badMysqlHostsAreRefused(overrides: [String: String]) {
    let found = problems(requiredConfigKeys.merging(overrides) { $1 })
    #expect(found.count == 1 && found[0].contains("mysql.hosts"), "\(found)")
  }

  @Test("problems show keys and values on one printable line, quoted and escaped")
  func problemsEscapeWhatTheInputSpells() {
    let found = problems(
      [
        "mysql.user": "u", "mysql.password": "p", "mysql.database": "d", "mysql.port": "3306\n\u{1B}[2J",
        "odd\nkey": "1", "tokens.refreshToken.removalCronjobInterval": "0 0 0 1\u{35C} * *",
      ])
    #expect(found.contains("mysql.port: \"3306\\u{A}\\u{1B}[2J\" is not a whole number; allowed range 1...65535"))
    #expect(found.contains("\"odd\\u{A}key\": unknown key"))
    #expect(
      found.contains {
        $0.hasPrefix("tokens.refreshToken.removalCronjobInterval: cron field 4") && $0.contains("1\\u{35C}")
      })
    for problem in found {
      #expect(problem.unicodeScalars.allSatisfy { (" "..."~").contains($0) }, "\(problem.debugDescription)")
    }
  }

  @Test func quotedTextEscapesAndCuts() {
    #expect(QuotedText.quoted("plain") == "\"plain\"")
    #expect(QuotedText.quoted("a\"b\\c") == #""a\"b\\c""#)
    #expect(QuotedText.quoted("\u{35C}é\t") == #""\u{35C}\u{E9}\u{9}""#)
    #expect(QuotedText.quoted(String(repeating: "x", count: 101)) == "\"" + String(repeating: "x", count: 100) + "\"…")
    #expect(QuotedText.key("mysql.user") == "mysql.user")
    #expect(QuotedText.key("my key") == "\"my key\"")
    #expect(QuotedText.key("") == "\"\"")
    #expect(QuotedText.escaped("ok … fine") == "ok … fine")
    #expect(QuotedText.escaped("a\u{7F}b\"") == "a\\u{7F}b\"")
  }

  @Test func emptyPasswordIsAllowed() throws {
    #expect(try testConfig(["mysql.password": ""]).mysql.password == "")
  }

  @Test func missingRequiredKeysAreListedTogether() {
    let found = problems([:])
    for key in [
      "mysql.user", "mysql.password", "mysql.database", "tokens.refreshToken.renewTokenPath", "cookie.domain",
    ] {
      #expect(found.contains("\(key): required key is missing"), "\(key) not reported in \(found)")
    }
    #expect(found.count == 5)
  }

  static let outOfRange: [(key: String, value: String, range: String)] = [
    ("tokens.accessToken.validity", "5", "10...86400000"),
    ("tokens.accessToken.validity", "86400001", "10...86400000"),
    ("tokens.accessToken.signingKey.updateInterval", "0", "1...720"),
    ("tokens.accessToken.signingKey.updateInterval", "721", "1...720"),
    ("tokens.refreshToken.validity", "0", "1...8760"),
    ("tokens.refreshToken.validity", "8761", "1...8760"),
    ("tokens.refreshToken.validityMinutes", "59", "60...525600"),
    ("tokens.refreshToken.rotationGracePeriod", "301", "0...300"),
    ("tokens.refreshToken.rotationGracePeriod", "-1", "0...300"),
    ("tokens.accessToken.revocationSyncInterval", "49", "50...60000"),
    ("mysql.port", "0", "1...65535"),
    ("mysql.port", "65536", "1...65535"),
    ("mysql.connectionLimit", "1001", "1...1000"),
    ("sidecar.maxFrameBytes", "1023", "1024...67108864"),
    ("sidecar.maxInFlightPerConnection", "0", "1...65536"),
    ("sidecar.maxAccessTokenBytes", "511", "512...1048576"),
    ("tokens.accessToken.validity", "ten", "10...86400000"),
    ("mysql.port", "3306.5", "1...65535"),
  ]

  @Test(arguments: outOfRange)
  func rangeErrorNamesTheKeyAndTheRange(key: String, value: String, range: String) {
    let found = problems(requiredConfigKeys.merging([key: value]) { $1 })
    #expect(found.count == 1)
    let message = found.first ?? ""
    #expect(message.hasPrefix("\(key):"), "\(message)")
    #expect(message.contains(range), "\(message)")
    #expect(message.contains(value), "\(message)")
  }

  @Test func everyProblemIsReportedInOneRun() {
    let found = problems(
      requiredConfigKeys.merging([
        "tokens.accessToken.validity": "5", "mysql.port": "0", "cookie.secure": "maybe", "logging.level": "loud",
      ]) { $1 })
    #expect(found.count == 4)
    #expect(found.contains { $0.hasPrefix("tokens.accessToken.validity:") })
    #expect(found.contains { $0.hasPrefix("mysql.port:") })
    #expect(found.contains { $0.hasPrefix("cookie.secure:") })
    #expect(found.contains { $0.hasPrefix("logging.level:") })
  }

  @Test func environmentWinsOverTheFile() throws {
    let config = try ConfigLoader().load(
      file: requiredConfigKeys.merging([
        "tokens.accessToken.validity": "100", "tokens.accessToken.signingKey.updateInterval": "48",
        "tokens.refreshToken.validity": "10", "mysql.host": "file-host", "mysql.port": "3307",
      ]) { $1 },
      environment: [
        "ACCESS_TOKEN_VALIDITY": "200", "ACCESS_TOKEN_DYNAMIC_SIGNING_KEY_UPDATE_INTERVAL": "12",
        "REFRESH_TOKEN_VALIDITY": "90", "MYSQL_HOST": "db.internal", "MYSQL_PORT": "3308", "MYSQL_USER": "env-user",
        "MYSQL_PASSWORD": "env-pass", "MYSQL_DATABASE": "env-db", "UNRELATED_VARIABLE": "x",
      ])
    #expect(config.accessToken.validitySeconds == 200)
    #expect(config.accessToken.signingKeyUpdateIntervalHours == 12)
    #expect(config.refreshToken.validityMinutes == 90)
    #expect(config.refreshTokenValidityMs == 90 * 60_000)
    #expect(config.mysql.host == "db.internal")
    #expect(config.mysql.port == 3308)
    #expect(config.mysql.user == "env-user")
    #expect(config.mysql.password == "env-pass")
    #expect(config.mysql.database == "env-db")
  }

  @Test func environmentSuppliesRequiredKeys() throws {
    var file = requiredConfigKeys
    for key in ["mysql.user", "mysql.password", "mysql.database"] { file[key] = nil }
    let config = try ConfigLoader().load(
      file: file, environment: ["MYSQL_USER": "u", "MYSQL_PASSWORD": "p", "MYSQL_DATABASE": "d"])
    #expect(config.mysql.user == "u")
    #expect(config.mysql.password == "p")
    #expect(config.mysql.database == "d")
  }

  static let badEnvironment: [(variable: String, value: String, key: String, range: String)] = [
    ("ACCESS_TOKEN_VALIDITY", "5", "tokens.accessToken.validity", "10...86400000"),
    (
      "ACCESS_TOKEN_DYNAMIC_SIGNING_KEY_UPDATE_INTERVAL", "721", "tokens.accessToken.signingKey.updateInterval",
      "1...720"
    ),
    ("REFRESH_TOKEN_VALIDITY", "59", "tokens.refreshToken.validityMinutes", "60...525600"),
    ("MYSQL_PORT", "0", "mysql.port", "1...65535"),
  ]

  @Test(arguments: badEnvironment)
  func environmentErrorNamesTheVariable(variable: String, value: String, key: String, range: String) {
    let found = problems(requiredConfigKeys, environment: [variable: value])
    #expect(found.count == 1)
    let message = found.first ?? ""
    #expect(message.hasPrefix("\(variable) (\(key)):"), "\(message)")
    #expect(message.contains(range), "\(message)")
  }

  @Test func emptyRequiredValueFromTheEnvironmentNamesTheVariable() {
    let found = problems(requiredConfigKeys, environment: ["MYSQL_USER": ""])
    #expect(found == ["MYSQL_USER (mysql.user): must not be empty"])
  }

  @Test func unknownKeyIsRefused() {
    let found = problems(requiredConfigKeys.merging(["tokens.accessToken.valdity": "3600"]) { $1 })
    #expect(found == ["tokens.accessToken.valdity: unknown key"])
  }

  @Test(arguments: ["0 0 25 * * *", "* * * *", "0 0 0 1-31/0 * *", "every week"])
  func badCronIsRefusedNamingTheKey(cron: String) {
    let found = problems(requiredConfigKeys.merging(["tokens.refreshToken.removalCronjobInterval": cron]) { $1 })
    #expect(found.count == 1)
    #expect(found.first?.hasPrefix("tokens.refreshToken.removalCronjobInterval: cron ") == true, "\(found)")
  }

  @Test func cronErrorNamesTheField() {
    let found = problems(
      requiredConfigKeys.merging(["tokens.refreshToken.removalCronjobInterval": "0 0 25 * * *"]) { $1 })
    #expect(found.first?.contains("hours") == true, "\(found)")
    #expect(found.first?.contains("\"25\"") == true, "\(found)")
  }

  @Test(arguments: ["signing-key", "signing_key;DROP", "", String(repeating: "a", count: 54), "tábla"])
  func badTableNameIsRefused(name: String) {
    let found = problems(requiredConfigKeys.merging(["mysql.tables.signingKey": name]) { $1 })
    #expect(found.count == 1)
    #expect(found.first?.hasPrefix("mysql.tables.signingKey:") == true, "\(found)")
    #expect(found.first?.contains("[A-Za-z0-9_]{1,53}") == true, "\(found)")
  }

  @Test func tableNamesAtTheLimitAreAccepted() throws {
    let name = String(repeating: "T", count: 53)
    let config = try testConfig(["mysql.tables.signingKey": name, "mysql.tables.refreshTokens": "rt_2"])
    #expect(config.mysql.signingKeyTable == name)
    #expect(config.mysql.refreshTokenTable == "rt_2")
  }

  @Test(arguments: [("0600", UInt16(0o600)), ("660", 0o660), ("0777", 0o777), ("0", 0), ("0000", 0)])
  func socketModeIsOctal(text: String, mode: UInt16) throws {
    #expect(try testConfig(["sidecar.socketMode": text]).sidecar.socketMode == mode)
  }

  @Test(arguments: ["0999", "1777", "rw-rw----", "", "0o660", "-1"])
  func badSocketModeIsRefused(text: String) {
    let found = problems(requiredConfigKeys.merging(["sidecar.socketMode": text]) { $1 })
    #expect(found.count == 1)
    #expect(found.first?.hasPrefix("sidecar.socketMode:") == true, "\(found)")
    #expect(found.first?.contains("0000...0777") == true, "\(found)")
  }

  @Test(arguments: ["auth/refresh", "/a b", "/a;b", "/a,b"])
  func renewTokenPathMustBeAPath(path: String) {
    let found = problems(requiredConfigKeys.merging(["tokens.refreshToken.renewTokenPath": path]) { $1 })
    #expect(found.count == 1)
    #expect(found.first?.hasPrefix("tokens.refreshToken.renewTokenPath:") == true, "\(found)")
  }

  @Test(arguments: [
    ("true", true), ("yes", true), ("ON", true), ("1", true), ("false", false), ("no", false), ("0", false),
  ])
  func booleans(text: String, value: Bool) throws {
    #expect(try testConfig(["cookie.secure": text]).cookie.secure == value)
  }

  @Test func refreshValidityInHoursBecomesMinutes() throws {
    #expect(try testConfig(["tokens.refreshToken.validity": "2"]).refreshToken.validityMinutes == 120)
  }
}
