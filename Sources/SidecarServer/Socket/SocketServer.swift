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
    do {
      channel = try await bind()
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
    try? FileManager.default.removeItem(atPath: path)
  }

  private func bind() async throws -> any Channel {
    let directory = (path as NSString).deletingLastPathComponent
    if !directory.isEmpty {
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }
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
      .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
    do {
      try FileManager.default.setAttributes([.posixPermissions: NSNumber(value: mode)], ofItemAtPath: path)
    } catch {
      channel.close(promise: nil)
      throw error
    }
    return channel
  }
}
