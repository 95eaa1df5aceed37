import Foundation
import TestSupport
import Testing

/// Private signing keys are sealed unless the operator says otherwise, and the key-encryption key must be
/// private to the sidecar's user. Checked before the database is touched, so no MariaDB is needed.
@Suite("Sealed by default")
struct SealedByDefaultTests {
  static func config(kek: String?, allowUnsealed: Bool = false) -> String {
    """
    mysql: { host: 127.0.0.1, port: 1, user: u, password: p, database: d }
    tokens: { refreshToken: { renewTokenPath: /refresh } }
    cookie: { domain: example.test }
    sidecar:
      socketPath: /tmp/sidecar-sealed-test-\(UInt32.random(in: 0...UInt32.max)).sock
    \(kek.map { "  keyEncryptionKeyFile: \($0)" } ?? "")
    \(allowUnsealed ? "  allowUnsealedKeys: true" : "")
    """
  }

  @Test func withoutAKeyEncryptionKeyServeRefusesAndSaysHowToMakeOne() async throws {
    let path = try SidecarExecutable.writeConfig(Self.config(kek: nil))
    let (status, errors) = try await SidecarExecutable.run(["serve", "--config", path])
    #expect(status == 2)
    #expect(errors.contains("sidecar.keyEncryptionKeyFile is not set"))
    #expect(errors.contains("head -c 32 /dev/urandom"))
    #expect(errors.contains("chmod 600"))
    #expect(errors.contains("sidecar.allowUnsealedKeys: true"))
  }

  @Test func allowUnsealedKeysLetsItGoOnToTheDatabase() async throws {
    let path = try SidecarExecutable.writeConfig(Self.config(kek: nil, allowUnsealed: true))
    let (status, errors) = try await SidecarExecutable.run(["serve", "--config", path])
    // Past the key check: it now fails on the database (port 1), exit status 3.
    #expect(status == 3)
    #expect(errors.contains("cannot reach MySQL"))
  }

  @Test(arguments: [0o640, 0o604, 0o660])
  func aKeyFileOthersCanReadIsRefused(mode: Int) async throws {
    let kek = NSTemporaryDirectory() + "sidecar-open-kek-\(UInt32.random(in: 0...UInt32.max))"
    FileManager.default.createFile(
      atPath: kek, contents: Data(repeating: 1, count: 32), attributes: [.posixPermissions: NSNumber(value: mode)])
    defer { try? FileManager.default.removeItem(atPath: kek) }
    let path = try SidecarExecutable.writeConfig(Self.config(kek: kek))
    let (status, errors) = try await SidecarExecutable.run(["serve", "--config", path])
    #expect(status == 2)
    #expect(errors.contains("readable or writable by group or others"))
  }
}

/// Findings of the fuzzers (fuzz/RESULTS.md), fixed and kept fixed.
@Suite("Configuration findings of the fuzzers")
struct ConfigFuzzFindingTests {
  @Test func aKeyGivenTwiceAsNestedAndDottedIsRefused() async throws {
    let path = try SidecarExecutable.writeConfig("mysql:\n  user: sidecar\nmysql.user: root\n")
    let (status, errors) = try await SidecarExecutable.run(["config", "check", "--config", path])
    #expect(status == 2)
    #expect(errors.contains("mysql.user is set more than once"))
  }

  /// fuzz/RESULTS.md, config_yaml: a duplicated key starting with a combining mark. Every problem stays one line
  /// of printable ASCII that starts with the file's path, however the keys are spelled.
  @Test func keysWithMarksAndNewlinesAreEscapedInProblems() async throws {
    let path = try SidecarExecutable.writeConfig(
      "tokens:\n  \u{35C}ssToken: 1\n  \u{35C}ssToken: 2\n")
    let (status, errors) = try await SidecarExecutable.run(["config", "check", "--config", path])
    #expect(status == 2)
    #expect(errors.contains(": not valid YAML (duplicated keys: \"\\u{35C}ssToken\")"))

    let odd = try SidecarExecutable.writeConfig(
      """
      mysql: { user: u, password: p, database: d }
      tokens: { refreshToken: { renewTokenPath: /refresh } }
      "a\\nb": [x, [y]]
      """)
    let (listStatus, listErrors) = try await SidecarExecutable.run(["config", "check", "--config", odd])
    #expect(listStatus == 2)
    #expect(listErrors.contains(odd + ": \"a\\u{A}b\": only lists of plain values are allowed"))

    let escape = try SidecarExecutable.writeConfig(
      """
      mysql: { user: u, password: p, database: d }
      tokens: { refreshToken: { renewTokenPath: /refresh } }
      "c\\u001B[2J": 1
      """)
    let (keyStatus, keyErrors) = try await SidecarExecutable.run(["config", "check", "--config", escape])
    #expect(keyStatus == 2)
    #expect(keyErrors.contains(escape + ": \"c\\u{1B}[2J\": unknown key"))
    #expect(!keyErrors.unicodeScalars.contains("\u{1B}"))
    for line in (listErrors + "\n" + keyErrors).split(separator: "\n") {
      #expect(line.hasPrefix(odd + ": ") || line.hasPrefix(escape + ": "), "\(line.debugDescription)")
    }
  }

  @Test(arguments: ["example.com\u{0B}", "exa\u{7F}mple.com"])
  func aControlCharacterInTheCookieDomainIsRefused(domain: String) async throws {
    let path = try SidecarExecutable.writeConfig(
      """
      mysql: { user: u, password: p, database: d }
      tokens: { refreshToken: { renewTokenPath: /refresh } }
      cookie: { domain: "\(domain.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? String(format: "\\x%02X", $0.value) : String($0) }.joined())" }
      """)
    let (status, errors) = try await SidecarExecutable.run(["config", "check", "--config", path])
    #expect(status == 2)
    #expect(errors.contains("cookie.domain: must be a bare domain name"))
  }
}
