import CLISupport
import Foundation
import GraphIR
import Tasks
import TRMCore

/// `trm-data check`: validates a CSV file row by row (streamed, so the published multi-million-row
/// files work) and prints counts and rating or path statistics.
enum CheckCommand {
    static let options: [Arguments.Option] = [
        .init("task", "T", help: "sudoku or maze (required)"),
        .init("size", "N", help: "expected board side (default: taken from the first row)"),
        .init("solve", help: "Sudoku: also run the solver on every puzzle (uniqueness and solver rating)"),
        .init("limit", "N", help: "check only the first N puzzles"),
        .init("quiet", short: "q", help: "no progress line"),
        .init("help", short: "h", help: "show this help"),
    ]

    static let usage = """
        USAGE: trm-data check FILE.csv --task sudoku|maze [--size N] [--solve] [--limit N]

        Checks every row: Sudoku boards of n² cells ('.'/'0' blanks, digits 1...n), the answer a solved
        board keeping the givens; mazes of n² cells over '# SGo' with one S and one G, the answer marking
        a shortest S-G path. The first bad row stops the check with its line number (exit 1).

        OPTIONS:
        \(Arguments.helpText(options))
        """

    static func run(_ argv: [String]) throws {
        guard let args = try Arguments.parse(argv, options: options, usage: usage) else { return }
        guard args.positional.count == 1 else {
            throw UsageError(args.positional.isEmpty ? "no CSV file given" : "one CSV file expected, got \(args.positional.count)")
        }
        let path = args.positional[0]
        guard let task = try args.choice("task", PuzzleTask.self) else { throw UsageError("--task is required (sudoku or maze)") }
        let size = try args.int("size", in: 2...100)
        let limit = try args.int("limit", in: 1...Int.max) ?? .max
        let progress = Progress(total: 0, unit: "rows checked", quiet: args.has("quiet"))
        switch task {
        case .sudoku:
            if let size, SudokuShape(size: size) == nil { throw UsageError("Sudoku boards are 4, 6 or 9 wide; got --size \(size)") }
            try checkSudoku(path, size: size, solve: args.has("solve"), limit: limit, progress: progress)
        case .maze:
            if args.has("solve") { throw UsageError("--solve is for Sudoku (maze paths are always checked)") }
            try checkMaze(path, side: size, limit: limit, progress: progress)
        }
    }

    static func checkSudoku(_ path: String, size: Int?, solve: Bool, limit: Int, progress: Progress) throws {
        var ratings: [Int] = [], clues: [Int] = [], solverRatings: [Int] = []
        var unique = 0, multiple = 0, sources: [String: Int] = [:]
        var shape: SudokuShape?
        var solver: SudokuSolver?
        try SudokuCSV.forEach(path: path, side: size) { p in
            shape = p.shape
            ratings.append(p.rating)
            clues.append(p.clues)
            sources[p.source, default: 0] += 1
            if solve {
                if solver == nil { solver = SudokuSolver(shape: p.shape) }
                let r = solver!.solve(p.question, limit: 2)
                if r.solutionCount == 1 { unique += 1 } else { multiple += 1 }
                solverRatings.append(r.nodes)
            }
            progress.update(ratings.count)
            return ratings.count < limit
        }
        progress.finish()
        guard let shape else { throw TRMError(.invalidInput, "\(path): no puzzles after the header") }
        print("\(terminalEscaped(path)): \(ratings.count) valid Sudoku puzzles, \(shape)")
        print("  rating          \(summary(ratings))")
        print("  clues           \(summary(clues))")
        print("  sources         \(sourceList(sources))")
        if solve {
            print("  unique solution \(unique) of \(ratings.count)" + (multiple > 0 ? " (\(multiple) with several)" : ""))
            print("  solver rating   \(summary(solverRatings))")
        }
    }

    static func checkMaze(_ path: String, side: Int?, limit: Int, progress: Progress) throws {
        var lengths: [Int] = [], ratings: [Int] = [], openPercent: [Int] = []
        var unique = 0, sources: [String: Int] = [:]
        var n = 0
        try MazeCSV.forEach(path: path, side: side) { p in
            n = p.side
            // The row is valid, so its question has a reachable goal.
            let shortest = MazeSolver.shortestPath(p.question)!
            lengths.append(shortest.length)
            if shortest.isUnique { unique += 1 }
            ratings.append(p.rating)
            openPercent.append(100 * p.question.cells.count(where: { $0 != MazeCell.wall.rawValue }) / p.question.cells.count)
            sources[p.source, default: 0] += 1
            progress.update(lengths.count)
            return lengths.count < limit
        }
        progress.finish()
        guard n > 0 else { throw TRMError(.invalidInput, "\(path): no mazes after the header") }
        print("\(terminalEscaped(path)): \(lengths.count) valid mazes, \(n)×\(n)")
        print("  path length     \(summary(lengths)) moves")
        print("  unique path     \(unique) of \(lengths.count)")
        print("  rating          \(summary(ratings))")
        print("  open cells      \(summary(openPercent)) %")
        print("  sources         \(sourceList(sources))")
    }

    /// The five commonest sources with their counts; source names come from the file, so they are escaped.
    static func sourceList(_ sources: [String: Int]) -> String {
        let top = sources.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        let shown = top.prefix(5).map { "\($0.key.isEmpty ? "(empty)" : terminalEscaped($0.key)) \($0.value)" }.joined(separator: ", ")
        return top.count > 5 ? shown + ", … (\(top.count) sources)" : shown
    }
}
