import CLISupport
import Foundation
import GraphIR
import Trainer

/// `trm-train init`: a freshly initialised checkpoint for a preset and task.
enum InitCommand {
    static let options: [Arguments.Option] = [
        .init("preset", "P", help: "architecture: \(Preset.allCases.map(\.rawValue).joined(separator: ", ")) (required)"),
        .init("task", "T", help: "task the model is sized for: arc, sudoku, maze (required)"),
        .init("output", "FILE", short: "o", help: "checkpoint to write (required)"),
        .init("grid", "N", help: "grid side (Sudoku 4/6/9, Maze n; default 9 for Sudoku, 30 otherwise)"),
        .init("seed", "S", help: "random seed (default 0)"),
        .init("hidden", "N", help: "hidden size (default 512); puzzle_emb_ndim follows it"),
        .init("heads", "N", help: "attention heads (default 8)"),
        .init("expansion", "E", help: "SwiGLU expansion (default 4)"),
        .init("h-cycles", "N", help: "H_cycles (default 3)"),
        .init("l-cycles", "N", help: "L_cycles (default 4 for ARC/Maze, 6 for Sudoku)"),
        .init("halt-max-steps", "N", help: "ACT steps (default 16)"),
        .init("puzzle-emb-len", "N", help: "puzzle-embedding prefix tokens (default 16)"),
        .init("num-puzzle-ids", "N", help: "rows of the puzzle-embedding table (default 1)"),
        .init("pos-encodings", "KIND", help: "rope, learned or none (default rope with attention, else none)"),
        .init("sublayers", "LIST", help: "comma-separated attn,mlp,mlp_t,mamba2 (overrides the preset's list)"),
        .init("d-state", "N", help: "Mamba-2 state size (default 128)"),
        .init("headdim", "N", help: "Mamba-2 head dim (default 64)"),
        .init("ngroups", "N", help: "Mamba-2 groups (default 1)"),
        .init("direction", "DIR", help: "Mamba-2 scan: causal, reverse or bidirectional (default causal)"),
        .init("mamba-init", "KIND", help: "Mamba-2 in/out projection init: pytorch (default) or lecun"),
        .init("help", short: "h", help: "show this help"),
    ]

    static let usage = """
        USAGE: trm-train init --preset P --task T [--grid N] [--hidden N ...] [--seed S] -o model.ckpt

        Writes a checkpoint with the reference initialisation (trm-spec §2.1, mamba2-spec §2.2) and
        prints its parameter count (puzzle table, H_init and L_init excluded, as the papers count).

        OPTIONS:
        \(Arguments.helpText(options))
        """

    static func run(_ argv: [String]) throws {
        guard let args = try Arguments.parse(argv, options: options, usage: usage) else { return }
        guard args.positional.isEmpty else { throw UsageError("unexpected argument '\(args.positional[0])'") }
        guard let preset = try args.choice("preset", Preset.self) else { throw UsageError("--preset is required") }
        guard let task = try args.choice("task", TaskKind.self) else { throw UsageError("--task is required") }
        guard let output = args.string("output") else { throw UsageError("-o/--output is required") }
        let grid = try args.int("grid", in: 2...64) ?? task.defaultGrid
        if task == .arc, grid != 30 { throw UsageError("ARC uses a 30×30 canvas; --grid must be 30") }
        if task == .sudoku, ![4, 6, 9].contains(grid) { throw UsageError("Sudoku boards are 4, 6 or 9 wide; got --grid \(grid)") }
        var o = ConfigOverrides()
        o.hidden = try args.int("hidden", in: 1...65536)
        o.heads = try args.int("heads", in: 1...4096)
        o.expansion = try args.double("expansion", in: 0.01...64)
        o.hCycles = try args.int("h-cycles", in: 1...1024)
        o.lCycles = try args.int("l-cycles", in: 1...1024)
        o.haltMaxSteps = try args.int("halt-max-steps", in: 1...1024)
        o.puzzleEmbLen = try args.int("puzzle-emb-len", in: 0...4096)
        o.numPuzzleIds = try args.int("num-puzzle-ids", in: 1...(1 << 26))
        o.posEncodings = try args.choice("pos-encodings", PosEncodingChoice.self)?.value
        if let list = args.string("sublayers") {
            o.sublayers = try list.split(separator: ",").map {
                guard let k = SublayerKind(rawValue: String($0)) else {
                    throw UsageError("--sublayers: unknown kind '\($0)' (use attn, mlp, mlp_t, mamba2)")
                }
                return k
            }
        }
        o.dState = try args.int("d-state", in: 1...4096)
        o.headdim = try args.int("headdim", in: 1...4096)
        o.ngroups = try args.int("ngroups", in: 1...4096)
        o.direction = try args.choice("direction", ScanDirectionChoice.self)?.value
        let mambaInit = try args.choice("mamba-init", MambaProjectionInit.self) ?? .pytorch
        let seed = try args.int("seed", in: 0...Int.max) ?? 0

        let config: ModelConfig
        do {
            config = try o.apply(to: preset.config(task: task, grid: grid))
        } catch let e as TRMError {
            throw UsageError(e.message)
        }
        let start = Date()
        let checkpoint = try ReferenceInitializer(seed: UInt64(seed), mambaProjections: mambaInit)
            .checkpoint(config: config, taskJSON: task.taskJSON(grid: grid))
        try checkpoint.write(to: output)
        let counted = config.parameterCount
        print("""
            wrote \(output)
              preset      \(preset.rawValue) (\(config.sublayers.map(\.rawValue).joined(separator: ", ")))
              task        \(task.rawValue), grid \(grid)×\(grid), vocab \(config.vocab), S = \(config.fullSeqLen)
              size        hidden \(config.hidden), heads \(config.heads), H_cycles \(config.hCycles), L_cycles \(config.lCycles), \(config.haltMaxSteps) ACT steps
              params      \(formatCount(counted)) (puzzle table, H_init, L_init excluded)
              seed        \(seed)   [\(String(format: "%.2f", Date().timeIntervalSince(start))) s]
            """)
    }
}

/// Thousands separators: 6,829,058.
func formatCount(_ n: Int) -> String {
    let s = String(n)
    var out = ""
    for (i, c) in s.enumerated() {
        if i > 0, (s.count - i) % 3 == 0 { out.append(",") }
        out.append(c)
    }
    return out
}

/// CaseIterable wrappers so `Arguments.choice` can list the allowed values.
enum PosEncodingChoice: String, CaseIterable {
    case rope, learned, none
    var value: PosEncoding { PosEncoding(rawValue: rawValue)! }
}

enum ScanDirectionChoice: String, CaseIterable {
    case causal, reverse, bidirectional
    var value: ScanDirection { ScanDirection(rawValue: rawValue)! }
}
