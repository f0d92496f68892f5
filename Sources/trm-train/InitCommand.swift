import CLISupport
import Foundation
import GraphIR
import Trainer
import TRMCore

/// `trm-train init`: a freshly initialised checkpoint for a preset and task.
enum InitCommand {
    static let options: [Arguments.Option] =
        [
            .init("preset", "P", help: "architecture: \(Preset.allCases.map(\.rawValue).joined(separator: ", ")) (required)"),
            .init("task", "T", help: "task the model is sized for: arc, sudoku, maze (required)"),
            .init("output", "FILE", short: "o", help: "checkpoint to write (required)"),
            .init("seed", "S", help: "random seed (default 0)"),
        ] + ModelOptions.options + [Subcommand.helpOption]

    static let usage = Subcommand.usage(
        """
        USAGE: trm-train init --preset P --task T [--grid N] [--hidden N ...] [--seed S] -o model.ckpt

        Writes a checkpoint with the reference initialisation (docs/model.md §3.2, docs/mamba2.md §3) and
        prints its parameter count (puzzle table, H_init and L_init excluded, as the papers count).
        """, options: options)

    static func run(_ argv: [String]) throws {
        guard let args = try Subcommand.parse(argv, options: options, usage: usage) else { return }
        guard let preset = try args.choice("preset", Preset.self) else { throw UsageError("--preset is required") }
        guard let task = try args.choice("task", TaskKind.self) else { throw UsageError("--task is required") }
        guard let output = args.string("output") else { throw UsageError("-o/--output is required") }
        try OutputFile.checkOutputs([output], inputs: [])
        let (config, grid) = try ModelOptions.config(args, preset: preset, task: task)
        let mambaInit = try ModelOptions.mambaInit(args)
        let seed = try args.int("seed", in: 0...Int.max) ?? 0

        let start = Date()
        let checkpoint = try ModelOptions.initialCheckpoint(
            config: config, task: task, grid: grid, seed: UInt64(seed), mambaInit: mambaInit)
        try checkpoint.write(to: output)
        let counted = config.parameterCount
        print(
            """
            wrote \(output)
              preset      \(preset.rawValue) (\(config.sublayers.map(\.rawValue).joined(separator: ", ")))
              task        \(task.rawValue), grid \(grid)×\(grid), vocab \(config.vocab), S = \(config.fullSeqLen)
              size        hidden \(config.hidden), heads \(config.heads), H_cycles \(config.hCycles), L_cycles \(config.lCycles), \(config.haltMaxSteps) ACT steps
              params      \(formatCount(counted)) (puzzle table, H_init, L_init excluded)
              seed        \(seed)   [\(String(format: "%.2f", Date().timeIntervalSince(start))) s]
            """)
    }
}
