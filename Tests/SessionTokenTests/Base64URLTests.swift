import SessionToken
import Testing

@Suite("Base64URL is canonical")
struct Base64URLTests {
  @Test(
    arguments: [
      ([], ""), ([0x66], "Zg"), ([0x66, 0x6f], "Zm8"), ([0x66, 0x6f, 0x6f], "Zm9v"), ([0xfb, 0xff], "-_8"),
      ([0xff, 0xff, 0xff, 0xfe], "_____g"),
    ] as [([UInt8], String)])
  func roundTrip(bytes: [UInt8], text: String) {
    #expect(Base64URL.encode(bytes) == text)
    #expect(Base64URL.decode(Substring(text)) == bytes)
  }

  @Test func randomRoundTrips() {
    for length in 0..<70 {
      let bytes = (0..<length).map { _ in UInt8.random(in: 0...255) }
      #expect(Base64URL.decode(Substring(Base64URL.encode(bytes))) == bytes)
    }
  }

  @Test(arguments: [
    "Zg==",  // padding
    "Zg=",
    "Zm9v\n",  // whitespace
    " Zm9v",
    "Zm 9v",
    "Zm+v",  // standard alphabet
    "Zm/v",
    "Z",  // length % 4 == 1
    "Zm9vY",
    "Zh",  // non-zero unused bits ("Zg" is the canonical form of 0x66)
    "Zm9",  // "Zm8" is canonical
    "-_9",  // "-_8" is canonical
    "Zm9v?",
    "Zé",
  ])
  func rejects(text: String) {
    #expect(Base64URL.decode(Substring(text)) == nil)
  }
}
