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
    /// The session's precision, and its bf16 weight packing (seconds, bytes; 0 in fp32).
    var precision: Precision
    var packingSeconds: Double
    var packedBytes: Int

    /// The first line of the report: what ran, and how fast.
    var headline: String {
        "\(task): \(puzzles) puzzles, \(queries) queries, \(halting.rawValue) halting, \(precision.rawValue), \(batchSteps) batch steps in \(String(format: "%.1f", seconds)) s (\(String(format: "%.2f", Double(queries) / max(seconds, 1e-9))) queries/s)"
    }

    func print() {
        Swift.print(headline)
        if pass.puzzles > 0 {
            let ks = pass.informativeKs
            Swift.print("  K      " + ks.map { String($0).padding(toLength: 8, withPad: " ", startingAt: 0) }.joined())
            Swift.print("  pass@K " + ks.map { String(format: "%-8.2f", 100 * pass.rate($0)) }.joined() + " (%)")
            if ks.count < pass.ks.count {
                let most = pass.maxCandidates == 1 ? "1 candidate" : "\(pass.maxCandidates) candidates"
                Swift.print("  (at most \(most) per test pair: pass@K for larger K equals pass@\(ks.last!); --json has every K)")
            }
            Swift.print(
                String(
                    format: "  exact accuracy (pass@1): %.2f%% of %d scored puzzles", 100 * pass.rate(pass.ks.contains(1) ? 1 : pass.ks[0]),
                    pass.puzzles))
        }
        if precision == .bf16 {
            Swift.print(
                String(
                    format: "  %@: weights packed in %.2f s (%.1f MB)", precision.execution, packingSeconds, Double(packedBytes) / 1e6))
        }
        if unscored > 0 { Swift.print("  \(unscored) puzzles have no solutions and are not scored") }
    }

    func json() throws -> [UInt8] {
        var metrics: [String: Any] = [
            "task": task, "puzzles": puzzles, "scored_puzzles": pass.puzzles, "queries": queries,
            "batch_steps": batchSteps, "seconds": seconds, "queries_per_second": Double(queries) / max(seconds, 1e-9),
            "halting": halting.rawValue, "precision": precision.rawValue, "precision_execution": precision.execution,
            "packing_seconds": packingSeconds, "packed_bytes": packedBytes,
        ]
        var passAt: [String: Double] = [:]
        for k in pass.ks { passAt[String(k)] = pass.rate(k) }
        metrics["pass_at_k"] = passAt
        return [UInt8](try JSONSerialization.data(withJSONObject: metrics, options: [.prettyPrinted, .sortedKeys]))
    }
}
