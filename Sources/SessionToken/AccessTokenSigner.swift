public import OpenSSLCrypto

/// Signs access tokens in SuperTokens' v5 form, so existing SuperTokens SDKs and JWKS verifiers accept them.
public enum AccessTokenSigner {
  /// A compact JWS over `payloadJSON` with header `{"alg":"RS256","typ":"JWT","kid":…,"version":"5"}`.
  /// The payload must be a strict JSON object: a token this module would refuse to verify is never issued.
  public static func sign(payloadJSON: String, kid: String, key: RSAPrivateKey) throws -> String {
    _ = try AccessTokenPayload.validateObject(payloadJSON)
    let header = "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":" + JSONText.quoted(kid) + ",\"version\":\"5\"}"
    let signingInput = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payloadJSON.utf8))
    let signature = try key.signSHA256(Array(signingInput.utf8))
    return signingInput + "." + Base64URL.encode(signature)
  }
}
