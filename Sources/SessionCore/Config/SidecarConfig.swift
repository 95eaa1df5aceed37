/// `mysql.tls.mode`: `required` encrypts without checking the certificate; `verify-identity` checks it and the
/// host name.
public enum MySQLTLSMode: String, Sendable, Equatable, CaseIterable {
  case disabled
  case required
  case verifyIdentity = "verify-identity"
}

/// A server of `mysql.hosts`.
public struct HostPort: Sendable, Equatable {
  public var host: String
  public var port: Int

  public init(host: String, port: Int) {
    self.host = host
    self.port = port
  }

  /// `host:port`, `[ipv6]:port`, or a bare host (then `defaultPort`); nil for anything else.
  public init?(parsing text: Substring, defaultPort: Int) {
    var rest = text
    var host: Substring
    if rest.first == "[" {
      guard let close = rest.firstIndex(of: "]") else { return nil }
      host = rest[rest.index(after: rest.startIndex)..<close]
      rest = rest[rest.index(after: close)...]
      guard host.contains(":"), rest.isEmpty || rest.first == ":" else { return nil }
    } else {
      let parts = rest.split(separator: ":", omittingEmptySubsequences: false)
      guard parts.count <= 2 else { return nil }
      host = parts[0]
      rest = parts.count == 2 ? ":" + parts[1] : ""
    }
    var port = defaultPort
    if !rest.isEmpty {
      guard let value = Int(rest.dropFirst()), (1...65_535).contains(value) else { return nil }
      port = value
    }
    guard !host.isEmpty, host.utf8.count <= 255,
      host.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0 != "/" && $0 != "," })
    else { return nil }
    self.init(host: String(host), port: port)
  }
}

/// The sidecar's effective configuration. Key names follow the seed's configuration object
/// (`mysql.*`, `tokens.*`, `logging.*`, `cookie.*`) plus the sidecar's own `sidecar.*` keys.
/// Built and validated by `ConfigLoader`; every value here is in range.
public struct SidecarConfig: Sendable, Equatable {
  public struct MySQL: Sendable, Equatable {
    public var host = "localhost"
    public var port = 3306
    public var user = ""
    public var password = ""
    public var connectionLimit = 50
    public var database = ""
    public var signingKeyTable = "signing_key"
    public var refreshTokenTable = "refresh_token"
    /// A Unix socket to the server instead of TCP (not in the seed; for a server on the same host).
    public var unixSocket: String?
    /// `mysql.hosts`: the nodes of a cluster, tried in order; replaces `host`/`port` when set.
    public var hosts: [HostPort] = []
    public var tlsMode = MySQLTLSMode.disabled
    /// CA certificates (PEM) that sign the server's certificate, for `verify-identity`.
    public var tlsCAFile: String?
  }

  public struct AccessToken: Sendable, Equatable {
    public var dynamicSigningKey = true
    public var signingKeyUpdateIntervalHours = 24
    /// A PEM private key the operator manages (the seed's `signingKey.get`); re-read when the file changes.
    public var signingKeyFile: String?
    public var validitySeconds = 3600
    public var blacklisting = false
    /// How often every sidecar reads the revocation log, in milliseconds.
    public var revocationSyncIntervalMs = 1000
  }

  public struct RefreshToken: Sendable, Equatable {
    public var validityMinutes = 2400 * 60
    public var removalCronjobInterval = "0 0 0 1-31/7 * *"
    public var renewTokenPath = ""
    public var rotationGracePeriodSeconds = 30
  }

  public struct Cookie: Sendable, Equatable {
    public var domain = ""
    public var secure = true
  }

  public struct Sidecar: Sendable, Equatable {
    public var socketPath = "/run/session-sidecar/sidecar.sock"
    public var socketMode: UInt16 = 0o660
    /// Largest frame accepted; a longer length prefix gets an error response and the connection closes. The
    /// largest legitimate request (CreateSession with a 255-byte user id and two 64 KiB JSON objects) is ~131 KiB.
    public var maxFrameBytes = 256 * 1024
    /// Requests one connection may have outstanding before the server stops reading from it.
    public var maxInFlightPerConnection = 256
    /// Access tokens longer than this are refused before any parsing.
    public var maxAccessTokenBytes = 16 * 1024
    public var jwksFile: String?
    /// `host:port` on loopback for `GET /.well-known/jwks.json`; nil means no HTTP listener.
    public var httpAddress: String?
    /// A Unix socket serving the contract over gRPC (and Envoy's ext_authz, gRPC health); nil means none.
    public var grpcSocketPath: String?
    /// `host:port` on loopback serving the same over gRPC on TCP; nil means none.
    public var grpcAddress: String?
    /// 32 random bytes sealing private keys at rest (AES-256-GCM); nil stores them in clear.
    public var keyEncryptionKeyFile: String?
    /// Without a key-encryption key, `serve` refuses to start unless this is true.
    public var allowUnsealedKeys = false
    /// Connections served at once (on each socket); a connection beyond it gets an error and is closed.
    public var maxConnections = 1024
    /// A connection with nothing in flight that sends nothing for this long is closed (a half-sent frame too).
    public var idleTimeoutSeconds = 300
    /// Session handles one RevokeSessions may name.
    public var maxRevokeHandles = 1000
    /// Database calls waiting or running across all connections; beyond it calls get RESOURCE_EXHAUSTED.
    public var maxQueuedDatabaseCalls = 4096
    /// The socket's group (a name or a number); nil keeps the process's group.
    public var socketGroup: String?
    /// Peers (by SO_PEERCRED) allowed to talk on the sockets; empty lists allow everyone who can open them.
    public var allowedUIDs: [UInt32] = []
    public var allowedGIDs: [UInt32] = []
    /// A second socket serving only VerifySession, GetSigningKeys, WatchSigningKeys and Health.
    public var readOnlySocketPath: String?
    /// Verified tokens remembered (0 turns the cache off), and the memory they may take.
    public var verifyCacheMaxEntries = 100_000
    public var verifyCacheMaxBytes = 64 * 1024 * 1024
    /// How long a shutdown waits for requests already read to be answered before closing connections anyway.
    public var drainTimeoutSeconds = 10
    /// `/readyz` fails when the database has not answered for longer than this.
    public var readinessDatabaseWindowSeconds = 10
  }

  public var mysql = MySQL()
  public var accessToken = AccessToken()
  public var refreshToken = RefreshToken()
  public var loggingLevel = "info"
  /// `text` (one human-readable line per event) or `json` (one object per line).
  public var loggingFormat = "text"
  public var cookie = Cookie()
  public var sidecar = Sidecar()

  public init() {}

  public var accessTokenValidityMs: Int64 { Int64(accessToken.validitySeconds) * 1000 }
  public var refreshTokenValidityMs: Int64 { Int64(refreshToken.validityMinutes) * 60_000 }
  public var signingKeyUpdateIntervalMs: Int64 { Int64(accessToken.signingKeyUpdateIntervalHours) * 3_600_000 }
  public var rotationGracePeriodMs: Int64 { Int64(refreshToken.rotationGracePeriodSeconds) * 1000 }
}
