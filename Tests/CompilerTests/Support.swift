import Compiler
import Foundation
import GraphIR
import Runtime
import Trainer
import TRMCore

/// Runs graphs through the memory planner and the runtime, for pass-equivalence tests.
enum GraphRunner {
    /// Outputs of `graph` (fp32 ones) on deterministic random inputs for `batch` samples.
    static func run(_ graph: Graph, batch: Int = 2, threads: Int = 2, seed: UInt64 = 9) throws -> [String: [Float]] {
        let model = try LoadedModel(TrmgModel(graph: graph, plan: try MemoryPlanner.modelPlan(graph)))
        let session = try Session(model: model, batch: batch, threads: threads)
        var rng = SeededRandom(seed: seed)
        for input in graph.inputs {
            let n = session.count(input.name)!
            switch input.type.dtype {
            case .int32:
                // Token-like inputs index the smallest table they feed.
                let rows =
                    graph.nodes.filter { $0.op == .gather && $0.inputs[1] == input.name }
                    .compactMap { graph.initializer(named: $0.inputs[0])?.dims[0] }.min() ?? 1
                try session.setInput(input.name, int32: (0..<n).map { _ in Int32(rng.next() % UInt64(rows)) })
            case .float32:
                try session.setInput(input.name, floats: (0..<n).map { _ in Float(rng.nextUnit() * 2 - 1) })
            }
        }
        try session.step()
        var out: [String: [Float]] = [:]
        for o in graph.outputs where o.type.dtype == .float32 { out[o.name] = session.floats(o.name) }
        return out
    }

    static func maxDifference(_ a: [String: [Float]], _ b: [String: [Float]]) -> Float {
        var worst: Float = 0
        for (k, v) in a {
            guard let w = b[k], w.count == v.count else { return .infinity }
            for i in v.indices { worst = max(worst, abs(v[i] - w[i])) }
        }
        return worst
    }
}

enum Models {
    /// A small random checkpoint of `preset` for `task`.
    static func checkpoint(
        _ preset: Preset, task: TaskKind = .sudoku, grid: Int = 4, hidden: Int = 32,
        direction: ScanDirection = .causal, seed: UInt64 = 1
    ) throws -> Checkpoint {
        var o = ConfigOverrides()
        o.hidden = hidden
        o.heads = 4
        o.hCycles = 2
        o.lCycles = 2
        o.haltMaxSteps = 3
        o.headdim = 16
        o.dState = 16
        o.direction = direction
        o.puzzleEmbLen = 4
        let config = try o.apply(to: preset.config(task: task, grid: grid))
        return try ReferenceInitializer(seed: seed).checkpoint(config: config, taskJSON: task.taskJSON(grid: grid))
    }
}
