import Foundation
import SwiftProtobuf
import Testing

@testable import SidecarGRPC
@testable import SidecarServer

/// What the ext_authz service reads from a CheckRequest and what its CheckResponse says, without a server.
@Suite("Envoy ext_authz: request and response shapes")
struct EnvoyCheckShapeTests {
  typealias HTTPRequest = Envoy_Service_Auth_V3_AttributeContext.HttpRequest

  @Test func readsMethodAndHeadersByLowerCaseName() {
    var http = HTTPRequest()
    http.method = "POST"
    http.headers = ["authorization": "Bearer abc", "Cookie": "a=1; sAccessToken=xyz", "anti-csrf": "t"]
    let request = ForwardAuth.Request(http)
    #expect(request.method == "POST")
    #expect(request.authorization == "Bearer abc")
    #expect(request.cookie == "a=1; sAccessToken=xyz")
    #expect(request.antiCsrf == "t")
  }

  /// With encode_raw_headers Envoy sends `header_map`, with raw values, and a name may repeat.
  @Test func readsRawHeaderMap() {
    var http = HTTPRequest()
    http.method = "GET"
    http.headerMap.headers = [
      .with {
        $0.key = "cookie"
        $0.rawValue = Data("a=1".utf8)
      },
      .with {
        $0.key = "Cookie"
        $0.rawValue = Data("sAccessToken=xyz".utf8)
      },
      .with {
        $0.key = "authorization"
        $0.value = "Bearer abc"
      },
    ]
    let request = ForwardAuth.Request(http)
    #expect(request.cookie == "a=1; sAccessToken=xyz")
    #expect(request.authorization == "Bearer abc")
    #expect(ForwardAuth.accessToken(authorization: nil, cookie: request.cookie) == "xyz")
  }

  @Test func emptyRequestHasNoToken() {
    let request = ForwardAuth.Request(HTTPRequest())
    #expect(request.authorization == nil && request.cookie == nil && request.antiCsrf == nil)
    #expect(request.method == "")
  }

  @Test func allowSetsTheSessionHeadersReplacingTheClients() {
    let response = Envoy_Service_Auth_V3_CheckResponse(
      .allow(userID: "u1", handle: "h1", payloadBase64URL: "eyJyb2xlIjoiYWRtaW4ifQ"))
    #expect(response.status.code == 0)
    guard case .okResponse(let ok) = response.httpResponse else {
      Issue.record("no ok_response: \(response)")
      return
    }
    #expect(
      ok.headers.map { [$0.header.key, $0.header.value] } == [
        ["x-session-user-id", "u1"], ["x-session-handle", "h1"], ["x-session-payload", "eyJyb2xlIjoiYWRtaW4ifQ"],
      ])
    for option in ok.headers {
      #expect(option.hasAppend && option.append.value == false)
      #expect(option.appendAction == .overwriteIfExistsOrAdd)
    }
  }

  @Test(arguments: [
    (ForwardAuth.Decision.tryRefreshToken, "try-refresh-token", #"{"message":"try refresh token"}"#),
    (.unauthorised, "unauthorised", #"{"message":"unauthorised"}"#),
  ])
  func refusalIsA401WithOutcomeAndBody(_ decision: ForwardAuth.Decision, _ outcome: String, _ body: String) {
    let response = Envoy_Service_Auth_V3_CheckResponse(decision)
    #expect(response.status.code == 16)
    guard case .deniedResponse(let denied) = response.httpResponse else {
      Issue.record("no denied_response: \(response)")
      return
    }
    #expect(denied.status.code == .unauthorized)
    #expect(denied.status.code.rawValue == 401)
    #expect(denied.body == body)
    let headers = Dictionary(uniqueKeysWithValues: denied.headers.map { ($0.header.key, $0.header.value) })
    #expect(headers == ["x-session-outcome": outcome, "content-type": "application/json"])
  }
}
