// SPDX-License-Identifier: Apache-2.0

import BeaconPostgres
import Testing

@Suite(.timeLimit(.minutes(1)))
struct PostgresValueTests {
    static func cell(_ text: String?, type: UInt32 = 25) -> PostgresCell {
        PostgresCell(column: PostgresColumn(name: "c", dataTypeID: type), bytes: text.map { Array($0.utf8) })
    }

    @Test("literals make parameters of each kind")
    func literals() {
        let values: [PostgresValue] = ["text", 42, 2.5, true, nil, .bytes([1, 2])]
        #expect(values.map(\.description) == ["\"text\"", "42", "2.5", "true", "NULL", "bytea(2 bytes)"])
        #expect(values[4].isNull)
    }

    @Test("cells decode to each supported type")
    func decoding() throws {
        #expect(try String(postgresCell: Self.cell("héllo")) == "héllo")
        #expect(try Int(postgresCell: Self.cell("-42", type: 20)) == -42)
        #expect(try Int32(postgresCell: Self.cell("7", type: 23)) == 7)
        #expect(try Double(postgresCell: Self.cell("2.5", type: 701)) == 2.5)
        #expect(try Double(postgresCell: Self.cell("-Infinity", type: 701)) == -.infinity)
        #expect(try Double(postgresCell: Self.cell("NaN", type: 701)).isNaN)
        #expect(try Bool(postgresCell: Self.cell("t", type: 16)))
        #expect(try !Bool(postgresCell: Self.cell("f", type: 16)))
        #expect(try [UInt8](postgresCell: Self.cell("\\xdeadBEEF", type: 17)) == [0xDE, 0xAD, 0xBE, 0xEF])
        #expect(try [UInt8](postgresCell: Self.cell("\\x", type: 17)) == [])
        #expect(try Int?(postgresCell: Self.cell(nil, type: 20)) == nil)
        #expect(try Int?(postgresCell: Self.cell("5", type: 20)) == 5)
    }

    @Test("a NULL or a wrong form gives a decoding error naming the column")
    func mismatches() {
        let null = #expect(throws: PostgresError.self) { try Int(postgresCell: Self.cell(nil, type: 20)) }
        #expect(null?.code == .decodingFailed)
        #expect(null?.message.contains("column \"c\"") == true)
        #expect(throws: PostgresError.self) { try Int(postgresCell: Self.cell("12a", type: 20)) }
        #expect(throws: PostgresError.self) { try Bool(postgresCell: Self.cell("yes", type: 16)) }
        #expect(throws: PostgresError.self) { try [UInt8](postgresCell: Self.cell("\\xabc", type: 17)) }
    }

    @Test("the retry policy doubles its wait up to the cap")
    func retryPolicy() {
        let policy = PostgresRetryPolicy()
        #expect(policy.maxAttempts == 6)
        #expect(
            (1...6).map { policy.backoff(after: $0) } == [100, 200, 400, 800, 1600, 3200].map { .milliseconds($0) }
        )
        #expect(PostgresRetryPolicy(maximumBackoff: .seconds(1)).backoff(after: 10) == .seconds(1))
    }
}
