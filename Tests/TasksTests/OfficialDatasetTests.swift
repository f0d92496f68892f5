import Foundation
import Testing
import TRMCore
@testable import Tasks
import TestSupport

/// Reading official folders, and every refusal naming its file.
@Suite struct OfficialDatasetTests {
    /// The message `load` (and, for ARC, `OfficialARCTask`) fails with after `damage` is done to a
    /// fresh ARC folder; "" when it does not fail.
    func failure(_ folder: OfficialFolder = .arcFolder(), _ damage: (String) throws -> Void = { _ in }) throws -> String {
        let dir = try folder.write()
        defer { ARCFixtures.remove(dir) }
        try damage(dir)
        do {
            _ = try OfficialARCTask(try OfficialDataset.load(path: dir))
            return ""
        } catch let e as TRMError {
            return e.message.replacingOccurrences(of: dir + "/", with: "")
        }
    }

    @Test func readsTheFolderAsWritten() throws {
        let dir = try OfficialFolder.arcFolder().write()
        defer { ARCFixtures.remove(dir) }
        #expect(OfficialDataset.isOfficialFolder(dir) && !OfficialDataset.isOfficialFolder(dir + "/test"))
        let d = try OfficialDataset.load(path: dir)
        #expect(
            d.metadata
                == OfficialMetadata(
                    padId: 0, ignoreLabelId: 0, blankIdentifierId: 0, vocabSize: 12, seqLen: 900, numPuzzleIdentifiers: 9,
                    totalGroups: 4, meanPuzzleExamples: 1.5, totalPuzzles: 7, sets: ["all"]))
        #expect(d.sets.count == 1 && d.sets[0].rowCount == 11 && d.sets[0].puzzleCount == 7)
        #expect(d.sets[0].puzzleIndices == [0, 1, 2, 4, 6, 7, 9, 11] && d.sets[0].groupIndices == [0, 2, 4, 5, 7])
        #expect(d.sets[0].rows(ofPuzzle: 2) == 2..<4 && d.sets[0].input(row: 1).elementsEqual(OfficialFolder.arc([[3, 4], [2, 1]])))
        #expect(d.identifiers.count == 9 && d.testPuzzles?.map(\.name) == ["b2", "a1", "c3", "d4"])
        #expect(try failure() == "")
    }

    @Test func tokenFilesMayBeUint8Uint16OrInt32() throws {
        let dir = try OfficialFolder.arcFolder().write()
        defer { ARCFixtures.remove(dir) }
        let file = dir + "/test/all__inputs.npy"
        let (original, shape) = try Npy.read(path: file)
        guard case .uint8(let bytes) = original else {
            Issue.record("the folder's tokens are \(original.dtypeName)")
            return
        }
        let expected = try OfficialDataset.load(path: dir).sets[0].inputs
        for values in [Npy.Values.uint16(bytes.map(UInt16.init)), .int32(bytes.map(Int32.init))] {
            try Npy.write(values, shape: shape, to: file)
            #expect(try OfficialDataset.load(path: dir).sets[0].inputs == expected, "\(values.dtypeName)")
        }
        // Values past a byte, or past the vocabulary (12), are refused by name.
        for (token, message) in [
            (300, "test/all__inputs.npy: uint16 values, expected uint8 tokens (or uint16 or int32 within 0...255)"),
            (12, "test/all__inputs.npy: token 12 at row 0, position 0 is outside the vocabulary"),
        ] {
            var wide = bytes.map(UInt16.init)
            wide[0] = UInt16(token)
            #expect(try failure { try Npy.write(.uint16(wide), shape: shape, to: $0 + "/test/all__inputs.npy") } == message)
        }
    }

    @Test func refusesMalformedFoldersNamingTheFile() throws {
        func write(_ values: Npy.Values, _ shape: [Int], _ file: String) -> (String) throws -> Void {
            { try Npy.write(values, shape: shape, to: $0 + "/test/" + file) }
        }
        func text(_ s: String, _ file: String) -> (String) throws -> Void {
            { try s.write(toFile: $0 + "/" + file, atomically: true, encoding: .utf8) }
        }
        let cases: [(damage: (String) throws -> Void, expected: String)] = [
            ({ try FileManager.default.removeItem(atPath: $0 + "/test/all__labels.npy") }, "cannot open test/all__labels.npy"),
            (write(.float32([Float](repeating: 2, count: 9000)), [10, 900], "all__inputs.npy"), "test/all__inputs.npy: float32 values"),
            (
                write(.uint8([UInt8](repeating: 2, count: 9000)), [10, 9, 100], "all__inputs.npy"),
                "test/all__inputs.npy: shape [10, 9, 100]"
            ),
            (
                write(.uint8([UInt8](repeating: 2, count: 8100)), [9, 900], "all__labels.npy"),
                "test/all__labels.npy: 9 rows, but test/all__inputs.npy has 11"
            ),
            (write(.uint8([UInt8](repeating: 12, count: 9000)), [10, 900], "all__inputs.npy"), "test/all__inputs.npy: token 12 at row 0"),
            (
                write(.int32([1, 2, 3, 4, 0, 7, 99]), [7], "all__puzzle_identifiers.npy"),
                "test/all__puzzle_identifiers.npy: puzzle 6 has identifier 99"
            ),
            (
                write(.int32([1, 2, 3]), [3], "all__puzzle_identifiers.npy"),
                "test/all__puzzle_identifiers.npy: 3 identifiers for the 7 puzzles"
            ),
            (
                write(.uint8([1, 2, 3, 4, 0, 7, 8]), [7], "all__puzzle_identifiers.npy"),
                "test/all__puzzle_identifiers.npy: uint8 values, expected int32"
            ),
            (
                write(.int32([0, 1, 2, 4, 3, 7, 9, 10]), [8], "all__puzzle_indices.npy"),
                "test/all__puzzle_indices.npy: entry 4 (3) is below entry 3"
            ),
            (
                write(.int32([0, 1, 2, 4, 6, 7, 9, 12]), [8], "all__puzzle_indices.npy"),
                "test/all__puzzle_indices.npy: ends at 12, but there are 11 rows"
            ),
            (write(.int32([1, 2, 4, 5, 7]), [5], "all__group_indices.npy"), "test/all__group_indices.npy: starts at 1"),
            (
                write(.int32([0, 2, 4, 5, 6]), [5], "all__group_indices.npy"),
                "test/all__group_indices.npy: ends at 6, but there are 7 puzzles"
            ),
            (
                text(#"["<blank>", "b2"]"#, "identifiers.json"),
                "identifiers.json: 2 names, but test/dataset.json has num_puzzle_identifiers 9"
            ),
            (text(#"{"a": 1}"#, "identifiers.json"), "identifiers.json: expected a list of names"),
            (text(#"{"pad_id": 0}"#, "test/dataset.json"), "test/dataset.json: has no \"ignore_label_id\""),
            (text(#"{"pad_id": 0, "#, "test/dataset.json"), "test/dataset.json: not valid JSON at line 1"),
            (text(#"{"b2": {"train": [], "test": []}}"#, "test_puzzles.json"), "test_puzzles.json: puzzle b2"),
            ({ try FileManager.default.removeItem(atPath: $0 + "/test_puzzles.json") }, "test_puzzles.json: no such file"),
        ]
        for (damage, expected) in cases {
            let message = try failure(.arcFolder(), damage)
            #expect(message.hasPrefix(expected), "expected '\(expected)…', got '\(message)'")
        }
    }

    @Test func refusesMetadataOutOfRangeAndIdentifiersThatDoNotParse() throws {
        let edits: [(key: String, value: Any, expected: String)] = [
            ("sets", ["../x"], "test/dataset.json: \"sets\" holds a set name that is not a file name"),
            ("vocab_size", 300, "test/dataset.json: \"vocab_size\" is 300"),
            ("pad_id", 12, "test/dataset.json: \"pad_id\" 12 is not below \"vocab_size\" 12"),
            ("blank_identifier_id", 9, "test/dataset.json: \"blank_identifier_id\" 9 is not below"),
            ("seq_len", "900", "test/dataset.json: \"seq_len\" is a string, expected an integer"),
            ("mean_puzzle_examples", "1", "test/dataset.json: \"mean_puzzle_examples\" is a string"),
            ("seq_len", 16, "test/all__inputs.npy: shape [11, 900], expected [rows, 16]"),
        ]
        for (key, value, expected) in edits {
            var folder = OfficialFolder.arcFolder()
            folder.metadata[key] = value
            let message = try failure(folder)
            #expect(message.hasPrefix(expected), "\(key): expected '\(expected)…', got '\(message)'")
        }
        for bad in ["b2|||t9|||0231456789", "b2|||t1|||023145678", "b2|||1|||0231456789", "b2|||t1|||0231456788"] {
            var folder = OfficialFolder.arcFolder()
            folder.identifiers[2] = bad
            #expect(try failure(folder).hasPrefix("identifiers.json: identifier 2 '\(bad)' is not"))
        }
        var sudoku = OfficialFolder.sudokuFolder()
        sudoku.testPuzzles = "{}"
        #expect(try failure(sudoku).hasPrefix("test/dataset.json: seq_len 16 and vocab_size 6 are not ARC's"))
    }

    @Test func theModelsIdentifiersMustBeTheFolders() throws {
        let dir = try OfficialFolder.arcFolder().write()
        defer { ARCFixtures.remove(dir) }
        let d = try OfficialDataset.load(path: dir)
        try d.checkIdentifiers(model: d.identifiers)
        func message(_ model: [String]) -> String {
            do {
                try d.checkIdentifiers(model: model)
                return ""
            } catch { return "\(error)".replacingOccurrences(of: dir + "/", with: "") }
        }
        var renamed = d.identifiers
        renamed[4] = "a1|||t5|||0123456789"
        #expect(
            message(renamed) == "the model's identifier 4 is 'a1|||t5|||0123456789' but identifiers.json names it 'a1|||t4|||0123456789'")
        #expect(
            message(Array(d.identifiers.prefix(8)))
                == "the model has 8 identifiers and identifiers.json 9: its identifier 8 'd4|||t5|||0123456789' is not in the model")
        #expect(
            message(d.identifiers + ["extra"])
                == "the model has 10 identifiers and identifiers.json 9: the model's identifier 9 'extra' is not in it")
        #expect(message([]).hasPrefix("the model has 1 identifiers"))
        let sudokuDir = try OfficialFolder.sudokuFolder().write()
        defer { ARCFixtures.remove(sudokuDir) }
        try OfficialDataset.load(path: sudokuDir).checkIdentifiers(model: [])  // no table: only <blank>
    }
}
