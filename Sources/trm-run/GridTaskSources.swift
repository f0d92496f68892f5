import CLISupport
import Foundation
import GraphIR
import Runtime
import Tasks
import TRMCore

/// Sudoku and Maze task sources: a published-layout CSV (`--data`) or, by default, a test set
/// generated for the model's grid size with `--seed` (use a seed the training set did not use).
enum GridTaskSources {
    /// Puzzles generated when no --data is given (or --limit of them).
    static let defaultCount = 100

    static func make(_ task: String, _ args: Arguments, model: LoadedModel, seed: UInt64) throws -> TaskSource {
        let probe = try model.stepSignature()
        let side = Int(Double(probe.seqLen).squareRoot())
        guard side * side == probe.seqLen else {
            throw TRMError(.invalidInput, "the model's \(probe.seqLen) grid tokens are not a square board")
        }
        let limit = try args.int("limit", in: 1...Int.max)
        let numAug = try args.int("num-aug", in: 0...100_000) ?? 0
        let data = args.string("data")
        let count = limit ?? defaultCount
        switch task {
        case "sudoku":
            guard let shape = SudokuShape(size: side) else {
                throw TRMError(.invalidInput, "the model's \(side)×\(side) board is not a Sudoku size (4, 6 or 9)")
            }
            guard probe.vocabIn == shape.vocabSize else {
                throw TRMError(
                    .invalidInput, "the model's vocabulary (\(probe.vocabIn)) is not a \(side)×\(side) Sudoku's (\(shape.vocabSize))")
            }
            let puzzles =
                try data.map { try SudokuCSV.read(path: $0, side: side, limit: limit ?? .max) }
                ?? (0..<count).map { try SudokuGenerator(shape: shape, source: "trm-run").generate(index: $0, seed: seed) }
            return SudokuSource(puzzles: puzzles, numAug: numAug, seed: seed)
        case "maze":
            guard probe.vocabIn == MazeEncoding.vocabSize else {
                throw TRMError(
                    .invalidInput, "the model's vocabulary (\(probe.vocabIn)) is not the maze vocabulary (\(MazeEncoding.vocabSize))")
            }
            // "Hard" at 30×30 means a shortest path of at least 110; smaller boards scale with the area.
            let minPath = max(1, 110 * side * side / 900)
            let puzzles =
                try data.map { try MazeCSV.read(path: $0, side: side, limit: limit ?? .max) }
                ?? (0..<count).map { try MazeGenerator(size: side, minPath: minPath, source: "trm-run").generate(index: $0, seed: seed) }
            return MazeSource(puzzles: puzzles, numAug: numAug)
        default:
            throw UsageError("--task must be arc, sudoku or maze, got '\(task)'")
        }
    }
}

struct SudokuSource: TaskSource {
    let puzzles: [SudokuPuzzle]
    let numAug: Int
    let seed: UInt64

    var title: String { "Sudoku \(puzzles.first.map { "\($0.question.rows)×\($0.question.cols)" } ?? "")" }
    var puzzleCount: Int { puzzles.count }
    func puzzle(_ i: Int) -> EvaluationPuzzle {
        EvaluationPuzzle(name: SudokuTask.puzzleName(i), testInputs: [puzzles[i].question], testOutputs: [puzzles[i].answer])
    }
    func queries(_ i: Int) -> [(query: TaskQuery, row: Int32)] {
        SudokuTask.queries(for: puzzles[i], index: i, numAug: numAug, seed: seed).map { ($0, 0) }
    }
    func queryCount(_ i: Int) -> Int { SudokuTask.transforms(shape: puzzles[i].shape, index: i, numAug: numAug, seed: seed).count }
    func render(_ grid: Grid, colour: Bool) -> [String] { SudokuTask.render(grid, colour: colour) }
}

struct MazeSource: TaskSource {
    let puzzles: [MazePuzzle]
    let numAug: Int

    var title: String { "Maze \(puzzles.first.map { "\($0.question.rows)×\($0.question.cols)" } ?? "")" }
    var puzzleCount: Int { puzzles.count }
    func puzzle(_ i: Int) -> EvaluationPuzzle {
        EvaluationPuzzle(name: MazeTask.puzzleName(i), testInputs: [puzzles[i].question], testOutputs: [puzzles[i].answer])
    }
    func queries(_ i: Int) -> [(query: TaskQuery, row: Int32)] {
        MazeTask.queries(for: puzzles[i], index: i, numAug: numAug).map { ($0, 0) }
    }
    func queryCount(_ i: Int) -> Int { MazeTask.transforms(numAug: numAug).count }
    /// Walls grey, start green, goal red, path yellow (or `# . S G o` without colour).
    func render(_ grid: Grid, colour: Bool) -> [String] { MazeTask.render(grid, colour: colour) }
}
