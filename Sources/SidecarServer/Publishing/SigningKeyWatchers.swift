import NIOCore
import SessionCore
import SessionSidecarWire
import Synchronization

/// Connections streaming the signing-key set (WatchSigningKeys): each gets the set at once and again on
/// every change, on the request id that opened the stream. Listeners other than the socket (gRPC) subscribe to
/// an `AsyncStream` of the same sets instead.
final class SigningKeyWatchers: Sendable {
  private struct Watch {
    let channel: any Channel
    var requestIDs: [UInt64]
  }

  private let watches = Mutex<[ObjectIdentifier: Watch]>([:])
  private let subscribers = Mutex<
    (next: Int, all: [Int: AsyncStream<Sessionsidecar_V1_GetSigningKeysResponse>.Continuation])
  >((0, [:]))
  private let keyRing: SigningKeyRing
  private let clock: any WallClock

  init(keyRing: SigningKeyRing, clock: any WallClock) {
    self.keyRing = keyRing
    self.clock = clock
  }

  func add(channel: any Channel, requestID: UInt64) {
    watches.withLock { watches in
      watches[ObjectIdentifier(channel), default: Watch(channel: channel, requestIDs: [])].requestIDs.append(requestID)
    }
    send(keyRing.published(at: clock.nowMs()), to: channel, ids: [requestID])
  }

  func remove(channel: any Channel) {
    _ = watches.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
  }

  /// The current set at once, then the set after each change; only the latest is kept for a slow reader. Ends
  /// when the consumer stops iterating.
  func subscribe() -> AsyncStream<Sessionsidecar_V1_GetSigningKeysResponse> {
    let (stream, continuation) = AsyncStream.makeStream(
      of: Sessionsidecar_V1_GetSigningKeysResponse.self, bufferingPolicy: .bufferingNewest(1))
    let id = subscribers.withLock { subscribers in
      // Read and sent under the lock `publish` sends under: a newer set can never arrive before this one.
      continuation.yield(.init(keyRing.published(at: clock.nowMs())))
      defer { subscribers.next += 1 }
      subscribers.all[subscribers.next] = continuation
      return subscribers.next
    }
    continuation.onTermination = { [weak self] _ in
      _ = self?.subscribers.withLock { $0.all.removeValue(forKey: id) }
    }
    return stream
  }

  /// Sends the current set to every watcher; called when the key ring changed.
  func publish() {
    let published = keyRing.published(at: clock.nowMs())
    for watch in watches.withLock({ Array($0.values) }) {
      send(published, to: watch.channel, ids: watch.requestIDs)
    }
    subscribers.withLock { subscribers in
      guard !subscribers.all.isEmpty else { return }
      let keys = Sessionsidecar_V1_GetSigningKeysResponse(keyRing.published(at: clock.nowMs()))
      for continuation in subscribers.all.values { continuation.yield(keys) }
    }
  }

  private func send(_ published: PublishedKeySet, to channel: any Channel, ids: [UInt64]) {
    for id in ids {
      var response = WireResponse.ok(id: id)
      response.watchSigningKeys = .init(published)
      guard let frame = try? response.framed() else { continue }
      channel.writeAndFlush(frame, promise: nil)
    }
  }
}
