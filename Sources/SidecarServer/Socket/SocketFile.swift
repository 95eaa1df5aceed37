import Foundation
import NIOCore
import NIOPosix

/// A Unix socket's file, put in place the way every socket of the sidecar is: bound inside a private directory
/// (created 0700) beside the configured path, given its group and mode there, then renamed into place, so that no
/// client ever sees it with a wider mode. A path another live process answers on is refused; a stale one is
/// replaced. Used by the socket server and by the gRPC listener (whose transport does the binding).
package struct SocketFile: Sendable {
  /// Where clients find the socket.
  package let path: String
  /// Where to bind it: inside the private directory.
  package let stagingPath: String
  private let stagingDirectory: String

  /// Creates the private directory; throws `SocketPathInUse` when a live process answers on `path`.
  package static func stage(path: String, group: any EventLoopGroup) async throws -> SocketFile {
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
    // Created 0700 in one call: never, even briefly, with the umask's mode.
    guard mkdir(staging, 0o700) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    return SocketFile(path: path, stagingPath: staging + "/s", stagingDirectory: staging)
  }

  /// Gives the bound socket its group and mode, then renames it to `path`. Returns its inode, for `remove`.
  package func publish(mode: UInt16, group: String?) throws -> UInt64 {
    if let group { try Self.changeGroup(of: stagingPath, to: group) }
    try FileManager.default.setAttributes([.posixPermissions: NSNumber(value: mode)], ofItemAtPath: stagingPath)
    guard rename(stagingPath, path) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    return Self.inode(of: path) ?? 0
  }

  /// Removes the private directory (and a socket still in it): after `publish`, or after a failed bind.
  package func removeStaging() {
    try? FileManager.default.removeItem(atPath: stagingDirectory)
  }

  /// Removes the socket file if it still is the one published with `inode` (a newer instance may have taken the
  /// path since).
  package static func remove(_ path: String, ifInode inode: UInt64) {
    if Self.inode(of: path) == inode { try? FileManager.default.removeItem(atPath: path) }
  }

  /// Gives the socket file the configured group (a name or a number).
  private static func changeGroup(of path: String, to group: String) throws {
    let gid: gid_t
    if let number = gid_t(group) {
      gid = number
    } else if let entry = getgrnam(group) {
      gid = entry.pointee.gr_gid
    } else {
      throw SocketGroupUnknown(group: group)
    }
    guard chown(path, uid_t.max, gid) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EPERM) }
  }

  private static func inode(of path: String) -> UInt64? {
    (try? FileManager.default.attributesOfItem(atPath: path))?[.systemFileNumber] as? UInt64
  }
}

/// Another process answers on the configured socket path.
struct SocketPathInUse: Error, CustomStringConvertible {
  let path: String
  var description: String {
    "another process is serving \(path); stop it or configure another path"
  }
}

/// sidecar.socketGroup names no group of this system.
struct SocketGroupUnknown: Error, CustomStringConvertible {
  let group: String
  var description: String { "sidecar.socketGroup: no group named \(group) on this system" }
}
