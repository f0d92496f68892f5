import CLISupport
import Foundation
import GraphIR
import Tasks
import Trainer

/// The training set and the held-out examples a `train` command reads or generates.
struct TrainData {
    var source: any TrainingSource
    var heldOut: [TrainingExample]
    /// One line for the log and the checkpoint's `trm.train`.
    var description: String

    static let options: [Arguments.Option] = [
        .init(
            "data", "PATH",
            help:
                "training data: Sudoku/Maze CSV, or ARC JSON/folder (default: generated; ARC: \(DataLocation.helpNote(DataLocation.arcFile)))"
        ),
        .init("train-count", "N", help: "Sudoku/Maze puzzles to generate when no --data (default 10000)"),
        .init("data-seed", "S", help: "seed of the generated training puzzles (default 1)"),
        .init("eval-data", "FILE", help: "Sudoku/Maze held-out CSV (default: --eval-count puzzles generated with --eval-seed)"),
        .init("eval-count", "N", help: "held-out puzzles evaluated at each --eval-every (default 200)"),
        .init("eval-seed", "S", help: "seed of the generated held-out puzzles (default 2; trm-run's test sets use 0)"),
        .init("min-path", "P", help: "Maze: shortest path of generated mazes at least P (default 110·n²/900, as trm-run)"),
        .init("augment", help: "Maze: random dihedral transform per example (Sudoku always augments)"),
        .init(
            "split", "S",
            help:
                "ARC: training, evaluation, or reference (training puzzles with their test pairs + evaluation demonstrations, the reference's ARC-1 set; default)"
        ),
        .init("limit", "N", help: "ARC: only the first N puzzles of each split (sorted by name)"),
        .init("puzzles", "LIST", help: "ARC: only these puzzles (comma-separated names; with --split training or evaluation)"),
        .init("num-aug", "N", help: "ARC: augmented versions per puzzle, each its own identifier (default 7)"),
        .init("hold-out-tests", help: "ARC: train on demonstrations only and evaluate on the test pairs (always so for evaluation)"),
    ]

    static func load(_ args: Arguments, task: TaskKind, grid: Int, seed: UInt64) throws -> TrainData {
        let evalCount = try args.int("eval-count", in: 0...1_000_000) ?? 200
        let evalSeed = UInt64(try args.int("eval-seed", in: 0...Int.max) ?? 2)
        let dataSeed = UInt64(try args.int("data-seed", in: 0...Int.max) ?? 1)
        let trainCount = try args.int("train-count", in: 1...10_000_000) ?? 10_000
        for (name, ok) in [
            ("split", task == .arc), ("limit", task == .arc), ("puzzles", task == .arc), ("num-aug", task == .arc),
            ("hold-out-tests", task == .arc),
            ("min-path", task == .maze), ("augment", task == .maze),
            ("train-count", task != .arc), ("data-seed", task != .arc), ("eval-data", task != .arc), ("eval-seed", task != .arc),
        ]
        where !ok && (args.string(name) != nil || args.has(name)) {
            throw UsageError("--\(name) does not apply to --task \(task.rawValue)")
        }
        switch task {
        case .sudoku:
            guard let shape = SudokuShape(size: grid) else { throw UsageError("Sudoku boards are 4, 6 or 9 wide; got --grid \(grid)") }
            let generator = SudokuGenerator(shape: shape, source: "trm-train")
            let train =
                try args.string("data").map { try SudokuCSV.read(path: $0, side: grid) }
                ?? (0..<trainCount).map { try generator.generate(index: $0, seed: dataSeed) }
            let held =
                try args.string("eval-data").map { try SudokuCSV.read(path: $0, side: grid, limit: evalCount) }
                ?? (0..<evalCount).map { try generator.generate(index: $0, seed: evalSeed) }
            let examples = held.map { p in
                let (input, label) = SudokuTask.example(p, transform: .identity(shape))
                return TrainingExample(tokens: input, labels: trainingLabels(label), puzzleId: 0)
            }
            let what = args.string("data") ?? "\(trainCount) generated (seed \(dataSeed))"
            return TrainData(
                source: SudokuTrainingSource(puzzles: train), heldOut: examples,
                description: "sudoku \(grid)×\(grid): \(what), augmented; held out: \(held.count)")
        case .maze:
            let minPath = try args.int("min-path", in: 1...Int.max) ?? max(1, 110 * grid * grid / 900)
            let generator = MazeGenerator(size: grid, minPath: minPath, source: "trm-train")
            let train =
                try args.string("data").map { try MazeCSV.read(path: $0, side: grid) }
                ?? (0..<trainCount).map { try generator.generate(index: $0, seed: dataSeed) }
            let held =
                try args.string("eval-data").map { try MazeCSV.read(path: $0, side: grid, limit: evalCount) }
                ?? (0..<evalCount).map { try generator.generate(index: $0, seed: evalSeed) }
            let examples = held.map { p in
                let (input, label) = MazeTask.example(p, transform: 0)
                return TrainingExample(tokens: input, labels: trainingLabels(label), puzzleId: 0)
            }
            let augment = args.has("augment")
            let what = args.string("data") ?? "\(trainCount) generated (seed \(dataSeed), path ≥ \(minPath))"
            return TrainData(
                source: MazeTrainingSource(puzzles: train, augment: augment), heldOut: examples,
                description: "maze \(grid)×\(grid): \(what)\(augment ? ", dihedral augmentation" : ""); held out: \(held.count)")
        case .arc:
            let path = try args.string("data") ?? DataLocation.arc()
            let splitName = args.string("split") ?? "reference"
            let limit = try args.int("limit", in: 1...Int.max)
            func load(_ split: ARCSplit) throws -> [ARCPuzzle] {
                var all = try ARCDataset.load(path: path, split: split)
                if let names = args.string("puzzles") { all = try ARCDataset.select(all, names: names) }
                return limit.map { Array(all.prefix($0)) } ?? all
            }
            // Puzzles whose test pairs are trained on, and puzzles whose test pairs are held out.
            var trained: [ARCPuzzle] = [], held: [ARCPuzzle] = []
            switch splitName {
            case "reference":
                if args.string("puzzles") != nil { throw UsageError("--puzzles needs --split training or evaluation") }
                trained = try load(.training)
                held = try load(.evaluation)
            default:
                guard let split = ARCSplit(name: splitName) else {
                    throw UsageError("--split must be training, evaluation or reference, got '\(splitName)'")
                }
                if split == .evaluation || args.has("hold-out-tests") { held = try load(split) } else { trained = try load(split) }
            }
            let puzzles = trained + held
            let numAug = try args.int("num-aug", in: 0...100_000) ?? 7
            let source = ARCTrainingSource(puzzles: puzzles, withTestPairs: Set(trained.map(\.name)), numAug: numAug, seed: seed)
            // Held out: the test pairs under the identity version, untranslated, with that version's row.
            let ids = source.identifiers ?? []
            var heldOut: [TrainingExample] = []
            for p in held {
                guard let row = ids.firstIndex(of: ARCVersion.identity.name(of: p.name)) else { continue }
                for pair in p.test {
                    guard let output = pair.output else { continue }
                    heldOut.append(
                        TrainingExample(
                            tokens: ARCEncoding.encode(pair.input), labels: trainingLabels(ARCEncoding.encode(output)),
                            puzzleId: Int32(row)))
                }
            }
            return TrainData(
                source: source, heldOut: Array(heldOut.prefix(evalCount)),
                description: "arc \(splitName): \(trained.count) puzzles with test pairs + \(held.count) with demonstrations only, "
                    + "× ≤\(numAug + 1) versions = \(source.count) pairs; held out: \(heldOut.count) test pairs")
        }
    }
}
