// Fixed keys for the token targets (jwt, jwt_signed, json), compiled into their SessionToken module.
// Made for fuzzing with `openssl genrsa -traditional 2048`; test-only keys, never used for anything else.
// fuzz/make_corpus.py signs the seed tokens with the first one.
import OpenSSLCrypto

enum FuzzTokenKeys {
  /// The kid the seed tokens name (the form the sidecar's dynamic keys take).
  static let kid = "d-1700000000000"
  /// A second RS256 key: a token signed by the first key but naming this kid has an invalid signature.
  static let otherKid = "s-fuzz-other"
  /// The second key again, bound to another algorithm: a header saying RS256 gets "algorithm mismatch".
  static let otherAlgorithmKid = "s-fuzz-ps256"

  static let signingKeyPEM = """
    -----BEGIN RSA PRIVATE KEY-----
    MIIEogIBAAKCAQEAiFOHzixnawbmHQf1/ck3nTnROPjFPuio3qx5DZnd7h5u8lSZ
    QLRu8VnCKD0cpIQMucQi3pdRnpi4dF1a0rnx1/a3kiQdq7qUAAbHcrw889JMTDou
    nCxuvsRlR+qavLtCRM/kYO1IQkfXxUPB3Aof3P6qg+zJuJ83s3m9+WP/qlKHky1K
    XMqD6fMFByDeD/SHTr4Ql9ALag+9MumMMuC25iV5twPFIAc6jmKkYoqkgoLH371g
    V02qyCLSE3RmvwglhxDs4CoLsLVAX3k44K7h+iPrAJJHBp739vYX9BBMVTGHkoat
    brjdNSPdlKxCm0kS8HcY85955DuDwIyoEilrawIDAQABAoIBAB92C4bYt4s7HdsA
    TdRiXgvSXocD3l1syyAMdKlfY5jC/D6/qFiG632WhdjMdbI/6UHr0lJFYKg1vYfZ
    TY8JK5d4EBhRbmmF1wcEiX3glD5+v23uFXikRnCPGYKV0V0R6DLCOYXm7MCjHNgh
    EXmq+nyBZy+n80vArtWkGGQYIFYZfH//7ZBII4z//KMzmkdaaDLcmFXbPasq1LoU
    Sec3yZACfKFq4JbVkNC1FMGqT3r2mV+Wa+yxN/Pj0aPxZRj3qvRaDdXSwl7+9JOv
    KpJs4B5tgulHNEvQQLZbsOdgC8rr4Q7SYClODiv9B8iPc3BuGC+A/t/b2ito+3hd
    D/hRq3kCgYEAv65GQ+MwB96nFo4k6XPRAkdSA3GmFL/QNjlynhnOasvmjP9cwyG5
    7hslEXPovLGFlXrzEXxmW1clg/2zQ88JJL4DRqJz2TZ7XRlAN1gAT2J7sP7QCyX2
    0KhJ/FV4d0J9u0iJHGYFyRVEiYJN0u+RhRErBqBY1pEPEA3zltENT7kCgYEAthI0
    4ngvyw/ICljJWuMZPpyNvVWh0UBS+irHWuhjeHGvg+dVUmoefJvmIkjFjLK3GY9S
    HXIV9NeXZFjQu7croVjF+xPAByrhDtcFo6A8T8vsR/DQTF0FaGuidshkpQuqplZO
    L6vqPc3yPSKfXXOmAhxyyKgUqbfzFSrkSB00/kMCgYAOjP06hBGOV2GZvbqhmjAg
    mydnqYXxB0qYAy5nQBBCXS4oP+5bxcCmiZr7wy/EuzknysiO6EGg53GqnmSwXhQU
    nPQEtapTr+YXgCY2zVBgtloranyCjCQ7XLsZE6fsbbi7sdrus/P2es3UHncn7xW9
    4zq/6wYza5mYH2cBaOc4yQKBgEjD3f7kqbUuCXSZJ1/7gwtS5hLVNma6nm78yc+7
    MIXiaZL90UuuvaBvbfolu04P3r2IWfkKr1u7DfY8yK889WL2Z6mAqy4yJOAZb1eF
    opUBmtzlkVnzk0W4PqXaUN7lWr4/n9/NhUBOHpHwVGC055PQas9m3Vs2+R9slO99
    PMChAoGADW7Vq0BYPGMX2uq9Lh5ZY5af6Gb/hJ5wdvmqO/fUZKrsipI+654K5r1V
    nd0bzzaz1aiG7dokmJDLDUaZqAt0fUd0yVAqUM1Faa1dHIXTG/O9TbK7axFKh+Vj
    3/G6CPotH9XzjDhqBBjkzhN0jRV3Gidto/WULbazRkRWJSQM/TE=
    -----END RSA PRIVATE KEY-----
    """

  static let otherPublicKeyPEM = """
    -----BEGIN PUBLIC KEY-----
    MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAzrdrTfMRScaUl6b657z9
    sRV/OxfhsQph30K4nWHsq7U1iPo2RvoMys0htrvo1f8XVUuVkXz96lNJYYufFHLY
    gAAELNTbcm51HCkOQLPY/XGNVtHwv+k30s25ZKSMxgG5qxZ40hyrLJk3tCwfMD5K
    eAn5fEt6Qn+Jd4zC3YTJ5gMaXdnRguZVOhMvqLoegNnaXq7G2YfkLvwu/Ug1ZA3M
    J5mFEJVCCupGHDL4hY0oH9URbgJBIhAmhOIMHZw1E8014UbP5RSswuArcUzbHZj9
    WYphTCA4OzP5yWbOXNFIrU5GY4xaPHxXpmP1rzGpeYQb/AvEffHbu3ptoGHuR0U/
    iQIDAQAB
    -----END PUBLIC KEY-----
    """

  static let signingKey = try! RSAPrivateKey(pem: signingKeyPEM)
  static let otherPublicKey = try! RSAPublicKey(pem: otherPublicKeyPEM)

  /// kid, other kid (RS256) and other kid bound to PS256.
  static let keySet = JWKSet(keys: [
    VerificationKey(kid: kid, publicKey: signingKey.publicKey),
    VerificationKey(kid: otherKid, publicKey: otherPublicKey),
    VerificationKey(kid: otherAlgorithmKid, publicKey: otherPublicKey, algorithm: "PS256"),
  ])

  /// The RS256 keys only, as a JWKS can carry them (a JWKS key's alg must be RS256).
  static let rs256KeySet = JWKSet(keys: keySet.keys.filter { $0.algorithm == "RS256" })
}
