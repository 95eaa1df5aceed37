// Drives every call of the contract through the SessionSidecarClient product alone. Built as a program of its
// own so that scripts/check-client-links.sh can show, with ldd, that a client links neither libssl nor
// libmariadb; scripts/test.sh runs it against a live sidecar.
//   SidecarClientExample [SOCKET]     (default: $SESSION_SIDECAR_SOCKET)
import SidecarClient

#if canImport(Glibc)
  import Glibc
#endif

func check(_ condition: Bool, _ what: String) {
  guard condition else {
    print("FAILED: \(what)")
    exit(1)
  }
  print("ok: \(what)")
}

let path = CommandLine.arguments.dropFirst().first
let sidecar = try await SidecarClient.connect(socketPath: path)

let health = try await sidecar.health()
check(health.serving && health.databaseReachable, "Health: serving, database reachable")

let created = try await sidecar.createSession(
  userID: "example-user", accessTokenPayloadJSON: #"{"role":"reader"}"#, sessionDataJSON: #"{"cart":[]}"#)
check(!created.accessToken.token.isEmpty && !created.refreshToken.token.isEmpty, "CreateSession issues both tokens")
let handle = created.session.handle

let verified = try await sidecar.verifySession(accessToken: created.accessToken.token)
check(verified.outcome == .ok && verified.session.userID == "example-user", "VerifySession: OK for example-user")

let refreshed = try await sidecar.refreshSession(refreshToken: created.refreshToken.token)
check(refreshed.outcome == .ok && !refreshed.refreshToken.token.isEmpty, "RefreshSession rotates the refresh token")

check(try await sidecar.listSessions(userID: "example-user").contains(handle), "ListSessions lists the session")

try await sidecar.updateSessionData(handle: handle, sessionDataJSON: #"{"cart":[1]}"#)
try await sidecar.updateAccessTokenPayload(handle: handle, accessTokenPayloadJSON: #"{"role":"writer"}"#)
let stored = try await sidecar.getSession(handle: handle)
check(
  stored.sessionDataJson == #"{"cart":[1]}"# && stored.accessTokenPayloadJson == #"{"role":"writer"}"#,
  "UpdateSessionData, UpdateAccessTokenPayload and GetSession")

let regenerated = try await sidecar.regenerateAccessToken(
  accessToken: refreshed.accessToken.token, accessTokenPayloadJSON: #"{"role":"admin"}"#)
check(!regenerated.accessToken.token.isEmpty, "RegenerateAccessToken issues a new access token")

let keys = try await sidecar.signingKeys()
check(!keys.keys.isEmpty && keys.jwksJson.contains("RS256"), "GetSigningKeys publishes RS256 keys")

for try await first in try await sidecar.watchSigningKeys() {
  check(first.keys.map(\.kid) == keys.keys.map(\.kid), "WatchSigningKeys starts with the current key set")
  break
}

check(try await sidecar.revokeSessions(handles: [handle]) == [handle], "RevokeSessions revokes the session")
let afterRevoke = try await sidecar.refreshSession(refreshToken: refreshed.refreshToken.token)
check(afterRevoke.outcome == .unauthorised, "a revoked session no longer refreshes")

do {
  _ = try await sidecar.createSession(userID: "")
  check(false, "an empty user id is refused")
} catch let error as SidecarCallError {
  check(error.code == .invalidArgument, "an empty user id is refused with INVALID_ARGUMENT: \(error.message)")
}
await sidecar.close()
print("every call answered")
