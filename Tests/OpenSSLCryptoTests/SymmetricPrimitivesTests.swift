import OpenSSLCrypto
import Testing

@Suite("SHA-256, HMAC, random, constant-time compare, hex")
struct SymmetricPrimitivesTests {
  @Test func sha256KnownAnswers() {
    #expect(Hex.encode(SHA256.hash("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    #expect(Hex.encode(SHA256.hash("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(SHA256.hash(Array("abc".utf8)) == SHA256.hash("abc"))
    let million = [UInt8](repeating: 0x61, count: 1_000_000)
    #expect(Hex.encode(SHA256.hash(million)) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
  }

  @Test func hmacKnownAnswers() {
    // RFC 4231 test case 1.
    let key = [UInt8](repeating: 0x0b, count: 20)
    #expect(
      Hex.encode(HMACSHA256.authenticationCode(key: key, message: Array("Hi There".utf8)))
        == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
    )
    // RFC 4231 test case 2 (key shorter than the block).
    #expect(
      Hex.encode(
        HMACSHA256.authenticationCode(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
      ) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )
    #expect(
      Hex.encode(HMACSHA256.authenticationCode(key: [], message: []))
        == "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"
    )
  }

  @Test func randomBytesHaveTheRequestedLengthAndDiffer() {
    #expect(SecureRandom.bytes(0).isEmpty)
    let a = SecureRandom.bytes(32)
    let b = SecureRandom.bytes(32)
    #expect(a.count == 32)
    #expect(a != b)
    #expect(a != [UInt8](repeating: 0, count: 32))
  }

  @Test func constantTimeEquality() {
    #expect(constantTimeEquals([], []))
    #expect(constantTimeEquals([1, 2, 3], [1, 2, 3]))
    #expect(!constantTimeEquals([1, 2, 3], [1, 2, 4]))
    #expect(!constantTimeEquals([1, 2, 3], [1, 2]))
    #expect(!constantTimeEquals([], [0]))
  }

  @Test func hexIsLowercase() {
    #expect(Hex.encode([]) == "")
    #expect(Hex.encode([0x00, 0x0f, 0xab, 0xff]) == "000fabff")
  }
}

@Suite("AES-256-GCM sealed boxes")
struct AES256GCMTests {
  let key = SecureRandom.bytes(32)
  let aad = Array("session:abc".utf8)

  @Test(arguments: [0, 1, 15, 16, 17, 1000])
  func sealThenOpen(length: Int) throws {
    let plaintext = SecureRandom.bytes(length)
    let box = try AES256GCM.seal(plaintext, key: key, associatedData: aad)
    #expect(box.count == 12 + length + 16)
    #expect(try AES256GCM.open(box, key: key, associatedData: aad) == plaintext)
  }

  @Test func sealingTwiceUsesFreshNonces() throws {
    let a = try AES256GCM.seal([1, 2, 3], key: key, associatedData: [])
    let b = try AES256GCM.seal([1, 2, 3], key: key, associatedData: [])
    #expect(a.prefix(12) != b.prefix(12))
    #expect(try AES256GCM.open(a, key: key, associatedData: []) == [1, 2, 3])
  }

  @Test func everyTamperIsDetected() throws {
    let box = try AES256GCM.seal(Array("secret data".utf8), key: key, associatedData: aad)
    for index in box.indices {
      var tampered = box
      tampered[index] ^= 0x01
      #expect(throws: CryptoError.self) { try AES256GCM.open(tampered, key: key, associatedData: aad) }
    }
    #expect(throws: CryptoError.self) { try AES256GCM.open(Array(box.dropLast()), key: key, associatedData: aad) }
    #expect(throws: CryptoError.self) { try AES256GCM.open(Array(box.prefix(27)), key: key, associatedData: aad) }
  }

  @Test func wrongKeyOrAssociatedDataFails() throws {
    let box = try AES256GCM.seal([42], key: key, associatedData: aad)
    #expect(throws: CryptoError.self) { try AES256GCM.open(box, key: SecureRandom.bytes(32), associatedData: aad) }
    #expect(throws: CryptoError.self) { try AES256GCM.open(box, key: key, associatedData: Array("other".utf8)) }
    #expect(throws: CryptoError.self) { try AES256GCM.open(box, key: key, associatedData: []) }
  }

  @Test func keysOfTheWrongSizeAreRefused() {
    #expect(throws: CryptoError.self) { try AES256GCM.seal([1], key: SecureRandom.bytes(16), associatedData: []) }
    #expect(throws: CryptoError.self) {
      try AES256GCM.open([UInt8](repeating: 0, count: 40), key: [], associatedData: [])
    }
  }
}
