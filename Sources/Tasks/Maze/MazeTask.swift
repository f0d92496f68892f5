// MARK: Encoding

/// The cells of a maze. A maze `Grid` holds these codes, which are the positions of the cell's
/// character in the published alphabet `# SGo`.
public enum MazeCell: UInt8, CaseIterable, Sendable {
    case wall = 0
    case open, start, goal, path

    /// The character of this cell in the CSV layout.
    public var character: Character { Character(Unicode.Scalar(MazeEncoding.alphabet[Int(rawValue)])) }

    /// The cell written as the ASCII byte `byte`, or nil for any other byte.
    public init?(byte: UInt8) {
        guard let i = MazeEncoding.alphabet.firstIndex(of: byte) else { return nil }
        self.init(rawValue: UInt8(i))
    }

    /// True for cells one can stand on (everything but walls).
    public var isPassable: Bool { self != .wall }
}

/// The reference's maze sequence encoding (docs/tasks.md §4): the n×n grid row-major, '#' -> 1, ' ' -> 2,
/// 'S' -> 3, 'G' -> 4, 'o' -> 5, i.e. token = cell code + 1; PAD 0, vocabulary 6, L = n².
public enum MazeEncoding {
    /// The CSV characters in code order.
    public static let alphabet: [UInt8] = Array("# SGo".utf8)
    public static let vocabSize = 6
    public static let pad: Int32 = 0

    /// Tokens of a maze grid (codes 0...4).
    public static func encode(_ maze: Grid) -> [Int32] { maze.cells.map { Int32($0) + 1 } }

    /// The grid of predicted `tokens` for a `side`×`side` maze, or nil when their count is not side²
    /// or a token is PAD or out of range.
    public static func decode(_ tokens: [Int32], side: Int) -> Grid? {
        guard tokens.count == side * side else { return nil }
        var cells = [UInt8](repeating: 0, count: tokens.count)
        for (i, t) in tokens.enumerated() {
            guard t >= 1, t <= 5 else { return nil }
            cells[i] = UInt8(t - 1)
        }
        return Grid(rows: side, cols: side, cells: cells)
    }

    /// The CSV characters of a maze grid, row-major.
    public static func text(_ maze: Grid) -> [UInt8] { maze.cells.map { alphabet[Int($0)] } }

    /// Rows of the maze as text, for printing.
    public static func lines(_ maze: Grid) -> [String] {
        let t = text(maze)
        return (0..<maze.rows).map { r in String(decoding: t[r * maze.cols..<(r + 1) * maze.cols], as: UTF8.self) }
    }
}

// MARK: Queries

/// Builds maze model inputs for inference (docs/tasks.md §5): every maze under the identity and up to 7
/// more dihedral transforms (rotations and reflections keep walls, S, G and shortest paths); each
/// query undoes its transform when decoding, so votes from all versions agree. All versions use the one
/// blank puzzle identifier (docs/tasks.md §4).
public enum MazeTask {
    /// The voting-group name of maze `index` of a set (`TaskQuery.puzzle`, `TaskPuzzle.name`).
    public static func puzzleName(_ index: Int) -> String { "maze-\(index)" }

    /// The dihedral transforms used for `numAug` augmentations: 0 (identity), then 1, 2, ... up to
    /// `numAug`, capped at 7 because there are only 8 distinct versions.
    public static func transforms(numAug: Int) -> [Int] { Array(0...min(max(numAug, 0), 7)) }

    /// Queries for all mazes, in maze order, then transform. Maze i is named `puzzleName(i)`, so the
    /// names match `taskPuzzles(puzzles)`.
    public static func queries(puzzles: [MazePuzzle], numAug: Int) -> [TaskQuery] {
        puzzles.enumerated().flatMap { queries(for: $1, index: $0, numAug: numAug) }
    }

    /// The queries of maze `index`.
    public static func queries(for puzzle: MazePuzzle, index: Int, numAug: Int) -> [TaskQuery] {
        let name = puzzleName(index), side = puzzle.side
        return transforms(numAug: numAug).map { t in
            TaskQuery(
                puzzle: name, testIndex: 0, identifier: "", tokens: MazeEncoding.encode(Dihedral.apply(t, puzzle.question)),
                decode: { MazeEncoding.decode($0, side: side).map { Dihedral.invert(t, $0) } })
        }
    }

    /// The ground truth of every maze, named as `queries` names them. Scoring is exact match of the
    /// whole decoded grid against the answer.
    public static func taskPuzzles(_ puzzles: [MazePuzzle]) -> [TaskPuzzle] {
        puzzles.enumerated().map { i, p in TaskPuzzle(name: puzzleName(i), testInputs: [p.question], testOutputs: [p.answer]) }
    }

    /// A training example: input and label tokens of `puzzle` under dihedral transform `t`.
    public static func example(_ puzzle: MazePuzzle, transform t: Int) -> (input: [Int32], label: [Int32]) {
        (MazeEncoding.encode(Dihedral.apply(t, puzzle.question)), MazeEncoding.encode(Dihedral.apply(t, puzzle.answer)))
    }
}
