import Foundation
import Testing
import TRMCore

/// trm-run's progress line on a terminal: the total is known from the first line on (so the ETA is
/// right from the start), in task mode, in a shard and in raw mode; off a terminal there is none.
@Suite struct ProgressLineTests {
    /// The progress lines a run drew on its terminal ("12/20 queries  ..."), in order.
    static func lines(_ terminal: String, unit: String) -> [String] {
        terminal.split(whereSeparator: { $0 == "\r" || $0 == "\n" || $0 == "\r\n" }).map(String.init)
            .filter { $0.range(of: #"^\d+/\d+ "# + unit, options: .regularExpression) != nil }
    }

    /// The done/total counts of each line.
    static func counts(_ lines: [String]) -> [(done: Int, total: Int)] {
        lines.map { line in
            let parts = line.prefix { $0 != " " }.split(separator: "/")
            return (Int(parts[0]) ?? -1, Int(parts[1]) ?? -1)
        }
    }

    static func expectTotalFromTheStart(_ r: Executables.Result, unit: String, total: Int) {
        #expect(r.status == 0, "\(r.stderr)")
        let counts = Self.counts(Self.lines(r.stderr, unit: unit))
        #expect(counts.count >= 2, "\(r.stderr.debugDescription)")
        #expect(counts.first?.done == 0 && counts.first?.total == total, "the first line: \(r.stderr.debugDescription)")
        #expect(counts.allSatisfy { $0.total == total }, "every line has the final total: \(r.stderr.debugDescription)")
        #expect(counts.last?.done == total)
    }

    @Test func theFirstLineHasTheFinalTotal() throws {
        let (dir, model) = try CompileRunTests.model()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // 5 generated Sudoku puzzles × 4 versions = 20 queries, in chunks of 16 (batch 2 × 8).
        let task = [model, "--task", "sudoku", "--limit", "5", "--num-aug", "3", "--batch", "2", "--threads", "1"]
        Self.expectTotalFromTheStart(try Executables.runWithTerminal("trm-run", task), unit: "queries", total: 20)
        // A shard counts its own range: queries 0..<10 of the 20.
        Self.expectTotalFromTheStart(
            try Executables.runWithTerminal("trm-run", task + ["--candidates", dir + "/s.cand", "--shard", "0/2"]), unit: "queries",
            total: 10)
        try Npy.write(.int32([Int32](repeating: 1, count: 3 * 16)), shape: [3, 16], to: dir + "/tok.npy")
        Self.expectTotalFromTheStart(
            try Executables.runWithTerminal("trm-run", [model, "--inputs", dir + "/tok.npy", "--out", dir + "/out", "--threads", "1"]),
            unit: "samples", total: 3)

        // A pipe gets no progress line; -q none on a terminal either.
        let piped = try Executables.run("trm-run", task)
        #expect(piped.status == 0 && Self.lines(piped.stderr, unit: "queries").isEmpty, "\(piped.stderr)")
        let quiet = try Executables.runWithTerminal("trm-run", task + ["-q"])
        #expect(quiet.status == 0 && Self.lines(quiet.stderr, unit: "queries").isEmpty, "\(quiet.stderr)")
    }
}
