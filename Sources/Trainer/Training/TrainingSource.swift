import GraphIR
import Tasks
import TRMCore

/// Where training examples come from: a fixed list of base examples, each drawn with a fresh random
/// augmentation (docs/tasks.md §1), plus the puzzle-identifier names the model's table rows stand for.
public protocol TrainingSource: Sendable {
    /// Base examples (one epoch).
    var count: Int { get }
    /// Names of the puzzle-embedding rows (index = id, 0 = "<blank>"); nil for one-identifier tasks.
    var identifiers: [String]? { get }
    /// Base example `index` under an augmentation drawn from `rng`.
    func example(_ index: Int, rng: inout SeededRandom) -> TrainingExample
}

/// Labels as the loss reads them: the dataset's ignore id (PAD, 0) becomes −100 (docs/tasks.md §1.2).
public func trainingLabels(_ tokens: [Int32]) -> [Int32] {
    tokens.map { $0 == 0 ? TokenLoss.ignoreLabel : $0 }
}

/// Sudoku puzzles with the reference augmentation (digit permutation, optional transpose, band and
/// stack shuffles: docs/tasks.md §3) drawn per example; all puzzle ids are 0.
public struct SudokuTrainingSource: TrainingSource {
    public let puzzles: [SudokuPuzzle]
    public let augment: Bool

    public init(puzzles: [SudokuPuzzle], augment: Bool = true) {
        precondition(!puzzles.isEmpty, "SudokuTrainingSource: no puzzles")
        self.puzzles = puzzles
        self.augment = augment
    }

    public var count: Int { puzzles.count }
    public var identifiers: [String]? { nil }

    public func example(_ index: Int, rng: inout SeededRandom) -> TrainingExample {
        let p = puzzles[index]
        let t = augment ? SudokuTransform.random(p.shape, rng: &rng) : .identity(p.shape)
        let (input, label) = SudokuTask.example(p, transform: t)
        return TrainingExample(tokens: input, labels: trainingLabels(label), puzzleId: 0)
    }
}

/// Mazes, optionally under a random dihedral transform (the reference's `--aug`, off by default:
/// docs/tasks.md §4); all puzzle ids are 0.
public struct MazeTrainingSource: TrainingSource {
    public let puzzles: [MazePuzzle]
    public let augment: Bool

    public init(puzzles: [MazePuzzle], augment: Bool = false) {
        precondition(!puzzles.isEmpty, "MazeTrainingSource: no puzzles")
        self.puzzles = puzzles
        self.augment = augment
    }

    public var count: Int { puzzles.count }
    public var identifiers: [String]? { nil }

    public func example(_ index: Int, rng: inout SeededRandom) -> TrainingExample {
        let t = augment ? Int(rng.next() % 8) : 0
        let (input, label) = MazeTask.example(puzzles[index], transform: t)
        return TrainingExample(tokens: input, labels: trainingLabels(label), puzzleId: 0)
    }
}

/// ARC pairs as the reference builds them (docs/tasks.md §2): every puzzle under its identity and up to
/// `numAug` augmented versions (dihedral transform + colour permutation, deduplicated), each version
/// its own identifier `<puzzle>|||t<t>|||<map>`; demonstrations always, test pairs only for puzzles
/// listed in `withTestPairs` (the reference trains on training-set test pairs but holds out the
/// evaluation set's). Each draw translates the pair on the canvas (the same offset for input and
/// output), except with probability 1/(pairs of the puzzle), standing in for the reference's one
/// untranslated example per puzzle.
public struct ARCTrainingSource: TrainingSource {
    struct Pair: Sendable {
        var version: Int32
        var input: Grid
        var output: Grid
        var pairsInPuzzle: Int
    }

    let pairs: [Pair]
    public let identifiers: [String]?

    public init(puzzles: [ARCPuzzle], withTestPairs: Set<String>, numAug: Int, seed: UInt64) {
        var names = ["<blank>"]
        var pairs: [Pair] = []
        for puzzle in puzzles {
            var source = puzzle.train
            if withTestPairs.contains(puzzle.name) { source += puzzle.test }
            let usable = source.compactMap { p in p.output.map { (p.input, $0) } }
            for version in ARCAugmentation.versions(of: puzzle, count: numAug + 1, seed: seed) {
                let id = Int32(names.count)
                names.append(version.name(of: puzzle.name))
                for (input, output) in usable {
                    pairs.append(
                        Pair(
                            version: id, input: version.apply(input), output: version.apply(output),
                            pairsInPuzzle: usable.count))
                }
            }
        }
        precondition(!pairs.isEmpty, "ARCTrainingSource: no pairs with outputs")
        self.pairs = pairs
        identifiers = names
    }

    public var count: Int { pairs.count }

    public func example(_ index: Int, rng: inout SeededRandom) -> TrainingExample {
        let p = pairs[index]
        let side = ARCEncoding.side
        let maxRow = side - max(p.input.rows, p.output.rows), maxCol = side - max(p.input.cols, p.output.cols)
        var offset = (row: 0, col: 0)
        if rng.next() % UInt64(max(p.pairsInPuzzle, 1)) != 0 {
            offset = (Int(rng.next() % UInt64(maxRow + 1)), Int(rng.next() % UInt64(maxCol + 1)))
        }
        return TrainingExample(
            tokens: ARCEncoding.encode(p.input, offset: offset),
            labels: trainingLabels(ARCEncoding.encode(p.output, offset: offset)), puzzleId: p.version)
    }
}

/// The order examples are drawn in: each epoch a fresh permutation of the base examples, and each
/// draw's augmentation from its own stream. Both are pure functions of the seed and the draw's
/// position, so a resumed run (which only stores the position) draws exactly what the uninterrupted
/// run would have.
public struct ExampleSampler: Sendable {
    public let count: Int
    public let seed: UInt64
    /// Draws made so far.
    public private(set) var position: Int
    private var epoch = -1
    private var order: [Int] = []

    public init(count: Int, seed: UInt64, position: Int = 0) {
        precondition(count > 0, "ExampleSampler: empty source")
        self.count = count
        self.seed = seed
        self.position = position
    }

    /// The next example of `source`.
    public mutating func next(from source: some TrainingSource) -> TrainingExample {
        let e = position / count
        if e != epoch {
            var rng = SeededRandom(seed: seed).fork(UInt64(e))
            order = Array(0..<count)
            for i in stride(from: count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            epoch = e
        }
        var augmentation = SeededRandom(seed: seed ^ 0xA5A5_5A5A_0F0F_F0F0).fork(UInt64(position))
        let example = source.example(order[position % count], rng: &augmentation)
        position += 1
        return example
    }

    /// Epochs completed (fractional).
    public var epochs: Double { Double(position) / Double(count) }
}
