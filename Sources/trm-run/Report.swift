import Foundation
import GraphIR
import Runtime
import Tasks

/// The pass@K table printed to stdout and written with --json.
struct Report {
    var task: String
    var puzzles: Int
    var unscored: Int
    var queries: Int
    var batchSteps: Int
    var seconds: Double
    var pass: PassAtK
    var halting: Halting

    func print() {
        Swift.print(
            "\(task): \(puzzles) puzzles, \(queries) queries, \(halting.rawValue) halting, \(batchSteps) batch steps in \(String(format: "%.1f", seconds)) s (\(String(format: "%.2f", Double(queries) / max(seconds, 1e-9))) queries/s)"
        )
        if pass.puzzles > 0 {
            Swift.print("  K      " + pass.ks.map { String($0).padding(toLength: 8, withPad: " ", startingAt: 0) }.joined())
            Swift.print("  pass@K " + pass.ks.map { String(format: "%-8.2f", 100 * pass.rate($0)) }.joined() + " (%)")
            Swift.print(
                String(
                    format: "  exact accuracy (pass@1): %.2f%% of %d scored puzzles", 100 * pass.rate(pass.ks.contains(1) ? 1 : pass.ks[0]),
                    pass.puzzles))
        }
        if unscored > 0 { Swift.print("  \(unscored) puzzles have no solutions and are not scored") }
    }

    func json() throws -> [UInt8] {
        var metrics: [String: Any] = [
            "task": task, "puzzles": puzzles, "scored_puzzles": pass.puzzles, "queries": queries,
            "batch_steps": batchSteps, "seconds": seconds, "queries_per_second": Double(queries) / max(seconds, 1e-9),
            "halting": halting.rawValue,
        ]
        var passAt: [String: Double] = [:]
        for k in pass.ks { passAt[String(k)] = pass.rate(k) }
        metrics["pass_at_k"] = passAt
        return [UInt8](try JSONSerialization.data(withJSONObject: metrics, options: [.prettyPrinted, .sortedKeys]))
    }
}
