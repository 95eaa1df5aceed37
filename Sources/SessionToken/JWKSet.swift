/// A set of RS256 verification keys, read from or written as a JWKS document. Lookup is by exact kid only.
public struct JWKSet: VerificationKeyLookup, Sendable {
  /// The keys in the order given (the order `json` lists them in).
  public let keys: [VerificationKey]
  private let byKid: [String: VerificationKey]

  /// Keys in the given order; a later key with the kid of an earlier one is dropped, so lookups stay exact.
  public init(keys: [VerificationKey]) {
    var byKid: [String: VerificationKey] = [:]
    var unique: [VerificationKey] = []
    for key in keys where byKid[key.kid] == nil {
      byKid[key.kid] = key
      unique.append(key)
    }
    self.keys = unique
    self.byKid = byKid
  }

  /// Reads a JWKS strictly: an RSA key needs `kty`, `kid`, `n`, `e`; `alg`, if present, must be "RS256";
  /// `use`, if present, "sig"; `key_ops`, if present, must include "verify"; private members are refused (a
  /// JWKS that leaks a private key is a misconfiguration to stop, not to use). Keys of other types are skipped;
  /// a malformed RSA key or a repeated kid is an error.
  public init(json: String) throws(JWKSetError) {
    let text = Array(json.utf8)
    let result: Result<[VerificationKey], JWKSetError> = text.withUnsafeBytes { bytes in
      do throws(JWKSetError) { return .success(try Self.readKeys(bytes)) } catch { return .failure(error) }
    }
    let keys = try result.get()
    var seen = Set<String>()
    for key in keys where !seen.insert(key.kid).inserted { throw JWKSetError.duplicateKid(key.kid) }
    self.init(keys: keys)
  }

  /// The RFC 7517 document `{"keys":[…]}`, keys in order, members in a fixed order.
  public var json: String {
    "{\"keys\":[" + keys.map { JWK(key: $0).json }.joined(separator: ",") + "]}"
  }

  public func verificationKey(kid: Substring) -> VerificationKey? {
    byKid[String(kid)]
  }

  private static let privateMemberNames: Set<String> = ["d", "p", "q", "dp", "dq", "qi", "oth"]

  private static func readKeys(_ bytes: UnsafeRawBufferPointer) throws(JWKSetError) -> [VerificationKey] {
    let top: [JSONMember]
    do { top = try StrictJSON.members(ofObject: bytes) } catch { throw JWKSetError.invalidJSON(error.description) }
    guard let keysMember = top.first(where: { $0.name == "keys" }), keysMember.value.kind == .array,
      case .array(let elements) = try? StrictJSON.parse(bytes, in: keysMember.value.range)
    else { throw JWKSetError.invalidJSON("\"keys\" must be an array") }
    var keys: [VerificationKey] = []
    for element in elements {
      guard element.kind == .object, case .object(let members) = try? StrictJSON.parse(bytes, in: element.range)
      else { throw JWKSetError.invalidJSON("each key must be an object") }
      if let key = try readKey(members, bytes) { keys.append(key) }
    }
    return keys
  }

  /// The RSA key `members` describe, nil for a key of another type.
  private static func readKey(_ members: [JSONMember], _ bytes: UnsafeRawBufferPointer) throws(JWKSetError)
    -> VerificationKey?
  {
    func string(_ name: String) -> String?? {
      guard let member = members.first(where: { $0.name == name }) else { return .none }
      return .some(StrictJSON.string(member.value, in: bytes))
    }
    guard case .some(.some(let kty)) = string("kty") else {
      throw JWKSetError.invalidKey(kid: nil, reason: "kty must be a string")
    }
    guard kty == "RSA" else { return nil }
    guard case .some(.some(let kid)) = string("kid") else {
      throw JWKSetError.invalidKey(kid: nil, reason: "kid must be a string")
    }
    guard case .some(.some(let n)) = string("n"), case .some(.some(let e)) = string("e") else {
      throw JWKSetError.invalidKey(kid: kid, reason: "n and e must be strings")
    }
    if case .some(let alg) = string("alg"), alg != "RS256" {
      throw JWKSetError.invalidKey(kid: kid, reason: "alg must be RS256")
    }
    if case .some(let use) = string("use"), use != "sig" {
      throw JWKSetError.invalidKey(kid: kid, reason: "use must be sig")
    }
    if let operations = members.first(where: { $0.name == "key_ops" }) {
      guard case .array(let elements) = try? StrictJSON.parse(bytes, in: operations.value.range),
        elements.contains(where: { StrictJSON.string($0, in: bytes) == "verify" })
      else { throw JWKSetError.invalidKey(kid: kid, reason: "key_ops must include verify") }
    }
    if members.contains(where: { privateMemberNames.contains($0.name) }) {
      throw JWKSetError.invalidKey(kid: kid, reason: "private key members in a public key set")
    }
    return try JWK.rsaKey(kid: kid, n: n, e: e)
  }
}
