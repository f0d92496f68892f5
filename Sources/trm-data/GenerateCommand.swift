import CLISupport
import Foundation
import GraphIR
import Tasks
import TRMCore

/// `trm-data generate`: a seeded set of Sudoku or Maze puzzles, written atomically as CSV.
enum GenerateCommand {
    static let options: [Arguments.Option] = [
        .init("task", "T", help: "sudoku or maze (required)"),
        .init("size", "N", help: "board side: Sudoku 4, 6 or 9 (default 9); Maze 2...100 (default 30)"),
        .init("count", "C", help: "puzzles to generate (required)"),
        .init("seed", "S", help: "random seed (default 0); the same seed gives the same file"),
        .init("output", "FILE", short: "o", help: "CSV file to write (required)"),
        .init("min-rating", "R", help: "Sudoku: keep drawing until the solver's rating (guesses) is at least R"),
        .init("min-path", "P", help: "Maze: keep drawing until the shortest path has at least P moves"),
        .init("loops", "F", help: "Maze: chance (0...1) of opening each wall between open cells (default 0: perfect mazes)"),
        .init("max-attempts", "N", help: "draws per puzzle before giving up (default 20000 Sudoku, 1000 Maze)"),
        .init("threads", "N", help: "worker threads (default: all cores); the output does not depend on it"),
        .init("quiet", short: "q", help: "no progress line or summary"),
        .init("help", short: "h", help: "show this help"),
    ]

    static let usage = """
        USAGE: trm-data generate --task sudoku|maze [--size N] --count C [--min-rating R | --min-path P]
                                 [--seed S] -o FILE.csv

        Sudoku: random full boards with clues removed while the solution stays unique (minimal
        puzzles); the rating is the number of guesses a singles-propagating backtracking solver
        makes to prove the solution unique (0 = solvable by singles alone).
        Maze: trees of open cells grown over the n×n grid, S and G drawn with a unique shortest path;
        the rating is that path's length in moves.

        OPTIONS:
        \(Arguments.helpText(options))
        """

    static func run(_ argv: [String]) throws {
        guard let args = try Arguments.parse(argv, options: options, usage: usage) else { return }
        guard args.positional.isEmpty else { throw UsageError("unexpected argument '\(args.positional[0])'") }
        guard let task = try args.choice("task", PuzzleTask.self) else { throw UsageError("--task is required (sudoku or maze)") }
        guard let count = try args.int("count", in: 1...100_000_000) else { throw UsageError("--count is required") }
        guard let output = args.string("output") else { throw UsageError("-o/--output is required") }
        let seed = UInt64(try args.int("seed", in: 0...Int.max) ?? 0)
        let size = try args.int("size", in: 2...100) ?? task.defaultSize
        let threads = try args.int("threads", in: 1...1024) ?? ProcessInfo.processInfo.activeProcessorCount
        let maxAttempts = try args.int("max-attempts", in: 1...100_000_000)
        let quiet = args.has("quiet")
        try OutputFile.checkOutputs([output], inputs: [])

        let progress = Progress(total: count, unit: "\(task.rawValue)s", quiet: quiet)
        let bytes: [UInt8]
        let stats: String
        switch task {
        case .sudoku:
            if args.string("min-path") != nil || args.string("loops") != nil { throw UsageError("--min-path and --loops are for mazes") }
            guard let shape = SudokuShape(size: size) else { throw UsageError("Sudoku boards are 4, 6 or 9 wide; got --size \(size)") }
            let generator = SudokuGenerator(
                shape: shape, minRating: try args.int("min-rating", in: 0...Int.max) ?? 0,
                maxAttempts: maxAttempts ?? SudokuGenerator.defaultMaxAttempts)
            let puzzles = try parallelMap(count: count, threads: threads, progress: progress) {
                try generator.generate(index: $0, seed: seed)
            }
            bytes = SudokuCSV.encode(puzzles)
            stats = "rating \(summary(puzzles.map(\.rating))); clues \(summary(puzzles.map(\.clues)))"
        case .maze:
            if args.string("min-rating") != nil { throw UsageError("--min-rating is for Sudoku; mazes take --min-path") }
            let generator = MazeGenerator(
                size: size, minPath: try args.int("min-path", in: 0...Int.max) ?? 1,
                loops: try args.double("loops", in: 0...1) ?? 0, maxAttempts: maxAttempts ?? 1000)
            let puzzles = try parallelMap(count: count, threads: threads, progress: progress) {
                try generator.generate(index: $0, seed: seed)
            }
            bytes = MazeCSV.encode(puzzles)
            stats = "path length \(summary(puzzles.map(\.rating)))"
        }
        progress.finish()
        try AtomicFile.write(bytes, to: output)
        if !quiet {
            print(
                "wrote \(output): \(count) \(task.rawValue) puzzles \(size)×\(size), seed \(seed), "
                    + String(format: "%.2f s", progress.elapsed))
            print("  \(stats)")
        }
    }

    /// `make(0..<count)` on `threads` workers, results in index order. Every puzzle has its own random
    /// stream, so the result does not depend on the thread count. Stops at the first error.
    static func parallelMap<T>(count: Int, threads: Int, progress: Progress, _ make: @escaping (Int) throws -> T) throws -> [T] {
        let shared = ParallelState<T>(count: count)
        DispatchQueue.concurrentPerform(iterations: max(1, min(threads, count))) { _ in
            while true {
                shared.lock.lock()
                guard shared.failure == nil, shared.next < count else {
                    shared.lock.unlock()
                    return
                }
                let index = shared.next
                shared.next += 1
                shared.lock.unlock()
                do {
                    let value = try make(index)
                    shared.lock.lock()
                    shared.results[index] = value
                    shared.done += 1
                    let done = shared.done
                    shared.lock.unlock()
                    progress.update(done)
                } catch {
                    shared.lock.lock()
                    if shared.failure == nil { shared.failure = error }
                    shared.lock.unlock()
                }
            }
        }
        if let failure = shared.failure {
            progress.finish()
            throw failure
        }
        return shared.results.map { $0! }
    }
}

/// What the workers of `GenerateCommand.parallelMap` share; every field is guarded by `lock`.
private final class ParallelState<T>: @unchecked Sendable {
    let lock = NSLock()
    var next = 0, done = 0
    var results: [T?]
    var failure: Error?
    init(count: Int) { results = Array(repeating: nil, count: count) }
}
