/// One model input for ARC: a task-independent query plus the puzzle-embedding row to feed with it.
public struct ARCQuery: Sendable {
    /// Tokens, version name (`identifier`) and the decode closure back to the original frame.
    public var query: TaskQuery
    /// Index of `query.identifier` in the model's identifier table, or 0 (the blank identifier) when
    /// the model does not know this version.
    public var identifierIndex: Int32
    /// The augmentation the tokens were made with.
    public var version: ARCVersion
}

/// A model's identifier table (index -> name, index 0 = "<blank>"), grouped by original puzzle.
public struct ARCIdentifierTable: Sendable {
    private var byPuzzle: [String: [(index: Int32, version: ARCVersion)]] = [:]

    /// Parses every name once; index 0 and names that are not ARC version names are skipped.
    public init(_ names: [String]) {
        for (i, name) in names.enumerated() where i > 0 {
            guard let (puzzle, version) = ARCVersion.parse(name) else { continue }
            byPuzzle[puzzle, default: []].append((Int32(i), version))
        }
    }

    /// The versions of `puzzle` the model knows: the identity first when present, then by index.
    public func versions(of puzzle: String) -> [(index: Int32, version: ARCVersion)] {
        let list = byPuzzle[puzzle] ?? []
        return list.filter { $0.version.isIdentity } + list.filter { !$0.version.isIdentity }
    }

    /// Number of puzzles with at least one known version.
    public var puzzleCount: Int { byPuzzle.count }
}

/// Builds the ARC inference queries (docs/tasks.md §5.1, §6): every test pair of every puzzle
/// under every version, tokens at offset (0, 0); the decode closure crops the prediction and undoes
/// the version, so votes from all versions land in the original frame.
public enum ARCTask {
    /// Queries for all puzzles, in puzzle order, then test pair, then version.
    ///
    /// `numAug` is the number of augmented versions beyond the original, as the reference's
    /// `num_aug` (0 = original only; 1000 = the reference's 1001 versions per puzzle).
    /// With an identifier table (`identifiers[i]` = name of embedding row i, from the model), a puzzle
    /// uses the versions the table names for it — identity first, then by index, at most
    /// `numAug + 1` — each with its own row. A puzzle the table does not know (or without a table)
    /// uses `ARCAugmentation.versions(of:count: numAug + 1, seed:)` with the blank row 0.
    ///
    /// Every query holds 900 tokens (3.6 KB): for 400 puzzles × 1001 versions prefer the
    /// per-puzzle overload, which lets the caller stream.
    public static func queries(puzzles: [ARCPuzzle], numAug: Int, seed: UInt64, identifiers: [String]?) -> [ARCQuery] {
        let table = identifiers.map(ARCIdentifierTable.init)
        return puzzles.flatMap { queries(for: $0, numAug: numAug, seed: seed, table: table) }
    }

    /// Queries for one puzzle (see `queries(puzzles:numAug:seed:identifiers:)`).
    public static func queries(for puzzle: ARCPuzzle, numAug: Int, seed: UInt64, table: ARCIdentifierTable?) -> [ARCQuery] {
        let plan = versions(for: puzzle, numAug: numAug, seed: seed, table: table)
        var out: [ARCQuery] = []
        out.reserveCapacity(plan.count * puzzle.test.count)
        for (testIndex, pair) in puzzle.test.enumerated() {
            for (index, version) in plan {
                let tokens = ARCEncoding.encode(version.apply(pair.input))
                let query = TaskQuery(
                    puzzle: puzzle.name, testIndex: testIndex, identifier: version.name(of: puzzle.name),
                    tokens: tokens, decode: { ARCEncoding.decode($0).map(version.invert) })
                out.append(ARCQuery(query: query, identifierIndex: index, version: version))
            }
        }
        return out
    }

    /// How many queries `queries(for:numAug:seed:table:)` gives (versions × test pairs), without
    /// encoding them.
    public static func queryCount(for puzzle: ARCPuzzle, numAug: Int, seed: UInt64, table: ARCIdentifierTable?) -> Int {
        versions(for: puzzle, numAug: numAug, seed: seed, table: table).count * puzzle.test.count
    }

    /// The (identifier row, version) list a puzzle is queried with.
    public static func versions(for puzzle: ARCPuzzle, numAug: Int, seed: UInt64, table: ARCIdentifierTable?) -> [(
        index: Int32, version: ARCVersion
    )] {
        let wanted = max(numAug, 0) + 1
        if let known = table?.versions(of: puzzle.name), !known.isEmpty {
            return Array(known.prefix(wanted))
        }
        return ARCAugmentation.versions(of: puzzle, count: wanted, seed: seed).map { (0, $0) }
    }
}
