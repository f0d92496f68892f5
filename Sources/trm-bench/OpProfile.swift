import Foundation
import GraphIR
import Runtime

/// One profiled ACT step broken down by op (a fused op by its `Op.fusedLabel`): seconds, share of
/// the step and GFLOP/s from `OpCost`, so a precision's gain can be traced to the kernels it changes.
struct OpProfile {
    struct Row {
        var label: String
        var seconds = 0.0
        var flops = 0.0
        var nodes = 0
    }

    /// Rows by descending time.
    let rows: [Row]
    /// GFLOP/s of the MatMul nodes (plain and fused) over their own time: the GEMM kernels' rate.
    let matMulGFlops: Double

    /// `seconds` holds one profiled step's time per instruction, in node order. `byShape` splits
    /// each op's row by its input shapes (which GEMM shape is slow, not only that MatMul is).
    init(model: LoadedModel, seconds: [Double], batch: Int, byShape: Bool = false) {
        var byLabel: [String: Row] = [:]
        var matMul = (seconds: 0.0, flops: 0.0)
        for (node, t) in zip(model.graph.nodes, seconds) {
            let flops = OpCost(node, types: model.types).total * Double(batch)
            var label = node.op.fusedLabel
            if byShape { label += " " + node.inputs.map { model.types[$0].map { "\($0.shape)" } ?? "?" }.joined(separator: " ") }
            byLabel[label, default: Row(label: label)].seconds += t
            byLabel[label]!.flops += flops
            byLabel[label]!.nodes += 1
            if case .matMul = node.op.facts.cost {
                matMul.seconds += t
                matMul.flops += flops
            }
        }
        rows = byLabel.values.sorted { $0.seconds > $1.seconds }
        matMulGFlops = matMul.seconds > 0 ? matMul.flops / matMul.seconds / 1e9 : 0
    }

    var json: [[String: Any]] {
        rows.map { ["op": $0.label, "seconds": $0.seconds, "gflop": $0.flops / 1e9, "nodes": $0.nodes] }
    }

    /// The breakdown as indented lines, one per op.
    var table: String {
        let total = rows.reduce(0) { $0 + $1.seconds }
        let width = rows.reduce(22) { max($0, $1.label.count) }
        return rows.map { r in
            let rate = r.seconds > 0 && r.flops > 0 ? String(format: "%8.1f GFLOP/s", r.flops / r.seconds / 1e9) : ""
            return String(
                format: "    %@ %4d nodes %9.1f ms %5.1f%% %@", r.label.padding(toLength: width, withPad: " ", startingAt: 0), r.nodes,
                r.seconds * 1e3,
                100 * r.seconds / max(total, 1e-12), rate)
        }.joined(separator: "\n")
    }
}
