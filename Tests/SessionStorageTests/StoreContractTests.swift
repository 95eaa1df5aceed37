import MySQLStore
import SessionStorage
import TestSupport
import Testing

@Suite("SessionStore contract, in memory")
struct InMemoryStoreContractTests {
  @Test(arguments: SessionStoreContract.checks)
  func holds(_ check: SessionStoreContract.Check) throws {
    try check.run(InMemorySessionStore())
  }
}

@Suite("SessionStore contract, MySQL", .enabled(if: TestMySQLServer.shouldRun, TestMySQLServer.skipReason))
struct MySQLStoreContractTests {
  @Test(arguments: SessionStoreContract.checks)
  func holds(_ check: SessionStoreContract.Check) async throws {
    try await TestDatabase.with { database in try check.run(try database.connect()) }
  }
}

@Suite("SessionDatabase")
struct SessionDatabaseTests {
  @Test func runsWorkOffTheCallersThreadAndRefusesAfterClose() async throws {
    let store = InMemorySessionStore()
    let database = try await SessionDatabase.open(requestThreads: 2) { store }
    try await database.run { try $0.insertSession(TestRecords.session("h1")) }
    #expect(try await database.run(on: .background) { try $0.session(handle: "h1") } == TestRecords.session("h1"))
    await database.close()
    await #expect(throws: StoreError.self) { try await database.run { try $0.ping() } }
  }

  @Test func aFailedOpenReportsTheStoresError() async throws {
    await #expect(throws: StoreError.misconfigured("no such database")) {
      _ = try await SessionDatabase.open(requestThreads: 1) { throw StoreError.misconfigured("no such database") }
    }
  }
}
