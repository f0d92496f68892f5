import CLISupport
import GraphIR
import TRMCore
import Trainer

/// The model-size options `init` and `train` share: a preset's config for a task, with overrides.
enum ModelOptions {
    static let options: [Arguments.Option] = [
        .init("grid", "N", help: "grid side (Sudoku 4/6/9, Maze n; default 9 for Sudoku, 30 otherwise)"),
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
    ]

    /// The config the options describe, and the grid side.
    static func config(_ args: Arguments, preset: Preset, task: TaskKind, numPuzzleIds: Int? = nil) throws -> (ModelConfig, Int) {
        let grid = try args.int("grid", in: 2...64) ?? task.defaultGrid
        if task == .arc, grid != 30 { throw UsageError("ARC uses a 30×30 canvas; --grid must be 30") }
        if task == .sudoku, ![4, 6, 9].contains(grid) { throw UsageError("Sudoku boards are 4, 6 or 9 wide; got --grid \(grid)") }
        var o = ConfigOverrides()
        o.hidden = try args.int("hidden", in: 1...65536)
        o.heads = try args.int("heads", in: 1...4096)
        o.expansion = try args.double("expansion", in: 0.01...64)
        o.hCycles = try args.int("h-cycles", in: 1...ModelLimits.maxCycles)
        o.lCycles = try args.int("l-cycles", in: 1...ModelLimits.maxCycles)
        o.haltMaxSteps = try args.int("halt-max-steps", in: 1...ModelLimits.maxHaltSteps)
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
        if let numPuzzleIds {
            if let asked = o.numPuzzleIds, asked != numPuzzleIds {
                throw UsageError("--num-puzzle-ids \(asked) disagrees with the \(numPuzzleIds) identifiers of the training data")
            }
            o.numPuzzleIds = numPuzzleIds
        }
        do {
            return (try o.apply(to: preset.config(task: task, grid: grid)), grid)
        } catch let e as TRMError {
            throw UsageError(e.message)
        }
    }

    /// --mamba-init, PyTorch's default unless given.
    static func mambaInit(_ args: Arguments) throws -> MambaProjectionInit {
        try args.choice("mamba-init", MambaProjectionInit.self) ?? .pytorch
    }

    /// The reference initialisation (docs/model.md §3.2, docs/mamba2.md §3) of `config` for `task`.
    static func initialCheckpoint(
        config: ModelConfig, task: TaskKind, grid: Int, seed: UInt64,
        mambaInit: MambaProjectionInit
    ) throws -> Checkpoint {
        try ReferenceInitializer(seed: seed, mambaProjections: mambaInit).checkpoint(config: config, taskJSON: task.taskJSON(grid: grid))
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
