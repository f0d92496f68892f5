import TRMCore

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
