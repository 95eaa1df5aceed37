import GRPCCore
import SidecarServer
import SwiftProtobuf

/// Envoy's gRPC ext_authz (`envoy.service.auth.v3.Authorization/Check`), as Envoy's ext_authz filter and Istio's
/// `envoyExtAuthzGrpc` provider call it. The decision is forward-auth's (`/auth/verify`): the same token sources,
/// anti-CSRF rule, verify path and metrics; only its shape differs.
///
/// Allowed: status OK and an `ok_response` that sets `x-session-user-id`, `x-session-handle` and
/// `x-session-payload` on the request to the upstream, replacing whatever the client sent under those names.
/// Refused: status UNAUTHENTICATED and a `denied_response` that Envoy sends to the client: 401,
/// `x-session-outcome`, and the JSON body of `/auth/verify`'s 401.
struct EnvoyAuthorizationService: Envoy_Service_Auth_V3_Authorization.SimpleServiceProtocol {
  let forwardAuth: ForwardAuth

  func check(
    request: Envoy_Service_Auth_V3_CheckRequest, context: ServerContext
  ) async throws -> Envoy_Service_Auth_V3_CheckResponse {
    .init(forwardAuth.decide(ForwardAuth.Request(request.attributes.request.http)))
  }
}

extension ForwardAuth.Request {
  /// The method and headers of the request Envoy asks about. An absent method counts as unsafe (the anti-CSRF
  /// check applies); absent headers as no token.
  init(_ http: Envoy_Service_Auth_V3_AttributeContext.HttpRequest) {
    let headers = EnvoyRequestHeaders(http)
    self.init(
      method: http.method, authorization: headers["authorization"], cookie: headers["cookie"],
      antiCsrf: headers["anti-csrf"])
  }
}

/// The request headers of a CheckRequest, by lower-case name: from `headers` (Envoy's default), or from
/// `header_map` when the filter sets `encode_raw_headers`, where a name may repeat (joined as Envoy joins them in
/// `headers`: cookies with "; ", others with ",").
struct EnvoyRequestHeaders {
  private var values: [String: String] = [:]

  init(_ http: Envoy_Service_Auth_V3_AttributeContext.HttpRequest) {
    for (name, value) in http.headers { add(name, value) }
    for header in http.headerMap.headers {
      add(header.key, header.value.isEmpty ? String(decoding: header.rawValue, as: UTF8.self) : header.value)
    }
  }

  subscript(name: String) -> String? { values[name] }

  private mutating func add(_ name: String, _ value: String) {
    let name = name.lowercased()
    if let earlier = values[name] {
      values[name] = earlier + (name == "cookie" ? "; " : ",") + value
    } else {
      values[name] = value
    }
  }
}

extension Envoy_Service_Auth_V3_CheckResponse {
  init(_ decision: ForwardAuth.Decision) {
    self.init()
    status.code = GRPCStatusMapping.extAuthzCode(decision)
    switch decision {
    case .allow(let userID, let handle, let payload):
      okResponse.headers = [
        .overwrite("x-session-user-id", userID), .overwrite("x-session-handle", handle),
        .overwrite("x-session-payload", payload),
      ]
    case .tryRefreshToken, .unauthorised:
      status.message = decision.outcomeHeader ?? ""
      deniedResponse.status.code = .unauthorized
      deniedResponse.headers = [
        .overwrite("x-session-outcome", decision.outcomeHeader ?? ""),
        .overwrite("content-type", "application/json"),
      ]
      deniedResponse.body = decision.body
    }
  }
}

extension Envoy_Config_Core_V3_HeaderValueOption {
  /// A header that replaces any of the same name. Both fields say so: Envoy reads the deprecated `append` first
  /// when it is set (false: overwrite), and older Envoys know only it; left unset, a newer Envoy would take
  /// `append_action`'s default, which appends to the client's value.
  static func overwrite(_ name: String, _ value: String) -> Self {
    var option = Self()
    option.header.key = name
    option.header.value = value
    option.append = Google_Protobuf_BoolValue(false)
    option.appendAction = .overwriteIfExistsOrAdd
    return option
  }
}
