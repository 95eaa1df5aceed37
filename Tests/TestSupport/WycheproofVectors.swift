import Foundation
import Testing

/// Shared by the test targets that read the Wycheproof vectors.
///
/// Finds the shared Wycheproof vectors in place (`<project root>/../shared/testvectors/wycheproof`); they are
/// never copied into the project. When they are missing the tests say so visibly and pass, unless
/// `SIDECAR_REQUIRE_TESTVECTORS=1` asks for them to fail.
public enum WycheproofVectors {
  public static let directory = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("../shared/testvectors/wycheproof").standardizedFileURL

  /// The parsed file, or nil (after printing or recording why) when the vectors are absent.
  public static func load(_ name: String) throws -> [String: Any]? {
    let url = directory.appendingPathComponent(name)
    guard FileManager.default.fileExists(atPath: url.path) else {
      if ProcessInfo.processInfo.environment["SIDECAR_REQUIRE_TESTVECTORS"] == "1" {
        Issue.record("Wycheproof vectors not found at \(url.path) and SIDECAR_REQUIRE_TESTVECTORS=1")
      } else {
        print("SKIPPED: Wycheproof vectors not found at \(url.path)")
      }
      return nil
    }
    let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
    return try #require(object as? [String: Any])
  }

  public static func bytes(hex: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
      let next = hex.index(index, offsetBy: 2)
      bytes.append(UInt8(hex[index..<next], radix: 16)!)
      index = next
    }
    return bytes
  }
}
