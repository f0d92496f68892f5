import CLISupport
import Foundation
import GraphIR
import Runtime
import TRMCore

/// `trm-run model.trmg --inputs tokens.npy --out DIR`: tokens in, logits/preds/q_halt/steps out.
enum RawMode {
    static func run(_ args: Arguments, model: LoadedModel, common: RunSettings) throws {
        guard let inputs = args.string("inputs") else { throw UsageError("--inputs tokens.npy or --task is required") }
        guard let outDir = args.string("out") else { throw UsageError("--out DIR is required with --inputs") }
        let files = ["logits.npy", "preds.npy", "q_halt.npy", "steps.npy"].map { outDir + "/" + $0 }
        // The directory is created after the run; files already in it must not be the inputs.
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: outDir, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw TRMError(.invalidInput, "--out \(outDir) is not a directory") }
            try OutputFile.checkOutputs(files, inputs: [args.positional[0], inputs] + [args.string("puzzle-ids")].compactMap { $0 })
        }
        let (tokens, shape) = try Npy.readInt32(path: inputs, what: "tokens")
        let signature = try model.stepSignature()
        guard shape.count == 2, shape[1] == signature.seqLen else {
            throw UsageError("\(inputs): tokens must have shape [N, \(signature.seqLen)], got \(shape)")
        }
        let n = shape[0]
        // Values outside the vocabulary (a uint16 file can hold any) are refused naming the file.
        try TRMError.within(inputs) { try signature.validate(tokens: tokens, puzzleIds: nil, count: n) }
        var ids: [Int32]?
        if let path = args.string("puzzle-ids") {
            let (v, s) = try Npy.readInt32(path: path, what: "puzzle ids")
            guard s == [n] else { throw UsageError("\(path): puzzle ids must have shape [\(n)], got \(s)") }
            ids = v
        }
        let runner = try ACTRunner(
            session: Session(model: model, batch: min(common.batch, max(n, 1)), threads: common.threads, precision: common.precision))
        runner.session.profiling = common.profile
        let progress = ProgressLine(unit: "samples", total: n, quiet: common.quiet)
        let result = try runner.run(
            tokens: tokens, puzzleIds: ids, count: n, halting: common.halting, maxSteps: common.steps,
            progress: { d, _ in progress.update(d) })
        progress.finish()
        try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)
        try Npy.write(.float32(result.logits), shape: [n, runner.seqLen, runner.vocabOut], to: files[0])
        try Npy.write(.int32(result.preds), shape: [n, runner.seqLen], to: files[1])
        try Npy.write(.float32(result.qHalt), shape: [n], to: files[2])
        try Npy.write(.int32(result.steps), shape: [n], to: files[3])
        if common.profile { printProfile(runner.session) }
        if !common.quiet {
            print(
                String(
                    format: "%d samples, batch %d, %d threads, %@ halting, %@: %d batch steps in %.2f s (%.2f samples/s); wrote %@",
                    n, runner.session.batch, common.threads, common.halting.rawValue, common.precision.rawValue, result.batchSteps,
                    progress.seconds,
                    Double(n) / max(progress.seconds, 1e-9), files.joined(separator: ", ")))
        }
    }

    static func printProfile(_ session: Session) {
        let perOp = session.secondsPerOp.sorted { $0.value > $1.value }
        let total = perOp.reduce(0) { $0 + $1.value }
        for (op, t) in perOp {
            print(
                op.padding(toLength: 16, withPad: " ", startingAt: 0) + String(format: "%9.3f s  %5.1f%%", t, 100 * t / max(total, 1e-12)))
        }
    }
}
