import NIOCore
import SessionCore
import SessionSidecarWire
import Synchronization

/// Connections streaming the signing-key set (WatchSigningKeys): each gets the set at once and again on
/// every change, on the request id that opened the stream.
final class SigningKeyWatchers: Sendable {
  private struct Watch {
    let channel: any Channel
    var requestIDs: [UInt64]
  }

  private let watches = Mutex<[ObjectIdentifier: Watch]>([:])
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

  /// Sends the current set to every watcher; called when the key ring changed.
  func publish() {
    let published = keyRing.published(at: clock.nowMs())
    for watch in watches.withLock({ Array($0.values) }) {
      send(published, to: watch.channel, ids: watch.requestIDs)
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
