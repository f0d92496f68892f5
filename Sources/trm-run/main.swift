import CLISupport
import Foundation
import GraphIR
import Runtime

let options: [Arguments.Option] = [
    .init("inputs", "tokens.npy", help: "int tokens [N, L] (raw mode)"),
    .init("puzzle-ids", "ids.npy", help: "int puzzle ids [N] (default: all 0)"),
    .init("out", "DIR", help: "directory for logits.npy, preds.npy, q_halt.npy, steps.npy (created if missing)"),
    .init("batch", "B", help: "batch slots (default 8, at most N)"),
    .init("threads", "T", help: "threads (default: all cores)"),
    .init("halting", "MODE", help: "fixed (default: always halt_max_steps) or adaptive (q_halt > 0 halts, slots refill)"),
    .init("steps", "N", help: "ACT step limit (default: the model's halt_max_steps)"),
    .init("quiet", short: "q", help: "no progress or summary"),
    .init("profile", help: "print the time spent per op after the run"),
    .init("help", short: "h", help: "show this help"),
]

let usage = """
    trm-run: run a compiled model (.trmg) with the ACT loop.

    USAGE: trm-run model.trmg --inputs tokens.npy [--puzzle-ids ids.npy] --out DIR
                   [--batch B] [--threads T] [--halting fixed|adaptive] [--steps N]

    Raw mode writes the final ACT step's logits [N, L, V] (float32), preds [N, L] (int32),
    q_halt [N] (float32) and the steps each sample ran [N] (int32) as .npy files.

    OPTIONS:
    \(Arguments.helpText(options))
    """

func loadInts(_ path: String, what: String) throws -> (values: [Int32], shape: [Int]) {
    let (values, shape) = try Npy.read(path: path)
    guard case .int32(let v) = values else { throw UsageError("\(path): \(what) must be an integer array, not float") }
    return (v, shape)
}

runCommand("trm-run") {
    let args = try Arguments(Array(CommandLine.arguments.dropFirst()), options: options)
    if args.has("help") {
        print(usage)
        return
    }
    guard args.positional.count == 1 else { throw UsageError("expected one model path") }
    guard let inputs = args.string("inputs") else { throw UsageError("--inputs tokens.npy is required (task modes come later)") }
    guard let outDir = args.string("out") else { throw UsageError("--out DIR is required") }
    let halting = try args.choice("halting", Halting.self) ?? .fixed
    let threads = try args.int("threads", in: 1...256) ?? ProcessInfo.processInfo.activeProcessorCount
    let steps = try args.int("steps", in: 1...1024)
    let quiet = args.has("quiet")

    let model = try LoadedModel(path: args.positional[0])
    let (tokens, shape) = try loadInts(inputs, what: "tokens")
    let probe = try ACTRunner(session: Session(model: model, batch: 1, threads: 1))
    guard shape.count == 2, shape[1] == probe.seqLen else {
        throw UsageError("\(inputs): tokens must have shape [N, \(probe.seqLen)], got \(shape)")
    }
    let n = shape[0]
    var ids: [Int32]?
    if let path = args.string("puzzle-ids") {
        let (v, s) = try loadInts(path, what: "puzzle ids")
        guard s == [n] else { throw UsageError("\(path): puzzle ids must have shape [\(n)], got \(s)") }
        ids = v
    }
    let batch = min(try args.int("batch", in: 1...4096) ?? 8, max(n, 1))
    let runner = try ACTRunner(session: Session(model: model, batch: batch, threads: threads))
    runner.session.profiling = args.has("profile")
    let start = Date()
    let interactive = isatty(2) != 0 && !quiet
    let result = try runner.run(tokens: tokens, puzzleIds: ids, count: n, halting: halting, maxSteps: steps) { done, total in
        guard interactive else { return }
        let elapsed = Date().timeIntervalSince(start)
        let rate = Double(done) / max(elapsed, 1e-9)
        let eta = rate > 0 ? Double(total - done) / rate : 0
        fputs(String(format: "\r%d/%d samples  %.2f samples/s  ETA %.0f s ", done, total, rate, eta), stderr)
    }
    if interactive { fputs("\n", stderr) }
    try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)
    try Npy.write(.float32(result.logits), shape: [n, runner.seqLen, runner.vocabOut], to: outDir + "/logits.npy")
    try Npy.write(.int32(result.preds), shape: [n, runner.seqLen], to: outDir + "/preds.npy")
    try Npy.write(.float32(result.qHalt), shape: [n], to: outDir + "/q_halt.npy")
    try Npy.write(.int32(result.steps), shape: [n], to: outDir + "/steps.npy")
    if args.has("profile") {
        let perOp = runner.session.secondsPerOp.sorted { $0.value > $1.value }
        let total = perOp.reduce(0) { $0 + $1.value }
        for (op, t) in perOp {
            print(String(format: "%-16@ %9.3f s  %5.1f%%", op as NSString, t, 100 * t / max(total, 1e-12)))
        }
    }
    if !quiet {
        let seconds = Date().timeIntervalSince(start)
        print(String(format: "%d samples, batch %d, %d threads, %@ halting: %d batch steps in %.2f s (%.2f samples/s); wrote %@",
                     n, batch, threads, halting.rawValue, result.batchSteps, seconds, Double(n) / max(seconds, 1e-9), outDir))
    }
}
