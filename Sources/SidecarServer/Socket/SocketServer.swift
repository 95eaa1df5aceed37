import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import SessionCore

/// The Unix-socket listener: framing, then one `ConnectionHandler` per connection.
final class SocketServer: Service {
  private let path: String
  private let mode: UInt16
  private let maxFrameBytes: Int
  private let maxInFlight: Int
  private let dispatcher: RequestDispatcher
  private let threadPool: NIOThreadPool
  private let watchers: SigningKeyWatchers
  private let group: any EventLoopGroup
  private let logger: Logger
  let listening: EventLoopPromise<Void>

  init(
    config: SidecarConfig, dispatcher: RequestDispatcher, threadPool: NIOThreadPool, watchers: SigningKeyWatchers,
    group: any EventLoopGroup, logger: Logger
  ) {
    self.path = config.sidecar.socketPath
    self.mode = config.sidecar.socketMode
    self.maxFrameBytes = config.sidecar.maxFrameBytes
    self.maxInFlight = config.sidecar.maxInFlightPerConnection
    self.dispatcher = dispatcher
    self.threadPool = threadPool
    self.watchers = watchers
    self.group = group
    self.logger = logger
    self.listening = group.next().makePromise()
  }

  func run() async throws {
    let channel: any Channel
    let inode: UInt64
    do {
      (channel, inode) = try await bind()
    } catch {
      listening.fail(error)
      throw error
    }
    logger.info("listening", metadata: ["socket": "\(path)"])
    listening.succeed()
    // Closing the listener ends the run; connections already open finish what they are answering.
    try await withTaskCancellationOrGracefulShutdownHandler {
      try await channel.closeFuture.get()
    } onCancelOrGracefulShutdown: {
      channel.close(promise: nil)
    }
    // Remove the socket file only if it is still ours (a newer instance may have taken the path).
    if Self.inode(of: path) == inode { try? FileManager.default.removeItem(atPath: path) }
  }

  /// Binds in a private directory, sets the mode, then renames the socket into place: no client ever sees
  /// the socket with a wider mode than configured. Refuses a path another live process is serving.
  private func bind() async throws -> (any Channel, UInt64) {
    let files = FileManager.default
    let directory = (path as NSString).deletingLastPathComponent
    if !directory.isEmpty { try files.createDirectory(atPath: directory, withIntermediateDirectories: true) }
    if files.fileExists(atPath: path),
      let live = try? await ClientBootstrap(group: group).connect(unixDomainSocketPath: path).get()
    {
      try? await live.close()
      throw SocketPathInUse(path: path)
    }
    // Short, so that the staging path stays within the 107-byte limit of a Unix socket path.
    let staging = (directory.isEmpty ? "." : directory) + "/.s" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
    try files.createDirectory(
      atPath: staging, withIntermediateDirectories: false, attributes: [.posixPermissions: NSNumber(value: 0o700)])
    defer { try? files.removeItem(atPath: staging) }
    let temporary = staging + "/s"

    let (maxFrameBytes, maxInFlight, dispatcher, threadPool, watchers, logger) = (
      self.maxFrameBytes, self.maxInFlight, self.dispatcher, self.threadPool, self.watchers, self.logger
    )
    let channel = try await ServerBootstrap(group: group)
      .serverChannelOption(.backlog, value: 256)
      .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.addHandler(
            ByteToMessageHandler(FrameDecoder(maxFrameBytes: maxFrameBytes)))
          try channel.pipeline.syncOperations.addHandler(
            ConnectionHandler(
              dispatcher: dispatcher, threadPool: threadPool, watchers: watchers, maxInFlight: maxInFlight,
              maxFrameBytes: maxFrameBytes, logger: logger))
        }
      }
      .bind(unixDomainSocketPath: temporary).get()
    do {
      try files.setAttributes([.posixPermissions: NSNumber(value: mode)], ofItemAtPath: temporary)
      guard rename(temporary, path) == 0 else {
        throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
      }
    } catch {
      channel.close(promise: nil)
      throw error
    }
    return (channel, Self.inode(of: path) ?? 0)
  }

  private static func inode(of path: String) -> UInt64? {
    (try? FileManager.default.attributesOfItem(atPath: path))?[.systemFileNumber] as? UInt64
  }
}

/// Another process answers on the configured socket path.
struct SocketPathInUse: Error, CustomStringConvertible {
  let path: String
  var description: String {
    "another process is serving \(path); stop it or set sidecar.socketPath to another path"
  }
}
