import SessionCore
import Testing

@Suite("sidecar.http.address is a numeric loopback address")
struct LoopbackAddressTests {
  @Test(arguments: ["127.0.0.1:8080", "127.1.2.3:1", "[::1]:8080", "localhost:8080"])
  func loopbackIsAccepted(text: String) {
    #expect(LoopbackAddress(parsing: text) != nil)
  }

  @Test(arguments: [
    "127.evil.example.com:8080", "127.0.0.1.nip.io:80", "127.0.0:8080", "0.0.0.0:8080", "10.0.0.1:80",
    "127.0.0.256:80", "127.0.0.08:8080", "127.+1.0.1:8080", "127.0.0.010:80", "[::]:80", "127.0.0.1:0", "127.0.0.1",
    "example.com:80",
  ])
  func anythingElseIsRefused(text: String) {
    #expect(LoopbackAddress(parsing: text) == nil)
  }
}
