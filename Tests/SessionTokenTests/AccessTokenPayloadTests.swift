import Foundation
import Testing

@testable import SessionToken

@Suite("Access-token payload building and strict JSON")
struct AccessTokenPayloadTests {
  let claims = AccessTokenClaims(
    subject: "user \"1\"", expiresAt: 1_700_003_600, issuedAt: 1_700_000_000, sessionHandle: "h-1",
    refreshTokenHash1: "abc", parentRefreshTokenHash1: nil, antiCsrfToken: "csrf"
  )

  @Test func protectedClaimsFirstThenCustomMembersVerbatim() throws {
    let json = try AccessTokenPayload.build(
      claims: claims,
      customJSON: #" { "role" : "admin", "n": 1.50e3, "s":"\u00e9\ud83d\ude00", "o":{"a":[1,{"b":null}]} } "#
    )
    #expect(
      json
        == #"{"sub":"user \"1\"","exp":1700003600,"iat":1700000000,"sessionHandle":"h-1","refreshTokenHash1":"abc","#
        + #""parentRefreshTokenHash1":null,"antiCsrfToken":"csrf","role":"admin","n":1.50e3,"#
        + #""s":"\u00e9\ud83d\ude00","o":{"a":[1,{"b":null}]}}"#
    )
    let parsed = try #require(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    #expect(parsed["sub"] as? String == "user \"1\"")
    #expect(parsed["s"] as? String == "é😀")
    #expect(parsed["parentRefreshTokenHash1"] is NSNull)
  }

  @Test func emptyCustomJSONMeansNoCustomClaims() throws {
    let json = try AccessTokenPayload.build(claims: claims, customJSON: "")
    #expect(json.hasSuffix(#""antiCsrfToken":"csrf"}"#))
    #expect(try AccessTokenPayload.build(claims: claims, customJSON: "{}") == json)
  }

  @Test(arguments: Array(AccessTokenPayload.protectedClaimNames))
  func protectedClaimCollisionNamesTheClaim(name: String) {
    #expect(throws: PayloadError.protectedClaim(name)) {
      try AccessTokenPayload.build(claims: claims, customJSON: "{\"x\":1,\"\(name)\":\"v\"}")
    }
  }

  @Test func escapedProtectedNameIsStillCaught() {
    #expect(throws: PayloadError.protectedClaim("sub")) {
      try AccessTokenPayload.build(claims: claims, customJSON: #"{"s\u0075b":"v"}"#)
    }
  }

  @Test(arguments: ["[]", "[1]", "\"text\"", "42", "null", "true"])
  func nonObjectsAreRefused(json: String) {
    #expect(throws: PayloadError.notAnObject) { try AccessTokenPayload.build(claims: claims, customJSON: json) }
    #expect(throws: PayloadError.notAnObject) { try AccessTokenPayload.validateObject(json) }
  }

  @Test(arguments: [
    "{", "{}}", "{} {}", "{}x", "{\"a\":1,}", "{\"a\":1,\"a\":2}", "{\"o\":{\"k\":1,\"k\":2}}",
    "{\"a\":\"\\u0061\",\"\\u0061\":1}", "{'a':1}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":-}", "{\"a\":+1}",
    "{\"a\":NaN}", "{\"a\":tru}", "{\"a\":\"\\x\"}", "{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\"}",
    "{\"a\":\"\\ud800\\u0041\"}", "{\"a\":\"\u{01}\"}", "{a:1}", " ", "{\"a\" 1}", "{\"a\":[1 2]}",
  ])
  func invalidJSONIsRefused(json: String) {
    #expect(throws: PayloadError.self) { try AccessTokenPayload.validateObject(json) }
    do {
      _ = try AccessTokenPayload.validateObject(json)
    } catch {
      guard case .invalidJSON(let message) = error else {
        Issue.record("expected invalidJSON, got \(error)")
        return
      }
      #expect(message.contains("at byte"))
    }
  }

  @Test(
    arguments: [[0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0xFF], [0x80]] as [[UInt8]])
  func invalidUTF8IsRefused(bytes: [UInt8]) {
    // Swift Strings cannot hold invalid UTF-8, so the scanner is checked on raw bytes.
    let json: [UInt8] = Array(#"{"a":""#.utf8) + bytes + Array(#""}"#.utf8)
    #expect(throws: JSONSyntaxError.self) { try json.withUnsafeBytes { try StrictJSON.parse($0) } }
    let valid: [UInt8] = Array(#"{"a":""#.utf8) + [0xF0, 0x9F, 0x98, 0x80] + Array(#""}"#.utf8)
    #expect(throws: Never.self) { try valid.withUnsafeBytes { try StrictJSON.parse($0) } }
  }

  @Test func nestingIsCapped() throws {
    let deep = String(repeating: "[", count: 63) + String(repeating: "]", count: 63)
    #expect(try AccessTokenPayload.validateObject("{\"a\":\(deep)}") == "{\"a\":\(deep)}")
    let tooDeep = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
    #expect(throws: PayloadError.self) { try AccessTokenPayload.validateObject("{\"a\":\(tooDeep)}") }
  }

  @Test func validateObjectNormalises() throws {
    #expect(try AccessTokenPayload.validateObject("") == "{}")
    #expect(try AccessTokenPayload.validateObject("  {\"a\": [1]}\n") == "{\"a\": [1]}")
  }

  @Test func errorsDoNotEchoValues() {
    do {
      _ = try AccessTokenPayload.validateObject(#"{"password":"hunter2",}"#)
      Issue.record("trailing comma must be refused")
    } catch {
      #expect(!"\(error)".contains("hunter2"))
    }
  }
}
