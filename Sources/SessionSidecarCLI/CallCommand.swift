import ArgumentParser
import SessionSidecarWire
import SidecarClient
import SwiftProtobuf

/// Like grpcurl for this protocol: one request built from JSON, the response printed as JSON.
struct CallCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "call",
    abstract: "Sends one call to a running sidecar and prints the response as JSON (protobuf's JSON mapping).",
    discussion: """
      METHOD is a call of proto/sessionsidecar/v1/sidecar.proto, as named there (CreateSession) or in \
      snake_case (create_session). The request's fields come from --json, e.g.
        session-sidecar call CreateSession --json '{"user_id": "user-42"}'
        session-sidecar call VerifySession --json '{"access_token": "eyJ..."}'
      WatchSigningKeys prints each key set as it arrives (--count limits how many).
      A non-OK status is printed to standard error and the exit status is 1.
      """)

  @Argument(help: "The call, e.g. CreateSession or create_session.")
  var method: String

  @OptionGroup var socket: SocketOption

  @Option(name: .long, help: "The request message as JSON (default {}).")
  var json = "{}"

  @Option(name: .long, help: "Seconds to wait for the answer.")
  var timeout = 10

  @Option(name: .long, help: "WatchSigningKeys: stop after this many key sets.")
  var count: Int?

  func run() async throws {
    guard let call = WireCall(named: method) else {
      printError(
        "error: unknown method \"\(method)\"; one of: \(WireCall.allCases.map(\.name).joined(separator: ", "))")
      throw ExitCode(2)
    }
    let request: WireRequest
    do {
      request = try WireRequest(jsonString: "{\"\(call.jsonName)\": \(json)}")
    } catch {
      printError("error: --json is not a valid \(call.name) request: \(error)")
      throw ExitCode(2)
    }
    let client = try await socket.connect()
    if call == .watchSigningKeys {
      var printed = 0
      for try await keys in try await client.watchSigningKeys() {
        print(try keys.jsonString(options: Self.printing))
        printed += 1
        if let count, printed >= count { break }
      }
      return
    }
    let response: WireResponse
    do {
      response = try await client.call(request, timeout: .seconds(timeout))
    } catch {
      printError("error: \(error)")
      throw ExitCode(1)
    }
    guard response.status.code == .ok else {
      printError("ERROR: \(SidecarCallError(response.status))")
      throw ExitCode(1)
    }
    print(try Self.result(of: response, call: call).jsonString(options: Self.printing))
  }

  static var printing: JSONEncodingOptions {
    var options = JSONEncodingOptions()
    options.preserveProtoFieldNames = true
    options.alwaysPrintInt64sAsNumbers = true
    return options
  }

  /// The result message of `call` in `response`.
  static func result(of response: WireResponse, call: WireCall) -> any SwiftProtobuf.Message {
    switch call {
    case .createSession: response.createSession
    case .verifySession: response.verifySession
    case .refreshSession: response.refreshSession
    case .revokeSessions: response.revokeSessions
    case .listSessions: response.listSessions
    case .getSession: response.getSession
    case .updateSessionData: response.updateSessionData
    case .updateAccessTokenPayload: response.updateAccessTokenPayload
    case .regenerateAccessToken: response.regenerateAccessToken
    case .getSigningKeys: response.getSigningKeys
    case .watchSigningKeys: response.watchSigningKeys
    case .health: response.health
    }
  }
}
