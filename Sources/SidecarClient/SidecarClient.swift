import NIOCore
import NIOPosix
import SessionSidecarWire
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A Swift client of the sidecar's socket, built on the wire module alone (no crypto, no database library).
/// Many tasks may share one client: requests are pipelined on one connection and matched to responses by id.
/// A call made after the connection dropped (the sidecar restarted) connects again; a call in flight when it
/// drops fails with `SidecarClientError.connectionClosed`. Every call has a timeout.
public final class SidecarClient: Sendable {
  /// The environment variable read when no socket path is given.
  public static let socketEnvironmentVariable = "SESSION_SIDECAR_SOCKET"
  public static let defaultSocketPath = "/run/session-sidecar/sidecar.sock"

  public let socketPath: String
  public let defaultTimeout: Duration
  private let group: any EventLoopGroup
  private let connection: Mutex<ClientConnection?>

  private init(
    socketPath: String, defaultTimeout: Duration, group: any EventLoopGroup, connection: ClientConnection
  ) {
    self.socketPath = socketPath
    self.defaultTimeout = defaultTimeout
    self.group = group
    self.connection = Mutex(connection)
  }

  /// Connects to `socketPath`, else to `$SESSION_SIDECAR_SOCKET`, else to the default path.
  public static func connect(
    socketPath: String? = nil, defaultTimeout: Duration = .seconds(10),
    group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
  ) async throws -> SidecarClient {
    let path = socketPath ?? environmentSocketPath() ?? defaultSocketPath
    let connection = try await ClientConnection.open(socketPath: path, group: group)
    return SidecarClient(socketPath: path, defaultTimeout: defaultTimeout, group: group, connection: connection)
  }

  public static func environmentSocketPath() -> String? {
    guard let value = getenv(socketEnvironmentVariable) else { return nil }
    let path = String(cString: value)
    return path.isEmpty ? nil : path
  }

  /// Sends `request` (its id is assigned here) and waits for the matching response, whatever its status.
  public func call(_ request: WireRequest, timeout: Duration? = nil) async throws -> WireResponse {
    try await openConnection().send(request, timeout: timeout ?? defaultTimeout)
  }

  /// Sends `request` and returns the response when its status is OK; otherwise throws `SidecarCallError`.
  func checkedCall(_ request: WireRequest, timeout: Duration?) async throws -> WireResponse {
    let response = try await call(request, timeout: timeout)
    guard response.status.code == .ok else { throw SidecarCallError(response.status) }
    return response
  }

  /// Opens a server stream (WatchSigningKeys): every OK response on the request's id, until the connection
  /// closes (the stream then throws `connectionClosed`) or a non-OK status ends it (`SidecarCallError`).
  func stream(_ request: WireRequest) async throws -> AsyncThrowingStream<WireResponse, any Error> {
    try await openConnection().openStream(request)
  }

  /// The live connection, or a new one when the last has closed.
  private func openConnection() async throws -> ClientConnection {
    if let current = connection.withLock({ $0 }), current.isOpen { return current }
    let fresh = try await ClientConnection.open(socketPath: socketPath, group: group)
    let (winner, loser) = connection.withLock { slot -> (ClientConnection, ClientConnection?) in
      if let current = slot, current.isOpen { return (current, fresh) }
      slot = fresh
      return (fresh, nil)
    }
    await loser?.close()
    return winner
  }

  /// Sends raw bytes as they are on the current connection (for tests of hostile input).
  public func sendRaw(_ bytes: [UInt8]) async throws {
    guard let current = connection.withLock({ $0 }) else { throw SidecarClientError.connectionClosed }
    try await current.channel.writeAndFlush(current.channel.allocator.buffer(bytes: bytes))
  }

  /// Waits for the response with `id` to a request sent by `sendRaw` (0 for connection-level errors).
  public func awaitResponse(id: UInt64) async throws -> WireResponse {
    guard let current = connection.withLock({ $0 }) else { throw SidecarClientError.connectionClosed }
    return try await withCheckedThrowingContinuation { continuation in
      current.pending.register(id: id, continuation)
    }
  }

  /// Returns once the current connection has closed (for tests of a server that closes it).
  public func awaitConnectionClose() async {
    try? await connection.withLock { $0 }?.channel.closeFuture.get()
  }

  /// Whether the current connection is open (a later call reconnects when it is not).
  public var isOpen: Bool { connection.withLock { $0 }?.isOpen ?? false }

  public func close() async {
    await connection.withLock { $0 }?.close()
  }
}

/// The call could not be made or answered: the transport failed.
public enum SidecarClientError: Error, Sendable, Equatable, CustomStringConvertible {
  case connectionClosed
  case malformedResponse
  case timedOut

  public var description: String {
    switch self {
    case .connectionClosed: "the connection to the sidecar closed"
    case .malformedResponse: "the sidecar sent a response that does not decode"
    case .timedOut: "the sidecar did not answer in time"
    }
  }
}

/// The sidecar answered with a non-OK status: the call itself could not be carried out.
public struct SidecarCallError: Error, Sendable, Equatable, CustomStringConvertible {
  public let code: WireCode
  public let message: String

  public init(_ status: WireStatus) {
    code = status.code
    message = status.message
  }

  public var description: String { "\(code.protoName) (\(code.rawValue)): \(message)" }
}
