import CLISupport
import CMallocCounter
import Foundation
import GraphIR
import Runtime
import TRMCore

let options: [Arguments.Option] = [
    .init("models", "LIST", help: "comma-separated .trmg files (required)"),
    .init("batch", "LIST", help: "batch sizes (default 1,8)"),
    .init("threads", "LIST", help: "thread counts (default 1,2)"),
    .init("precision", "LIST", help: "fp32 and/or bf16 (default fp32; bf16 needs AVX512_BF16, else it is emulated and says so)"),
    .init("repeat", "N", help: "timed ACT steps per configuration after one warm-up step (default 3)"),
    .init("json", "FILE", help: "write the results as JSON"),
    .init(
        "trainer", "PRESETS",
        help: "also time trm-train steps of these presets at the Sudoku 9×9 reference size (e.g. trm-attn,tr-mamba2attn)"),
    .init("train-batch", "B", help: "batch of the trainer timing (default 8)"),
    .init("profile", help: "also print each op's share of the step and its GFLOP/s (one profiled step)"),
    .init("profile-shapes", help: "the same with each op's row split by its input shapes"),
    .init("help", short: "h", help: "show this help"),
]

let usage = """
    trm-bench: time one ACT step of compiled models against the machine's measured peaks.

    USAGE: trm-bench --models a.trmg,b.trmg [--batch 1,8] [--threads 1,2] [--precision fp32,bf16] [--repeat 3] [--json FILE]

    For each model, batch size and thread count: ms per ACT step (best and median after a warm-up
    step), GEMM GFLOP/s and its fraction of a 512×1536×7328 sgemm measured in the same run, arena MB,
    heap allocations per step (counted), and the Mamba2ScanGate share of the step with the scan's
    GFLOP/s against the measured fp32 FMA peak.

    OPTIONS:
    \(Arguments.helpText(options))
    """

func list(_ s: String?, default d: [Int]) throws -> [Int] {
    guard let s else { return d }
    return try s.split(separator: ",", omittingEmptySubsequences: false).map {
        guard let v = Int($0), v > 0 else { throw UsageError("'\($0)' is not a positive integer") }
        return v
    }
}

BlasBuffers.startWithoutOpenBLASThreads()
runCommand("trm-bench") {
    guard let args = try Arguments.parse(Array(CommandLine.arguments.dropFirst()), options: options, usage: usage) else { return }
    let trainerPresets =
        try args.string("trainer").map { list in
            try list.split(separator: ",").map { name -> Preset in
                guard let p = Preset(rawValue: String(name)) else { throw UsageError("--trainer: unknown preset '\(name)'") }
                return p
            }
        } ?? []
    guard let modelList = args.string("models") ?? (trainerPresets.isEmpty ? nil : "") else {
        throw UsageError("--models (or --trainer) is required")
    }
    let modelPaths = modelList.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    if args.string("models") != nil, modelPaths.contains(where: \.isEmpty) {
        throw UsageError("--models: give comma-separated .trmg files, got '\(modelList)'")
    }
    if let json = args.string("json") {
        try OutputFile.checkOutputs([json], inputs: modelPaths)
    }
    let batches = try list(args.string("batch"), default: [1, 8])
    let threadCounts = try list(args.string("threads"), default: [1, 2])
    let precisions = try (args.string("precision") ?? "fp32").split(separator: ",").map { name -> Precision in
        guard let p = Precision(rawValue: String(name)) else { throw UsageError("--precision: '\(name)' is not fp32 or bf16") }
        return p
    }
    let repeats = try args.int("repeat", in: 1...1000) ?? 3
    let trainBatch = try args.int("train-batch", in: 1...4096) ?? 8
    // Every model is opened and validated before anything is timed.
    let models = try (args.string("models") == nil ? [] : modelPaths).map { ($0, try LoadedModel(path: $0)) }
    try BlasBuffers.checkRoom(threads: threadCounts.max() ?? 1)
    var peaks: [String: Double] = [:]
    for t in threadCounts {
        peaks["sgemm_gflops_t\(t)"] = Peaks.sgemm(m: 7328, n: 1536, k: 512, threads: t)
        peaks["fma_gflops_t\(t)"] = Peaks.fma(threads: t)
        peaks["bf16_gflops_t\(t)"] = Peaks.bf16(threads: t)
        fputs(
            String(
                format: "peaks, %d thread(s): sgemm %.1f GFLOP/s (OpenBLAS %@), fp32 FMA %.1f GFLOP/s, bf16 dot %.1f GFLOP/s\n", t,
                peaks["sgemm_gflops_t\(t)"]!, BlasBuffers.coreName, peaks["fma_gflops_t\(t)"]!, peaks["bf16_gflops_t\(t)"]!), stderr)
    }
    var rows: [[String: Any]] = []
    let trainerRows = try TrainerBench.run(
        presets: trainerPresets, precisions: precisions, batch: trainBatch,
        threads: threadCounts, repeats: repeats, peaks: peaks)
    for (path, model) in models {
        let cost = OpCost.perSample(model.graph, types: model.types)
        let (gemmFlops, scanFlops) = (cost.gemm, cost.scan)
        for batch in batches {
            for threads in threadCounts {
                for precision in precisions {
                    let runner = try ACTRunner(session: Session(model: model, batch: batch, threads: threads, precision: precision))
                    var rng = SeededRandom(seed: 1)
                    let tokens = (0..<(batch * runner.seqLen)).map { _ in Int32(rng.next() % UInt64(runner.vocabIn)) }
                    try runner.load(tokens: tokens, puzzleIds: nil)
                    try runner.stepAll()  // warm-up
                    var times: [Double] = []
                    times.reserveCapacity(repeats)
                    let allocationsBefore = trm_allocation_count()
                    for _ in 0..<repeats {
                        let t0 = DispatchTime.now().uptimeNanoseconds
                        try runner.stepAll()
                        times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9)
                    }
                    // Unknown (NaN) in a sanitized build, whose allocator cannot be counted.
                    let allocations = allocationsBefore < 0 ? .nan : Double(trm_allocation_count() - allocationsBefore) / Double(repeats)
                    runner.session.profiling = true
                    Session.allocationCounter = { trm_allocation_count() }
                    try runner.stepAll()
                    if ProcessInfo.processInfo.environment["TRM_BENCH_ALLOCATIONS"] != nil {
                        fputs("allocations per op: \(runner.session.allocationsPerOp)\n", stderr)
                    }
                    let perOp = runner.session.secondsPerOp
                    let profiled = perOp.values.reduce(0, +)
                    times.sort()
                    let best = times[0], median = times[times.count / 2]
                    let gemmRate = gemmFlops * Double(batch) / best / 1e9
                    let scanSeconds = runner.session.profiledSeconds { $0.facts.cost.isScan }
                    let profile = OpProfile(model: model, seconds: runner.session.instructionSeconds, batch: batch)
                    var row: [String: Any] = [
                        "model": path, "batch": batch, "threads": threads, "ms_best": best * 1e3, "ms_median": median * 1e3,
                        "gemm_gflops": gemmRate, "sgemm_peak_fraction": gemmRate / peaks["sgemm_gflops_t\(threads)"]!,
                        "arena_mb": Double(model.plan.arenaBytesPerSample * batch) / 1e6, "allocations_per_step": allocations,
                        "gflop_per_sample": (gemmFlops + scanFlops) / 1e9, "precision": precision.rawValue,
                        "precision_execution": precision.execution, "packing_seconds": runner.session.packingSeconds,
                    ]
                    row["profile"] = profile.json
                    row["matmul_gflops"] = profile.matMulGFlops
                    if precision == .bf16, let peak = peaks["bf16_gflops_t\(threads)"], peak > 0 {
                        row["bf16_peak_fraction"] = gemmRate / peak
                        row["matmul_bf16_peak_fraction"] = profile.matMulGFlops / peak
                    }
                    if scanFlops > 0, scanSeconds > 0 {
                        row["scan_share"] = scanSeconds / profiled
                        row["scan_gflops"] = scanFlops * Double(batch) / scanSeconds / 1e9
                        row["scan_fma_peak_fraction"] = (row["scan_gflops"] as! Double) / peaks["fma_gflops_t\(threads)"]!
                    }
                    rows.append(row)
                    print(
                        String(
                            format:
                                "%@  batch %d  threads %d  %@: %.0f ms best, %.0f ms median, GEMM %.1f GFLOP/s (%.0f%% of sgemm peak), %.0f allocations/step",
                            (path as NSString).lastPathComponent, batch, threads, precision.rawValue, best * 1e3, median * 1e3, gemmRate,
                            100 * gemmRate / peaks["sgemm_gflops_t\(threads)"]!, allocations))
                    if args.has("profile-shapes") {
                        print(OpProfile(model: model, seconds: runner.session.instructionSeconds, batch: batch, byShape: true).table)
                    } else if args.has("profile") {
                        print(profile.table)
                    }
                    if let share = row["scan_share"] as? Double, let frac = row["scan_fma_peak_fraction"] as? Double {
                        print(
                            String(
                                format: "    Mamba2ScanGate: %.0f%% of the step, scan %.1f GFLOP/s = %.0f%% of the FMA peak",
                                100 * share, row["scan_gflops"] as! Double, 100 * frac))
                    }
                }
            }
        }
    }
    // The accuracy gate beside the timings: bf16 against fp32 on the same tokens, 1 and 2 ACT steps.
    var accuracy: [[String: Any]] = []
    if precisions.contains(.fp32), precisions.contains(.bf16) {
        for (path, model) in models {
            for steps in [1, 2] {
                let c = try PrecisionGate.compare(model: model, batch: 2, threads: threadCounts.max() ?? 1, steps: steps)
                accuracy.append([
                    "model": path, "steps": steps, "batch": 2, "argmax_agreement": c.argmaxAgreement, "relative_error": c.relativeError,
                    "max_row_relative_error": c.maxRowRelativeError, "q_halt_relative_error": c.qHaltRelativeError,
                ])
                print(
                    String(
                        format:
                            "%@  bf16 vs fp32, %d ACT step(s): argmax agreement %.2f%%, relative logit error %.2f%% (worst position %.2f%%)",
                        (path as NSString).lastPathComponent, steps, 100 * c.argmaxAgreement, 100 * c.relativeError,
                        100 * c.maxRowRelativeError))
            }
        }
    }
    if let json = args.string("json") {
        let data = try JSONSerialization.data(
            withJSONObject: [
                "peaks": peaks, "openblas_core": BlasBuffers.coreName, "results": rows, "trainer": trainerRows, "accuracy": accuracy,
            ],
            options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write([UInt8](data), to: json)
    }
}
