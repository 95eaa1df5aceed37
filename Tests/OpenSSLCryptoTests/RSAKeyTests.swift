import OpenSSLCrypto
import Testing

/// One generated key for the whole target: generation takes ~100 ms.
let sharedTestKey: RSAPrivateKey = try! RSAPrivateKey.generate()

@Suite("RSA keys and RS256 signatures")
struct RSAKeyTests {
  let key = sharedTestKey

  @Test func generatedKeyHasRequestedSize() {
    #expect(key.bitCount == 2048)
    #expect(key.publicKey.bitCount == 2048)
    #expect(key.publicKey.modulus.count == 256)
    #expect(key.publicKey.modulus.first != 0)
    #expect(key.publicKey.exponent == [0x01, 0x00, 0x01])
  }

  @Test func signThenVerify() throws {
    let message = Array("header.payload".utf8)
    let signature = try key.signSHA256(message)
    #expect(signature.count == 256)
    #expect(key.publicKey.isValidSHA256Signature(signature, message: message))
  }

  @Test func tamperedMessageOrSignatureIsRejected() throws {
    let message = Array("header.payload".utf8)
    let signature = try key.signSHA256(message)
    var otherMessage = message
    otherMessage[0] ^= 1
    #expect(!key.publicKey.isValidSHA256Signature(signature, message: otherMessage))
    for index in [0, 128, 255] {
      var tampered = signature
      tampered[index] ^= 0x80
      #expect(!key.publicKey.isValidSHA256Signature(tampered, message: message))
    }
    #expect(!key.publicKey.isValidSHA256Signature(Array(signature.dropLast()), message: message))
    #expect(!key.publicKey.isValidSHA256Signature([0] + signature, message: message))
    #expect(!key.publicKey.isValidSHA256Signature([], message: message))
  }

  @Test func signatureFromAnotherKeyIsRejected() throws {
    let other = try RSAPrivateKey.generate()
    let message = Array("m".utf8)
    #expect(!key.publicKey.isValidSHA256Signature(try other.signSHA256(message), message: message))
  }

  @Test func emptyMessageSignsAndVerifies() throws {
    let signature = try key.signSHA256([])
    #expect(key.publicKey.isValidSHA256Signature(signature, message: []))
    #expect(!key.publicKey.isValidSHA256Signature(signature, message: [0]))
  }

  @Test func privateKeyPEMRoundTrip() throws {
    let pem = try key.pkcs8PEM()
    #expect(pem.hasPrefix("-----BEGIN PRIVATE KEY-----"))
    let reread = try RSAPrivateKey(pem: pem)
    #expect(reread.publicKey.modulus == key.publicKey.modulus)
    let signature = try reread.signSHA256([1, 2, 3])
    #expect(key.publicKey.isValidSHA256Signature(signature, message: [1, 2, 3]))
  }

  @Test func publicKeyPEMAndNumbersRoundTrip() throws {
    let pem = try key.publicKey.spkiPEM()
    #expect(pem.hasPrefix("-----BEGIN PUBLIC KEY-----"))
    let fromPEM = try RSAPublicKey(pem: pem)
    let fromNumbers = try RSAPublicKey(modulus: key.publicKey.modulus, exponent: key.publicKey.exponent)
    let withLeadingZeros = try RSAPublicKey(modulus: [0, 0] + key.publicKey.modulus, exponent: [0, 1, 0, 1])
    let signature = try key.signSHA256([9])
    for publicKey in [fromPEM, fromNumbers, withLeadingZeros] {
      #expect(publicKey.modulus == key.publicKey.modulus)
      #expect(publicKey.exponent == key.publicKey.exponent)
      #expect(publicKey.isValidSHA256Signature(signature, message: [9]))
      #expect(try publicKey.spkiPEM() == pem)
    }
  }

  @Test func pkcs1PEMIsAccepted() throws {
    // A 2048-bit key in PKCS#1 form ("RSA PRIVATE KEY") and its public half as "RSA PUBLIC KEY".
    let privateKey = try RSAPrivateKey(pem: TestKeys.pkcs1PrivateKeyPEM)
    let publicKey = try RSAPublicKey(pem: TestKeys.pkcs1PublicKeyPEM)
    #expect(privateKey.bitCount == 2048)
    #expect(publicKey.modulus == privateKey.publicKey.modulus)
    #expect(publicKey.isValidSHA256Signature(try privateKey.signSHA256([7]), message: [7]))
  }

  @Test func smallKeysAreRefused() throws {
    #expect(throws: CryptoError.self) { try RSAPrivateKey.generate(bits: 1024) }
    #expect(throws: CryptoError.self) { try RSAPrivateKey(pem: TestKeys.rsa1024PrivateKeyPEM) }
    let shortModulus = [UInt8](repeating: 0xFF, count: 255)
    #expect(throws: CryptoError.self) { try RSAPublicKey(modulus: shortModulus, exponent: [1, 0, 1]) }
  }

  @Test func badNumbersAreRefused() {
    let modulus = sharedTestKey.publicKey.modulus
    var even = modulus
    even[even.count - 1] &= 0xFE
    #expect(throws: CryptoError.self) { try RSAPublicKey(modulus: even, exponent: [1, 0, 1]) }
    #expect(throws: CryptoError.self) { try RSAPublicKey(modulus: modulus, exponent: [1]) }
    #expect(throws: CryptoError.self) { try RSAPublicKey(modulus: modulus, exponent: [2]) }
    #expect(throws: CryptoError.self) { try RSAPublicKey(modulus: modulus, exponent: [1, 0, 0]) }
    #expect(throws: CryptoError.self) { try RSAPublicKey(modulus: modulus, exponent: []) }
    #expect(throws: CryptoError.self) { try RSAPublicKey(modulus: [], exponent: [1, 0, 1]) }
    #expect((try? RSAPublicKey(modulus: modulus, exponent: [3])) != nil)
  }

  @Test func garbageAndWrongKeyTypesAreRefused() {
    #expect(throws: CryptoError.self) { try RSAPrivateKey(pem: "not a key") }
    #expect(throws: CryptoError.self) {
      try RSAPublicKey(pem: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    }
    #expect(throws: CryptoError.self) { try RSAPrivateKey(pem: TestKeys.ecPrivateKeyPEM) }
    #expect(throws: CryptoError.self) { try RSAPublicKey(pem: TestKeys.ecPublicKeyPEM) }
  }

  @Test func errorsDoNotEchoKeyMaterial() throws {
    let pem = try sharedTestKey.pkcs8PEM()
    let broken = String(pem.dropLast(40))
    do {
      _ = try RSAPrivateKey(pem: broken)
      Issue.record("a truncated PEM must not parse")
    } catch {
      let body = pem.split(separator: "\n")[1]
      #expect(!"\(error)".contains(body))
    }
  }

  @Test func concurrentVerificationWithOneKey() async throws {
    let message = Array("shared".utf8)
    let signature = try key.signSHA256(message)
    let publicKey = key.publicKey
    let results = await withTaskGroup(of: Bool.self) { group in
      for index in 0..<8 {
        group.addTask {
          var allCorrect = true
          for round in 0..<200 {
            var candidate = signature
            if (round + index) % 3 == 0 { candidate[round % 256] ^= 1 }
            let expected = (round + index) % 3 != 0
            allCorrect = allCorrect && publicKey.isValidSHA256Signature(candidate, message: message) == expected
          }
          return allCorrect
        }
      }
      return await group.reduce(into: [Bool]()) { $0.append($1) }
    }
    #expect(results == Array(repeating: true, count: 8))
  }
}
