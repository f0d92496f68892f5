import Foundation
import GraphIR
import Runtime
import Tasks
import Trainer

/// Trainer throughput at the Sudoku 9×9 reference size (hidden 512, H_cycles 3, L_cycles 6, S = 97):
/// whole optimizer steps (refill, ACT step, backward through the last H-cycle, SignSGD, AdamATan2,
/// EMA) on generated puzzles, as samples/s and matmul GFLOP/s next to the measured sgemm peak, in
/// each of `precisions` (the Linear products' arithmetic, `TrainingOptions.precision`).
enum TrainerBench {
    static func run(
        presets: [Preset], precisions: [Precision], batch: Int, threads: [Int], repeats: Int, peaks: [String: Double]
    ) throws -> [[String: Any]] {
        let generator = SudokuGenerator(shape: SudokuShape(size: 9)!, source: "trm-bench")
        let puzzles = try (0..<max(batch, 8)).map { try generator.generate(index: $0, seed: 11) }
        let source = SudokuTrainingSource(puzzles: puzzles)
        var rows: [[String: Any]] = []
        for preset in presets {
            let config = preset.config(task: .sudoku, grid: 9)
            let initial = try ReferenceInitializer(seed: 1).checkpoint(config: config, taskJSON: TaskKind.sudoku.taskJSON(grid: 9))
            var options = TrainingOptions()
            options.batch = batch
            options.steps = 1_000_000
            TrainerMemory.retainFreedMemory()  // as trm-train runs
            for t in threads {
                for precision in precisions {
                    options.precision = precision
                    try BlasThreads.set(t)
                    var run = TrainingRun(initial: initial, options: options, exampleCount: source.count)
                    _ = run.trainStep(source: source)  // warm-up
                    var times: [Double] = []
                    for _ in 0..<repeats {
                        let t0 = DispatchTime.now().uptimeNanoseconds
                        _ = run.trainStep(source: source)
                        times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9)
                    }
                    times.sort()
                    let best = times[0], median = times[times.count / 2]
                    let gflops = Double(batch) * run.flopsPerSample / best / 1e9
                    let peak = peaks["sgemm_gflops_t\(t)"] ?? .nan
                    rows.append([
                        "preset": preset.rawValue, "batch": batch, "threads": t, "params": config.parameterCount,
                        "s_best": best, "s_median": median, "samples_per_s": Double(batch) / best,
                        "gflop_per_sample": run.flopsPerSample / 1e9, "gflops": gflops, "sgemm_peak_fraction": gflops / peak,
                        "precision": precision.rawValue, "precision_execution": precision.execution,
                    ])
                    print(
                        String(
                            format:
                                "trainer %@ sudoku 9×9 hidden 512, batch %d, threads %d, %@: %.2f s/step best (%.2f median), %.2f samples/s, %.1f GFLOP/s = %.0f%% of sgemm peak",
                            preset.rawValue, batch, t, precision.execution, best, median, Double(batch) / best, gflops, 100 * gflops / peak)
                    )
                }
            }
        }
        return rows
    }
}
