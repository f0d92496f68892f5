import CLISupport
import Foundation
import GraphIR
import Trainer
import TRMCore

/// `trm-train eager model.ckpt --inputs tokens.npy --out DIR`: the trainer's own eager forward (fixed
/// halting), the reference a compiled `.trmg` must reproduce (docs/model.md §10.2). Writes logits.npy and
/// q_halt.npy with the shapes `trm-run` raw mode writes.
enum EagerCommand {
    static let options: [Arguments.Option] = [
        .init("inputs", "tokens.npy", help: "int tokens [N, L] (required)"),
        .init("puzzle-ids", "ids.npy", help: "int puzzle ids [N] (default: all 0)"),
        .init("out", "DIR", help: "directory for logits.npy and q_halt.npy (required)"),
        .init("steps", "N", help: "ACT steps (default: the model's halt_max_steps)"),
        .init("batch", "B", help: "samples per forward (default 8)"),
        Subcommand.helpOption,
    ]

    static let usage = Subcommand.usage(
        """
        USAGE: trm-train eager model.ckpt --inputs tokens.npy [--puzzle-ids ids.npy] [--steps N] --out DIR

        Runs the checkpoint with the trainer's eager layers for a fixed number of ACT steps: the reference
        output for checking a compiled graph ('trm-run model.trmg --inputs ... --out ...').
        """, options: options)

    static func run(_ argv: [String]) throws {
        guard let args = try Arguments.parse(argv, options: options, usage: usage) else { return }
        guard args.positional.count == 1 else { throw UsageError("give exactly one checkpoint") }
        guard let inputs = args.string("inputs") else { throw UsageError("--inputs tokens.npy is required") }
        guard let out = args.string("out") else { throw UsageError("--out DIR is required") }
        let ckpt = try Checkpoint.read(path: args.positional[0])
        let config = ckpt.config
        let (tokens, shape) = try Npy.readInt32(path: inputs, what: "tokens")
        guard shape.count == 2, shape[1] == config.seqLen else {
            throw UsageError("\(inputs): tokens must have shape [N, \(config.seqLen)], got \(shape)")
        }
        guard tokens.allSatisfy({ $0 >= 0 && Int($0) < config.vocab }) else {
            throw UsageError("\(inputs): tokens must lie in 0..<\(config.vocab)")
        }
        let n = shape[0]
        var ids = [Int32](repeating: 0, count: n)
        if let path = args.string("puzzle-ids") {
            let (v, s) = try Npy.readInt32(path: path, what: "puzzle ids")
            guard s == [n] else { throw UsageError("\(path): puzzle ids must have shape [\(n)], got \(s)") }
            guard v.allSatisfy({ $0 >= 0 && Int($0) < config.numPuzzleIds }) else {
                throw UsageError("\(path): puzzle ids must lie in 0..<\(config.numPuzzleIds)")
            }
            ids = v
        }
        let steps = try args.int("steps", in: 1...ModelLimits.maxHaltSteps) ?? config.haltMaxSteps
        let batch = min(try args.int("batch", in: 1...4096) ?? 8, max(n, 1))
        let model = EagerModel(checkpoint: ckpt, batch: batch)
        let (logits, qHalt) = model.solveAll(tokens: tokens, puzzleIds: ids, count: n, steps: steps)
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try Npy.write(.float32(logits), shape: [n, config.seqLen, config.vocab], to: out + "/logits.npy")
        try Npy.write(.float32(qHalt), shape: [n], to: out + "/q_halt.npy")
    }
}
