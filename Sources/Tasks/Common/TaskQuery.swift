import TRMCore

/// One input the model sees: a test pair of a puzzle under one augmentation, encoded as tokens,
/// with the puzzle identifier it should use and how to turn its output back into an answer.
public struct TaskQuery: Sendable {
    /// The original puzzle (the voting group).
    public var puzzle: String
    /// Which test pair of the puzzle.
    public var testIndex: Int
    /// The identifier name of the augmented version (`<puzzle>|||t<k>|||<map>` for ARC), "" if none.
    public var identifier: String
    /// Model input, [L] tokens.
    public var tokens: [Int32]
    /// Decodes predicted tokens [L] into an answer in the original puzzle's frame (nil: undecodable).
    public var decode: @Sendable ([Int32]) -> Grid?
    /// The query's input in the original frame when votes are keyed by input rather than by
    /// `testIndex` (`Prediction.input`); nil otherwise.
    public var voteInput: Grid?

    public init(
        puzzle: String, testIndex: Int, identifier: String, tokens: [Int32], voteInput: Grid? = nil,
        decode: @escaping @Sendable ([Int32]) -> Grid?
    ) {
        self.puzzle = puzzle
        self.testIndex = testIndex
        self.identifier = identifier
        self.tokens = tokens
        self.voteInput = voteInput
        self.decode = decode
    }
}

/// The ground truth of one puzzle: its test pairs' inputs and answers.
public struct TaskPuzzle: Sendable {
    public var name: String
    public var testInputs: [Grid]
    public var testOutputs: [Grid]

    public init(name: String, testInputs: [Grid], testOutputs: [Grid]) {
        self.name = name
        self.testInputs = testInputs
        self.testOutputs = testOutputs
    }
}

/// `--puzzles`: items picked by name from a comma-separated list.
public enum PuzzleSelection {
    /// The items of `items` named in `list` (comma-separated), in the list's order; `unknown` is the
    /// error for a name that is not among them.
    public static func select<T>(_ items: [T], name: (T) -> String, list: String, unknown: (String) -> TRMError) throws -> [T] {
        let byName = Dictionary(items.map { (name($0), $0) }, uniquingKeysWith: { a, _ in a })
        return try list.split(separator: ",").map { n in
            guard let item = byName[String(n)] else { throw unknown(String(n)) }
            return item
        }
    }
}
