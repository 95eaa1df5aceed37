import Foundation
import OpenSSLCrypto
import SessionToken
import Testing

@Suite("JWK sets")
struct JWKSetTests {
  let key = TokenForge.key.publicKey

  @Test func jsonRoundTripKeepsKeysAndOrder() throws {
    let set = JWKSet(keys: [
      VerificationKey(kid: "d-2", publicKey: key),
      VerificationKey(kid: "s-1", publicKey: TokenForge.otherKey.publicKey),
    ])
    let json = set.json
    #expect(json.hasPrefix(#"{"keys":[{"kty":"RSA","kid":"d-2","n":""#))
    #expect(json.contains(#""e":"AQAB","alg":"RS256","use":"sig"}"#))
    let reread = try JWKSet(json: json)
    #expect(reread.keys.map(\.kid) == ["d-2", "s-1"])
    #expect(reread.keys[0].publicKey.modulus == key.modulus)
    #expect(reread.json == json)
    #expect(reread.verificationKey(kid: "s-1")?.publicKey.modulus == TokenForge.otherKey.publicKey.modulus)
    #expect(reread.verificationKey(kid: "s-") == nil)
    let decoded = try JSONDecoder().decode([String: [JWK]].self, from: Data(json.utf8))
    #expect(decoded["keys"]?.first == JWK(key: set.keys[0]))
    #expect(try decoded["keys"]?.first?.verificationKey().publicKey.exponent == [1, 0, 1])
  }

  func rsaMembers(kid: String = "k") -> String {
    #""kid":"\#(kid)","n":"\#(Base64URL.encode(key.modulus))","e":"AQAB""#
  }

  @Test func otherKeyTypesAreSkippedAndOptionalMembersAllowed() throws {
    let json = #"{"keys":[{"kty":"EC","crv":"P-256","x":"a","y":"b"},{"kty":"RSA",\#(rsaMembers())}],"extra":1}"#
    let set = try JWKSet(json: json)
    #expect(set.keys.map(\.kid) == ["k"])
    #expect(try JWKSet(json: #"{"keys":[]}"#).keys.isEmpty)
  }

  @Test(arguments: [
    #"{"keys":[{"kty":"RSA","n":"N","e":"AQAB"}]}"#,  // no kid
    #"{"keys":[{"kty":"RSA","kid":"k","e":"AQAB"}]}"#,  // no n
    #"{"keys":[{"kty":"RSA","kid":"k","n":"N"}]}"#,  // no e
    #"{"keys":[{"kid":"k","n":"N","e":"AQAB"}]}"#,  // no kty
    #"{"keys":[{"kty":"RSA","kid":"k","n":"N","e":"AQAB","alg":"RS512"}]}"#,
    #"{"keys":[{"kty":"RSA","kid":"k","n":"N","e":"AQAB","use":"enc"}]}"#,
    #"{"keys":[{"kty":"RSA","kid":"k","n":"N","e":"AQAB","key_ops":["encrypt"]}]}"#,
    #"{"keys":[{"kty":"RSA","kid":"k","n":"N","e":"AQAB","d":"AQAB"}]}"#,
    #"{"keys":[{"kty":"RSA","kid":"k","n":"N","e":"AQAB"},{"kty":"RSA","kid":"k","n":"N","e":"AQAB"}]}"#,
    #"{"keys":[{"kty":"RSA","kid":"k","n":"N","e":"AQ=="}]}"#,
    #"{"keys":[{"kty":"RSA","kid":"k","n":"AQAB","e":"AQAB"}]}"#,  // 17-bit modulus
    #"{"keys":[{"kty":"RSA","kid":"k","n":"N","e":"AQAB","kid":"j"}]}"#,  // duplicate member
    #"{"keys":{}}"#, #"{}"#, #"[]"#, #"{"keys":[1]}"#, #"{"keys":[]} x"#,
  ])
  func malformedSetsAreRefused(json: String) {
    let json = json.replacingOccurrences(of: #""n":"N""#, with: #""n":"\#(Base64URL.encode(key.modulus))""#)
    #expect(throws: JWKSetError.self) { try JWKSet(json: json) }
  }

  @Test func acceptedOptionalMembers() throws {
    let json = #"{"keys":[{"kty":"RSA",\#(rsaMembers()),"alg":"RS256","use":"sig","key_ops":["verify"]}]}"#
    #expect(try JWKSet(json: json).keys.count == 1)
  }

  @Test func tokensVerifyAgainstAParsedSet() throws {
    let set = try JWKSet(json: TokenForge.keys.json)
    let token = TokenForge.signed(header: TokenForge.header(), payload: TokenForge.payload())
    #expect(JWSVerifier.verifiedPayload(token, keys: set) == Array(TokenForge.payload().utf8))
  }

  @Test func initWithKeysKeepsTheFirstOfRepeatedKids() {
    let set = JWKSet(keys: [
      VerificationKey(kid: "a", publicKey: key), VerificationKey(kid: "a", publicKey: TokenForge.otherKey.publicKey),
    ])
    #expect(set.keys.count == 1)
    #expect(set.verificationKey(kid: "a")?.publicKey.modulus == key.modulus)
  }
}
