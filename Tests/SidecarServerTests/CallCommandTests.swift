import Foundation
import TestSupport
import Testing

/// The command line as an operator uses it against a running sidecar: `call`, `sessions`, `health`.
@Suite("session-sidecar call, sessions and health")
struct CallCommandTests {
  /// Runs the executable with `SESSION_SIDECAR_SOCKET` set; returns status, standard output and standard error.
  static func run(_ arguments: [String], socket: String) async throws -> (Int32, String, String) {
    let binary = try #require(SidecarExecutable.url, "build the session-sidecar executable first (swift build)")
    return try await SidecarExecutable.runCapturing(binary, arguments, environment: ["SESSION_SIDECAR_SOCKET": socket])
  }

  @Test func callSendsAnyMethodByEitherNameAndPrintsJSON() async throws {
    try await InMemoryTestStore.with { db in
      try await withTestSidecar(store: db) { sidecars in
        let socket = sidecars[0].socketPath
        let (status, out, _) = try await Self.run(
          ["call", "CreateSession", "--json", #"{"user_id": "cli-user", "session_data_json": "{\"a\":1}"}"#],
          socket: socket)
        #expect(status == 0)
        let created = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        let session = try #require(created["session"] as? [String: Any])
        #expect(session["user_id"] as? String == "cli-user")
        let token = try #require((created["access_token"] as? [String: Any])?["token"] as? String)

        let (verifyStatus, verified, _) = try await Self.run(
          ["call", "verify_session", "--json", "{\"access_token\": \"\(token)\"}"], socket: socket)
        #expect(verifyStatus == 0)
        #expect(verified.contains(#""outcome":"OK""#))

        let (listStatus, listed, _) = try await Self.run(["sessions", "list", "--user", "cli-user"], socket: socket)
        #expect(listStatus == 0)
        #expect(listed.split(separator: "\n").map(String.init) == [session["handle"] as? String])

        let (revokeStatus, revoked, _) = try await Self.run(
          ["sessions", "revoke", "--user", "cli-user"], socket: socket)
        #expect(revokeStatus == 0)
        #expect(revoked.contains(session["handle"] as? String ?? "?"))
        let (_, afterwards, _) = try await Self.run(["sessions", "list", "--user", "cli-user"], socket: socket)
        #expect(afterwards.isEmpty)
      }
    }
  }

  @Test func aFailedCallIsOneLineOnStandardErrorAndExitStatusOne() async throws {
    try await InMemoryTestStore.with { db in
      try await withTestSidecar(store: db) { sidecars in
        let socket = sidecars[0].socketPath
        let (status, out, err) = try await Self.run(
          ["call", "GetSession", "--json", #"{"session_handle": "missing"}"#], socket: socket)
        #expect(status == 1)
        #expect(out.isEmpty)
        #expect(err == "ERROR: NOT_FOUND (5): session not found or expired\n")
        let (unknown, _, unknownErr) = try await Self.run(["call", "DropEverything"], socket: socket)
        #expect(unknown == 2)
        #expect(unknownErr.contains("unknown method"))
        let (badJSON, _, badErr) = try await Self.run(
          ["call", "CreateSession", "--json", "{\"nope\": 1}"], socket: socket)
        #expect(badJSON == 2)
        #expect(badErr.contains("not a valid CreateSession request"))
      }
    }
  }

  @Test func healthIsAProbe() async throws {
    try await InMemoryTestStore.with { db in
      try await withTestSidecar(store: db) { sidecars in
        let (status, out, _) = try await Self.run(["health"], socket: sidecars[0].socketPath)
        #expect(status == 0)
        #expect(out.contains("serving: true"))
        let (ready, _, _) = try await Self.run(["health", "--ready"], socket: sidecars[0].socketPath)
        #expect(ready == 0)
      }
    }
    let (status, _, err) = try await Self.run(["health"], socket: "/tmp/no-sidecar-here.sock")
    #expect(status == 1)
    #expect(err.hasPrefix("error: cannot connect to /tmp/no-sidecar-here.sock"))
    #expect(err.split(separator: "\n").count == 1)
  }
}
