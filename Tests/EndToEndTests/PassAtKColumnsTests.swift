import Foundation
import Testing

/// trm-run's pass@K table has a column per K only up to the number of candidates a test pair can
/// have (`PassAtK.informativeKs`); `--json` keeps every K.
@Suite struct PassAtKColumnsTests {
    @Test func oneVersionGivesOnePassAtKColumn() throws {
        let (dir, model) = try CompileRunTests.model()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // No augmentation: one query, so at most one candidate, per puzzle.
        let r = try Executables.run(
            "trm-run", [model, "--task", "sudoku", "--limit", "3", "--num-aug", "0", "--threads", "1", "--json", dir + "/m.json"])
        #expect(r.status == 0, "\(r.stderr)")
        let kRow = r.stdout.split(separator: "\n").first { $0.hasPrefix("  K ") }
        #expect(kRow?.split(separator: " ") == ["K", "1"], "\(r.stdout)")
        let passRow = r.stdout.split(separator: "\n").first { $0.hasPrefix("  pass@K ") }
        #expect(passRow.map { $0.split(separator: " ").count } == 3, "pass@K, one rate, (%): \(r.stdout)")
        #expect(r.stdout.contains("per test pair: pass@K for larger K equals pass@1"), "\(r.stdout)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/m.json"))) as? [String: Any]
        let ks = (json?["pass_at_k"] as? [String: Any]).map { Set($0.keys) }
        #expect(ks == ["1", "2", "5", "10", "100", "1000"], "--json has every K")
    }
}
