import NIOCore
import NIOHTTP1
import SessionCore
import SessionToken

/// Forward-auth: a gateway (nginx `auth_request`, Traefik `ForwardAuth`, Caddy `forward_auth`, Envoy's HTTP
/// ext_authz) asks whether the original request carries a valid session. The same verify path as the socket
/// (key ring, blacklisting, anti-CSRF), counted under VerifySession in the metrics.
package struct ForwardAuth: Sendable {
  static let path = "/auth/verify"
  static let safeMethods: Set<String> = ["GET", "HEAD", "OPTIONS"]

  let service: SessionService
  let metrics: SidecarMetrics

  /// What a gateway sends, whatever the transport (HTTP here, Envoy's CheckRequest over gRPC).
  package struct Request: Sendable {
    package var method: String
    package var authorization: String?
    package var cookie: String?
    package var antiCsrf: String?

    package init(method: String, authorization: String?, cookie: String?, antiCsrf: String?) {
      self.method = method
      self.authorization = authorization
      self.cookie = cookie
      self.antiCsrf = antiCsrf
    }
  }

  /// What the gateway is told.
  package enum Decision: Equatable, Sendable {
    case allow(userID: String, handle: String, payloadBase64URL: String)
    case tryRefreshToken
    case unauthorised

    package var outcomeHeader: String? {
      switch self {
      case .allow: nil
      case .tryRefreshToken: "try-refresh-token"
      case .unauthorised: "unauthorised"
      }
    }

    package var body: String {
      switch self {
      case .allow: ""
      case .tryRefreshToken: #"{"message":"try refresh token"}"#
      case .unauthorised: #"{"message":"unauthorised"}"#
      }
    }
  }

  package func decide(_ request: Request) -> Decision {
    guard let token = Self.accessToken(authorization: request.authorization, cookie: request.cookie) else {
      metrics.verified(.unauthorised)
      return .unauthorised
    }
    let outcome = service.verify(
      accessToken: token, antiCsrfToken: request.antiCsrf ?? "",
      doAntiCsrfCheck: !Self.safeMethods.contains(request.method.uppercased()), checkDatabase: false)
    switch outcome {
    case .ok(let view, _):
      metrics.verified(.ok)
      let claims = AccessTokenPayload.customClaims(ofPayload: view.accessTokenPayloadJSON)
      return .allow(
        userID: Self.headerSafe(view.userID), handle: view.handle,
        payloadBase64URL: Base64URL.encode(Array(claims.utf8)))
    case .tryRefreshToken:
      metrics.verified(.tryRefreshToken)
      return .tryRefreshToken
    case .unauthorised:
      metrics.verified(.unauthorised)
      return .unauthorised
    }
  }

  func answer(_ head: HTTPRequestHead) -> HTTPAnswer {
    let headers = head.headers
    let request = Request(
      method: headers.first(name: "X-Original-Method") ?? headers.first(name: "X-Forwarded-Method")
        ?? head.method.rawValue,
      authorization: headers.first(name: "Authorization"),
      cookie: headers[canonicalForm: "Cookie"].joined(separator: "; "),
      antiCsrf: headers.first(name: "anti-csrf"))
    switch decide(request) {
    case .allow(let userID, let handle, let payload):
      return HTTPAnswer(
        status: .ok,
        headers: [("X-Session-User-Id", userID), ("X-Session-Handle", handle), ("X-Session-Payload", payload)],
        body: ByteBuffer())
    case let refused:
      return .json(.unauthorized, refused.body, headers: [("X-Session-Outcome", refused.outcomeHeader!)])
    }
  }

  /// `Authorization: Bearer <token>`, else the `sAccessToken` cookie.
  static func accessToken(authorization: String?, cookie: String?) -> String? {
    if let authorization, authorization.count > 7, authorization.prefix(7).lowercased() == "bearer " {
      let token = authorization.dropFirst(7).trimmingSpaces
      if !token.isEmpty { return String(token) }
    }
    guard let cookie else { return nil }
    for pair in cookie.split(separator: ";") {
      let trimmed = pair.trimmingSpaces
      guard trimmed.hasPrefix("sAccessToken=") else { continue }
      let value = trimmed.dropFirst("sAccessToken=".count)
      if !value.isEmpty { return String(value) }
    }
    return nil
  }

  /// A user id as a header value: control characters and `%` are percent-encoded, so no id can split a header.
  static func headerSafe(_ value: String) -> String {
    let needsEncoding: (UInt8) -> Bool = { $0 < 0x20 || $0 == 0x7F || $0 == 0x25 }
    guard value.utf8.contains(where: needsEncoding) else { return value }
    var bytes: [UInt8] = []
    for byte in value.utf8 {
      if needsEncoding(byte) {
        bytes += Array("%\(byte < 0x10 ? "0" : "")\(String(byte, radix: 16, uppercase: true))".utf8)
      } else {
        bytes.append(byte)
      }
    }
    return String(decoding: bytes, as: UTF8.self)
  }
}

extension Substring {
  fileprivate var trimmingSpaces: Substring {
    var text = self
    while text.first == " " || text.first == "\t" { text.removeFirst() }
    while text.last == " " || text.last == "\t" { text.removeLast() }
    return text
  }
}
